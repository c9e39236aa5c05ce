/**
 * Data movement on the wasm backend: concat, slice, transpose, flip and constant padding, all
 * through one strided copy of 4-byte elements (`copy_strided`), so they serve every dtype.
 *
 * @module
 */
import { type Shape, sizeFromShape, stridesOf, type TensorInfo } from '@kernelzoo/core';
import { collapse } from '../collapse.js';
import { IDX, type KernelContext } from '../context.js';

/**
 * Copies a strided block of 4-byte elements (dimensions collapsed first): element `i` of
 * `shape` from `src + Σ i_d·srcStrides[d]` to `dst + Σ i_d·dstStrides[d]` (byte addresses, strides
 * in elements).
 */
export function copyStrided(
  ctx: KernelContext,
  src: number,
  srcStrides: number[],
  dst: number,
  dstStrides: number[],
  shape: Shape,
): void {
  if (sizeFromShape(shape) === 0) return;
  const c = collapse(shape, [srcStrides, dstStrides]);
  const p = ctx.params([c.shape.length, ...c.shape, ...c.strides[0], ...c.strides[1]]);
  ctx.exports.copy_strided(src, dst, p, IDX);
}

/** Joins tensors along `axis`. */
export function concat(
  ctx: KernelContext,
  xs: readonly TensorInfo[],
  axis: number,
  outShape: Shape,
): TensorInfo {
  const op = 'concat';
  const dtype = xs[0].dtype;
  const out = ctx.make(outShape, dtype, op);
  if (out.size === 0) return out.info;
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= outShape[d];
  let inner = 1;
  for (let d = axis + 1; d < outShape.length; d++) inner *= outShape[d];
  const outRow = outShape[axis] * inner;
  let start = 0;
  for (const x of xs) {
    const block = x.shape[axis] * inner;
    if (block > 0)
      copyStrided(ctx, ctx.ptr(x, op), [block, 1], out.ptr + start * 4, [outRow, 1], [outer, block]);
    start += block;
  }
  return out.info;
}

/** A block of `x`. */
export function slice(
  ctx: KernelContext,
  x: TensorInfo,
  begin: readonly number[],
  size: readonly number[],
): TensorInfo {
  const op = 'slice';
  const out = ctx.make([...size], x.dtype, op);
  if (out.size === 0) return out.info;
  const inStrides = stridesOf(x.shape);
  let off = 0;
  for (let d = 0; d < x.shape.length; d++) off += begin[d] * inStrides[d];
  copyStrided(ctx, ctx.ptr(x, op) + off * 4, inStrides, out.ptr, stridesOf(size), size);
  return out.info;
}

/** Permutes dimensions. */
export function transpose(ctx: KernelContext, x: TensorInfo, perm: readonly number[]): TensorInfo {
  const op = 'transpose';
  const outShape = perm.map((p) => x.shape[p]);
  const out = ctx.make(outShape, x.dtype, op);
  if (out.size === 0) return out.info;
  const inStrides = stridesOf(x.shape);
  copyStrided(
    ctx,
    ctx.ptr(x, op),
    perm.map((p) => inStrides[p]),
    out.ptr,
    stridesOf(outShape),
    outShape,
  );
  return out.info;
}

/**
 * Reverses `x` along `axes`: a strided copy that reads each flipped axis from its last index
 * with its stride negated. Flipping the innermost axis leaves reversed runs, which the kernel
 * copies four elements at a time (SIMD lane shuffle); other flips copy whole rows.
 */
export function flip(ctx: KernelContext, x: TensorInfo, axes: readonly number[]): TensorInfo {
  const op = 'flip';
  const out = ctx.make(x.shape, x.dtype, op);
  if (out.size === 0) return out.info;
  const strides = stridesOf(x.shape);
  const srcStrides = [...strides];
  let off = 0;
  for (const a of axes) {
    off += (x.shape[a] - 1) * strides[a];
    srcStrides[a] = -strides[a];
  }
  copyStrided(ctx, ctx.ptr(x, op) + off * 4, srcStrides, out.ptr, strides, x.shape);
  return out.info;
}

/** Constant padding. */
export function pad(
  ctx: KernelContext,
  x: TensorInfo,
  paddings: readonly (readonly [number, number])[],
  value: number,
): TensorInfo {
  const op = 'pad';
  const outShape = x.shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
  const out = ctx.make(outShape, x.dtype, op);
  if (out.size === 0) return out.info;
  const bits = new Int32Array(1);
  if (x.dtype === 'int32') bits[0] = value;
  else new Float32Array(bits.buffer)[0] = value;
  ctx.exports.fill32(out.ptr, out.size, bits[0]);
  const outStrides = stridesOf(outShape);
  let off = 0;
  for (let d = 0; d < x.shape.length; d++) off += paddings[d][0] * outStrides[d];
  copyStrided(ctx, ctx.ptr(x, op), stridesOf(x.shape), out.ptr + off * 4, outStrides, x.shape);
  return out.info;
}
