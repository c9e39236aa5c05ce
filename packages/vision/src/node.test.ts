import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { KernelzooError } from '@kernelzoo/core';
import { describe, expect, it } from 'vitest';
import { VisionError } from './errors.js';
import type { RgbImage } from './image.js';
import { decodeImage, encodeImage, readImage, writeImage } from './node.js';
import { byteDiff, FIXTURES, fixtureImage } from './test-support/fixtures.js';

const bytesOf = (name: string) => new Uint8Array(readFileSync(FIXTURES + name));

/** One PNG chunk: length, type, data, CRC. */
function chunk(type: string, data: Uint8Array): Uint8Array {
  const t = new TextEncoder().encode(type);
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  out.set(t, 4);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(Buffer.concat([t, data])));
  return out;
}

/** A 69-byte PNG whose header claims `width × height` pixels (8-bit RGB) and holds none. */
function pngHeaderOnly(width: number, height: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const signature = Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]);
  const idat = chunk('IDAT', Uint8Array.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
  return Buffer.concat([signature, chunk('IHDR', ihdr), idat, chunk('IEND', new Uint8Array(0))]);
}

/** The image turned 90° clockwise. */
function rotateCw(img: RgbImage): RgbImage {
  const { width: w, height: h } = img;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) data[(x * h + (h - 1 - y)) * 3 + c] = img.data[(y * w + x) * 3 + c];
  return { width: h, height: w, data };
}

describe('decodeImage / readImage (sharp)', () => {
  it('decodes a PIL-written JPEG to the same pixels as PIL (same libjpeg-turbo IDCT)', async () => {
    const ours = await readImage(`${FIXTURES}coffee-small.q90.jpg`);
    const pil = await fixtureImage('coffee-small.q90.pil-decoded.png');
    expect([ours.width, ours.height]).toEqual([120, 80]);
    const d = byteDiff(ours.data, pil.data);
    expect(d.max).toBeLessThanOrEqual(1);
    expect(d.count / ours.data.length).toBeLessThan(0.01);
  });

  it('applies EXIF orientation by default and ignores it on request', async () => {
    const stored = await readImage(`${FIXTURES}coffee-small.orient6.jpg`, { orientation: 'ignore' });
    expect([stored.width, stored.height]).toEqual([120, 80]);
    const turned = await readImage(`${FIXTURES}coffee-small.orient6.jpg`);
    expect([turned.width, turned.height]).toEqual([80, 120]);
    expect(byteDiff(turned.data, rotateCw(stored).data).count).toBe(0);
  });

  it('reads WebP (lossless) to the source pixels', async () => {
    const webp = await readImage(`${FIXTURES}coffee-small.webp`);
    const png = await fixtureImage('coffee-small.png');
    expect(byteDiff(webp.data, png.data).count).toBe(0);
  });

  it('replicates greyscale, splits alpha, expands palettes and keeps the top byte of 16-bit', async () => {
    const grey = await readImage(`${FIXTURES}grey8.png`);
    expect(grey.alpha).toBeUndefined();
    for (let i = 0; i < grey.width * grey.height; i++) {
      expect(grey.data[i * 3 + 1]).toBe(grey.data[i * 3]);
      expect(grey.data[i * 3 + 2]).toBe(grey.data[i * 3]);
    }
    const la = await readImage(`${FIXTURES}grey-alpha.png`);
    expect(la.alpha).toBeDefined();
    expect(byteDiff(la.data, grey.data).count).toBe(0);
    expect(la.alpha?.every((a, i) => a === 255 - grey.data[i * 3])).toBe(true);
    const rgba = await readImage(`${FIXTURES}rgba.png`);
    expect(byteDiff(rgba.data, (await fixtureImage('coffee-small.png')).data).count).toBe(0);
    expect(rgba.alpha?.[300]).toBe(300 % 256);
    const pal = await readImage(`${FIXTURES}palette.png`);
    expect([pal.width, pal.height, pal.alpha]).toEqual([120, 80, undefined]);
    const g16 = await readImage(`${FIXTURES}grey16.png`);
    expect(byteDiff(g16.data, grey.data).count).toBe(0);
    const rgb16 = await readImage(`${FIXTURES}rgb16.png`);
    expect(byteDiff(rgb16.data, (await fixtureImage('coffee-small.png')).data).count).toBe(0);
  });

  it('refuses empty, truncated, corrupt and unsupported data with a VisionError naming the file', async () => {
    const e1 = await decodeImage(new Uint8Array(0), { name: 'empty.png' }).catch((e) => e);
    expect(e1).toBeInstanceOf(VisionError);
    expect(e1).toBeInstanceOf(KernelzooError);
    expect(e1.message).toMatch(/^empty\.png: .*empty/);
    const jpg = bytesOf('coffee-small.q90.jpg');
    await expect(decodeImage(jpg.subarray(0, jpg.length >> 1), { name: 'cut.jpg' })).rejects.toThrow(
      /^cut\.jpg: cannot decode the jpeg data/,
    );
    const png = bytesOf('coffee-small.png');
    await expect(decodeImage(png.subarray(0, png.length - 200), { name: 'cut.png' })).rejects.toThrow(
      /^cut\.png: /,
    );
    await expect(decodeImage(new TextEncoder().encode('hello'), { name: 'x.txt' })).rejects.toThrow(
      /^x\.txt: not a readable image/,
    );
    await expect(readImage(`${FIXTURES}tiny.gif`)).rejects.toThrow(
      /tiny\.gif: unsupported image format 'gif'/,
    );
    await expect(readImage(`${FIXTURES}no-such.png`)).rejects.toThrow(/no-such\.png: cannot read the file/);
  });

  it('refuses an image over the pixel limit from its header, before decoding', async () => {
    const bomb = pngHeaderOnly(100_000, 100_000);
    await expect(decodeImage(bomb, { name: 'bomb.png' })).rejects.toThrow(
      /^bomb\.png: 100000×100000 = 10000000000 pixels is over the limit of 100000000/,
    );
    await expect(readImage(`${FIXTURES}coffee-small.png`, { maxPixels: 100 })).rejects.toThrow(
      /120×80 = 9600 pixels is over the limit of 100/,
    );
  });
});

describe('encodeImage / writeImage', () => {
  it('round-trips PNG losslessly, with alpha', async () => {
    const img = await fixtureImage('rgba.png');
    const back = await decodeImage(await encodeImage(img));
    expect(byteDiff(back.data, img.data).count).toBe(0);
    expect(byteDiff(back.alpha!, img.alpha!).count).toBe(0);
  });

  it('writes JPEG by extension, close to the source', async () => {
    const img = await fixtureImage('coffee-small.png');
    const dir = await mkdtemp(join(tmpdir(), 'kz-vision-'));
    await writeImage(join(dir, 'a.jpg'), img, { quality: 95 });
    const back = await readImage(join(dir, 'a.jpg'));
    let sum = 0;
    for (let i = 0; i < img.data.length; i++) sum += Math.abs(back.data[i] - img.data[i]);
    expect(sum / img.data.length).toBeLessThan(4);
    await expect(writeImage(join(dir, 'a.bmp'), img)).rejects.toThrow(/a\.bmp: cannot tell the format/);
  });
});
