/**
 * Dilated 3×3 convolutions on the Winograd path, by their phases ("space to batch"). With
 * dilations `(dh, dw)`, the outputs whose row and column leave remainders `(p, q)` read only
 * the inputs with the same remainders: an undilated 3×3 convolution of that sub-grid. So the
 * input is gathered into `dh · dw` phase images per image (each `Hu + 2 × Wu + 2`, zero where
 * the sub-grid leaves the input; `Hu × Wu` = the most outputs of a phase), the undilated
 * convolution runs on that batch by Winograd F(2×2, 3×3) (`winograd.ts`, bias and activation
 * included), and its outputs are scattered back. SPNet's dilation 2, 4 and 8 convolutions
 * (`layer3`, `layer4`) take it; the gather and scatter are the backend's strided copy
 * (`copy_strided`), one call per phase image.
 *
 * @module
 */
import type { Activation, Conv2dInfo } from '@kernelzoo/core';
import type { KernelContext } from '../context.js';
import { copyStrided } from './transform.js';
import { useWinograd, winogradConv2d } from './winograd.js';

/**
 * The undilated convolution of a dilated one's phase images (batch `batch · dh · dw`, input
 * `Hu + 2 × Wu + 2`, output `Hu × Wu`, no padding), or null when it is not dilated or not a
 * 3×3, stride-1, ungrouped convolution.
 */
export function phaseInfo(info: Conv2dInfo): Conv2dInfo | null {
  const { dilationHeight: dh, dilationWidth: dw } = info;
  if (dh === 1 && dw === 1) return null;
  if (info.kernelHeight !== 3 || info.kernelWidth !== 3 || info.groups !== 1) return null;
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return null;
  const hu = Math.ceil(info.outHeight / dh);
  const wu = Math.ceil(info.outWidth / dw);
  return {
    ...info,
    batch: info.batch * dh * dw,
    inHeight: hu + 2,
    inWidth: wu + 2,
    outHeight: hu,
    outWidth: wu,
    dilationHeight: 1,
    dilationWidth: 1,
    padTop: 0,
    padBottom: 0,
    padLeft: 0,
    padRight: 0,
  };
}

/**
 * Whether a dilated convolution takes this path: its phase convolution takes the Winograd
 * path ({@link useWinograd}: its pixels over all the phase images, its tiles' fill) and every
 * phase has outputs (no more phases than output rows or columns). Phase images may hold few
 * tiles: the Winograd kernel's chunks of tiles run on across images (SPNet-50's dilation 16 on
 * a 60 × 60 map: 256 phase images of 2 × 2 tiles).
 */
export function useWinogradDilated(info: Conv2dInfo, activation: Activation): boolean {
  const sub = phaseInfo(info);
  if (sub === null) return false;
  if (info.dilationHeight > info.outHeight || info.dilationWidth > info.outWidth) return false;
  return useWinograd(sub, activation);
}

/**
 * Runs a dilated convolution ({@link useWinogradDilated}) through its phases into `outPtr`;
 * returns false, the output partly written, where the Winograd kernel met an Inf or NaN result
 * (the caller then runs the GEMM, as for an undilated convolution).
 */
export function winogradDilated(
  ctx: KernelContext,
  xp: number,
  packA: number,
  kc9: number,
  bp: number,
  act: number,
  info: Conv2dInfo,
  outPtr: number,
): boolean {
  const sub = phaseInfo(info)!;
  const {
    batch,
    inChannels: c,
    inHeight: ih,
    inWidth: iw,
    outChannels: oc,
    outHeight: oh,
    outWidth: ow,
  } = info;
  const { dilationHeight: dh, dilationWidth: dw, padTop: pt, padLeft: pl } = info;
  const { inHeight: hs, inWidth: ws, outHeight: hu, outWidth: wu } = sub;
  let xs = 0;
  let ys = 0;
  try {
    xs = ctx.alloc(sub.batch * c * hs * ws * 4, 'dilated conv2d phase images');
    ys = ctx.alloc(sub.batch * oc * hu * wu * 4, 'dilated conv2d phase outputs');
    // Gather, one strided copy per phase image: channel ch, (m, k) = input (p − pt + dh·m,
    // q − pl + dw·k), zero where that leaves the input.
    ctx.exports.fill32(xs, sub.batch * c * hs * ws, 0);
    for (let n = 0; n < batch; n++) {
      for (let p = 0; p < dh; p++) {
        // Rows of the phase image inside the input: p − pt + dh·m ∈ [0, ih).
        const mLo = Math.max(0, Math.ceil((pt - p) / dh));
        const mHi = Math.min(hs, Math.floor((ih - 1 - p + pt) / dh) + 1);
        for (let q = 0; q < dw; q++) {
          const kLo = Math.max(0, Math.ceil((pl - q) / dw));
          const kHi = Math.min(ws, Math.floor((iw - 1 - q + pl) / dw) + 1);
          if (mHi <= mLo || kHi <= kLo) continue;
          const image = (n * dh + p) * dw + q;
          const from = n * c * ih * iw + (p - pt + dh * mLo) * iw + q - pl + dw * kLo;
          const to = image * c * hs * ws + mLo * ws + kLo;
          copyStrided(
            ctx,
            xp + from * 4,
            [ih * iw, dh * iw, dw],
            xs + to * 4,
            [hs * ws, ws, 1],
            [c, mHi - mLo, kHi - kLo],
          );
        }
      }
    }
    if (!winogradConv2d(ctx, xs, packA, kc9, bp, act, sub, ys)) return false;
    // Scatter, one strided copy per phase image: output (n, o, p + dh·u, q + dw·v) = its (o, u, v).
    for (let n = 0; n < batch; n++) {
      for (let p = 0; p < dh; p++) {
        const rows = Math.ceil((oh - p) / dh);
        for (let q = 0; q < dw; q++) {
          const cols = Math.ceil((ow - q) / dw);
          const image = (n * dh + p) * dw + q;
          const to = n * oc * oh * ow + p * ow + q;
          copyStrided(
            ctx,
            ys + image * oc * hu * wu * 4,
            [hu * wu, wu, 1],
            outPtr + to * 4,
            [oh * ow, dh * ow, dw],
            [oc, rows, cols],
          );
        }
      }
    }
  } finally {
    ctx.free(xs);
    ctx.free(ys);
  }
  return true;
}
