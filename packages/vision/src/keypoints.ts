import { ArgumentError, flip, type Tensor } from '@kernelzoo/core';
import { type CenterScale, getAffineTransform } from './pose.js';

/**
 * HRNet keypoint decoding (`lib/core/inference.py`) and flip test (`lib/core/function.py`,
 * `lib/utils/transforms.py`) of leoxiaobin/deep-high-resolution-net.pytorch, on host arrays.
 */

/** Heatmaps on the host: `[N, J, H, W]` float32 values, row-major. */
export interface Heatmaps {
  /** `N × J × H × W` values. */
  readonly data: Float32Array;
  /** `[N, J, H, W]`: people, joints, heatmap height and width. */
  readonly shape: readonly [number, number, number, number];
}

/** COCO's 8 left/right keypoint pairs (eyes, ears, shoulders, elbows, wrists, hips, knees, ankles). */
export const COCO_FLIP_PAIRS: readonly (readonly [number, number])[] = Object.freeze([
  [1, 2],
  [3, 4],
  [5, 6],
  [7, 8],
  [9, 10],
  [11, 12],
  [13, 14],
  [15, 16],
] as const);

function checkHeatmaps(op: string, hm: Heatmaps): void {
  const s = hm?.shape;
  if (s?.length !== 4 || !s.every((d) => Number.isInteger(d) && d > 0))
    throw new ArgumentError(op, 'heatmaps.shape', '[N, J, H, W] of positive integers', String(s));
  if (!(hm.data instanceof Float32Array) || hm.data.length !== s[0] * s[1] * s[2] * s[3])
    throw new ArgumentError(
      op,
      'heatmaps.data',
      `a Float32Array of ${s.join('×')} values`,
      hm.data instanceof Float32Array ? `${hm.data.length} values` : typeof hm.data,
    );
}

/**
 * `get_max_preds`: per joint, the first maximum of the flattened map; `x = idx % W`,
 * `y = ⌊idx / W⌋`; coordinates are zeroed where the maximum is ≤ 0. Returns `coords`
 * (`[N, J, 2]`, float32 as the reference) and `maxvals` (`[N, J]`).
 */
export function getMaxPreds(hm: Heatmaps): MaxPreds {
  checkHeatmaps('getMaxPreds', hm);
  const [n, j, h, w] = hm.shape;
  const plane = h * w;
  const coords = new Float32Array(n * j * 2);
  const maxvals = new Float32Array(n * j);
  for (let k = 0; k < n * j; k++) {
    const base = k * plane;
    let best = 0;
    let max = hm.data[base];
    for (let i = 1; i < plane; i++) {
      const v = hm.data[base + i];
      // numpy's argmax: the first maximum, a NaN wins.
      if (v > max || (Number.isNaN(v) && !Number.isNaN(max))) {
        max = v;
        best = i;
      }
    }
    maxvals[k] = max;
    if (max > 0) {
      coords[k * 2] = best % w;
      coords[k * 2 + 1] = Math.floor(best / w);
    }
  }
  return { coords, maxvals };
}

/** Result of {@link getMaxPreds}. */
export interface MaxPreds {
  /** `[N, J, 2]` heatmap coordinates (x, y), float32; zero where the maximum is ≤ 0. */
  readonly coords: Float32Array;
  /** `[N, J]` heatmap maxima. */
  readonly maxvals: Float32Array;
}

/** Result of {@link getFinalPreds}. */
export interface FinalPreds {
  /** `[N, J, 2]` keypoints (x, y) in image pixels, float32. */
  readonly preds: Float32Array;
  /** `[N, J]` heatmap maxima (the keypoint scores). */
  readonly maxvals: Float32Array;
}

/** Options of {@link getFinalPreds}. */
export interface FinalPredsOptions {
  /**
   * `TEST.POST_PROCESS` (true in the released configs): a quarter-pixel shift toward the higher
   * neighbour, only where `1 < px < W − 1` and `1 < py < H − 1`. Default true.
   */
  readonly postProcess?: boolean;
}

/**
 * `get_final_preds`: {@link getMaxPreds}, the quarter-pixel refinement, then each person's
 * coordinates mapped back to the image with `transform_preds` — the inverse of
 * `get_affine_transform(center, scale, 0, [W, H])` at the heatmap size. `crops[n]` is person
 * `n`'s centre/scale (from `boxToCenterScale` or `poseCrop`). Returns `preds` (`[N, J, 2]` image
 * pixels, float32 as the reference stores them) and `maxvals` (`[N, J]`).
 */
export function getFinalPreds(
  hm: Heatmaps,
  crops: readonly CenterScale[],
  options: FinalPredsOptions = {},
): FinalPreds {
  checkHeatmaps('getFinalPreds', hm);
  const [n, j, h, w] = hm.shape;
  if (crops.length !== n)
    throw new ArgumentError(
      'getFinalPreds',
      'crops',
      `${n} centre/scale entries (one per person)`,
      String(crops.length),
    );
  const { coords, maxvals } = getMaxPreds(hm);
  const plane = h * w;
  if (options.postProcess ?? true)
    for (let k = 0; k < n * j; k++) {
      const px = Math.floor(coords[k * 2] + 0.5);
      const py = Math.floor(coords[k * 2 + 1] + 0.5);
      if (1 < px && px < w - 1 && 1 < py && py < h - 1) {
        const m = hm.data.subarray(k * plane, (k + 1) * plane);
        const dx = Math.fround(m[py * w + px + 1] - m[py * w + px - 1]);
        const dy = Math.fround(m[(py + 1) * w + px] - m[(py - 1) * w + px]);
        coords[k * 2] = Math.fround(coords[k * 2] + Math.sign(dx) * 0.25);
        coords[k * 2 + 1] = Math.fround(coords[k * 2 + 1] + Math.sign(dy) * 0.25);
      }
    }
  const preds = new Float32Array(n * j * 2);
  for (let p = 0; p < n; p++) {
    const t = getAffineTransform(crops[p].center, crops[p].scale, 0, [w, h], { inv: true });
    for (let q = 0; q < j; q++) {
      const k = p * j + q;
      const x = coords[k * 2];
      const y = coords[k * 2 + 1];
      preds[k * 2] = t[0] * x + t[1] * y + t[2];
      preds[k * 2 + 1] = t[3] * x + t[4] * y + t[5];
    }
  }
  return { preds, maxvals };
}

/**
 * Decoded poses in the layout `drawPose` takes: one `[x0, y0, score0, x1, y1, score1, …]` per
 * person, in image pixels, score = the heatmap maximum ({@link getFinalPreds}).
 */
export function decodePoses(
  hm: Heatmaps,
  crops: readonly CenterScale[],
  options: FinalPredsOptions = {},
): Float32Array[] {
  const { preds, maxvals } = getFinalPreds(hm, crops, options);
  const [n, j] = hm.shape;
  return Array.from({ length: n }, (_, p) => {
    const out = new Float32Array(j * 3);
    for (let q = 0; q < j; q++) {
      const k = p * j + q;
      out[q * 3] = preds[k * 2];
      out[q * 3 + 1] = preds[k * 2 + 1];
      out[q * 3 + 2] = maxvals[k];
    }
    return out;
  });
}

/**
 * `flip_back`: mirrors each heatmap horizontally and swaps the channels of each left/right pair
 * ({@link COCO_FLIP_PAIRS} by default). Returns new heatmaps.
 */
export function flipBack(
  hm: Heatmaps,
  pairs: readonly (readonly [number, number])[] = COCO_FLIP_PAIRS,
): Heatmaps {
  checkHeatmaps('flipBack', hm);
  const [n, j, h, w] = hm.shape;
  const perm = Array.from({ length: j }, (_, i) => i);
  for (const [a, b] of pairs) {
    if (!(a >= 0 && a < j && b >= 0 && b < j))
      throw new ArgumentError('flipBack', 'pairs', `joint indices below ${j}`, `[${a}, ${b}]`);
    perm[a] = b;
    perm[b] = a;
  }
  const plane = h * w;
  const out = new Float32Array(hm.data.length);
  for (let p = 0; p < n; p++)
    for (let q = 0; q < j; q++) {
      const from = (p * j + perm[q]) * plane;
      const to = (p * j + q) * plane;
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) out[to + y * w + x] = hm.data[from + y * w + (w - 1 - x)];
    }
  return { data: out, shape: hm.shape };
}

/**
 * `TEST.SHIFT_HEATMAP`: moves each flipped-back heatmap one pixel right
 * (`new[..., 1:] = old[..., :-1]`; column 0 keeps its value). Returns new heatmaps.
 */
export function shiftHeatmap(hm: Heatmaps): Heatmaps {
  checkHeatmaps('shiftHeatmap', hm);
  const w = hm.shape[3];
  const out = new Float32Array(hm.data.length);
  for (let r = 0; r < hm.data.length; r += w) {
    out[r] = hm.data[r];
    for (let x = 1; x < w; x++) out[r + x] = hm.data[r + x - 1];
  }
  return { data: out, shape: hm.shape };
}

/** Options of {@link averageFlipped} and {@link poseFlipTest}. */
export interface FlipTestOptions {
  /** Left/right pairs to swap; default {@link COCO_FLIP_PAIRS}. */
  readonly pairs?: readonly (readonly [number, number])[];
  /** `TEST.SHIFT_HEATMAP` (true in the released configs). Default true. */
  readonly shift?: boolean;
}

/**
 * The flip test's combination: `(orig + shift(flipBack(flipped))) × 0.5` in float32, where
 * `flipped` is the network's output for the mirrored input.
 */
export function averageFlipped(orig: Heatmaps, flipped: Heatmaps, options: FlipTestOptions = {}): Heatmaps {
  checkHeatmaps('averageFlipped', orig);
  checkHeatmaps('averageFlipped', flipped);
  if (orig.shape.join() !== flipped.shape.join())
    throw new ArgumentError('averageFlipped', 'flipped.shape', `[${orig.shape}]`, `[${flipped.shape}]`);
  let back = flipBack(flipped, options.pairs ?? COCO_FLIP_PAIRS);
  if (options.shift ?? true) back = shiftHeatmap(back);
  const out = new Float32Array(orig.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.fround(Math.fround(orig.data[i] + back.data[i]) * 0.5);
  return { data: out, shape: orig.shape };
}

async function readHeatmaps(op: string, t: Tensor): Promise<Heatmaps> {
  if (t.shape.length !== 4)
    throw new ArgumentError(op, 'forward output', '[N, J, H, W] heatmaps', `[${t.shape}]`);
  const data = Float32Array.from((await t.data()) as ArrayLike<number>);
  return { data, shape: [t.shape[0], t.shape[1], t.shape[2], t.shape[3]] };
}

/**
 * The reference's test-time forward with `TEST.FLIP_TEST`: runs `forward` on `input`
 * (`[N, 3, H, W]`) and on its mirror (core's `flip` on the width axis), and returns
 * {@link averageFlipped} of the two heatmap sets (with `flip: false`, only the first). Tensors
 * made here are disposed; `input` is not.
 */
export async function poseFlipTest(
  forward: (batch: Tensor) => Tensor,
  input: Tensor,
  options: FlipTestOptions & { flip?: boolean } = {},
): Promise<Heatmaps> {
  const out = forward(input);
  let orig: Heatmaps;
  try {
    orig = await readHeatmaps('poseFlipTest', out);
  } finally {
    if (out !== input) out.dispose();
  }
  if (options.flip === false) return orig;
  const mirrored = flip(input, [3]);
  let flippedOut: Tensor | undefined;
  try {
    flippedOut = forward(mirrored);
    return averageFlipped(orig, await readHeatmaps('poseFlipTest', flippedOut), options);
  } finally {
    if (flippedOut && flippedOut !== mirrored) flippedOut.dispose();
    mirrored.dispose();
  }
}
