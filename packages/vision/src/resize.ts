import { ArgumentError } from '@kernelzoo/core';
import { checkImage, type RgbImage } from './image.js';

/** The interpolations the reference pipelines resize with. */
export type Interpolation = 'bilinear' | 'bicubic';

/*
 * Pillow's resampling, as its documentation and Resample.c describe it (written here from those
 * facts, not translated): the image is resampled separably — horizontally first, over only the
 * rows the vertical pass will read, then vertically. Each output sample centred at
 * (i + 0.5)·scale in input coordinates takes the inputs within `support · max(scale, 1)` of the
 * centre (so a downscale widens the filter: antialiasing), weighted by the filter evaluated at
 * (distance / max(scale, 1)) and normalised to sum 1. For 8-bit images the weights are turned
 * into fixed point with 22 fractional bits (rounded half away from zero); each pass sums
 * pixel × weight in integers with a rounding bias of 2^21, shifts right by 22 and clamps to
 * [0, 255] — so the intermediate image between the passes is 8-bit.
 */

const PRECISION_BITS = 22;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);

interface Filter {
  readonly support: number;
  readonly weight: (x: number) => number;
}

const FILTERS: Record<Interpolation, Filter> = {
  bilinear: {
    support: 1,
    weight: (x) => {
      const t = Math.abs(x);
      return t < 1 ? 1 - t : 0;
    },
  },
  bicubic: {
    support: 2,
    // Keys' cubic convolution with a = −0.5.
    weight: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
};

/** Fixed-point weights of one axis: for output `i`, inputs `first[i] .. first[i] + count[i] − 1`. */
interface AxisWeights {
  readonly first: Int32Array;
  readonly count: Int32Array;
  /** `out × taps` integer weights; entries past `count[i]` are unused. */
  readonly weights: Float64Array;
  readonly taps: number;
}

function axisWeights(inSize: number, outSize: number, filter: Filter): AxisWeights {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const inv = 1 / filterScale;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * taps);
  const w = new Float64Array(taps);
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(centre - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(centre + support + 0.5));
    const n = hi - lo;
    let sum = 0;
    for (let k = 0; k < n; k++) {
      w[k] = filter.weight((k + lo - centre + 0.5) * inv);
      sum += w[k];
    }
    for (let k = 0; k < n; k++) {
      const v = sum !== 0 ? w[k] / sum : w[k];
      weights[i * taps + k] = v < 0 ? Math.trunc(v * ONE - 0.5) : Math.trunc(v * ONE + 0.5);
    }
    first[i] = lo;
    count[i] = n;
  }
  return { first, count, weights, taps };
}

function clamp8(acc: number): number {
  const v = Math.floor(acc / ONE);
  return Math.min(Math.max(v, 0), 255);
}

/** Horizontal pass over rows `row0 .. row0 + rows − 1` of a `[h, w, c]` plane. */
function horizontal(
  src: Uint8Array,
  width: number,
  channels: number,
  row0: number,
  rows: number,
  ax: AxisWeights,
): Uint8Array {
  const outW = ax.first.length;
  const out = new Uint8Array(rows * outW * channels);
  for (let y = 0; y < rows; y++) {
    const srcRow = (row0 + y) * width * channels;
    const dstRow = y * outW * channels;
    for (let x = 0; x < outW; x++) {
      const lo = ax.first[x];
      const n = ax.count[x];
      const wBase = x * ax.taps;
      for (let c = 0; c < channels; c++) {
        let acc = HALF;
        for (let k = 0; k < n; k++) acc += src[srcRow + (lo + k) * channels + c] * ax.weights[wBase + k];
        out[dstRow + x * channels + c] = clamp8(acc);
      }
    }
  }
  return out;
}

/** Vertical pass; `rowOffset` is the first source row held by `src`. */
function vertical(
  src: Uint8Array,
  width: number,
  channels: number,
  rowOffset: number,
  ax: AxisWeights,
): Uint8Array {
  const outH = ax.first.length;
  const stride = width * channels;
  const out = new Uint8Array(outH * stride);
  for (let y = 0; y < outH; y++) {
    const lo = ax.first[y] - rowOffset;
    const n = ax.count[y];
    const wBase = y * ax.taps;
    for (let i = 0; i < stride; i++) {
      let acc = HALF;
      for (let k = 0; k < n; k++) acc += src[(lo + k) * stride + i] * ax.weights[wBase + k];
      out[y * stride + i] = clamp8(acc);
    }
  }
  return out;
}

function resizePlane(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outW: number,
  outH: number,
  filter: Filter,
): Uint8Array {
  const needH = outW !== width;
  const needV = outH !== height;
  if (!needH && !needV) return src.slice();
  const vax = axisWeights(height, outH, filter);
  if (!needH) return vertical(src, width, channels, 0, vax);
  const hax = axisWeights(width, outW, filter);
  if (!needV) return horizontal(src, width, channels, 0, height, hax);
  const row0 = vax.first[0];
  const rowEnd = vax.first[outH - 1] + vax.count[outH - 1];
  const tmp = horizontal(src, width, channels, row0, rowEnd - row0, hax);
  return vertical(tmp, outW, channels, row0, vax);
}

function checkSize(op: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new ArgumentError(op, name, 'a positive integer', String(v));
}

/**
 * Resizes to `width × height` exactly as Pillow's `Image.resize` does for an 8-bit RGB image
 * with `Image.BILINEAR` or `Image.BICUBIC` (antialiased when shrinking, 8-bit between the
 * horizontal and vertical passes), so results equal Pillow's byte for byte. An alpha plane is
 * resized on its own like an `L` image (Pillow would premultiply an RGBA image; the RGB result
 * here is that of `img.convert('RGB').resize(...)`, which is what timm feeds its models).
 */
export function resize(img: RgbImage, width: number, height: number, interpolation: Interpolation): RgbImage {
  checkImage('resize', img);
  checkSize('resize', 'width', width);
  checkSize('resize', 'height', height);
  const filter = FILTERS[interpolation];
  if (!filter)
    throw new ArgumentError('resize', 'interpolation', `'bilinear' or 'bicubic'`, String(interpolation));
  const data = resizePlane(img.data, img.width, img.height, 3, width, height, filter);
  if (img.alpha === undefined) return { width, height, data };
  const alpha = resizePlane(img.alpha, img.width, img.height, 1, width, height, filter);
  return { width, height, data, alpha };
}

/**
 * The size torchvision's `Resize(size)` (an int) gives: the shorter side becomes `size`, the
 * longer ⌊size · long / short⌋. Returns `[width, height]`.
 */
export function shorterSideSize(width: number, height: number, size: number): [number, number] {
  checkSize('shorterSideSize', 'size', size);
  if (width <= height) return [size, Math.trunc((size * height) / width)];
  return [Math.trunc((size * width) / height), size];
}

/** torchvision's `Resize(size)` with an int `size` on a PIL image: shorter side to `size`. */
export function resizeShorterSide(img: RgbImage, size: number, interpolation: Interpolation): RgbImage {
  checkImage('resizeShorterSide', img);
  const [w, h] = shorterSideSize(img.width, img.height, size);
  return resize(img, w, h, interpolation);
}

/** Python's `round` (half to even). */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Copies the `width × height` window at (`left`, `top`) of `img`; pixels outside are 0. */
export function crop(img: RgbImage, left: number, top: number, width: number, height: number): RgbImage {
  checkImage('crop', img);
  checkSize('crop', 'width', width);
  checkSize('crop', 'height', height);
  if (!Number.isInteger(left)) throw new ArgumentError('crop', 'left', 'an integer', String(left));
  if (!Number.isInteger(top)) throw new ArgumentError('crop', 'top', 'an integer', String(top));
  const data = new Uint8Array(width * height * 3);
  const alpha = img.alpha === undefined ? undefined : new Uint8Array(width * height);
  const x0 = Math.max(0, -left);
  const x1 = Math.min(width, img.width - left);
  for (let y = 0; y < height; y++) {
    const sy = y + top;
    if (sy < 0 || sy >= img.height || x1 <= x0) continue;
    const src = (sy * img.width + left + x0) * 3;
    data.set(img.data.subarray(src, src + (x1 - x0) * 3), (y * width + x0) * 3);
    if (alpha && img.alpha) {
      const a = sy * img.width + left + x0;
      alpha.set(img.alpha.subarray(a, a + x1 - x0), y * width + x0);
    }
  }
  return alpha ? { width, height, data, alpha } : { width, height, data };
}

/**
 * torchvision's `CenterCrop((height, width))`: the offsets are `round((H − h) / 2)` and
 * `round((W − w) / 2)` with Python's rounding (half to even); an image smaller than the crop is
 * first padded with zeros, `⌊d/2⌋` before and `⌈d/2⌉` after.
 */
export function centerCrop(img: RgbImage, width: number, height: number): RgbImage {
  checkImage('centerCrop', img);
  checkSize('centerCrop', 'width', width);
  checkSize('centerCrop', 'height', height);
  // Padding then cropping at round((H' − h) / 2) is one window at a (possibly negative) offset.
  const padLeft = width > img.width ? Math.floor((width - img.width) / 2) : 0;
  const padTop = height > img.height ? Math.floor((height - img.height) / 2) : 0;
  const paddedW = img.width + (width > img.width ? width - img.width : 0);
  const paddedH = img.height + (height > img.height ? height - img.height : 0);
  const left = roundHalfEven((paddedW - width) / 2) - padLeft;
  const top = roundHalfEven((paddedH - height) / 2) - padTop;
  return crop(img, left, top, width, height);
}
