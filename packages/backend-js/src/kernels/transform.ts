/**
 * Data movement kernels: concat, slice, transpose, flip and constant padding, over any rank.
 *
 * @module
 */
import {
  allocate as alloc,
  type DType,
  type Shape,
  sizeFromShape,
  stridesOf,
  type TypedArray,
} from '@kernelzoo/core';
import { collapseDims } from './elementwise.js';

/**
 * Copies a strided block: for every index of `shape`, `dst[dOff + Σ i·ds] = src[sOff + Σ i·ss]`.
 * Strides may be negative (a reversed walk). Dimensions are collapsed first so contiguous runs
 * copy with `set`.
 */
function copyStrided(
  src: TypedArray,
  sOff: number,
  srcStrides: number[],
  dst: TypedArray,
  dOff: number,
  dstStrides: number[],
  shape: Shape,
): void {
  if (sizeFromShape(shape) === 0) return;
  const { shape: cs, strides } = collapseDims(shape, [srcStrides, dstStrides]);
  const r = cs.length;
  if (r === 0) {
    dst[dOff] = src[sOff];
    return;
  }
  const [ss, ds] = strides;
  const inner = cs[r - 1];
  const si = ss[r - 1];
  const di = ds[r - 1];
  const idx = new Array<number>(r).fill(0);
  let total = 1;
  for (let d = 0; d < r - 1; d++) total *= cs[d];
  for (let t = 0; t < total; t++) {
    if (si === 1 && di === 1) dst.set(src.subarray(sOff, sOff + inner), dOff);
    else for (let j = 0, s = sOff, o = dOff; j < inner; j++, s += si, o += di) dst[o] = src[s];
    for (let d = r - 2; d >= 0; d--) {
      idx[d]++;
      sOff += ss[d];
      dOff += ds[d];
      if (idx[d] < cs[d]) break;
      sOff -= ss[d] * cs[d];
      dOff -= ds[d] * cs[d];
      idx[d] = 0;
    }
  }
}

/** Joins arrays along `axis` into `outShape`. */
export function concat(
  xs: readonly TypedArray[],
  shapes: readonly Shape[],
  axis: number,
  outShape: Shape,
  dtype: DType,
): TypedArray {
  const out = alloc(dtype, sizeFromShape(outShape));
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= outShape[d];
  let inner = 1;
  for (let d = axis + 1; d < outShape.length; d++) inner *= outShape[d];
  const outRow = outShape[axis] * inner;
  let start = 0;
  for (let k = 0; k < xs.length; k++) {
    const x = xs[k];
    const block = shapes[k][axis] * inner;
    for (let o = 0; o < outer; o++) out.set(x.subarray(o * block, (o + 1) * block), o * outRow + start);
    start += block;
  }
  return out;
}

/** The block of `x` starting at `begin` with lengths `size`. */
export function slice(
  x: TypedArray,
  shape: Shape,
  begin: readonly number[],
  size: readonly number[],
  dtype: DType,
): TypedArray {
  const out = alloc(dtype, sizeFromShape(size));
  const inStrides = stridesOf(shape);
  let off = 0;
  for (let d = 0; d < shape.length; d++) off += begin[d] * inStrides[d];
  copyStrided(x, off, inStrides, out, 0, stridesOf(size), size);
  return out;
}

/** Permutes dimensions: output dimension `i` is input dimension `perm[i]`. */
export function transpose(x: TypedArray, shape: Shape, perm: readonly number[], dtype: DType): TypedArray {
  const outShape = perm.map((p) => shape[p]);
  const out = alloc(dtype, x.length);
  const inStrides = stridesOf(shape);
  copyStrided(
    x,
    0,
    perm.map((p) => inStrides[p]),
    out,
    0,
    stridesOf(outShape),
    outShape,
  );
  return out;
}

/**
 * Reverses `x` along `axes` (normalised, unique): a strided walk that reads each flipped axis
 * backwards — start at its last index, stride negated — and writes the output in order.
 */
export function flip(x: TypedArray, shape: Shape, axes: readonly number[], dtype: DType): TypedArray {
  const out = alloc(dtype, x.length);
  const strides = stridesOf(shape);
  const srcStrides = [...strides];
  let off = 0;
  for (const a of axes) {
    if (shape[a] === 0) continue;
    off += (shape[a] - 1) * strides[a];
    srcStrides[a] = -strides[a];
  }
  copyStrided(x, off, srcStrides, out, 0, strides, shape);
  return out;
}

/** Constant padding: `paddings[i] = [before, after]`. */
export function pad(
  x: TypedArray,
  shape: Shape,
  paddings: readonly (readonly [number, number])[],
  value: number,
  dtype: DType,
): TypedArray {
  const outShape = shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
  const out = alloc(dtype, sizeFromShape(outShape));
  if (value !== 0) out.fill(value);
  const outStrides = stridesOf(outShape);
  let off = 0;
  for (let d = 0; d < shape.length; d++) off += paddings[d][0] * outStrides[d];
  copyStrided(x, 0, stridesOf(shape), out, off, outStrides, shape);
  return out;
}
