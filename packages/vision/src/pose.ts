import { ArgumentError, IMAGENET_MEAN, IMAGENET_STD, type Tensor, tensor } from '@kernelzoo/core';
import { checkImage, type RgbImage } from './image.js';

/**
 * HRNet pose pre-processing (leoxiaobin/deep-high-resolution-net.pytorch): a person box to the
 * reference's centre/scale, the affine matrix of `get_affine_transform`, OpenCV's
 * `warpAffine(INTER_LINEAR, BORDER_CONSTANT 0)` reproduced in fixed point, and the normalised
 * NCHW input. Host arrays only; no backend is needed until {@link poseInput}.
 */

/** A person box in image pixels: top-left corner, width and height (COCO's `bbox`). */
export type PoseBox = readonly [x: number, y: number, w: number, h: number];

/** The reference's box parameters: centre in pixels, scale in units of `pixelStd` (200) pixels. */
export interface CenterScale {
  /** `[cx, cy]`, float32 values as the reference stores them. */
  readonly center: [number, number];
  /** `[sw, sh]` = box size / 200 × 1.25, float32. */
  readonly scale: [number, number];
}

/** A 2×3 affine matrix, row-major: `[a, b, c, d, e, f]` maps `(x, y)` to `(ax + by + c, dx + ey + f)`. */
export type Affine = [number, number, number, number, number, number];

const f32 = Math.fround;

/**
 * `_box2cs` / `_xywh2cs` of the reference (`lib/dataset/coco.py`): centre = box centre; the box
 * is widened or heightened to the aspect ratio `inputWidth / inputHeight`; scale = size /
 * `pixelStd` (200), then × `padding` (1.25). Values are rounded to float32 as numpy stores them.
 */
export function boxToCenterScale(
  box: PoseBox,
  inputSize: readonly [width: number, height: number],
  options: { pixelStd?: number; padding?: number } = {},
): CenterScale {
  const [x, y, w0, h0] = box;
  if (![x, y, w0, h0].every(Number.isFinite))
    throw new ArgumentError('boxToCenterScale', 'box', 'four finite numbers [x, y, w, h]', String(box));
  const [iw, ih] = inputSize;
  if (!(iw > 0 && ih > 0))
    throw new ArgumentError('boxToCenterScale', 'inputSize', 'positive [width, height]', String(inputSize));
  const pixelStd = options.pixelStd ?? 200;
  const padding = options.padding ?? 1.25;
  const aspect = (iw * 1.0) / ih;
  const cx = f32(x + w0 * 0.5);
  const cy = f32(y + h0 * 0.5);
  let w = w0;
  let h = h0;
  if (w > aspect * h) h = (w * 1.0) / aspect;
  else if (w < aspect * h) w = h * aspect;
  let sw = f32(w / pixelStd);
  let sh = f32(h / pixelStd);
  // numpy: a float32 array times a Python float stays float32.
  if (cx !== -1) {
    sw = f32(sw * padding);
    sh = f32(sh * padding);
  }
  return { center: [cx, cy], scale: [sw, sh] };
}

/**
 * `cv2.getAffineTransform(src, dst)`: the affine map taking three float32 points to three others,
 * solved as OpenCV does — a 6×6 system in double precision by Gaussian elimination with partial
 * pivoting, back-substituting by division as OpenCV 4.6's `LUImpl` does, so the matrix is
 * the same to the last bit.
 */
export function affineFromPoints(
  src: readonly (readonly [number, number])[],
  dst: readonly (readonly [number, number])[],
): Affine {
  const a = new Float64Array(36);
  const b = new Float64Array(6);
  for (let i = 0; i < 3; i++) {
    const j = i * 12;
    const k = i * 12 + 6;
    a[j] = a[k + 3] = f32(src[i][0]);
    a[j + 1] = a[k + 4] = f32(src[i][1]);
    a[j + 2] = a[k + 5] = 1;
    b[i * 2] = f32(dst[i][0]);
    b[i * 2 + 1] = f32(dst[i][1]);
  }
  const m = 6;
  for (let i = 0; i < m; i++) {
    let k = i;
    for (let j = i + 1; j < m; j++) if (Math.abs(a[j * m + i]) > Math.abs(a[k * m + i])) k = j;
    if (Math.abs(a[k * m + i]) < Number.EPSILON)
      throw new ArgumentError('affineFromPoints', 'src', 'three points not on one line', JSON.stringify(src));
    if (k !== i) {
      for (let j = i; j < m; j++) {
        const t = a[i * m + j];
        a[i * m + j] = a[k * m + j];
        a[k * m + j] = t;
      }
      const t = b[i];
      b[i] = b[k];
      b[k] = t;
    }
    const d = -1 / a[i * m + i];
    for (let j = i + 1; j < m; j++) {
      const alpha = a[j * m + i] * d;
      for (let kk = i + 1; kk < m; kk++) a[j * m + kk] += alpha * a[i * m + kk];
      b[j] += alpha * b[i];
    }
  }
  for (let i = m - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < m; k++) s -= a[i * m + k] * b[k];
    b[i] = s / a[i * m + i];
  }
  return [b[0], b[1], b[2], b[3], b[4], b[5]];
}

/**
 * The reference's `get_affine_transform(center, scale, rot, outputSize, shift, inv)`
 * (`lib/utils/transforms.py`): three float32 point pairs — the centre, a point half the box width
 * above it (rotated by `rot` degrees) and the third corner of the right angle — map to the
 * output's centre, half the output width above it, and its third corner; solved as
 * `cv2.getAffineTransform`. Only `scale[0]` is used (the aspect ratio was fixed by
 * {@link boxToCenterScale}). `inv` gives the output → image map.
 */
export function getAffineTransform(
  center: readonly [number, number],
  scale: readonly [number, number],
  rot: number,
  outputSize: readonly [width: number, height: number],
  options: { shift?: readonly [number, number]; inv?: boolean } = {},
): Affine {
  const shift = options.shift ?? [0, 0];
  const stw = f32(scale[0] * 200);
  const sth = f32(scale[1] * 200);
  const [dw, dh] = outputSize;
  const rotRad = (Math.PI * rot) / 180;
  const sn = Math.sin(rotRad);
  const cs = Math.cos(rotRad);
  // get_dir([0, src_w * -0.5], rot_rad)
  const p1 = f32(stw * -0.5);
  const dirX = 0 * cs - p1 * sn;
  const dirY = 0 * sn + p1 * cs;
  const shX = f32(stw * f32(shift[0]));
  const shY = f32(sth * f32(shift[1]));
  const s0: [number, number] = [f32(center[0] + shX), f32(center[1] + shY)];
  const s1: [number, number] = [f32(center[0] + dirX + shX), f32(center[1] + dirY + shY)];
  const third = (a: readonly [number, number], b: readonly [number, number]): [number, number] => {
    const dx = f32(a[0] - b[0]);
    const dy = f32(a[1] - b[1]);
    return [f32(b[0] - dy), f32(b[1] + dx)];
  };
  const d0: [number, number] = [f32(dw * 0.5), f32(dh * 0.5)];
  const d1: [number, number] = [f32(dw * 0.5 + 0), f32(dh * 0.5 + f32(dw * -0.5))];
  const src = [s0, s1, third(s0, s1)];
  const dst = [d0, d1, third(d0, d1)];
  return options.inv ? affineFromPoints(dst, src) : affineFromPoints(src, dst);
}

/** Applies a 2×3 affine matrix to a point (the reference's `affine_transform`). */
export function applyAffine(m: Affine, x: number, y: number): [number, number] {
  return [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]];
}

/** The inverse of a 2×3 affine matrix, computed as `cv2.warpAffine` inverts it internally. */
export function invertAffine(m: Affine): Affine {
  let d = m[0] * m[4] - m[1] * m[3];
  d = d !== 0 ? 1 / d : 0;
  const a0 = m[4] * d;
  const a1 = m[1] * -d;
  const a3 = m[3] * -d;
  const a4 = m[0] * d;
  const b1 = -a0 * m[2] - a1 * m[5];
  const b2 = -a3 * m[2] - a4 * m[5];
  return [a0, a1, b1, a3, a4, b2];
}

/** OpenCV's `cvRound` / `saturate_cast<int>(double)`: round half to even. */
function cvRound(v: number): number {
  const r = Math.round(v);
  // Math.round rounds .5 up; OpenCV (lrint) rounds it to even.
  if (r - v === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

const INTER_BITS = 5;
const INTER_TAB_SIZE = 1 << INTER_BITS;
const AB_BITS = 10;
const AB_SCALE = 1 << AB_BITS;
const ROUND_DELTA = AB_SCALE / INTER_TAB_SIZE / 2;

/**
 * OpenCV's bilinear weight table (`BilinearTab_i`): 32 × 32 sub-pixel positions, four 15-bit
 * weights each; the (0, 0) entry saturates to 32767 and OpenCV's sum correction puts the missing
 * 1 on the bottom-right weight.
 */
const BILINEAR_TAB: Int32Array = (() => {
  const t = new Int32Array(INTER_TAB_SIZE * INTER_TAB_SIZE * 4);
  for (let i = 0; i < INTER_TAB_SIZE; i++)
    for (let j = 0; j < INTER_TAB_SIZE; j++) {
      const o = (i * INTER_TAB_SIZE + j) * 4;
      const fy = i;
      const fx = j;
      // (1 − y)(1 − x), (1 − y)x, y(1 − x), yx in units of 1/32², × 2¹⁵ = × 32.
      t[o] = Math.min((32 - fy) * (32 - fx) * 32, 32767);
      t[o + 1] = (32 - fy) * fx * 32;
      t[o + 2] = fy * (32 - fx) * 32;
      t[o + 3] = fy * fx * 32;
      if (i === 0 && j === 0) t[o + 3] = 1;
    }
  return t;
})();

/**
 * `cv2.warpAffine(src, m, (width, height), flags=cv2.INTER_LINEAR)` with
 * `BORDER_CONSTANT` 0, reproduced bit for bit: the matrix (image → output) is inverted as OpenCV
 * does, source coordinates are computed in fixed point with 10 fractional bits (the row's part
 * rounded once per row, the column's part once per column, plus a rounding delta) and cut to
 * 1/32 pixel, and each output sample is the sum of four 15-bit weights times the neighbours
 * (outside the image: 0), rounded and shifted back to 8 bits.
 */
export function warpAffine(img: RgbImage, m: Affine, width: number, height: number): RgbImage {
  checkImage('warpAffine', img);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new ArgumentError('warpAffine', 'width/height', 'positive integers', `${width}×${height}`);
  if (!m.every(Number.isFinite))
    throw new ArgumentError('warpAffine', 'matrix', 'six finite numbers', String(m));
  const M = invertAffine(m);
  const sw = img.width;
  const sh = img.height;
  const src = img.data;
  const out = new Uint8Array(width * height * 3);
  const adelta = new Int32Array(width);
  const bdelta = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    adelta[x] = cvRound(M[0] * x * AB_SCALE);
    bdelta[x] = cvRound(M[3] * x * AB_SCALE);
  }
  const sat16 = (v: number) => Math.max(-32768, Math.min(v, 32767));
  for (let y = 0; y < height; y++) {
    const X0 = cvRound((M[1] * y + M[2]) * AB_SCALE) + ROUND_DELTA;
    const Y0 = cvRound((M[4] * y + M[5]) * AB_SCALE) + ROUND_DELTA;
    for (let x = 0; x < width; x++) {
      const X = (X0 + adelta[x]) >> (AB_BITS - INTER_BITS);
      const Y = (Y0 + bdelta[x]) >> (AB_BITS - INTER_BITS);
      const sx = sat16(X >> INTER_BITS);
      const sy = sat16(Y >> INTER_BITS);
      const o = (y * width + x) * 3;
      if (sx >= sw || sx + 1 < 0 || sy >= sh || sy + 1 < 0) continue; // border 0
      const w = ((Y & (INTER_TAB_SIZE - 1)) * INTER_TAB_SIZE + (X & (INTER_TAB_SIZE - 1))) * 4;
      const w0 = BILINEAR_TAB[w];
      const w1 = BILINEAR_TAB[w + 1];
      const w2 = BILINEAR_TAB[w + 2];
      const w3 = BILINEAR_TAB[w + 3];
      const in0 = sy >= 0 && sy < sh;
      const in1 = sy + 1 >= 0 && sy + 1 < sh;
      const inx0 = sx >= 0 && sx < sw;
      const inx1 = sx + 1 >= 0 && sx + 1 < sw;
      const i00 = (sy * sw + sx) * 3;
      const i10 = ((sy + 1) * sw + sx) * 3;
      for (let c = 0; c < 3; c++) {
        const v00 = in0 && inx0 ? src[i00 + c] : 0;
        const v01 = in0 && inx1 ? src[i00 + 3 + c] : 0;
        const v10 = in1 && inx0 ? src[i10 + c] : 0;
        const v11 = in1 && inx1 ? src[i10 + 3 + c] : 0;
        const v = (v00 * w0 + v01 * w1 + v10 * w2 + v11 * w3 + (1 << 14)) >> 15;
        out[o + c] = v < 0 ? 0 : Math.min(v, 255);
      }
    }
  }
  return { width, height, data: out };
}

/** One person's crop for the pose network, with the parameters to map keypoints back. */
export interface PoseCrop extends CenterScale {
  /** The warped `inputWidth × inputHeight` RGB crop. */
  readonly image: RgbImage;
  /** The image → crop matrix used for the warp. */
  readonly matrix: Affine;
}

/**
 * The reference's test-time crop of one person: {@link boxToCenterScale}, then
 * `warpAffine(img, get_affine_transform(c, s, 0, inputSize), inputSize, INTER_LINEAR)`.
 * `inputSize` is `[width, height]`: `[192, 256]` or `[288, 384]` for the COCO models.
 */
export function poseCrop(img: RgbImage, box: PoseBox, inputSize: readonly [number, number]): PoseCrop {
  const cs = boxToCenterScale(box, inputSize);
  const matrix = getAffineTransform(cs.center, cs.scale, 0, inputSize);
  return { ...cs, matrix, image: warpAffine(img, matrix, inputSize[0], inputSize[1]) };
}

/** The ImageNet mean and std HRNet's pose models normalise with. */
export const POSE_MEAN: readonly [number, number, number] = IMAGENET_MEAN;
/** See {@link POSE_MEAN}. */
export const POSE_STD: readonly [number, number, number] = IMAGENET_STD;

/** The pose network's input for several people of one image, on the host. */
export interface PoseInputArray {
  /** `[N, 3, H, W]` float32 values: RGB / 255, minus ImageNet mean, over std. */
  readonly data: Float32Array;
  /** `[N, 3, inputHeight, inputWidth]`. */
  readonly shape: [number, number, number, number];
  /** Each person's crop parameters, in box order (for {@link getFinalPreds}-style decoding). */
  readonly crops: readonly PoseCrop[];
}

/**
 * Crops every box with {@link poseCrop} and normalises as `ToTensor()` + `Normalize` do (float32
 * steps: `x / 255`, `− mean`, `/ std`), into one NCHW batch.
 */
export function poseInputArray(
  img: RgbImage,
  boxes: readonly PoseBox[],
  inputSize: readonly [width: number, height: number] = [192, 256],
): PoseInputArray {
  checkImage('poseInputArray', img);
  if (boxes.length === 0) throw new ArgumentError('poseInputArray', 'boxes', 'at least one box', '[]');
  const [iw, ih] = inputSize;
  const plane = iw * ih;
  const data = new Float32Array(boxes.length * 3 * plane);
  const tables = [0, 1, 2].map((c) => {
    const t = new Float32Array(256);
    for (let v = 0; v < 256; v++) t[v] = f32(f32(f32(v / 255) - f32(POSE_MEAN[c])) / f32(POSE_STD[c]));
    return t;
  });
  const crops = boxes.map((box, n) => {
    const crop = poseCrop(img, box, inputSize);
    const base = n * 3 * plane;
    for (let c = 0; c < 3; c++) {
      const t = tables[c];
      for (let i = 0; i < plane; i++) data[base + c * plane + i] = t[crop.image.data[i * 3 + c]];
    }
    return crop;
  });
  return { data, shape: [boxes.length, 3, ih, iw], crops };
}

/** Result of {@link poseInput}. */
export interface PoseInput {
  /** `[N, 3, H, W]` float32 tensor on the current backend (the caller disposes it). */
  readonly input: Tensor;
  /** Each person's crop parameters, in box order. */
  readonly crops: readonly PoseCrop[];
}

/** {@link poseInputArray} as a float32 `Tensor` on the current backend, plus the crops. */
export function poseInput(
  img: RgbImage,
  boxes: readonly PoseBox[],
  inputSize: readonly [width: number, height: number] = [192, 256],
): PoseInput {
  const { data, shape, crops } = poseInputArray(img, boxes, inputSize);
  return { input: tensor(data, shape, 'float32'), crops };
}
