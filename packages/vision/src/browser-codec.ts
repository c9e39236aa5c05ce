/*
 * The browser codec: the same functions as the Node codec (./node.ts), on the platform's
 * decoders and encoders — createImageBitmap and OffscreenCanvas. Chosen by the `browser`
 * export condition.
 */
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
import { readHeader, withoutOrientation } from './header.js';
import { checkImage, type RgbImage } from './image.js';

/**
 * Decodes PNG, JPEG or WebP bytes with the browser's decoders (`createImageBitmap`, then an
 * `OffscreenCanvas`), without colour-space conversion or premultiplication. The header is read
 * first: the size is checked against `maxPixels` and an incomplete file is refused before the
 * platform decodes anything.
 */
export async function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): Promise<RgbImage> {
  const { name, maxPixels, orientation } = decodeSettings('decodeImage', options);
  if (!(bytes instanceof Uint8Array))
    throw new ArgumentError('decodeImage', 'bytes', 'a Uint8Array', typeof bytes);
  if (bytes.length === 0) throw new VisionError(name, 'the image is empty (0 bytes)');
  const head = readHeader(bytes);
  if (!head) throw new VisionError(name, `not a readable image (expected ${DECODABLE_FORMATS.join(', ')})`);
  if (!(DECODABLE_FORMATS as readonly string[]).includes(head.format))
    throw new VisionError(
      name,
      `unsupported image format '${head.format}' (supported: ${DECODABLE_FORMATS.join(', ')})`,
    );
  const { width: w, height: h } = head;
  if (w < 1 || h < 1)
    throw new VisionError(name, `not a readable image: the ${head.format} header gives no size`);
  if (w * h > maxPixels) throw overLimit(name, w, h, maxPixels);
  if (!head.complete)
    throw new VisionError(
      name,
      `cannot decode the ${head.format} data (truncated or corrupt?): the file ends early`,
    );
  let bitmap: ImageBitmap;
  try {
    // Chromium applies the EXIF orientation even for imageOrientation 'none' (the enum changed
    // meaning); ignoring it means decoding a copy whose tag says "as stored".
    const data = orientation === 'apply' ? new Uint8Array(bytes) : withoutOrientation(bytes, head.format);
    bitmap = await createImageBitmap(new Blob([data], { type: `image/${head.format}` }), {
      imageOrientation: 'from-image',
      premultiplyAlpha: 'none',
      colorSpaceConversion: 'none',
    });
  } catch (e) {
    throw new VisionError(
      name,
      `cannot decode the ${head.format} data (truncated or corrupt?): ${reason(e)}`,
    );
  }
  try {
    const rgba = (head.alpha && readUnpremultiplied(bitmap)) || readThroughCanvas(bitmap, name);
    return splitChannels(rgba, bitmap.width, bitmap.height, 4, name, head.alpha);
  } finally {
    bitmap.close();
  }
}

/** RGBA through a 2D canvas: exact for opaque images; a 2D canvas premultiplies alpha. */
function readThroughCanvas(bitmap: ImageBitmap, name: string): Uint8ClampedArray {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new VisionError(name, 'no 2D canvas context to read the pixels with');
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
}

/**
 * RGBA read back from a WebGL2 texture uploaded without premultiplication, so colour under
 * partial or zero alpha survives; `undefined` where WebGL2 is unavailable.
 */
function readUnpremultiplied(bitmap: ImageBitmap): Uint8Array | undefined {
  const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
  if (!gl) return undefined;
  const tex = gl.createTexture();
  const fb = gl.createFramebuffer();
  try {
    gl.bindTexture(gl.TEXTURE_2D, tex);
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
    gl.pixelStorei(gl.UNPACK_COLORSPACE_CONVERSION_WEBGL, gl.NONE);
    gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, bitmap);
    gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, tex, 0);
    if (gl.checkFramebufferStatus(gl.FRAMEBUFFER) !== gl.FRAMEBUFFER_COMPLETE) return undefined;
    const out = new Uint8Array(bitmap.width * bitmap.height * 4);
    gl.readPixels(0, 0, bitmap.width, bitmap.height, gl.RGBA, gl.UNSIGNED_BYTE, out);
    return gl.getError() === gl.NO_ERROR ? out : undefined;
  } finally {
    gl.deleteFramebuffer(fb);
    gl.deleteTexture(tex);
    gl.getExtension('WEBGL_lose_context')?.loseContext();
  }
}

/** Fetches `url` and decodes it; errors name the URL. See {@link decodeImage}. */
export async function readImage(url: string, options: Omit<DecodeOptions, 'name'> = {}): Promise<RgbImage> {
  let bytes: Uint8Array;
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw new VisionError(url, `cannot read the file: ${reason(e)}`);
  }
  return decodeImage(bytes, { ...options, name: url });
}

/** Encodes an {@link RgbImage} as PNG (default) or JPEG bytes with `OffscreenCanvas.convertToBlob`. */
export async function encodeImage(img: RgbImage, options: EncodeOptions = {}): Promise<Uint8Array> {
  checkImage('encodeImage', img);
  const { format, quality } = encodeSettings('encodeImage', options);
  const withAlpha = format === 'png' && (options.alpha ?? true) && img.alpha !== undefined;
  const n = img.width * img.height;
  const pixels = new ImageData(img.width, img.height);
  for (let i = 0; i < n; i++) {
    pixels.data[i * 4] = img.data[i * 3];
    pixels.data[i * 4 + 1] = img.data[i * 3 + 1];
    pixels.data[i * 4 + 2] = img.data[i * 3 + 2];
    pixels.data[i * 4 + 3] = withAlpha && img.alpha ? img.alpha[i] : 255;
  }
  const canvas = new OffscreenCanvas(img.width, img.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new VisionError('<canvas>', 'no 2D canvas context to encode with');
  ctx.putImageData(pixels, 0, 0);
  const blob = await canvas.convertToBlob({ type: `image/${format}`, quality: quality / 100 });
  return new Uint8Array(await blob.arrayBuffer());
}

/** Not available in browsers: throws a {@link VisionError}. Use {@link encodeImage} and a download. */
export async function writeImage(path: string, _img: RgbImage, _options: EncodeOptions = {}): Promise<void> {
  throw new VisionError(
    path,
    'writeImage writes files in Node only; in a browser, encodeImage and offer a download',
  );
}
