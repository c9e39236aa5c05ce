import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { ArgumentError } from '@kernelzoo/core';
import {
  DECODABLE_FORMATS,
  type DecodeOptions,
  decodeSettings,
  type EncodeOptions,
  encodeSettings,
  overLimit,
  reason,
  splitChannels,
} from './codec.js';
import { VisionError } from './errors.js';
import { checkImage, type RgbImage } from './image.js';

type SharpModule = typeof import('sharp');
let sharpModule: Promise<SharpModule> | undefined;

/** sharp is imported on first use, so importing this package costs nothing where it is not used. */
async function loadSharp(): Promise<SharpModule['default']> {
  sharpModule ??= import('sharp');
  return (await sharpModule).default;
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
  const { name, maxPixels, orientation } = decodeSettings('decodeImage', options);
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
  if (w * h > maxPixels) throw overLimit(name, w, h, maxPixels);
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
  const { format, quality } = encodeSettings('encodeImage', options);
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
