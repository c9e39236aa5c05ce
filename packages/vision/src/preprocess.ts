import { ArgumentError, type Preprocessing, type Tensor, tensor } from '@kernelzoo/core';
import { checkImage, type RgbImage } from './image.js';
import { centerCrop, resizeShorterSide } from './resize.js';

/** The shorter-side size timm resizes to before its centre crop: ⌊size / cropPct⌋. */
export function scaleSize(size: number, cropPct: number): number {
  if (!(cropPct > 0)) throw new ArgumentError('scaleSize', 'cropPct', 'a positive number', String(cropPct));
  return Math.floor(size / cropPct);
}

/**
 * timm's eval-time geometry for a square `size` (`resize: 'shorter-side'`): the shorter side to
 * ⌊size / cropPct⌋ with the entry's interpolation (Pillow-exact), then the centre `size × size`.
 * `cropPct` defaults to timm's 0.875.
 */
export function classificationCrop(img: RgbImage, pre: Preprocessing, size: number): RgbImage {
  checkImage('classificationCrop', img);
  if (pre.resize !== 'shorter-side')
    throw new ArgumentError(
      'classificationCrop',
      'preprocessing.resize',
      `'shorter-side' (long-side and box-warp are not implemented yet)`,
      `'${pre.resize}'`,
    );
  const resized = resizeShorterSide(img, scaleSize(size, pre.cropPct ?? 0.875), pre.interpolation);
  return centerCrop(resized, size, size);
}

/**
 * Pixels → normalised planar floats, `[3, H, W]` (channel-major), computed in float32 in the
 * order torchvision does it: `x / 255` (when `scale` is 1), then `(x − mean) / std`, each step
 * rounded to float32 — so the values equal `Normalize(mean, std)(ToTensor()(img))` bit for bit.
 */
export function normalizeToChw(
  img: RgbImage,
  pre: Pick<Preprocessing, 'mean' | 'std' | 'scale'>,
): Float32Array {
  checkImage('normalizeToChw', img);
  if (pre.scale !== 1 && pre.scale !== 255)
    throw new ArgumentError('normalizeToChw', 'preprocessing.scale', '1 or 255', String(pre.scale));
  const plane = img.width * img.height;
  const out = new Float32Array(3 * plane);
  const f = Math.fround;
  for (let c = 0; c < 3; c++) {
    const mean = f(pre.mean[c]);
    const std = f(pre.std[c]);
    // The 256 possible values of this channel, computed once.
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = f(f((pre.scale === 1 ? f(v / 255) : v) - mean) / std);
    for (let i = 0; i < plane; i++) out[c * plane + i] = table[img.data[i * 3 + c]];
  }
  return out;
}

/** A model input on the host: NCHW float32 values and their shape. */
export interface InputArray {
  /** The values, `shape[0] × shape[1] × shape[2] × shape[3]` of them. */
  readonly data: Float32Array;
  /** `[1, 3, H, W]`. */
  readonly shape: [number, number, number, number];
}

/**
 * The classification input timm's eval transform makes from `img` for a model's
 * `Preprocessing` (core's registry) and square input `size` (e.g. 224): resize, centre crop, to [0, 1],
 * normalise, NCHW — as host values, with no backend needed.
 */
export function classificationArray(img: RgbImage, pre: Preprocessing, size: number): InputArray {
  const cropped = classificationCrop(img, pre, size);
  return { data: normalizeToChw(cropped, pre), shape: [1, 3, size, size] };
}

/**
 * {@link classificationArray} as a `[1, 3, size, size]` float32 `Tensor` on the current
 * backend, ready for a classification network's forward.
 */
export function classificationInput(img: RgbImage, pre: Preprocessing, size: number): Tensor {
  const { data, shape } = classificationArray(img, pre, size);
  return tensor(data, shape, 'float32');
}
