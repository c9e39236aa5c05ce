import { ArgumentError } from '@kernelzoo/core';
import { checkRgb, type Rgb } from './color.js';
import { checkImage, type RgbImage } from './image.js';

/**
 * A per-pixel class-index map (`[H, W]`, row-major), e.g. the arg-max over a segmentation
 * network's class channels.
 */
export interface LabelMap {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** `height × width` class indices, rows top to bottom. */
  readonly data: ArrayLike<number>;
}

/** Options of {@link colorizeLabels} and {@link overlayLabels}. */
export interface LabelColorOptions {
  /**
   * The index of "no class" (unlabelled pixels in a ground truth): drawn black by
   * {@link colorizeLabels} and left as the image by {@link overlayLabels}. Default 255 (the
   * value ADE20K and Cityscapes ground truths use after their `-1` shift / `trainId` mapping).
   * Any other index outside the palette is an error.
   */
  readonly ignoreIndex?: number;
}

/** Options of {@link overlayLabels}. */
export interface OverlayOptions extends LabelColorOptions {
  /** Weight of the class colour: `out = round((1 − alpha) · image + alpha · colour)`. Default 0.5. */
  readonly alpha?: number;
}

function checkLabels(op: string, labels: LabelMap, palette: readonly Rgb[], ignore: number): void {
  if (
    !labels ||
    !Number.isInteger(labels.width) ||
    !Number.isInteger(labels.height) ||
    labels.width < 1 ||
    labels.height < 1
  )
    throw new ArgumentError(
      op,
      'labels',
      'a LabelMap with positive integer width and height',
      String(labels),
    );
  if (!labels.data || labels.data.length !== labels.width * labels.height)
    throw new ArgumentError(
      op,
      'labels.data',
      `${labels.width}×${labels.height} = ${labels.width * labels.height} indices`,
      `${labels.data?.length} values`,
    );
  if (!Array.isArray(palette) || palette.length === 0)
    throw new ArgumentError(op, 'palette', 'a non-empty array of [R, G, B]', String(palette));
  palette.forEach((c, i) => {
    checkRgb(op, `palette[${i}]`, c);
  });
  if (!Number.isInteger(ignore)) throw new ArgumentError(op, 'ignoreIndex', 'an integer', String(ignore));
  const d = labels.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i] as number;
    if (v !== ignore && !(Number.isInteger(v) && v >= 0 && v < palette.length))
      throw new ArgumentError(
        op,
        'labels.data',
        `class indices in 0–${palette.length - 1} (or ignoreIndex ${ignore})`,
        `${v} at pixel (x ${i % labels.width}, y ${Math.floor(i / labels.width)})`,
      );
  }
}

/**
 * Colours a class-index map with a palette (e.g. {@link ADE20K_PALETTE},
 * {@link CITYSCAPES_PALETTE}): pixel `p` becomes `palette[labels[p]]`, and `ignoreIndex` pixels
 * black. Throws `ArgumentError` for an index outside the palette.
 */
export function colorizeLabels(
  labels: LabelMap,
  palette: readonly Rgb[],
  options: LabelColorOptions = {},
): RgbImage {
  const ignore = options.ignoreIndex ?? 255;
  checkLabels('colorizeLabels', labels, palette, ignore);
  const n = labels.width * labels.height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const v = labels.data[i] as number;
    if (v === ignore) continue;
    const c = palette[v] as Rgb;
    out[i * 3] = c[0];
    out[i * 3 + 1] = c[1];
    out[i * 3 + 2] = c[2];
  }
  return { width: labels.width, height: labels.height, data: out };
}

/**
 * Blends the class colours over an image of the same size: each channel
 * `round((1 − alpha) · image + alpha · palette[label])` (halves rounded up), with `alpha`
 * default 0.5; `ignoreIndex` pixels keep the image. The image's alpha plane, if any, is kept.
 */
export function overlayLabels(
  image: RgbImage,
  labels: LabelMap,
  palette: readonly Rgb[],
  options: OverlayOptions = {},
): RgbImage {
  const op = 'overlayLabels';
  checkImage(op, image);
  const ignore = options.ignoreIndex ?? 255;
  checkLabels(op, labels, palette, ignore);
  const alpha = options.alpha ?? 0.5;
  if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentError(op, 'alpha', 'a number in [0, 1]', String(alpha));
  if (labels.width !== image.width || labels.height !== image.height)
    throw new ArgumentError(
      op,
      'labels',
      `the image's size ${image.width}×${image.height}`,
      `${labels.width}×${labels.height}`,
    );
  const out = new Uint8Array(image.data);
  const n = image.width * image.height;
  for (let i = 0; i < n; i++) {
    const v = labels.data[i] as number;
    if (v === ignore) continue;
    const c = palette[v] as Rgb;
    for (let k = 0; k < 3; k++) {
      const j = i * 3 + k;
      out[j] = Math.floor((1 - alpha) * (image.data[j] as number) + alpha * c[k as 0 | 1 | 2] + 0.5);
    }
  }
  return image.alpha
    ? { width: image.width, height: image.height, data: out, alpha: new Uint8Array(image.alpha) }
    : { width: image.width, height: image.height, data: out };
}
