/*
 * The synthetic scenes behind the golden images of fixtures/golden/ — shared by the Node and the
 * Chromium tests (no Node imports here).
 */
import type { LabelMap } from '../segmentation-overlay.js';

/** Size of chelsea-small.png, the image the overlays are drawn on. */
export const W = 151;
export const H = 100;

/**
 * A label map over W × H: 19 vertical bands of the Cityscapes classes, with a disc of ignore
 * index 255 in the middle.
 */
export function labelScene(): LabelMap {
  const data = new Uint8Array(W * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const inDisc = (x - 75) ** 2 + (y - 50) ** 2 < 15 ** 2;
      data[y * W + x] = inDisc ? 255 : Math.floor((x * 19) / W);
    }
  return { width: W, height: H, data };
}

/** A 64 × 48 field with a few NaNs: a smooth bump plus ripples, range about [-1, 2]. */
export const HEAT_W = 64;
export const HEAT_H = 48;
export function heatScene(): Float32Array {
  const v = new Float32Array(HEAT_W * HEAT_H);
  for (let y = 0; y < HEAT_H; y++)
    for (let x = 0; x < HEAT_W; x++)
      v[y * HEAT_W + x] =
        2 * Math.exp(-((x - 40) ** 2 + (y - 20) ** 2) / 120) + Math.sin(x / 5) * Math.cos(y / 7) * 0.8;
  v[0] = Number.NaN;
  v[HEAT_W * HEAT_H - 1] = Number.NaN;
  return v;
}

/**
 * Two COCO poses (x, y, score × 17) over W × H; the second has a low-score left wrist and right
 * ankle, which the drawing skips with their limbs.
 */
export function poseScene(): number[][] {
  const a = [
    [40, 15, 0.9],
    [43, 12, 0.9],
    [37, 12, 0.9],
    [47, 14, 0.8],
    [33, 14, 0.8],
    [52, 30, 0.9],
    [28, 30, 0.9],
    [58, 48, 0.9],
    [22, 48, 0.9],
    [62, 64, 0.9],
    [18, 64, 0.9],
    [48, 62, 0.9],
    [32, 62, 0.9],
    [50, 80, 0.9],
    [30, 80, 0.9],
    [51, 96, 0.9],
    [29, 96, 0.9],
  ]; // prettier-ignore
  const b = a.map(([x, y, s]) => [(x as number) + 72.5, (y as number) - 4.25, s as number]);
  (b[9] as number[])[2] = 0.1;
  (b[16] as number[])[2] = 0.2;
  return [a.flat(), b.flat()];
}

/** Pixels (of W × H, any channel) differing by more than `maxDelta`, and the largest difference. */
export function pixelDiff(
  a: Uint8Array,
  b: Uint8Array,
  maxDelta: number,
): { over: number; max: number; pixels: number } {
  let over = 0;
  let max = 0;
  for (let p = 0; p < a.length / 3; p++) {
    let m = 0;
    for (let c = 0; c < 3; c++)
      m = Math.max(m, Math.abs((a[p * 3 + c] as number) - (b[p * 3 + c] as number)));
    if (m > maxDelta) over++;
    max = Math.max(max, m);
  }
  return { over, max, pixels: a.length / 3 };
}

/** The tolerance of the anti-aliased pose golden: at most 1 % of pixels may differ by more than 8. */
export const POSE_MAX_DELTA = 8;
export const POSE_MAX_FRACTION = 0.01;
/**
 * Chromium's rasteriser against the Node golden (another Skia build, other anti-aliasing): at
 * most 2 % of pixels may differ by more than 8 (measured: 0.86 %, 130 of 15 100, largest 36).
 */
export const BROWSER_POSE_MAX_FRACTION = 0.02;
