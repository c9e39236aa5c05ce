import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { ArgumentError } from '@kernelzoo/core';
import { VisionError } from './errors.js';
import { checkImage, type RgbImage } from './image.js';

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

type SharpModule = typeof import('sharp');
let sharpModule: Promise<SharpModule> | undefined;

/** sharp is imported on first use, so importing this package costs nothing where it is not used. */
async function loadSharp(): Promise<SharpModule['default']> {
  sharpModule ??= import('sharp');
  return (await sharpModule).default;
}

function reason(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0].trim();
}

/**
 * Decodes PNG, JPEG or WebP bytes (with libvips, through sharp) into 8-bit RGB plus an alpha
 * plane when the image has one. Greyscale is replicated to R = G = B; 16-bit samples are
 * reduced to 8 bits (the top byte); palette images are expanded; an animated WebP gives its
 * first frame. Throws {@link VisionError}, naming `options.name`, for empty, truncated,
 * corrupt or unsupported data and for images over `options.maxPixels` (checked from the
 * header before decoding).
 */
export async function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): Promise<RgbImage> {
  const name = options.name ?? '<buffer>';
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!Number.isInteger(maxPixels) || maxPixels < 1)
    throw new ArgumentError('decodeImage', 'maxPixels', 'a positive integer', String(maxPixels));
  const orientation = options.orientation ?? 'apply';
  if (orientation !== 'apply' && orientation !== 'ignore')
    throw new ArgumentError('decodeImage', 'orientation', `'apply' or 'ignore'`, String(orientation));
  if (!(bytes instanceof Uint8Array))
    throw new ArgumentError('decodeImage', 'bytes', 'a Uint8Array', typeof bytes);
  if (bytes.length === 0) throw new VisionError(name, 'the image is empty (0 bytes)');
  const sharp = await loadSharp();
  let meta: Awaited<ReturnType<ReturnType<SharpModule['default']>['metadata']>>;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new VisionError(
      name,
      `not a readable image (expected ${DECODABLE_FORMATS.join(', ')}): ${reason(e)}`,
    );
  }
  if (!meta.format || !(DECODABLE_FORMATS as readonly string[]).includes(meta.format))
    throw new VisionError(
      name,
      `unsupported image format '${meta.format}' (supported: ${DECODABLE_FORMATS.join(', ')})`,
    );
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (w < 1 || h < 1) throw new VisionError(name, `the ${meta.format} header gives no size (${w}×${h})`);
  if (w * h > maxPixels)
    throw new VisionError(
      name,
      `${w}×${h} = ${w * h} pixels is over the limit of ${maxPixels} (raise maxPixels to read it)`,
    );
  let raw: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    let p = sharp(bytes, { failOn: 'warning', limitInputPixels: maxPixels });
    if (orientation === 'apply') p = p.autoOrient();
    raw = await p.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new VisionError(
      name,
      `cannot decode the ${meta.format} data (truncated or corrupt?): ${reason(e)}`,
    );
  }
  return splitChannels(raw.data, raw.info.width, raw.info.height, raw.info.channels, name);
}

function splitChannels(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  name: string,
): RgbImage {
  const n = width * height;
  if (channels < 1 || channels > 4 || src.length !== n * channels)
    throw new VisionError(
      name,
      `decoder gave ${channels} channels in ${src.length} bytes for ${width}×${height}`,
    );
  const data = new Uint8Array(n * 3);
  const grey = channels <= 2;
  const alpha = channels === 2 || channels === 4 ? new Uint8Array(n) : undefined;
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

/** Reads and decodes an image file; errors name `path`. See {@link decodeImage}. */
export async function readImage(path: string, options: Omit<DecodeOptions, 'name'> = {}): Promise<RgbImage> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new VisionError(path, `cannot read the file: ${reason(e)}`);
  }
  return decodeImage(bytes, { ...options, name: path });
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

function interleave(img: RgbImage, withAlpha: boolean): { data: Uint8Array; channels: 3 | 4 } {
  if (!withAlpha || !img.alpha) return { data: img.data, channels: 3 };
  const n = img.width * img.height;
  const data = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    data[i * 4] = img.data[i * 3];
    data[i * 4 + 1] = img.data[i * 3 + 1];
    data[i * 4 + 2] = img.data[i * 3 + 2];
    data[i * 4 + 3] = img.alpha[i];
  }
  return { data, channels: 4 };
}

/** Encodes an {@link RgbImage} as PNG (default) or JPEG bytes, with sharp. */
export async function encodeImage(img: RgbImage, options: EncodeOptions = {}): Promise<Uint8Array> {
  checkImage('encodeImage', img);
  const format = options.format ?? 'png';
  if (format !== 'png' && format !== 'jpeg')
    throw new ArgumentError('encodeImage', 'format', `'png' or 'jpeg'`, String(format));
  const quality = options.quality ?? 90;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100)
    throw new ArgumentError('encodeImage', 'quality', 'an integer 1–100', String(quality));
  const { data, channels } = interleave(img, format === 'png' && (options.alpha ?? true));
  const sharp = await loadSharp();
  const p = sharp(data, { raw: { width: img.width, height: img.height, channels } });
  const out = format === 'png' ? await p.png().toBuffer() : await p.jpeg({ quality }).toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Encodes and writes an image; the format comes from the extension (`.png`, `.jpg`, `.jpeg`)
 * unless `options.format` says it. Errors name `path`.
 */
export async function writeImage(path: string, img: RgbImage, options: EncodeOptions = {}): Promise<void> {
  const ext = extname(path).toLowerCase();
  const format =
    options.format ?? (ext === '.png' ? 'png' : ext === '.jpg' || ext === '.jpeg' ? 'jpeg' : undefined);
  if (!format) throw new VisionError(path, `cannot tell the format from '${ext}' (use .png, .jpg or .jpeg)`);
  const bytes = await encodeImage(img, { ...options, format });
  try {
    await writeFile(path, bytes);
  } catch (e) {
    throw new VisionError(path, `cannot write the file: ${reason(e)}`);
  }
}
