import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RgbImage } from '../image.js';
import { readImage } from '../node.js';

/** The fixtures folder (written by fixtures/make_fixtures.py). */
export const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

/** One case of fixtures/manifest.json. */
export interface FixtureCase {
  source: string;
  interpolation: 'bicubic' | 'bilinear';
  size: number;
  resized?: string;
  resizedSize: [number, number];
  resizedSha256?: string;
  cropped: string;
  tensor?: string;
  tensorSha256: string;
  tensorHead?: number[];
}

/** The manifest. */
export const manifest: {
  mean: [number, number, number];
  std: [number, number, number];
  cases: FixtureCase[];
  resizes: { interpolation: 'bicubic' | 'bilinear'; width: number; height: number; file: string }[];
} = JSON.parse(readFileSync(`${FIXTURES}manifest.json`, 'utf8'));

/** Reads a fixture image (PNG is lossless, so these are the stored bytes). */
export function fixtureImage(name: string): Promise<RgbImage> {
  return readImage(FIXTURES + name.replace(/^SKIMAGE:/, ''));
}

/** Reads a little-endian float32 fixture. */
export function fixtureF32(name: string): Float32Array {
  const b = readFileSync(FIXTURES + name);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** sha256 of the bytes of a typed array. */
export function sha256(a: ArrayBufferView): string {
  return createHash('sha256')
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex');
}

/** Where two byte arrays differ: count, largest difference and the first index. */
export function byteDiff(a: Uint8Array, b: Uint8Array): { count: number; max: number; first: number } {
  let count = 0;
  let max = 0;
  let first = -1;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d) {
      count++;
      if (first < 0) first = i;
      if (d > max) max = d;
    }
  }
  return { count, max, first };
}
