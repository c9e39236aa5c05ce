/**
 * Spatial resize kernels over NCHW input with PyTorch's coordinate rules.
 *
 * @module
 */
import type { ResizeInfo } from '@kernelzoo/core';

/** Source index pairs and weights along one axis for bilinear resize. */
function bilinearAxis(
  inSize: number,
  outSize: number,
  alignCorners: boolean,
): { lo: Int32Array; hi: Int32Array; t: Float64Array } {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const t = new Float64Array(outSize);
  const scale = alignCorners ? (outSize > 1 ? (inSize - 1) / (outSize - 1) : 0) : inSize / outSize;
  for (let i = 0; i < outSize; i++) {
    const src = alignCorners ? i * scale : Math.max(0, (i + 0.5) * scale - 0.5);
    const l = Math.min(Math.floor(src), inSize - 1);
    lo[i] = l;
    hi[i] = Math.min(l + 1, inSize - 1);
    t[i] = src - l;
  }
  return { lo, hi, t };
}

/** Bilinear resize, PyTorch's `align_corners` rule (see the Backend interface). */
export function resizeBilinear(x: Float32Array, info: ResizeInfo, alignCorners: boolean): Float32Array {
  const { batch, channels, inHeight: ih, inWidth: iw, outHeight: oh, outWidth: ow } = info;
  const out = new Float32Array(batch * channels * oh * ow);
  const ys = bilinearAxis(ih, oh, alignCorners);
  const xs = bilinearAxis(iw, ow, alignCorners);
  const planes = batch * channels;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const base = p * ih * iw;
    for (let oy = 0; oy < oh; oy++) {
      const r0 = base + ys.lo[oy] * iw;
      const r1 = base + ys.hi[oy] * iw;
      const ty = ys.t[oy];
      for (let ox = 0; ox < ow; ox++, o++) {
        const x0 = xs.lo[ox];
        const x1 = xs.hi[ox];
        const tx = xs.t[ox];
        const top = x[r0 + x0] * (1 - tx) + x[r0 + x1] * tx;
        const bottom = x[r1 + x0] * (1 - tx) + x[r1 + x1] * tx;
        out[o] = top * (1 - ty) + bottom * ty;
      }
    }
  }
  return out;
}

/** Nearest resize, PyTorch `mode='nearest'`: source = min(floor(dst·in/out), in − 1). */
export function resizeNearest(x: Float32Array, info: ResizeInfo): Float32Array {
  const { batch, channels, inHeight: ih, inWidth: iw, outHeight: oh, outWidth: ow } = info;
  const out = new Float32Array(batch * channels * oh * ow);
  const srcX = new Int32Array(ow);
  for (let i = 0; i < ow; i++) srcX[i] = Math.min(Math.floor((i * iw) / ow), iw - 1);
  const planes = batch * channels;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const base = p * ih * iw;
    for (let oy = 0; oy < oh; oy++) {
      const row = base + Math.min(Math.floor((oy * ih) / oh), ih - 1) * iw;
      for (let ox = 0; ox < ow; ox++, o++) out[o] = x[row + srcX[ox]];
    }
  }
  return out;
}
