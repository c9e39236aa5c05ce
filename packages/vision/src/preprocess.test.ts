import { registerJsBackend } from '@kernelzoo/backend-js';
import { memory, type Preprocessing, setBackend } from '@kernelzoo/core';
import { describe, expect, it } from 'vitest';
import {
  classificationArray,
  classificationCrop,
  classificationInput,
  normalizeToChw,
  scaleSize,
} from './preprocess.js';
import { centerCrop, resize, resizeShorterSide, shorterSideSize } from './resize.js';
import { byteDiff, fixtureF32, fixtureImage, manifest, sha256 } from './test-support/fixtures.js';

const pre = (interpolation: 'bicubic' | 'bilinear'): Preprocessing => ({
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  scale: 1,
  resize: 'shorter-side',
  interpolation,
  cropPct: 0.875,
});

describe("timm's eval transform against Pillow + torchvision (fixtures/make_fixtures.py)", () => {
  for (const c of manifest.cases) {
    const label = `${c.source} ${c.interpolation} → ${c.resizedSize.join('×')} → ${c.size}`;
    it(`${label}: resized and cropped bytes equal Pillow's exactly`, async () => {
      const src = await fixtureImage(c.source);
      const resized = resizeShorterSide(src, scaleSize(c.size, 0.875), c.interpolation);
      expect([resized.width, resized.height]).toEqual(c.resizedSize);
      if (c.resized) {
        const want = await fixtureImage(c.resized);
        expect(byteDiff(resized.data, want.data)).toEqual({ count: 0, max: 0, first: -1 });
      } else {
        expect(sha256(resized.data)).toBe(c.resizedSha256);
      }
      const cropped = centerCrop(resized, c.size, c.size);
      const want = await fixtureImage(c.cropped);
      expect(byteDiff(cropped.data, want.data)).toEqual({ count: 0, max: 0, first: -1 });
    });

    it(`${label}: the NCHW float32 tensor equals torchvision's bit for bit`, async () => {
      const src = await fixtureImage(c.source);
      const { data, shape } = classificationArray(src, pre(c.interpolation), c.size);
      expect(shape).toEqual([1, 3, c.size, c.size]);
      if (c.tensor) {
        const want = fixtureF32(c.tensor);
        expect(data.length).toBe(want.length);
        let maxAbs = 0;
        for (let i = 0; i < want.length; i++) maxAbs = Math.max(maxAbs, Math.abs(data[i] - want[i]));
        expect(maxAbs).toBe(0);
      }
      if (c.tensorHead) expect(Array.from(data.subarray(0, c.tensorHead.length))).toEqual(c.tensorHead);
      expect(sha256(data)).toBe(c.tensorSha256);
    });
  }
});

describe("resize against Pillow's Image.resize on full-size chelsea (451×300)", () => {
  for (const r of manifest.resizes)
    it(`${r.interpolation} to ${r.width}×${r.height}: equal bytes`, async () => {
      const src = await fixtureImage('chelsea.png');
      const ours = resize(src, r.width, r.height, r.interpolation);
      const want = await fixtureImage(r.file);
      expect([ours.width, ours.height]).toEqual([want.width, want.height]);
      expect(byteDiff(ours.data, want.data)).toEqual({ count: 0, max: 0, first: -1 });
    });
});

describe('resize', () => {
  const img = { width: 3, height: 2, data: Uint8Array.from({ length: 18 }, (_, i) => i * 13) };

  it('returns a copy when the size is unchanged', () => {
    const r = resize(img, 3, 2, 'bicubic');
    expect(r.data).toEqual(img.data);
    expect(r.data).not.toBe(img.data);
  });

  it('keeps a constant image constant (weights sum to one after rounding)', () => {
    const flat = { width: 17, height: 9, data: new Uint8Array(17 * 9 * 3).fill(200) };
    for (const interp of ['bicubic', 'bilinear'] as const)
      for (const [w, h] of [
        [5, 4],
        [40, 31],
        [17, 3],
        [2, 9],
      ])
        expect(resize(flat, w, h, interp).data.every((v) => v === 200)).toBe(true);
  });

  it('resizes an alpha plane with the same weights', () => {
    const a = { ...img, alpha: Uint8Array.from({ length: 6 }, (_, i) => i * 40) };
    const r = resize(a, 5, 4, 'bilinear');
    expect(r.alpha?.length).toBe(20);
  });

  it('refuses bad sizes and interpolations', () => {
    expect(() => resize(img, 0, 2, 'bicubic')).toThrow(/width/);
    expect(() => resize(img, 2, 2, 'nearest' as 'bicubic')).toThrow(/interpolation/);
    expect(() => resize({ width: 2, height: 2, data: new Uint8Array(3) }, 2, 2, 'bicubic')).toThrow(
      /12 bytes/,
    );
  });
});

describe('shorterSideSize / centerCrop (torchvision semantics)', () => {
  it('truncates the longer side like int(size * long / short)', () => {
    expect(shorterSideSize(451, 300, 256)).toEqual([384, 256]);
    expect(shorterSideSize(300, 451, 256)).toEqual([256, 384]);
    expect(shorterSideSize(100, 100, 64)).toEqual([64, 64]);
    expect(scaleSize(224, 0.875)).toBe(256);
    expect(scaleSize(224, 0.95)).toBe(235);
  });

  it("rounds the offset half to even, as Python's round does", () => {
    const w = 9;
    const img = {
      width: w,
      height: 1,
      data: Uint8Array.from({ length: w * 3 }, (_, i) => Math.floor(i / 3)),
    };
    // (9 − 4) / 2 = 2.5 → 2; (9 − 6) / 2 = 1.5 → 2; (9 − 2) / 2 = 3.5 → 4.
    expect(centerCrop(img, 4, 1).data[0]).toBe(2);
    expect(centerCrop(img, 6, 1).data[0]).toBe(2);
    expect(centerCrop(img, 2, 1).data[0]).toBe(4);
  });

  it('pads a too-small image with zeros, ⌊d/2⌋ before', () => {
    const img = { width: 1, height: 1, data: Uint8Array.from([9, 9, 9]) };
    const c = centerCrop(img, 4, 3);
    const at = (x: number, y: number) => c.data[(y * 4 + x) * 3];
    expect(at(1, 1)).toBe(9);
    expect(Array.from(c.data).filter((v) => v === 9).length).toBe(3);
  });
});

describe('normalizeToChw', () => {
  it('is planar and uses scale 255 units when asked', () => {
    const img = { width: 2, height: 1, data: Uint8Array.from([255, 0, 10, 0, 255, 20]) };
    const f = normalizeToChw(img, { mean: [0, 0, 0], std: [1, 1, 1], scale: 255 });
    expect(Array.from(f)).toEqual([255, 0, 0, 255, 10, 20]);
    const g = normalizeToChw(img, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], scale: 1 });
    expect(g[0]).toBe(1);
    expect(g[1]).toBe(-1);
  });
});

describe('classificationInput', () => {
  it('makes the [1, 3, 224, 224] float32 tensor of classificationArray on the current backend', async () => {
    registerJsBackend();
    await setBackend('js');
    const before = memory().numTensors;
    const src = await fixtureImage('SKIMAGE:chelsea.png');
    const t = classificationInput(src, pre('bicubic'), 224);
    expect(t.shape).toEqual([1, 3, 224, 224]);
    expect(t.dtype).toBe('float32');
    const c = manifest.cases.find((c) => c.size === 224)!;
    expect(sha256(await t.data())).toBe(c.tensorSha256);
    t.dispose();
    expect(memory().numTensors).toBe(before);
  });

  it('refuses resize rules it does not implement yet', () => {
    const img = { width: 4, height: 4, data: new Uint8Array(48) };
    expect(() => classificationCrop(img, { ...pre('bilinear'), resize: 'long-side' }, 2)).toThrow(
      /long-side/,
    );
  });
});
