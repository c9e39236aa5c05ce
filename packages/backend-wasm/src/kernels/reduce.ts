/**
 * Reductions on the wasm backend: sum, mean and max over any axes, softmax and argmax along
 * one axis.
 *
 * @module
 */
import { type ReduceOp, type Shape, sizeFromShape, stridesOf, type TensorInfo } from '@kernelzoo/core';
import { collapse } from '../collapse.js';
import { IDX, type KernelContext } from '../context.js';

/** Sum, mean or max over axes. */
export function reduce(ctx: KernelContext, op: ReduceOp, x: TensorInfo, axes: readonly number[]): TensorInfo {
  const outShape = x.shape.filter((_, i) => !axes.includes(i));
  const out = ctx.make(outShape, op === 'mean' ? 'float32' : x.dtype, op);
  if (out.size === 0) return out.info;
  const rank = x.shape.length;
  const outStrides = new Array<number>(rank).fill(0);
  for (let d = rank - 1, s = 1; d >= 0; d--) {
    if (axes.includes(d)) continue;
    outStrides[d] = s;
    s *= x.shape[d];
  }
  let count = 1;
  for (const a of axes) count *= x.shape[a];
  const total = sizeFromShape(x.shape);
  const { shape, strides } = collapse(x.shape, [stridesOf(x.shape), outStrides]);
  const p = ctx.params([shape.length, ...shape, ...strides[1]]);
  const acc = ctx.alloc(out.size * 8, `${op} accumulators`);
  try {
    ctx.exports.reduce_run(
      op === 'sum' ? 0 : op === 'mean' ? 1 : 2,
      x.dtype === 'int32' ? 1 : 0,
      ctx.ptr(x, op),
      total,
      out.ptr,
      out.size,
      count,
      p,
      acc,
      IDX,
    );
  } finally {
    ctx.free(acc);
  }
  return out.info;
}

/** `[outer, length, inner]`: the elements before, along and after `axis`. */
function around(shape: Shape, axis: number): [number, number, number] {
  let outer = 1;
  let inner = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d];
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d];
  return [outer, shape[axis], inner];
}

/** Softmax along `axis`. */
export function softmax(ctx: KernelContext, x: TensorInfo, axis: number): TensorInfo {
  const op = 'softmax';
  const out = ctx.make(x.shape, 'float32', op);
  if (out.size === 0) return out.info;
  const [outer, len, inner] = around(x.shape, axis);
  const e = ctx.alloc(len * 8, 'softmax scratch');
  try {
    ctx.exports.softmax_run(ctx.ptr(x, op), out.ptr, outer, len, inner, e);
  } finally {
    ctx.free(e);
  }
  return out.info;
}

/** Index of the maximum along `axis`. */
export function argmax(ctx: KernelContext, x: TensorInfo, axis: number): TensorInfo {
  const op = 'argmax';
  const out = ctx.make(
    x.shape.filter((_, i) => i !== axis),
    'int32',
    op,
  );
  if (out.size === 0) return out.info;
  const [outer, len, inner] = around(x.shape, axis);
  ctx.exports.argmax_run(x.dtype === 'int32' ? 1 : 0, ctx.ptr(x, op), out.ptr, outer, len, inner);
  return out.info;
}
