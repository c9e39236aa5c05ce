/*
 * What the Node and browser codecs share: options, limits, checks.
 */
import { ArgumentError } from '@kernelzoo/core';
import { VisionError } from './errors.js';
import type { RgbImage } from './image.js';

/** The formats {@link decodeImage} reads. */
export const DECODABLE_FORMATS = ['png', 'jpeg', 'webp'] as const;

/**
 * The default pixel limit (width × height) of {@link decodeImage}: 100 megapixels. A larger
 * image is refused from its header, before any pixel is decoded (a decompression bomb costs a
 * few bytes to send and gigabytes to decode).
 */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/** Options of {@link decodeImage} and {@link readImage}. */
export interface DecodeOptions {
  /**
   * `apply` (default) turns the pixels as the EXIF orientation tag says (what SPNet's
   * `cv2.imread` does); `ignore` keeps the stored pixel order (what timm's PIL loader and
   * HRNet's `cv2.IMREAD_IGNORE_ORIENTATION` do).
   */
  readonly orientation?: 'apply' | 'ignore';
  /** Refuse images with more pixels than this; defaults to {@link DEFAULT_MAX_PIXELS}. */
  readonly maxPixels?: number;
  /** The name errors use for the bytes; {@link readImage} passes the path. Defaults to `<buffer>`. */
  readonly name?: string;
}

/** Options of {@link encodeImage}. */
export interface EncodeOptions {
  /** `png` (lossless, default) or `jpeg`. */
  readonly format?: 'png' | 'jpeg';
  /** JPEG quality 1–100 (default 90). */
  readonly quality?: number;
  /** Write the alpha plane too (PNG only; default true when the image has one). */
  readonly alpha?: boolean;
}

/** Checks decode options; returns them with defaults filled in. */
export function decodeSettings(
  op: string,
  options: DecodeOptions,
): { name: string; maxPixels: number; orientation: 'apply' | 'ignore' } {
  const name = options.name ?? '<buffer>';
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!Number.isInteger(maxPixels) || maxPixels < 1)
    throw new ArgumentError(op, 'maxPixels', 'a positive integer', String(maxPixels));
  const orientation = options.orientation ?? 'apply';
  if (orientation !== 'apply' && orientation !== 'ignore')
    throw new ArgumentError(op, 'orientation', `'apply' or 'ignore'`, String(orientation));
  return { name, maxPixels, orientation };
}

/** Checks encode options; returns the format and JPEG quality. */
export function encodeSettings(
  op: string,
  options: EncodeOptions,
): { format: 'png' | 'jpeg'; quality: number } {
  const format = options.format ?? 'png';
  if (format !== 'png' && format !== 'jpeg')
    throw new ArgumentError(op, 'format', `'png' or 'jpeg'`, String(format));
  const quality = options.quality ?? 90;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100)
    throw new ArgumentError(op, 'quality', 'an integer 1–100', String(quality));
  return { format, quality };
}

/** The first line of an error's message. */
export function reason(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0].trim();
}

/** The pixel-limit error. */
export function overLimit(name: string, w: number, h: number, maxPixels: number): VisionError {
  return new VisionError(
    name,
    `${w}×${h} = ${w * h} pixels is over the limit of ${maxPixels} (raise maxPixels to read it)`,
  );
}

/** An interleaved 1–4 channel 8-bit buffer → {@link RgbImage} (grey replicated, alpha split off). */
export function splitChannels(
  src: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  channels: number,
  name: string,
  keepAlpha = channels === 2 || channels === 4,
): RgbImage {
  const n = width * height;
  if (channels < 1 || channels > 4 || src.length !== n * channels)
    throw new VisionError(
      name,
      `decoder gave ${channels} channels in ${src.length} bytes for ${width}×${height}`,
    );
  const data = new Uint8Array(n * 3);
  const grey = channels <= 2;
  const alpha = keepAlpha && (channels === 2 || channels === 4) ? new Uint8Array(n) : undefined;
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    if (grey) {
      data[i * 3] = data[i * 3 + 1] = data[i * 3 + 2] = src[s];
    } else {
      data[i * 3] = src[s];
      data[i * 3 + 1] = src[s + 1];
      data[i * 3 + 2] = src[s + 2];
    }
    if (alpha) alpha[i] = src[s + channels - 1];
  }
  return alpha ? { width, height, data, alpha } : { width, height, data };
}
