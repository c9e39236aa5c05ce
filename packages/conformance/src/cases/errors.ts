/**
 * Error cases: every op refuses wrong rank, shape, dtype and arguments with a
 * `KernelzooError` subclass whose message names the op and the argument, before any kernel
 * runs.
 *
 * @module
 */
import * as core from '@kernelzoo/core';
import { ArgumentError, KernelzooError, type Tensor, tensor, tidy, zeros } from '@kernelzoo/core';
import type { Case } from '../runner.js';

/** One refusal: the op and argument the message must name, and the call. */
interface Refusal {
  op: string;
  argument: string;
  label: string;
  call: () => unknown;
}

const f = (shape: number[]): Tensor => zeros(shape);
const i32 = (shape: number[]): Tensor => zeros(shape, 'int32');

function refusals(): Refusal[] {
  const x4 = () => f([1, 2, 5, 5]);
  const w = () => f([4, 2, 3, 3]);
  const r = (op: string, argument: string, label: string, call: () => unknown): Refusal => ({
    op,
    argument,
    label,
    call,
  });
  return [
    r('conv2d', 'x', 'rank 3 input', () => core.conv2d(f([2, 5, 5]), w())),
    r('conv2d', 'weight', 'rank 2 weight', () => core.conv2d(x4(), f([4, 2]))),
    r('conv2d', 'x', 'int32 input', () => core.conv2d(i32([1, 2, 5, 5]), w())),
    r('conv2d', 'weight', 'int32 weight', () => core.conv2d(x4(), i32([4, 2, 3, 3]))),
    r('conv2d', 'weight', 'in-channel mismatch', () => core.conv2d(x4(), f([4, 3, 3, 3]))),
    r('conv2d', 'groups', 'groups not dividing the channels', () =>
      core.conv2d(f([1, 3, 5, 5]), f([4, 1, 3, 3]), { groups: 2 }),
    ),
    r('conv2d', 'bias', 'bias of the wrong length', () => core.conv2d(x4(), w(), { bias: f([3]) })),
    r('conv2d', 'bias', 'rank 2 bias', () => core.conv2d(x4(), w(), { bias: f([4, 1]) })),
    r('conv2d', 'bias', 'int32 bias', () => core.conv2d(x4(), w(), { bias: i32([4]) })),
    r('conv2d', 'stride', 'stride 0', () => core.conv2d(x4(), w(), { stride: 0 })),
    r('conv2d', 'dilation', 'dilation 1.5', () => core.conv2d(x4(), w(), { dilation: 1.5 })),
    r('conv2d', 'padding', 'negative padding', () => core.conv2d(x4(), w(), { padding: -1 })),
    r('conv2d', 'activation', 'unknown activation', () =>
      core.conv2d(x4(), w(), { activation: 'tanh' as 'relu' }),
    ),
    r('conv2d', 'x', 'input smaller than the kernel', () => core.conv2d(f([1, 2, 2, 2]), w())),
    r('matmul', 'a', 'rank 1 a', () => core.matmul(f([3]), f([3, 2]))),
    r('matmul', 'b', 'rank 4 b', () => core.matmul(f([2, 3]), f([1, 1, 3, 2]))),
    r('matmul', 'b', 'inner dimension mismatch', () => core.matmul(f([2, 3]), f([4, 2]))),
    r('matmul', 'b', 'batch mismatch', () => core.matmul(f([2, 2, 3]), f([3, 3, 2]))),
    r('matmul', 'a', 'int32 a', () => core.matmul(i32([2, 3]), f([3, 2]))),
    r('matmul', 'bias', 'bias of the wrong length', () =>
      core.matmul(f([2, 3]), f([3, 2]), { bias: f([3]) }),
    ),
    r('linear', 'x', 'feature mismatch', () => core.linear(f([2, 3]), f([4, 5]))),
    r('linear', 'weight', 'rank 1 weight', () => core.linear(f([2, 3]), f([3]))),
    r('linear', 'bias', 'bias of the wrong length', () => core.linear(f([2, 3]), f([4, 3]), f([3]))),
    r('linear', 'bias', 'bias of the wrong length, rank 3 input', () =>
      core.linear(f([2, 5, 3]), f([4, 3]), f([5])),
    ),
    r('matmul', 'bias', 'rank 2 bias', () => core.matmul(f([2, 3]), f([3, 2]), { bias: f([2, 1]) })),
    r('matmul', 'bias', 'int32 bias', () => core.matmul(f([2, 3]), f([3, 2]), { bias: i32([2]) })),
    r('add', 'b', 'shapes that do not broadcast', () => core.add(f([2, 3]), f([4]))),
    r('add', 'a', 'int32 tensors with a fused ReLU', () =>
      core.addActivation(i32([2, 3]), i32([2, 3]), 'relu'),
    ),
    r('add', 'b', 'shapes that do not broadcast, with a fused ReLU', () =>
      core.addActivation(f([2, 3]), f([4]), 'relu'),
    ),
    r('add', 'activation', 'an activation other than linear or relu', () =>
      core.addActivation(f([2, 3]), f([2, 3]), 'sigmoid' as 'relu'),
    ),
    r('mul', 'b', 'dtype mismatch', () => core.mul(f([2]), i32([2]))),
    r('sub', 'a', 'two numbers', () => core.sub(1 as unknown as Tensor, 2)),
    r('pow', 'a', 'int32 pow', () => core.pow(i32([2]), i32([2]))),
    r('exp', 'x', 'int32 exp', () => core.exp(i32([2]))),
    r('sigmoid', 'x', 'not a tensor', () => core.sigmoid([1, 2] as unknown as Tensor)),
    r('batchNorm', 'x', 'rank 1 input', () => core.batchNorm(f([3]), f([3]), f([3]))),
    r('batchNorm', 'mean', 'mean of the wrong length', () => core.batchNorm(x4(), f([3]), f([2]))),
    r('batchNorm', 'variance', 'rank 2 variance', () => core.batchNorm(x4(), f([2]), f([2, 1]))),
    r('batchNorm', 'weight', 'weight of the wrong length', () =>
      core.batchNorm(x4(), f([2]), f([2]), { weight: f([5]) }),
    ),
    r('batchNorm', 'variance', 'variance of the wrong length', () => core.batchNorm(x4(), f([2]), f([3]))),
    r('batchNorm', 'mean', 'rank 2 mean', () => core.batchNorm(x4(), f([2, 1]), f([2]))),
    r('batchNorm', 'mean', 'int32 mean', () => core.batchNorm(x4(), i32([2]), f([2]))),
    r('batchNorm', 'weight', 'rank 2 weight', () =>
      core.batchNorm(x4(), f([2]), f([2]), { weight: f([1, 2]) }),
    ),
    r('batchNorm', 'weight', 'int32 weight', () =>
      core.batchNorm(x4(), f([2]), f([2]), { weight: i32([2]) }),
    ),
    r('batchNorm', 'bias', 'bias of the wrong length', () =>
      core.batchNorm(x4(), f([2]), f([2]), { bias: f([3]) }),
    ),
    r('batchNorm', 'bias', 'rank 2 bias', () => core.batchNorm(x4(), f([2]), f([2]), { bias: f([2, 1]) })),
    r('batchNorm', 'bias', 'int32 bias', () => core.batchNorm(x4(), f([2]), f([2]), { bias: i32([2]) })),
    r('batchNorm', 'eps', 'negative eps', () => core.batchNorm(x4(), f([2]), f([2]), { eps: -1 })),
    r('maxPool2d', 'x', 'rank 3 input', () => core.maxPool2d(f([2, 5, 5]), 2)),
    r('maxPool2d', 'kernelSize', 'kernel 0', () => core.maxPool2d(x4(), 0)),
    r('maxPool2d', 'padding', 'padding over half the kernel', () => core.maxPool2d(x4(), 2, { padding: 2 })),
    r('maxPool2d', 'x', 'input smaller than the window', () => core.maxPool2d(f([1, 1, 2, 2]), 3)),
    r('avgPool2d', 'dilation', 'dilated average pooling', () => core.avgPool2d(x4(), 2, { dilation: 2 })),
    r('avgPool2d', 'x', 'int32 input', () => core.avgPool2d(i32([1, 2, 5, 5]), 2)),
    r('adaptiveAvgPool2d', 'outputSize', 'output size 0', () => core.adaptiveAvgPool2d(x4(), 0)),
    r('adaptiveAvgPool2d', 'outputSize', 'three sizes', () =>
      core.adaptiveAvgPool2d(x4(), [1, 2, 3] as unknown as [number, number]),
    ),
    r('adaptiveAvgPool2d', 'x', 'rank 2 input', () => core.adaptiveAvgPool2d(f([5, 5]), 1)),
    r('resizeBilinear', 'size', 'size 0', () => core.resizeBilinear(x4(), [0, 2])),
    r('resizeNearest', 'x', 'int32 input', () => core.resizeNearest(i32([1, 1, 2, 2]), [4, 4])),
    r('interpolate', 'options', 'both size and scaleFactor', () =>
      core.interpolate(x4(), { size: [2, 2], scaleFactor: 2 }),
    ),
    r('interpolate', 'mode', 'unknown mode', () =>
      core.interpolate(x4(), { size: [2, 2], mode: 'bicubic' as 'nearest' }),
    ),
    r('sum', 'axis', 'axis out of range', () => core.sum(f([2, 3]), 2)),
    r('mean', 'axis', 'negative axis out of range', () => core.mean(f([2, 3]), -3)),
    r('max', 'axis', 'empty axis list', () => core.max(f([2, 3]), [])),
    r('sum', 'x', 'empty reduction (length-0 axis)', () => core.sum(f([2, 0]), 1)),
    r('mean', 'x', 'empty reduction over all axes', () => core.mean(f([0]))),
    r('max', 'x', 'empty reduction of a [3, 0, 2] tensor', () => core.max(f([3, 0, 2]))),
    r('softmax', 'x', '0-d input', () => core.softmax(f([]))),
    r('softmax', 'axis', 'axis out of range', () => core.softmax(f([2, 3]), 2)),
    r('softmax', 'x', 'int32 input', () => core.softmax(i32([2, 3]))),
    r('softmax', 'x', 'empty axis', () => core.softmax(f([2, 0]))),
    r('argmax', 'x', '0-d input', () => core.argmax(f([]))),
    r('argmax', 'axis', 'axis out of range', () => core.argmax(f([2, 3]), -3)),
    r('concat', 'xs', 'no tensors', () => core.concat([])),
    r('concat', 'xs[1]', 'dtype mismatch', () => core.concat([f([2]), i32([2])])),
    r('concat', 'xs[1]', 'shape mismatch off the axis', () => core.concat([f([2, 3]), f([3, 3])], 1)),
    r('concat', 'axis', 'axis out of range', () => core.concat([f([2]), f([2])], 1)),
    r('stack', 'xs', 'no tensors', () => core.stack([])),
    r('stack', 'xs[1]', 'shape mismatch', () => core.stack([f([2, 3]), f([3, 2])])),
    r('slice', 'begin', 'begin of the wrong rank', () => core.slice(f([2, 3]), [0], [1, 1])),
    r('slice', 'size', 'block past the end', () => core.slice(f([2, 3]), [1, 1], [2, 1])),
    r('split', 'sizesOrCount', 'count not dividing the axis', () => core.split(f([5]), 2)),
    r('split', 'sizesOrCount', 'sizes not summing to the axis', () => core.split(f([5]), [2, 2])),
    r('transpose', 'perm', 'not a permutation', () => core.transpose(f([2, 3]), [0, 0])),
    r('flip', 'x', 'not a tensor', () => core.flip([1, 2] as unknown as Tensor, [0])),
    r('flip', 'x', 'a disposed tensor', () => {
      const t = f([2, 3]);
      t.dispose();
      return core.flip(t, [0]);
    }),
    r('flip', 'axes', 'axes not an array', () => core.flip(f([2, 3]), 1 as unknown as number[])),
    r('flip', 'axes', 'a duplicate axis', () => core.flip(f([2, 3]), [1, 1])),
    r('flip', 'axes', 'an axis given twice, once negative', () => core.flip(f([2, 3, 4]), [0, 2, -1])),
    r('flip', 'axes', 'axis out of range', () => core.flip(f([2, 3]), [2])),
    r('flip', 'axes', 'negative axis out of range', () => core.flip(f([2, 3]), [-3])),
    r('flip', 'axes', 'a fractional axis', () => core.flip(f([2, 3]), [0.5])),
    r('pad', 'paddings', 'one pair for a rank-2 tensor', () => core.pad(f([2, 3]), [[1, 1]])),
    r('pad', 'paddings', 'negative padding', () => core.pad(f([2]), [[-1, 0]])),
    r('reshape', 'shape', 'size mismatch', () => core.reshape(f([2, 3]), [4, 2])),
    r('reshape', 'shape', 'two -1', () => core.reshape(f([2, 3]), [-1, -1])),
    r('cast', 'dtype', 'unknown dtype', () => core.cast(f([2]), 'float64' as 'float32')),
    r('tensor', 'values', 'values not filling the shape', () => tensor([1, 2, 3], [2, 2])),
  ];
}

/** One case per refusal, run on the backend under test (no kernel may run, nothing may leak). */
export function errorCases(): Case[] {
  return refusals().map((ref) => ({
    name: `${ref.op} refuses ${ref.label} (argument '${ref.argument}')`,
    needs: [],
    run() {
      let thrown: unknown = null;
      try {
        tidy(() => {
          ref.call();
        });
      } catch (e) {
        thrown = e;
      }
      if (thrown === null) throw new Error(`${ref.op} accepted ${ref.label}`);
      if (!(thrown instanceof KernelzooError))
        throw new Error(`${ref.op} (${ref.label}) threw ${String(thrown)}, not a KernelzooError`);
      const msg = thrown.message;
      if (!msg.startsWith(`${ref.op}:`) || !msg.includes(`'${ref.argument}'`))
        throw new Error(
          `${ref.op} (${ref.label}): the message must name '${ref.op}' and '${ref.argument}', got: ${msg}`,
        );
      if (thrown instanceof ArgumentError && (thrown.op !== ref.op || thrown.argument !== ref.argument))
        throw new Error(
          `${ref.op} (${ref.label}): ArgumentError names op '${thrown.op}' argument '${thrown.argument}', expected '${ref.op}' / '${ref.argument}'`,
        );
    },
  }));
}
