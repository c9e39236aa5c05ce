import { describe, expect, it } from 'vitest';
import { registerBackend, setBackend, traceShapes } from '../engine.js';
import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { storageBackend } from '../test-support/storage-backend.js';
import type { TensorInfo } from '../types.js';
import { tensor, zeros } from './creation.js';
import { flip } from './transform.js';

/** Runs `f` on a shape-only input (no backend needed) and returns the output's shape and dtype. */
function shapeOf(inShape: number[], f: (x: Tensor) => Tensor, dtype: 'float32' | 'int32' = 'float32') {
  return traceShapes(
    () => {
      const y = f(zeros(inShape, dtype));
      return { shape: y.shape, dtype: y.dtype };
    },
    () => undefined,
  );
}

/** The ArgumentError `f` throws (fails the test when it throws nothing or something else). */
function refusal(f: () => unknown): ArgumentError {
  try {
    f();
  } catch (e) {
    if (e instanceof ArgumentError) return e;
    throw e;
  }
  throw new Error('expected an ArgumentError, got none');
}

describe('flip', () => {
  it('keeps shape and dtype for any valid axes', () => {
    expect(shapeOf([1, 17, 64, 48], (x) => flip(x, [3]))).toEqual({
      shape: [1, 17, 64, 48],
      dtype: 'float32',
    });
    expect(shapeOf([2, 3, 4], (x) => flip(x, [-1, 0]))).toEqual({ shape: [2, 3, 4], dtype: 'float32' });
    expect(shapeOf([2, 3], (x) => flip(x, []), 'int32')).toEqual({ shape: [2, 3], dtype: 'int32' });
    expect(shapeOf([], (x) => flip(x, [0]))).toEqual({ shape: [], dtype: 'float32' });
  });

  it('hands the backend normalised, sorted axes (none for a 0-d tensor)', async () => {
    const seen: number[][] = [];
    const b = storageBackend('flip-spy');
    b.flip = (x: TensorInfo, axes: readonly number[]) => {
      seen.push([...axes]);
      const values = b.readSync(x.dataId);
      return { dataId: b.write(values, x.shape, x.dtype), shape: x.shape, dtype: x.dtype };
    };
    registerBackend('flip-spy', () => b);
    await setBackend('flip-spy');
    const x = tensor([1, 2, 3, 4, 5, 6], [1, 2, 3]);
    const ys = [flip(x, [-1, 0]), flip(x, [2, -2]), flip(x, []), flip(tensor([7], []), [0])];
    expect(seen).toEqual([[0, 2], [1, 2], [], []]);
    for (const y of ys) expect(y.shape).toEqual(y.rank === 0 ? [] : [1, 2, 3]);
  });

  it('refuses a non-tensor', () => {
    const e = refusal(() => flip([1, 2, 3] as unknown as Tensor, [0]));
    expect([e.op, e.argument]).toEqual(['flip', 'x']);
    expect(e.message).toMatch(/^flip: argument 'x' must be a Tensor, got \[1, 2, 3\]/);
  });

  it('refuses a disposed tensor', () => {
    const e = refusal(() =>
      traceShapes(
        () => {
          const x = zeros([2, 2]);
          x.dispose();
          return flip(x, [0]);
        },
        () => undefined,
      ),
    );
    expect([e.op, e.argument]).toEqual(['flip', 'x']);
    expect(e.message).toMatch(/must be a live tensor, got tensor \d+ \(disposed\)/);
  });

  it('refuses axes that are not an array of integers in range', () => {
    const cases: [unknown, RegExp][] = [
      [3, /argument 'axes' must be an array of integer axes, got 3/],
      [undefined, /argument 'axes' must be an array of integer axes, got undefined/],
      [[3], /argument 'axes' must be an integer axis in \[-3, 2\], got 3/],
      [[-4], /argument 'axes' must be an integer axis in \[-3, 2\], got -4/],
      [[1.5], /argument 'axes' must be an integer axis in \[-3, 2\], got 1\.5/],
      [['1'], /argument 'axes' must be an integer axis in \[-3, 2\], got '1'/],
    ];
    for (const [axes, message] of cases) {
      const e = refusal(() => shapeOf([2, 3, 4], (x) => flip(x, axes as number[])));
      expect([e.op, e.argument]).toEqual(['flip', 'axes']);
      expect(e.message).toMatch(/^flip: /);
      expect(e.message).toMatch(message);
    }
  });

  it('refuses duplicate axes, negative aliases included', () => {
    for (const axes of [
      [1, 1],
      [0, 2, -1],
    ]) {
      const e = refusal(() => shapeOf([2, 3, 4], (x) => flip(x, axes)));
      expect([e.op, e.argument]).toEqual(['flip', 'axes']);
      expect(e.message).toMatch(/^flip: argument 'axes' must be distinct axes, got \[/);
    }
    const e = refusal(() => shapeOf([2, 3, 4], (x) => flip(x, [0, 2, -1])));
    expect(e.message).toContain('got [0, 2, -1] (entry 2 is axis 2 again, for a tensor of rank 3)');
  });
});
