/**
 * Fused epilogues: bias plus activation applied in place after a GEMM or convolution.
 *
 * @module
 */
import type { Activation } from '@kernelzoo/core';

/**
 * For each of `outer · rows` rows of `len` values: adds `bias[row]` (when given) and applies
 * `activation`. Rows are `rows` per outer step (channels of NCHW output).
 */
export function biasActivationPerRow(
  out: Float32Array,
  outer: number,
  rows: number,
  len: number,
  bias: Float32Array | null,
  activation: Activation,
): void {
  if (bias === null && activation === 'linear') return;
  let i = 0;
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < rows; r++) {
      const b = bias === null ? 0 : bias[r];
      const end = i + len;
      if (activation === 'relu') {
        for (; i < end; i++) {
          const v = out[i] + b;
          out[i] = v > 0 || Number.isNaN(v) ? v : 0;
        }
      } else if (activation === 'sigmoid') {
        for (; i < end; i++) out[i] = 1 / (1 + Math.exp(-(out[i] + b)));
      } else {
        for (; i < end; i++) out[i] += b;
      }
    }
  }
}

/**
 * For `rows` rows of `cols` values: adds `bias[col]` (when given) to every row and applies
 * `activation` (matmul's epilogue).
 */
export function biasActivationPerColumn(
  out: Float32Array,
  rows: number,
  cols: number,
  bias: Float32Array | null,
  activation: Activation,
): void {
  if (bias === null && activation === 'linear') return;
  let i = 0;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++, i++) {
      const v = bias === null ? out[i] : out[i] + bias[j];
      out[i] = applyActivation(v, activation);
    }
  }
}

/** One value through an activation (`relu` keeps NaN, as PyTorch does). */
export function applyActivation(v: number, activation: Activation): number {
  if (activation === 'relu') return v > 0 || Number.isNaN(v) ? v : 0;
  if (activation === 'sigmoid') return 1 / (1 + Math.exp(-v));
  return v;
}
