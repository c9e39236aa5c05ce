/**
 * 2-D convolution: im2col + the shared GEMM for general convolutions (per group; the column
 * matrix is gathered block by block straight into the GEMM's packed panels), the input
 * used directly as the GEMM's B matrix for 1×1 stride-1 unpadded convolutions, Winograd's
 * F(4×4, 3×3) for 3×3 stride-1 convolutions with enough channels (see `winograd.ts`), and a
 * direct loop for depthwise convolutions (one input channel per group).
 *
 * @module
 */
import type { Activation, Conv2dInfo } from '@kernelzoo/core';
import { gemm, NR, NR_SHIFT, type PanelSource, StridedMatrix } from '../gemm.js';
import { biasActivationPerRow } from './activation.js';
import { useWinograd, winogradConv2d } from './winograd.js';

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
  else if (useWinograd(info)) {
    // Winograd stops at an Inf or NaN in the data (its transforms would spread it to outputs
    // whose receptive field does not hold it); the im2col GEMM then gives the direct
    // convolution's Inf/NaN outputs exactly.
    if (!winogradConv2d(x, w, out, info)) gemmConv(x, w, out.fill(0), info);
  } else gemmConv(x, w, out, info);
  biasActivationPerRow(out, batch, outChannels, outHeight * outWidth, bias, activation);
  return out;
}

/** im2col + GEMM, for any convolution (exported for scripts/profile/js-winograd.mjs, which compares it with the Winograd path). */
export function gemmConv(x: Float32Array, w: Float32Array, out: Float32Array, info: Conv2dInfo): void {
  const { batch, inChannels, inHeight, inWidth, outChannels, outHeight, outWidth, groups } = info;
  const cg = inChannels / groups;
  const mg = outChannels / groups;
  const kDim = cg * info.kernelHeight * info.kernelWidth;
  const hw = outHeight * outWidth;
  const inPlane = inHeight * inWidth;
  const pointwise =
    info.kernelHeight === 1 &&
    info.kernelWidth === 1 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.padTop === 0 &&
    info.padBottom === 0 &&
    info.padLeft === 0 &&
    info.padRight === 0;
  const columns = new Im2colSource(x, info);
  for (let n = 0; n < batch; n++) {
    for (let g = 0; g < groups; g++) {
      const xOff = (n * inChannels + g * cg) * inPlane;
      // 1×1 stride 1 unpadded: the input block already is the [cg, H·W] matrix B.
      const b = pointwise ? new StridedMatrix(x, xOff, inPlane, 1) : columns.at(xOff);
      gemm(mg, hw, kDim, w, g * mg * kDim, kDim, 1, b, out, (n * outChannels + g * mg) * hw, hw);
    }
  }
}

/**
 * The im2col matrix of one image and channel group, `[cg·kh·kw, outH·outW]`, gathered straight
 * into the GEMM's packed panels: row `(c, ky, kx)`, column `(oy, ox)` holds input pixel
 * `(oy·sh − padTop + ky·dh, ox·sw − padLeft + kx·dw)` of channel `c`, or 0 outside the input.
 */
class Im2colSource implements PanelSource {
  private xOff = 0;
  constructor(
    private readonly x: Float32Array,
    private readonly info: Conv2dInfo,
  ) {}

  /** Points the source at the channel group whose first channel starts at `xOff`. */
  at(xOff: number): this {
    this.xOff = xOff;
    return this;
  }

  packPanels(p0: number, kc: number, j0: number, nc: number, dst: Float64Array): void {
    const { inHeight: ih, inWidth: iw, outWidth: ow, kernelHeight: kh, kernelWidth: kw } = this.info;
    const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = this.info;
    const { padTop: pt, padLeft: pl } = this.info;
    const x = this.x;
    const panel = NR * kc;
    const shift = NR_SHIFT;
    const lane = NR - 1;
    const j1 = j0 + nc;
    const oy0 = Math.floor(j0 / ow);
    const oy1 = Math.floor((j1 - 1) / ow);
    const taps = kh * kw;
    // Lanes past the last column of a partial last panel.
    const padded = Math.ceil(nc / NR) * NR;
    for (let p = 0; p < kc; p++) {
      const r = p0 + p;
      const c = Math.floor(r / taps);
      const ky = Math.floor((r - c * taps) / kw);
      const kx = r - c * taps - ky * kw;
      const plane = this.xOff + c * ih * iw;
      const xShift = kx * dw - pl;
      // Output columns whose tap lands inside the input: ox·sw + xShift ∈ [0, iw).
      const oxLo = Math.max(0, Math.ceil(-xShift / sw));
      const oxHi = Math.min(ow, Math.floor((iw - 1 - xShift) / sw) + 1);
      const rowBase = p * NR;
      // jj: column index within the block; its slot is (jj >> shift)·panel + rowBase + (jj & lane).
      let jj = 0;
      for (let oy = oy0; oy <= oy1; oy++) {
        const a = oy === oy0 ? j0 - oy * ow : 0;
        const b = oy === oy1 ? j1 - oy * ow : ow;
        const iy = oy * sh - pt + ky * dh;
        if (iy < 0 || iy >= ih) {
          for (let ox = a; ox < b; ox++, jj++) dst[(jj >> shift) * panel + rowBase + (jj & lane)] = 0;
          continue;
        }
        const row = plane + iy * iw + xShift;
        const lo = Math.min(Math.max(a, oxLo), b);
        const hi = Math.max(Math.min(b, oxHi), lo);
        for (let ox = a; ox < lo; ox++, jj++) dst[(jj >> shift) * panel + rowBase + (jj & lane)] = 0;
        for (let ox = lo, s = row + lo * sw; ox < hi; ox++, jj++, s += sw)
          dst[(jj >> shift) * panel + rowBase + (jj & lane)] = x[s];
        for (let ox = hi; ox < b; ox++, jj++) dst[(jj >> shift) * panel + rowBase + (jj & lane)] = 0;
      }
      for (; jj < padded; jj++) dst[(jj >> shift) * panel + rowBase + (jj & lane)] = 0;
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
