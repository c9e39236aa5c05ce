/**
 * Float64 loop oracles for large contractions — convolution and matrix product with K (the
 * number of products summed per output) in the hundreds to thousands — that return, with each
 * exact value, the sum of the absolute values of its terms. That sum scales the error a
 * correct float32 implementation may make (see `expectAccumulated`), so realistic K can be
 * checked without a tolerance loose enough to hide real bugs. Written from PyTorch's
 * definitions; no formula is shared with core (each computes its own output size).
 *
 * @module
 */
import type { HostTensor } from '../host.js';

/** Exact values (float64) and, per output, `Σ|terms|` (bias included). */
export interface Accumulated {
  /** The output shape. */
  readonly shape: readonly number[];
  /** The float64 result. */
  readonly values: Float64Array;
  /** Per output element, the sum of the absolute values of the terms added. */
  readonly magnitude: Float64Array;
  /** Terms summed per output (K, plus one with a bias). */
  readonly terms: number;
}

/** Options of {@link convolve}: PyTorch `F.conv2d` with symmetric padding. */
export interface AccumulateConvOptions {
  /** `[sH, sW]`. */
  readonly stride: readonly [number, number];
  /** `[pH, pW]`, zeros on both sides. */
  readonly padding: readonly [number, number];
  /** `[dH, dW]`. */
  readonly dilation: readonly [number, number];
  /** Channel groups. */
  readonly groups: number;
  /** `[C_out]`, or null. */
  readonly bias: HostTensor | null;
}

/**
 * 2-D cross-correlation of NCHW `x` with OIHW `w` in float64, output by output: for each
 * output position, walk the window over every input channel of its group.
 */
export function convolve(x: HostTensor, w: HostTensor, o: AccumulateConvOptions): Accumulated {
  const [n, cin, h, wd] = x.shape;
  const [cout, cpg, kh, kw] = w.shape;
  const g = o.groups;
  if (cpg * g !== cin || cout % g !== 0) throw new Error('oracle: channels do not match groups');
  // Output size: count the window placements that fit, by walking them.
  const extentH = (kh - 1) * o.dilation[0] + 1;
  const extentW = (kw - 1) * o.dilation[1] + 1;
  let oh = 0;
  for (let top = -o.padding[0]; top + extentH <= h + o.padding[0]; top += o.stride[0]) oh++;
  let ow = 0;
  for (let left = -o.padding[1]; left + extentW <= wd + o.padding[1]; left += o.stride[1]) ow++;
  const coutPerGroup = cout / g;
  const values = new Float64Array(n * cout * oh * ow);
  const magnitude = new Float64Array(values.length);
  const xv = x.values;
  const wv = w.values;
  const bv = o.bias?.values ?? null;
  let idx = 0;
  for (let b = 0; b < n; b++)
    for (let co = 0; co < cout; co++) {
      const group = Math.floor(co / coutPerGroup);
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++) {
          let sum = bv ? bv[co] : 0;
          let mag = bv ? Math.abs(bv[co]) : 0;
          for (let c = 0; c < cpg; c++) {
            const ci = group * cpg + c;
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * o.stride[0] - o.padding[0] + ky * o.dilation[0];
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * o.stride[1] - o.padding[1] + kx * o.dilation[1];
                if (ix < 0 || ix >= wd) continue;
                const t = xv[((b * cin + ci) * h + iy) * wd + ix] * wv[((co * cpg + c) * kh + ky) * kw + kx];
                sum += t;
                mag += Math.abs(t);
              }
            }
          }
          values[idx] = sum;
          magnitude[idx++] = mag;
        }
    }
  return { shape: [n, cout, oh, ow], values, magnitude, terms: cpg * kh * kw + (bv ? 1 : 0) };
}

/**
 * `a · b` (+ bias over the last axis) for `a` `[m, k]` and `b` `[k, n]` (or `[n, k]` with
 * `transposeB`, as PyTorch's Linear weights are), in float64.
 */
export function multiply(
  a: HostTensor,
  b: HostTensor,
  transposeB: boolean,
  bias: HostTensor | null = null,
): Accumulated {
  const [m, k] = a.shape;
  const n = transposeB ? b.shape[0] : b.shape[1];
  const values = new Float64Array(m * n);
  const magnitude = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let sum = bias ? bias.values[j] : 0;
      let mag = bias ? Math.abs(bias.values[j]) : 0;
      for (let p = 0; p < k; p++) {
        const t = a.values[i * k + p] * (transposeB ? b.values[j * k + p] : b.values[p * n + j]);
        sum += t;
        mag += Math.abs(t);
      }
      values[i * n + j] = sum;
      magnitude[i * n + j] = mag;
    }
  return { shape: [m, n], values, magnitude, terms: k + (bias ? 1 : 0) };
}
