import { describe, expect, it } from 'vitest';
import { decodeImage, encodeImage, readImage, writeImage } from './browser.js';
import type { RgbImage } from './image.js';
import { classificationArray } from './preprocess.js';

const url = (name: string) => new URL(`../fixtures/${name}`, import.meta.url).href;
const bytes = async (name: string) => new Uint8Array(await (await fetch(url(name))).arrayBuffer());

function diff(a: Uint8Array, b: Uint8Array): { count: number; max: number } {
  let count = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d) {
      count++;
      max = Math.max(max, d);
    }
  }
  return { count, max };
}

function rotateCw(img: RgbImage): Uint8Array {
  const { width: w, height: h } = img;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) data[(x * h + (h - 1 - y)) * 3 + c] = img.data[(y * w + x) * 3 + c];
  return data;
}

describe('browser codec (createImageBitmap + OffscreenCanvas)', () => {
  it('gives the same classification tensor as torchvision, bit for bit', async () => {
    const manifest = await (await fetch(url('manifest.json'))).json();
    const pre = {
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      scale: 1,
      resize: 'shorter-side',
      interpolation: 'bicubic',
      cropPct: 0.875,
    } as const;
    for (const c of manifest.cases.filter((c: { tensor?: string }) => c.tensor)) {
      const img = await readImage(url(c.source));
      const { data } = classificationArray(img, { ...pre, interpolation: c.interpolation }, c.size);
      const want = new Float32Array(await (await fetch(url(c.tensor))).arrayBuffer());
      expect(data).toEqual(want);
    }
  });

  it('decodes JPEG like Pillow, WebP losslessly, and applies or ignores EXIF orientation', async () => {
    const jpg = await readImage(url('coffee-small.q90.jpg'));
    const pil = await readImage(url('coffee-small.q90.pil-decoded.png'));
    const d = diff(jpg.data, pil.data);
    expect(d.max).toBeLessThanOrEqual(1);
    expect(d.count / jpg.data.length).toBeLessThan(0.01);
    const webp = await readImage(url('coffee-small.webp'));
    const png = await readImage(url('coffee-small.png'));
    expect(diff(webp.data, png.data).count).toBe(0);
    const stored = await readImage(url('coffee-small.orient6.jpg'), { orientation: 'ignore' });
    const turned = await readImage(url('coffee-small.orient6.jpg'));
    expect([stored.width, stored.height, turned.width, turned.height]).toEqual([120, 80, 80, 120]);
    expect(diff(turned.data, rotateCw(stored)).count).toBe(0);
  });

  it('replicates greyscale and keeps alpha planes, with colour under alpha intact (WebGL2 read-back)', async () => {
    const grey = await readImage(url('grey8.png'));
    expect(grey.alpha).toBeUndefined();
    expect(grey.data[1]).toBe(grey.data[0]);
    const la = await readImage(url('grey-alpha.png'));
    expect(la.alpha?.every((a, i) => a === 255 - grey.data[i * 3])).toBe(true);
    const rgba = await readImage(url('rgba.png'));
    expect(rgba.alpha?.[300]).toBe(300 % 256);
    expect(diff(rgba.data, (await readImage(url('coffee-small.png'))).data).count).toBe(0);
    // 16-bit PNGs keep their top byte, as in Node.
    expect(diff((await readImage(url('grey16.png'))).data, grey.data).count).toBe(0);
  });

  it('refuses empty, truncated, unsupported and oversized images naming the file', async () => {
    await expect(decodeImage(new Uint8Array(0), { name: 'e.png' })).rejects.toThrow(/^e\.png: .*empty/);
    const jpg = await bytes('coffee-small.q90.jpg');
    await expect(decodeImage(jpg.subarray(0, jpg.length >> 1), { name: 'cut.jpg' })).rejects.toThrow(
      /^cut\.jpg: cannot decode the jpeg data/,
    );
    const png = await bytes('coffee-small.png');
    await expect(decodeImage(png.subarray(0, png.length - 200), { name: 'cut.png' })).rejects.toThrow(
      /^cut\.png: cannot decode/,
    );
    await expect(decodeImage(await bytes('tiny.gif'), { name: 't.gif' })).rejects.toThrow(
      /unsupported image format 'gif'/,
    );
    await expect(decodeImage(png, { name: 'big.png', maxPixels: 100 })).rejects.toThrow(
      /^big\.png: 120×80 = 9600 pixels is over the limit of 100/,
    );
    await expect(writeImage('a.png', await readImage(url('grey8.png')))).rejects.toThrow(/Node only/);
  });

  it('encodes PNG losslessly and JPEG closely', async () => {
    const img = await readImage(url('coffee-small.png'));
    const back = await decodeImage(await encodeImage(img));
    expect(diff(back.data, img.data).count).toBe(0);
    const j = await decodeImage(await encodeImage(img, { format: 'jpeg', quality: 95 }));
    let sum = 0;
    for (let i = 0; i < img.data.length; i++) sum += Math.abs(j.data[i] - img.data[i]);
    expect(sum / img.data.length).toBeLessThan(4);
  });
});
