import {
  ArgumentError,
  IMAGENET_MEAN,
  IMAGENET_STD,
  resizeBilinear,
  softmax,
  type Tensor,
  tensor,
} from '@kernelzoo/core';
import { checkImage, type RgbImage } from './image.js';

/**
 * Segmentation inference: SPNet's test-time rule (Andrew-Qibin/SPNet `tool/test.py`) over a
 * `forward` callback, so any network — or a fake one in tests — can be plugged in.
 */

/** How `cv2.resize(..., INTER_LINEAR)` rounds its arithmetic: float32 images or float64 maps. */
export type CvPrecision = 'float32' | 'float64';

/**
 * `cv2.resize(src, (width, height), interpolation=INTER_LINEAR)` for float32 or float64 images
 * with any number of interleaved channels, as OpenCV 4.6 computes it: source coordinate
 * `(d + 0.5) · (1 / (dst / src)) − 0.5` rounded to float32, weights `1 − f` and `f` in float32,
 * clamped at the borders; a horizontal pass then a vertical pass, each rounded to `precision`.
 * An exact 2× reduction on both axes is the 2×2 mean, as OpenCV switches to `INTER_AREA` there.
 */
export function cvResizeLinear(
  src: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
  precision: CvPrecision = 'float32',
): Float64Array {
  if (src.length !== width * height * channels)
    throw new ArgumentError(
      'cvResizeLinear',
      'src',
      `${width}×${height}×${channels} values`,
      `${src.length}`,
    );
  if (!(outWidth >= 1 && outHeight >= 1 && Number.isInteger(outWidth) && Number.isInteger(outHeight)))
    throw new ArgumentError(
      'cvResizeLinear',
      'outWidth/outHeight',
      'positive integers',
      `${outWidth}×${outHeight}`,
    );
  const r = precision === 'float32' ? Math.fround : (v: number) => v;
  const out = new Float64Array(outWidth * outHeight * channels);
  if (outWidth === width && outHeight === height) {
    for (let i = 0; i < out.length; i++) out[i] = src[i];
    return out;
  }
  if (width === outWidth * 2 && height === outHeight * 2) {
    for (let y = 0; y < outHeight; y++)
      for (let x = 0; x < outWidth; x++)
        for (let c = 0; c < channels; c++) {
          const i = (2 * y * width + 2 * x) * channels + c;
          const j = i + width * channels;
          out[(y * outWidth + x) * channels + c] = r(
            r(r(r(src[i] + src[i + channels]) + src[j]) + src[j + channels]) * 0.25,
          );
        }
    return out;
  }
  const coeffs = (n: number, outN: number) => {
    const scale = 1 / (outN / n);
    const ofs = new Int32Array(outN);
    const a0 = new Float64Array(outN);
    const a1 = new Float64Array(outN);
    for (let d = 0; d < outN; d++) {
      let f = Math.fround((d + 0.5) * scale - 0.5);
      let s = Math.floor(f);
      f = Math.fround(f - s);
      if (s < 0) {
        f = 0;
        s = 0;
      }
      if (s >= n - 1) {
        f = 0;
        s = n - 1;
      }
      ofs[d] = s;
      a0[d] = Math.fround(1 - f);
      a1[d] = f;
    }
    return { ofs, a0, a1 };
  };
  const cx = coeffs(width, outWidth);
  const cy = coeffs(height, outHeight);
  // Horizontal pass over every source row (rounded to the working precision).
  const rowLen = outWidth * channels;
  const hrows = new Float64Array(height * rowLen);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < outWidth; x++) {
      const s = cx.ofs[x];
      const s1 = Math.min(s + 1, width - 1);
      for (let c = 0; c < channels; c++) {
        const v0 = src[(y * width + s) * channels + c];
        const v1 = src[(y * width + s1) * channels + c];
        hrows[y * rowLen + x * channels + c] = cx.a1[x] === 0 ? v0 : r(r(v0 * cx.a0[x]) + r(v1 * cx.a1[x]));
      }
    }
  for (let y = 0; y < outHeight; y++) {
    const s = cy.ofs[y];
    const s1 = Math.min(s + 1, height - 1);
    const b0 = cy.a0[y];
    const b1 = cy.a1[y];
    for (let i = 0; i < rowLen; i++)
      out[y * rowLen + i] = r(r(hrows[s * rowLen + i] * b0) + r(hrows[s1 * rowLen + i] * b1));
  }
  return out;
}

/** Python 3's `round`: half to even. */
function pyRound(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Progress of {@link segmentSlidingWindow}: windows run so far out of all windows of all scales. */
export interface SegmentationProgress {
  /** Windows (network calls) finished. */
  readonly done: number;
  /** Windows in the whole run. */
  readonly total: number;
  /** The scale being processed. */
  readonly scale: number;
}

/** Options of {@link segmentSlidingWindow}; the defaults are SPNet's ADE20K test settings. */
export interface SlidingWindowOptions {
  /**
   * The network: an NCHW float32 batch (`[2, 3, cropH, cropW]` with flip, else `[1, …]`) to logits
   * `[N, classes, h, w]`; logits of another size are upsampled bilinearly with
   * `align_corners=True`. The returned tensor is disposed here.
   */
  readonly forward: (batch: Tensor) => Tensor | Promise<Tensor>;
  /** The long side at scale 1 (`base_size`: 512 for ADE20K, 2048 for Cityscapes). Default 512. */
  readonly baseSize?: number;
  /** Window `[height, width]` (480 × 480 for ADE20K, 768 × 768 for Cityscapes). Default 480 × 480. */
  readonly crop?: readonly [number, number];
  /** Scales of `baseSize`; the probabilities are averaged over them. Default `[1]`. */
  readonly scales?: readonly number[];
  /** Per-channel mean on the 0–255 scale; also the padding value. Default ImageNet's × 255. */
  readonly mean?: readonly [number, number, number];
  /** Per-channel std on the 0–255 scale. Default ImageNet's × 255. */
  readonly std?: readonly [number, number, number];
  /** Run each window with its horizontal mirror and average the two probability maps. Default true. */
  readonly flip?: boolean;
  /** Window stride as a fraction of the crop (`⌈crop · rate⌉`). Default 2/3. */
  readonly strideRate?: number;
  /** Called after each window. */
  readonly onProgress?: (p: SegmentationProgress) => void;
}

/** A segmentation result at the input image's size. */
export interface SegmentationResult {
  /** Image width. */
  readonly width: number;
  /** Image height. */
  readonly height: number;
  /** Number of classes. */
  readonly classes: number;
  /** `[H, W, classes]` class probabilities (float64, averaged over windows, flips and scales). */
  readonly probs: Float64Array;
  /** `[H, W]` arg-max class per pixel (the first maximum). */
  readonly labels: Int32Array;
}

/** ImageNet's mean on the 0–255 scale (SPNet's and HRNet-seg's default). */
export const SPNET_MEAN: readonly [number, number, number] = [
  IMAGENET_MEAN[0] * 255,
  IMAGENET_MEAN[1] * 255,
  IMAGENET_MEAN[2] * 255,
];
/** ImageNet's std on the 0–255 scale (SPNet's and HRNet-seg's default). */
export const SPNET_STD: readonly [number, number, number] = [
  IMAGENET_STD[0] * 255,
  IMAGENET_STD[1] * 255,
  IMAGENET_STD[2] * 255,
];

/**
 * SPNet's test-time inference (`tool/test.py`): for each scale, the long side to
 * `round(scale · baseSize)` (`cv2.resize`, INTER_LINEAR, float32); padding with the mean to at
 * least the crop; windows every `⌈crop · 2/3⌉` pixels, the last clamped to the border; each
 * window normalised (`(x − mean) / std`), run with its mirror as a batch of two, logits upsampled
 * (bilinear, `align_corners=True`) when smaller, softmax, the mirror's map flipped back and the
 * two averaged; overlapping windows averaged by count; padding removed; `cv2.resize` of the
 * probabilities back to the image size; scales averaged; arg-max.
 */
export async function segmentSlidingWindow(
  img: RgbImage,
  options: SlidingWindowOptions,
): Promise<SegmentationResult> {
  checkImage('segmentSlidingWindow', img);
  const op = 'segmentSlidingWindow';
  const baseSize = options.baseSize ?? 512;
  const [cropH, cropW] = options.crop ?? [480, 480];
  const scales = options.scales ?? [1];
  const mean = options.mean ?? SPNET_MEAN;
  const std = options.std ?? SPNET_STD;
  const flipOn = options.flip ?? true;
  const strideRate = options.strideRate ?? 2 / 3;
  if (typeof options.forward !== 'function')
    throw new ArgumentError(op, 'forward', 'a function', typeof options.forward);
  if (!(Number.isInteger(cropH) && Number.isInteger(cropW) && cropH > 0 && cropW > 0))
    throw new ArgumentError(op, 'crop', 'positive integers [height, width]', String(options.crop));
  if (scales.length === 0 || !scales.every((s) => s > 0))
    throw new ArgumentError(op, 'scales', 'positive numbers', String(scales));
  const { width: w, height: h } = img;
  const strideH = Math.ceil(cropH * strideRate);
  const strideW = Math.ceil(cropW * strideRate);

  // Plan the scales first so that progress can report a total.
  const plans = scales.map((scale) => {
    const longSize = pyRound(scale * baseSize);
    let newH = longSize;
    let newW = longSize;
    if (h > w) newW = pyRound((longSize / h) * w);
    else newH = pyRound((longSize / w) * h);
    if (newW < 1 || newH < 1)
      throw new ArgumentError(op, 'scales', 'scales giving at least one pixel', String(scale));
    const padH = Math.max(cropH - newH, 0);
    const padW = Math.max(cropW - newW, 0);
    const ph = newH + padH;
    const pw = newW + padW;
    const gridH = Math.ceil((ph - cropH) / strideH) + 1;
    const gridW = Math.ceil((pw - cropW) / strideW) + 1;
    return { scale, newH, newW, padH, padW, ph, pw, gridH, gridW };
  });
  const total = plans.reduce((s, p) => s + p.gridH * p.gridW, 0);
  let done = 0;

  const src = new Float32Array(img.data);
  let prediction: Float64Array | undefined;
  let classes = 0;
  const fm = mean.map(Math.fround);
  const fs = std.map(Math.fround);
  for (const p of plans) {
    const scaled = cvResizeLinear(src, w, h, 3, p.newW, p.newH, 'float32');
    // Pad with the mean (cv2.copyMakeBorder, BORDER_CONSTANT, value = mean, float32 image).
    const top = Math.trunc(p.padH / 2);
    const left = Math.trunc(p.padW / 2);
    const padded = new Float32Array(p.ph * p.pw * 3);
    for (let i = 0; i < p.ph * p.pw; i++) for (let c = 0; c < 3; c++) padded[i * 3 + c] = fm[c];
    for (let y = 0; y < p.newH; y++)
      for (let x = 0; x < p.newW; x++)
        for (let c = 0; c < 3; c++)
          padded[((y + top) * p.pw + x + left) * 3 + c] = scaled[(y * p.newW + x) * 3 + c];
    let acc: Float64Array | undefined;
    const count = new Float64Array(p.ph * p.pw);
    for (let ih = 0; ih < p.gridH; ih++)
      for (let iw = 0; iw < p.gridW; iw++) {
        const eh = Math.min(ih * strideH + cropH, p.ph);
        const sh = eh - cropH;
        const ew = Math.min(iw * strideW + cropW, p.pw);
        const sw = ew - cropW;
        const probs = await windowProbs(options.forward, padded, p.pw, sh, sw, cropH, cropW, fm, fs, flipOn);
        const nc = probs.length / (cropH * cropW);
        if (!acc) {
          if (classes && nc !== classes)
            throw new ArgumentError(op, 'forward output', `${classes} classes`, `${nc}`);
          classes = nc;
          acc = new Float64Array(p.ph * p.pw * classes);
        }
        const plane = cropH * cropW;
        for (let y = 0; y < cropH; y++)
          for (let x = 0; x < cropW; x++) {
            const o = (y + sh) * p.pw + x + sw;
            count[o] += 1;
            for (let c = 0; c < classes; c++) acc[o * classes + c] += probs[c * plane + y * cropW + x];
          }
        done++;
        options.onProgress?.({ done, total, scale: p.scale });
      }
    if (!acc) throw new ArgumentError(op, 'crop', 'a window to run', 'none');
    const un = new Float64Array(p.newH * p.newW * classes);
    for (let y = 0; y < p.newH; y++)
      for (let x = 0; x < p.newW; x++) {
        const o = (y + top) * p.pw + x + left;
        for (let c = 0; c < classes; c++)
          un[(y * p.newW + x) * classes + c] = acc[o * classes + c] / count[o];
      }
    const back = cvResizeLinear(un, p.newW, p.newH, classes, w, h, 'float64');
    if (!prediction) prediction = new Float64Array(w * h * classes);
    for (let i = 0; i < back.length; i++) prediction[i] += back[i];
  }
  const probs = prediction as Float64Array;
  for (let i = 0; i < probs.length; i++) probs[i] /= scales.length;
  return { width: w, height: h, classes, probs, labels: argmaxLabels(probs, w * h, classes) };
}

/**
 * `net_process`: one window to `[classes, cropH, cropW]` probabilities (float32 steps as torch
 * computes them; softmax and upsampling on the current backend).
 */
async function windowProbs(
  forward: SlidingWindowOptions['forward'],
  padded: Float32Array,
  pw: number,
  sh: number,
  sw: number,
  cropH: number,
  cropW: number,
  mean: number[],
  std: number[],
  flipOn: boolean,
): Promise<Float32Array> {
  const plane = cropH * cropW;
  const n = flipOn ? 2 : 1;
  const batch = new Float32Array(n * 3 * plane);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < cropH; y++)
      for (let x = 0; x < cropW; x++) {
        const v = Math.fround(Math.fround(padded[((y + sh) * pw + x + sw) * 3 + c] - mean[c]) / std[c]);
        batch[c * plane + y * cropW + x] = v;
        if (flipOn) batch[3 * plane + c * plane + y * cropW + (cropW - 1 - x)] = v;
      }
  const input = tensor(batch, [n, 3, cropH, cropW], 'float32');
  const made: Tensor[] = [input];
  try {
    const out = await forward(input);
    if (out !== input) made.push(out);
    if (out.shape.length !== 4 || out.shape[0] !== n)
      throw new ArgumentError(
        'segmentSlidingWindow',
        'forward output',
        `[${n}, classes, h, w]`,
        `[${out.shape}]`,
      );
    let logits = out;
    if (out.shape[2] !== cropH || out.shape[3] !== cropW) {
      logits = resizeBilinear(out, [cropH, cropW], true);
      made.push(logits);
    }
    const prob = softmax(logits, 1);
    made.push(prob);
    const d = (await prob.data()) as Float32Array;
    const classes = out.shape[1];
    const cp = classes * plane;
    if (!flipOn) return Float32Array.from(d.subarray(0, cp));
    const res = new Float32Array(cp);
    for (let c = 0; c < classes; c++)
      for (let y = 0; y < cropH; y++)
        for (let x = 0; x < cropW; x++) {
          const i = c * plane + y * cropW + x;
          res[i] = Math.fround(Math.fround(d[i] + d[cp + c * plane + y * cropW + (cropW - 1 - x)]) / 2);
        }
    return res;
  } finally {
    for (const t of made) t.dispose();
  }
}

/** Per pixel, the first class with the largest value of pixel-major `[pixels, classes]` scores. */
export function argmaxLabels(probs: Float64Array, pixels: number, classes: number): Int32Array {
  const labels = new Int32Array(pixels);
  for (let i = 0; i < pixels; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probs[i * classes + c] > probs[i * classes + best]) best = c;
    labels[i] = best;
  }
  return labels;
}
