/**
 * 2-D convolution: im2col + the shared GEMM for general convolutions (per group), the input
 * used directly as the GEMM's B matrix for 1×1 stride-1 unpadded convolutions, and a direct
 * loop for depthwise convolutions (one input channel per group).
 *
 * @module
 */
import type { Activation, Conv2dInfo } from '@kernelzoo/core';
import { gemm, NR } from '../gemm.js';
import { biasActivationPerRow } from './activation.js';

/** Floats of im2col scratch we aim to stay under (8 MiB); larger problems are done in column chunks. */
const COL_BUDGET = 1 << 21;
let colScratch = new Float32Array(0);
let planeScratch = new Float64Array(0);

/** Computes the NCHW output of a convolution (see {@link Conv2dInfo}). */
export function conv2d(
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  info: Conv2dInfo,
  activation: Activation,
): Float32Array {
  const { batch, outChannels, outHeight, outWidth, groups, inChannels } = info;
  const out = new Float32Array(batch * outChannels * outHeight * outWidth);
  if (out.length === 0) return out;
  if (groups > 1 && groups === inChannels) depthwise(x, w, out, info);
  else gemmConv(x, w, out, info);
  biasActivationPerRow(out, batch, outChannels, outHeight * outWidth, bias, activation);
  return out;
}

function gemmConv(x: Float32Array, w: Float32Array, out: Float32Array, info: Conv2dInfo): void {
  const { batch, inChannels, inHeight, inWidth, outChannels, outHeight, outWidth, groups } = info;
  const { kernelHeight: kh, kernelWidth: kw } = info;
  const cg = inChannels / groups;
  const mg = outChannels / groups;
  const kDim = cg * kh * kw;
  const hw = outHeight * outWidth;
  const inPlane = inHeight * inWidth;
  const pointwise =
    kh === 1 &&
    kw === 1 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.padTop === 0 &&
    info.padBottom === 0 &&
    info.padLeft === 0 &&
    info.padRight === 0;
  // Output columns per im2col chunk: all of them when the column matrix fits the budget.
  let chunk = hw;
  if (!pointwise && kDim * hw > COL_BUDGET)
    chunk = Math.max(NR * 16, Math.floor(COL_BUDGET / kDim / NR) * NR);
  if (!pointwise && colScratch.length < kDim * Math.min(chunk, hw))
    colScratch = new Float32Array(kDim * Math.min(chunk, hw));
  for (let n = 0; n < batch; n++) {
    for (let g = 0; g < groups; g++) {
      const aOff = g * mg * kDim;
      const cOff = (n * outChannels + g * mg) * hw;
      const xOff = (n * inChannels + g * cg) * inPlane;
      if (pointwise) {
        // The input block already is the [cg, H·W] matrix B.
        gemm(mg, hw, kDim, w, aOff, kDim, 1, x, xOff, inPlane, 1, out, cOff, hw);
        continue;
      }
      for (let j0 = 0; j0 < hw; j0 += chunk) {
        const cols = Math.min(chunk, hw - j0);
        im2col(x, xOff, cg, info, j0, cols, colScratch);
        gemm(mg, cols, kDim, w, aOff, kDim, 1, colScratch, 0, cols, 1, out, cOff + j0, hw);
      }
    }
  }
}

/**
 * Writes the `[cg·kh·kw, cols]` column matrix for output positions `j0 .. j0 + cols` (row-major
 * over the output plane) of `cg` input channels starting at `xOff`. Out-of-input taps are 0.
 */
function im2col(
  x: Float32Array,
  xOff: number,
  cg: number,
  info: Conv2dInfo,
  j0: number,
  cols: number,
  col: Float32Array,
): void {
  const { inHeight: ih, inWidth: iw, outWidth: ow, kernelHeight: kh, kernelWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { padTop: pt, padLeft: pl } = info;
  const j1 = j0 + cols;
  const oy0 = Math.floor(j0 / ow);
  const oy1 = Math.floor((j1 - 1) / ow);
  let d = 0;
  for (let c = 0; c < cg; c++) {
    const plane = xOff + c * ih * iw;
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const xShift = kx * dw - pl;
        // Output columns whose tap lands inside the input: ox·sw + xShift ∈ [0, iw).
        const oxLo = Math.max(0, Math.ceil(-xShift / sw));
        const oxHi = Math.min(ow, Math.floor((iw - 1 - xShift) / sw) + 1);
        for (let oy = oy0; oy <= oy1; oy++) {
          const a = oy === oy0 ? j0 - oy * ow : 0;
          const b = oy === oy1 ? j1 - oy * ow : ow;
          const iy = oy * sh - pt + ky * dh;
          if (iy < 0 || iy >= ih) {
            col.fill(0, d, d + (b - a));
            d += b - a;
            continue;
          }
          const row = plane + iy * iw + xShift;
          const lo = Math.min(Math.max(a, oxLo), b);
          const hi = Math.max(Math.min(b, oxHi), lo);
          for (let ox = a; ox < lo; ox++) col[d++] = 0;
          if (sw === 1) {
            for (let ox = lo; ox < hi; ox++) col[d++] = x[row + ox];
          } else {
            for (let ox = lo, s = row + lo * sw; ox < hi; ox++, s += sw) col[d++] = x[s];
          }
          for (let ox = hi; ox < b; ox++) col[d++] = 0;
        }
      }
    }
  }
}

/** Depthwise convolution (groups = input channels, any channel multiplier) as a direct loop. */
function depthwise(x: Float32Array, w: Float32Array, out: Float32Array, info: Conv2dInfo): void {
  const { batch, inChannels, inHeight: ih, inWidth: iw, outChannels, outHeight: oh, outWidth: ow } = info;
  const { kernelHeight: kh, kernelWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw, padTop: pt, padLeft: pl } = info;
  const mult = outChannels / inChannels;
  const hw = oh * ow;
  if (planeScratch.length < hw) planeScratch = new Float64Array(hw);
  const acc = planeScratch;
  for (let n = 0; n < batch; n++) {
    for (let oc = 0; oc < outChannels; oc++) {
      const plane = (n * inChannels + Math.floor(oc / mult)) * ih * iw;
      acc.fill(0, 0, hw);
      for (let ky = 0; ky < kh; ky++) {
        const yShift = ky * dh - pt;
        const oyLo = Math.max(0, Math.ceil(-yShift / sh));
        const oyHi = Math.min(oh, Math.floor((ih - 1 - yShift) / sh) + 1);
        for (let kx = 0; kx < kw; kx++) {
          const wv = w[(oc * kh + ky) * kw + kx];
          const xShift = kx * dw - pl;
          const oxLo = Math.max(0, Math.ceil(-xShift / sw));
          const oxHi = Math.min(ow, Math.floor((iw - 1 - xShift) / sw) + 1);
          for (let oy = oyLo; oy < oyHi; oy++) {
            const row = plane + (oy * sh + yShift) * iw + xShift;
            const o = oy * ow;
            for (let ox = oxLo, s = row + oxLo * sw; ox < oxHi; ox++, s += sw) acc[o + ox] += wv * x[s];
          }
        }
      }
      const base = (n * outChannels + oc) * hw;
      for (let i = 0; i < hw; i++) out[base + i] = acc[i];
    }
  }
}
