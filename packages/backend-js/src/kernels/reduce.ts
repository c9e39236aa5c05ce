/**
 * Reductions (sum, mean, max over any set of axes), softmax and argmax along one axis.
 *
 * @module
 */
import type { ReduceOp, Shape, TypedArray } from '@kernelzoo/core';
import { collapseDims } from './elementwise.js';

/**
 * Reduces `x` over `axes` (sorted, unique, non-empty). The input is walked once in memory
 * order; each element folds into the output cell it maps to (stride 0 along reduced axes).
 * Sums accumulate in double precision.
 */
export function reduce(op: ReduceOp, x: TypedArray, shape: Shape, axes: readonly number[]): TypedArray {
  const rank = shape.length;
  const outStrides = new Array<number>(rank).fill(0);
  const inStrides = new Array<number>(rank).fill(0);
  let outSize = 1;
  for (let d = rank - 1, s = 1; d >= 0; d--) {
    inStrides[d] = s;
    s *= shape[d];
  }
  for (let d = rank - 1; d >= 0; d--) {
    if (axes.includes(d)) continue;
    outStrides[d] = outSize;
    outSize *= shape[d];
  }
  const isMax = op === 'max';
  const acc = new Float64Array(outSize).fill(isMax ? Number.NEGATIVE_INFINITY : 0);
  let count = 1;
  for (const a of axes) count *= shape[a];
  if (x.length > 0) {
    const { shape: cs, strides } = collapseDims(shape, [inStrides, outStrides]);
    const r = cs.length;
    if (r === 0) {
      acc[0] = x[0];
    } else {
      const so = strides[1];
      const inner = cs[r - 1];
      const innerOut = so[r - 1];
      const idx = new Array<number>(r).fill(0);
      let o = 0;
      for (let i = 0; i < x.length; i += inner) {
        if (isMax) {
          if (innerOut === 0) {
            let m = acc[o];
            for (let j = i; j < i + inner; j++) {
              const v = x[j];
              if (v > m || Number.isNaN(v)) m = v;
            }
            acc[o] = m;
          } else {
            for (let j = 0, q = o; j < inner; j++, q++) {
              const v = x[i + j];
              if (v > acc[q] || Number.isNaN(v)) acc[q] = v;
            }
          }
        } else if (innerOut === 0) {
          let s = acc[o];
          for (let j = i; j < i + inner; j++) s += x[j];
          acc[o] = s;
        } else {
          for (let j = 0, q = o; j < inner; j++, q++) acc[q] += x[i + j];
        }
        for (let d = r - 2; d >= 0; d--) {
          idx[d]++;
          o += so[d];
          if (idx[d] < cs[d]) break;
          o -= so[d] * cs[d];
          idx[d] = 0;
        }
      }
    }
  }
  if (op === 'mean') {
    const out = new Float32Array(outSize);
    for (let i = 0; i < outSize; i++) out[i] = acc[i] / count;
    return out;
  }
  if (x instanceof Int32Array) {
    const out = new Int32Array(outSize);
    for (let i = 0; i < outSize; i++) out[i] = acc[i];
    return out;
  }
  return Float32Array.from(acc);
}

/** Splits `shape` around `axis` into (outer, length, inner). */
function around(shape: Shape, axis: number): [number, number, number] {
  let outer = 1;
  let inner = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d];
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d];
  return [outer, shape[axis], inner];
}

/** Numerically stable softmax along `axis`. */
export function softmax(x: Float32Array, shape: Shape, axis: number): Float32Array {
  const [outer, len, inner] = around(shape, axis);
  const out = new Float32Array(x.length);
  const e = new Float64Array(len);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * len * inner + i;
      let m = Number.NEGATIVE_INFINITY;
      for (let k = 0, p = base; k < len; k++, p += inner) {
        const v = x[p];
        if (v > m || Number.isNaN(v)) m = v;
      }
      // An all −∞ row: subtracting −∞ would give NaN; PyTorch gives NaN too, so keep it.
      let s = 0;
      for (let k = 0, p = base; k < len; k++, p += inner) {
        const v = Math.exp(x[p] - m);
        e[k] = v;
        s += v;
      }
      for (let k = 0, p = base; k < len; k++, p += inner) out[p] = e[k] / s;
    }
  }
  return out;
}

/** Index of the largest value along `axis`, first on ties (NaN counts as largest, as in PyTorch). */
export function argmax(x: TypedArray, shape: Shape, axis: number): Int32Array {
  const [outer, len, inner] = around(shape, axis);
  const out = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let p = o * len * inner + i;
      let best = x[p];
      let bi = 0;
      if (!Number.isNaN(best)) {
        p += inner;
        for (let k = 1; k < len; k++, p += inner) {
          const v = x[p];
          if (v > best) {
            best = v;
            bi = k;
          } else if (Number.isNaN(v)) {
            bi = k;
            break;
          }
        }
      }
      out[o * inner + i] = bi;
    }
  }
  return out;
}
