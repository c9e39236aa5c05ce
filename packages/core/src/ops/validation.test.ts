import { describe, expect, it } from 'vitest';
import { traceShapes } from '../engine.js';
import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { conv2d } from './conv.js';
import { zeros } from './creation.js';
import { linear, matmul } from './matmul.js';
import { batchNorm } from './normalization.js';
import { checkAxis, checkInt, checkPadding, checkPair, checkShape } from './validate.js';

/** Runs `f` with shape-only tensors (no backend) and returns the ArgumentError it throws. */
function refusal(f: (t: (shape: number[], dtype?: 'float32' | 'int32') => Tensor) => unknown): ArgumentError {
  try {
    traceShapes(
      () => f((shape, dtype) => zeros(shape, dtype)),
      () => undefined,
    );
  } catch (e) {
    if (e instanceof ArgumentError) return e;
    throw e;
  }
  throw new Error('expected an ArgumentError, got none');
}

/** The op, argument and message fragment an ArgumentError must carry. */
function expectRefusal(e: ArgumentError, op: string, argument: string, fragment: RegExp): void {
  expect([e.op, e.argument]).toEqual([op, argument]);
  expect(e.message).toMatch(fragment);
}

describe('per-channel arguments are checked against the channels they scale', () => {
  const x = [2, 3, 4, 4];
  it('batchNorm: mean, variance, weight and bias must each be float32 [C]', () => {
    for (const name of ['mean', 'variance', 'weight', 'bias'] as const) {
      const call = (arg: (t: (s: number[], d?: 'float32' | 'int32') => Tensor) => Tensor) =>
        refusal((t) => {
          const per = { mean: t([3]), variance: t([3]), weight: t([3]), bias: t([3]), [name]: arg(t) };
          return batchNorm(t(x), per.mean, per.variance, { weight: per.weight, bias: per.bias });
        });
      expectRefusal(
        call((t) => t([4])),
        'batchNorm',
        name,
        /shape \[3\] \(channels of x\).*got shape \[4\]/,
      );
      expectRefusal(
        call((t) => t([3, 1])),
        'batchNorm',
        name,
        /rank 1 \[3\]/,
      );
      expectRefusal(
        call((t) => t([3], 'int32')),
        'batchNorm',
        name,
        /dtype float32/,
      );
    }
  });

  it('conv2d: bias must be float32 [outChannels]', () => {
    const w = [5, 3, 3, 3];
    expectRefusal(
      refusal((t) => conv2d(t(x), t(w), { bias: t([3]) })),
      'conv2d',
      'bias',
      /shape \[5\].*got shape \[3\]/,
    );
    expectRefusal(
      refusal((t) => conv2d(t(x), t(w), { bias: t([5], 'int32') })),
      'conv2d',
      'bias',
      /float32/,
    );
  });

  it('matmul and linear: bias must be float32 [n] / [outFeatures], named by the op called', () => {
    expectRefusal(
      refusal((t) => matmul(t([2, 3]), t([3, 4]), { bias: t([3]) })),
      'matmul',
      'bias',
      /shape \[4\]/,
    );
    expectRefusal(
      refusal((t) => linear(t([2, 6, 3]), t([4, 3]), t([6]))),
      'linear',
      'bias',
      /shape \[4\] \(outFeatures\)/,
    );
    expectRefusal(
      refusal((t) => linear(t([2, 3]), t([4, 3]), t([4], 'int32'))),
      'linear',
      'bias',
      /float32/,
    );
    expectRefusal(
      refusal((t) => linear(t([2, 3], 'int32'), t([4, 3]))),
      'linear',
      'x',
      /float32/,
    );
  });
});

describe('the validators model authors use', () => {
  const shaped = (shape: number[]) =>
    traceShapes(
      () => zeros(shape),
      () => undefined,
    );

  it('checkShape names the free dimensions and the fixed ones', () => {
    const t = shaped([1, 8, 5, 5]);
    expect(checkShape('Block', 'x', t, [null, 8, null, null])).toBe(t);
    expect(() => checkShape('Block', 'x', t, [null, 4, null, null])).toThrow(
      "Block: argument 'x' must be shape [N, 4, H, W], got shape [1, 8, 5, 5]",
    );
    expect(() => checkShape('Head', 'z', shaped([2, 3]), [null, 4], 'BK')).toThrow(/must be shape \[B, 4\]/);
    expect(() => checkShape('Head', 'z', 7, [null])).toThrow(/must be a Tensor, got 7/);
  });

  it('checkInt, checkPair, checkPadding and checkAxis say what they expected and what came', () => {
    expect(checkInt('op', 'n', 3, 1)).toBe(3);
    expect(() => checkInt('op', 'n', 0.5, 1)).toThrow("op: argument 'n' must be an integer ≥ 1, got 0.5");
    expect(checkPair('op', 'k', 3, 1)).toEqual([3, 3]);
    expect(() => checkPair('op', 'k', [1, 0], 1)).toThrow(/an integer ≥ 1 or a pair of them, got \[1, 0\]/);
    expect(checkPadding('op', [1, 2])).toEqual([1, 1, 2, 2]);
    expect(() => checkPadding('op', [1, 2, 3])).toThrow(/\[top, bottom, left, right\]/);
    expect(checkAxis('op', 'axis', -1, 4)).toBe(3);
    expect(() => checkAxis('op', 'axis', 4, 4)).toThrow(/an integer axis in \[-4, 3\], got 4/);
  });
});
