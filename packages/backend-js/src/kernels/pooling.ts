/**
 * Pooling kernels over NCHW input: max/average pooling with padding, dilation and ceil-mode
 * clipping, and PyTorch's adaptive average pooling.
 *
 * @module
 */
import type { Pool2dInfo, ResizeInfo } from '@kernelzoo/core';

/** Max or average 2-D pooling, PyTorch semantics (see {@link Pool2dInfo}). */
export function pool2d(x: Float32Array, type: 'max' | 'avg', info: Pool2dInfo): Float32Array {
  const { batch, channels, inHeight: ih, inWidth: iw, outHeight: oh, outWidth: ow } = info;
  const { kernelHeight: kh, kernelWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { padTop: pt, padLeft: pl, padBottom: pb, padRight: pr } = info;
  const out = new Float32Array(batch * channels * oh * ow);
  const planes = batch * channels;
  const inPlane = ih * iw;
  if (type === 'max') {
    const { dilationHeight: dh, dilationWidth: dw } = info;
    let o = 0;
    for (let p = 0; p < planes; p++) {
      const base = p * inPlane;
      for (let oy = 0; oy < oh; oy++) {
        const y0 = oy * sh - pt;
        // Taps ky with 0 ≤ y0 + ky·dh < ih.
        const kyLo = y0 < 0 ? Math.ceil(-y0 / dh) : 0;
        const kyHi = Math.min(kh, Math.floor((ih - 1 - y0) / dh) + 1);
        for (let ox = 0; ox < ow; ox++, o++) {
          const x0 = ox * sw - pl;
          const kxLo = x0 < 0 ? Math.ceil(-x0 / dw) : 0;
          const kxHi = Math.min(kw, Math.floor((iw - 1 - x0) / dw) + 1);
          let m = Number.NEGATIVE_INFINITY;
          for (let ky = kyLo; ky < kyHi; ky++) {
            const row = base + (y0 + ky * dh) * iw + x0;
            for (let kx = kxLo; kx < kxHi; kx++) {
              const v = x[row + kx * dw];
              // NaN wins, as in PyTorch.
              if (v > m || Number.isNaN(v)) m = v;
              if (Number.isNaN(m)) break;
            }
          }
          out[o] = m;
        }
      }
    }
    return out;
  }
  const includePad = info.countIncludePad;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const base = p * inPlane;
    for (let oy = 0; oy < oh; oy++) {
      let y0 = oy * sh - pt;
      let y1 = Math.min(y0 + kh, ih + pb);
      const spanY = y1 - y0;
      y0 = Math.max(y0, 0);
      y1 = Math.min(y1, ih);
      for (let ox = 0; ox < ow; ox++, o++) {
        let x0 = ox * sw - pl;
        let x1 = Math.min(x0 + kw, iw + pr);
        const spanX = x1 - x0;
        x0 = Math.max(x0, 0);
        x1 = Math.min(x1, iw);
        let s = 0;
        for (let y = y0; y < y1; y++) {
          const row = base + y * iw;
          for (let xx = x0; xx < x1; xx++) s += x[row + xx];
        }
        const count = includePad ? spanY * spanX : (y1 - y0) * (x1 - x0);
        out[o] = s / count;
      }
    }
  }
  return out;
}

/** PyTorch's adaptive average pooling: cell `i` averages rows `floor(i·in/out) .. ceil((i+1)·in/out) − 1`. */
export function adaptiveAvgPool2d(x: Float32Array, info: ResizeInfo): Float32Array {
  const { batch, channels, inHeight: ih, inWidth: iw, outHeight: oh, outWidth: ow } = info;
  const out = new Float32Array(batch * channels * oh * ow);
  const planes = batch * channels;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    const base = p * ih * iw;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = Math.floor((oy * ih) / oh);
      const y1 = Math.ceil(((oy + 1) * ih) / oh);
      for (let ox = 0; ox < ow; ox++, o++) {
        const x0 = Math.floor((ox * iw) / ow);
        const x1 = Math.ceil(((ox + 1) * iw) / ow);
        let s = 0;
        for (let y = y0; y < y1; y++) {
          const row = base + y * iw;
          for (let xx = x0; xx < x1; xx++) s += x[row + xx];
        }
        out[o] = s / ((y1 - y0) * (x1 - x0));
      }
    }
  }
  return out;
}
