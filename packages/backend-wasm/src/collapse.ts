/**
 * Dimension collapsing for the strided kernels (elementwise broadcast, reductions, copies).
 *
 * @module
 */
import type { Shape } from '@kernelzoo/core';

/**
 * Merges adjacent dimensions along which every operand is contiguous (or broadcast), drops
 * dimensions of length 1, and returns at least one dimension. `strides[k]` are operand k's
 * strides over `shape`, in elements (any sign).
 */
export function collapse(shape: Shape, strides: number[][]): { shape: number[]; strides: number[][] } {
  const out: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const len = shape[d];
    if (len === 1) continue;
    const last = out.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * len)) {
      out[last] *= len;
      strides.forEach((s, k) => {
        outStrides[k][last] = s[d];
      });
    } else {
      out.push(len);
      strides.forEach((s, k) => {
        outStrides[k].push(s[d]);
      });
    }
  }
  if (out.length === 0) {
    out.push(1);
    for (const s of outStrides) s.push(0);
  }
  return { shape: out, strides: outStrides };
}
