import { ArgumentError, type Tensor } from '@kernelzoo/core';
import { checkRgb, type Rgb, VIRIDIS } from './color.js';
import type { RgbImage } from './image.js';

/** Options of {@link renderHeatmap} and {@link renderHeatmapTensor}. */
export interface HeatmapOptions {
  /** The value drawn with the colormap's first entry; default the smallest finite value. */
  readonly min?: number;
  /** The value drawn with the colormap's last entry; default the largest finite value. */
  readonly max?: number;
  /** The colormap, first entry for `min`; default {@link VIRIDIS}. */
  readonly colormap?: readonly Rgb[];
  /** Colour of NaN values; default black. */
  readonly nanColor?: Rgb;
}

/** A colour-mapped rendering and the range it used (for a legend). */
export interface Heatmap {
  /** The rendering, one pixel per value. */
  readonly image: RgbImage;
  /** The value of the colormap's first entry. */
  readonly min: number;
  /** The value of the colormap's last entry. */
  readonly max: number;
}

/**
 * Renders a 2-D array of values (`height × width`, row-major — a feature map, an attention or
 * heat map) as a colour-mapped RGB image, the way matplotlib's `imshow` does with a listed
 * colormap of N entries: `t = (v − min) / (max − min)`, entry `min(⌊t · N⌋, N − 1)`, values
 * outside [min, max] clamped to the end entries (±Infinity too), NaN in `nanColor`. `min`/`max`
 * default to the finite values' range; when they are equal every finite value gets entry 0.
 */
export function renderHeatmap(
  values: ArrayLike<number>,
  width: number,
  height: number,
  options: HeatmapOptions = {},
): Heatmap {
  const op = 'renderHeatmap';
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new ArgumentError(op, 'width/height', 'positive integers', `${width}×${height}`);
  if (!values || values.length !== width * height)
    throw new ArgumentError(
      op,
      'values',
      `${width}×${height} = ${width * height} values`,
      `${values?.length}`,
    );
  const cmap = options.colormap ?? VIRIDIS;
  if (!Array.isArray(cmap) || cmap.length === 0)
    throw new ArgumentError(op, 'colormap', 'a non-empty array of [R, G, B]', String(cmap));
  cmap.forEach((c, i) => {
    checkRgb(op, `colormap[${i}]`, c);
  });
  const nan = options.nanColor ?? [0, 0, 0];
  checkRgb(op, 'nanColor', nan);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (lo > hi) lo = hi = 0; // no finite value
  const min = options.min ?? lo;
  const max = options.max ?? hi;
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max)
    throw new ArgumentError(op, 'min/max', 'finite numbers with min ≤ max', `${min}, ${max}`);
  const n = cmap.length;
  const span = max - min;
  const out = new Uint8Array(values.length * 3);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    let c: Rgb;
    if (Number.isNaN(v)) c = nan;
    else {
      const t = span > 0 ? (v - min) / span : 0;
      const k = t <= 0 ? 0 : t >= 1 ? n - 1 : Math.min(Math.floor(t * n), n - 1);
      c = cmap[k] as Rgb;
    }
    out[i * 3] = c[0];
    out[i * 3 + 1] = c[1];
    out[i * 3 + 2] = c[2];
  }
  return { image: { width, height, data: out }, min, max };
}

/**
 * {@link renderHeatmap} for a tensor of shape `[H, W]`, or any shape whose dimensions before the
 * last two are all 1 (e.g. `[1, 1, H, W]`; pick one channel of a feature map with `slice` first).
 * Reads the tensor and leaves it alive.
 */
export async function renderHeatmapTensor(t: Tensor, options: HeatmapOptions = {}): Promise<Heatmap> {
  const s = t.shape;
  if (s.length < 2 || s.slice(0, -2).some((d) => d !== 1))
    throw new ArgumentError(
      'renderHeatmapTensor',
      't',
      'shape [H, W] or [1, …, 1, H, W]',
      `[${s.join(', ')}]`,
    );
  return renderHeatmap(await t.data(), s[s.length - 1] as number, s[s.length - 2] as number, options);
}
