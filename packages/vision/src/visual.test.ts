import { existsSync, mkdirSync } from 'node:fs';
import { ArgumentError } from '@kernelzoo/core';
import { describe, expect, it } from 'vitest';
import { COCO_KEYPOINT_NAMES, COCO_SKELETON, COCO_SKELETON_COLORS } from './coco.js';
import { VIRIDIS } from './color.js';
import { createDrawing, drawPose } from './draw-node.js';
import { renderHeatmap } from './heatmap.js';
import type { RgbImage } from './image.js';
import { readImage, writeImage } from './node.js';
import {
  ADE20K_LABELS,
  ADE20K_PALETTE,
  CITYSCAPES_LABELS,
  CITYSCAPES_PALETTE,
} from './segmentation-labels.js';
import { colorizeLabels, overlayLabels } from './segmentation-overlay.js';
import { FIXTURES, fixtureImage } from './test-support/fixtures.js';
import {
  H,
  HEAT_H,
  HEAT_W,
  heatScene,
  labelScene,
  POSE_MAX_DELTA,
  POSE_MAX_FRACTION,
  pixelDiff,
  poseScene,
  W,
} from './test-support/visual-scenes.js';

const GOLDEN = `${FIXTURES}golden/`;
const UPDATE = process.env.UPDATE_GOLDEN === '1';

/** Compares with the golden image, or writes it with UPDATE_GOLDEN=1. */
async function golden(name: string, img: RgbImage): Promise<RgbImage> {
  if (UPDATE) {
    mkdirSync(GOLDEN, { recursive: true });
    await writeImage(GOLDEN + name, img);
  }
  expect(existsSync(GOLDEN + name), `${name} (write it with UPDATE_GOLDEN=1)`).toBe(true);
  const g = await readImage(GOLDEN + name);
  expect([g.width, g.height]).toEqual([img.width, img.height]);
  return g;
}

describe('segmentation labels and palettes (from SPNet)', () => {
  it('has 150 ADE20K and 19 Cityscapes classes with a colour each', () => {
    expect(ADE20K_LABELS.length).toBe(150);
    expect(ADE20K_PALETTE.length).toBe(150);
    expect(CITYSCAPES_LABELS.length).toBe(19);
    expect(CITYSCAPES_PALETTE.length).toBe(19);
    expect([ADE20K_LABELS[0], ADE20K_LABELS[12], ADE20K_LABELS[149]]).toEqual(['wall', 'person', 'flag']);
    expect(ADE20K_PALETTE[0]).toEqual([120, 120, 120]);
    expect(CITYSCAPES_LABELS.slice(0, 2)).toEqual(['road', 'sidewalk']);
    expect(CITYSCAPES_LABELS[18]).toBe('bicycle');
    expect(CITYSCAPES_PALETTE[0]).toEqual([128, 64, 128]);
    expect(CITYSCAPES_PALETTE[1]).toEqual([244, 35, 232]);
    expect(CITYSCAPES_PALETTE[18]).toEqual([119, 11, 32]);
    for (const c of [...ADE20K_PALETTE, ...CITYSCAPES_PALETTE])
      for (const v of c) expect(Number.isInteger(v) && v >= 0 && v <= 255).toBe(true);
    expect(new Set(CITYSCAPES_PALETTE.map(String)).size).toBe(19);
    // ADE20K's published palette repeats [140, 140, 140] (road and skyscraper); nothing else.
    expect(new Set(ADE20K_PALETTE.map(String)).size).toBe(149);
  });
});

describe('colorizeLabels / overlayLabels', () => {
  it('colours each class and leaves ignore-index pixels black', () => {
    const m = colorizeLabels({ width: 3, height: 1, data: [0, 255, 18] }, CITYSCAPES_PALETTE);
    expect([...m.data]).toEqual([128, 64, 128, 0, 0, 0, 119, 11, 32]);
  });

  it('blends with alpha, rounding halves up, and keeps ignore pixels and the alpha plane', () => {
    const img: RgbImage = {
      width: 2,
      height: 1,
      data: new Uint8Array([0, 100, 255, 7, 7, 7]),
      alpha: new Uint8Array([9, 8]),
    };
    const o = overlayLabels(img, { width: 2, height: 1, data: [1, 255] }, CITYSCAPES_PALETTE, { alpha: 0.5 });
    // (0 + 244) / 2 = 122, (100 + 35) / 2 = 67.5 → 68, (255 + 232) / 2 = 243.5 → 244
    expect([...o.data]).toEqual([122, 68, 244, 7, 7, 7]);
    expect([...(o.alpha ?? [])]).toEqual([9, 8]);
    const full = overlayLabels(img, { width: 2, height: 1, data: [1, 0] }, CITYSCAPES_PALETTE, { alpha: 1 });
    expect([...full.data]).toEqual([244, 35, 232, 128, 64, 128]);
  });

  it('refuses indices outside the palette, a size mismatch and a bad alpha', () => {
    const img: RgbImage = { width: 2, height: 1, data: new Uint8Array(6) };
    expect(() => colorizeLabels({ width: 2, height: 1, data: [0, 19] }, CITYSCAPES_PALETTE)).toThrow(
      /0–18.*19 at pixel \(x 1, y 0\)/,
    );
    expect(() => overlayLabels(img, { width: 1, height: 2, data: [0, 0] }, CITYSCAPES_PALETTE)).toThrow(
      ArgumentError,
    );
    expect(() =>
      overlayLabels(img, { width: 2, height: 1, data: [0, 0] }, CITYSCAPES_PALETTE, { alpha: 1.5 }),
    ).toThrow(/alpha/);
  });

  it('matches the golden overlay and colour mask exactly (alpha 0.5)', async () => {
    const img = await fixtureImage('chelsea-small.png');
    expect([img.width, img.height]).toEqual([W, H]);
    const o = overlayLabels(img, labelScene(), CITYSCAPES_PALETTE, { alpha: 0.5 });
    expect((await golden('overlay-cityscapes.png', o)).data).toEqual(o.data);
    const m = colorizeLabels(labelScene(), CITYSCAPES_PALETTE);
    expect((await golden('labels-cityscapes.png', m)).data).toEqual(m.data);
  });
});

describe('renderHeatmap', () => {
  it('uses matplotlib viridis, 256 entries', () => {
    expect(VIRIDIS.length).toBe(256);
    // matplotlib's _viridis_data entries 0, 1 and 255, × 255, rounded.
    expect(VIRIDIS[0]).toEqual([68, 1, 84]);
    expect(VIRIDIS[1]).toEqual([68, 2, 86]);
    expect(VIRIDIS[255]).toEqual([253, 231, 37]);
  });

  it('maps min to entry 0, max to entry 255, clamps and returns the range', () => {
    const h = renderHeatmap([0, 1, 0.5, 2, -1, Number.NaN], 3, 2, { min: 0, max: 1 });
    expect([h.min, h.max]).toEqual([0, 1]);
    const px = (i: number) => [...h.image.data.slice(i * 3, i * 3 + 3)];
    expect(px(0)).toEqual(VIRIDIS[0]);
    expect(px(1)).toEqual(VIRIDIS[255]);
    expect(px(2)).toEqual(VIRIDIS[128]);
    expect(px(3)).toEqual(VIRIDIS[255]);
    expect(px(4)).toEqual(VIRIDIS[0]);
    expect(px(5)).toEqual([0, 0, 0]);
    const auto = renderHeatmap([3, Number.POSITIVE_INFINITY, -2, Number.NaN], 2, 2);
    expect([auto.min, auto.max]).toEqual([-2, 3]);
  });

  it('matches the golden heatmap exactly', async () => {
    const h = renderHeatmap(heatScene(), HEAT_W, HEAT_H);
    expect(h.min).toBeLessThan(0);
    expect(h.max).toBeGreaterThan(1);
    expect((await golden('heatmap-viridis.png', h.image)).data).toEqual(h.image.data);
  });
});

describe('COCO keypoints and drawing (Node: @napi-rs/canvas)', () => {
  it('has the 17 COCO keypoints and 19 limbs', () => {
    expect(COCO_KEYPOINT_NAMES.length).toBe(17);
    expect(COCO_KEYPOINT_NAMES[0]).toBe('nose');
    expect(COCO_KEYPOINT_NAMES[16]).toBe('right_ankle');
    expect(COCO_SKELETON.length).toBe(19);
    expect(COCO_SKELETON_COLORS.length).toBe(19);
    // COCO's 1-based [16, 14] … [5, 7], shifted by one.
    expect(COCO_SKELETON[0]).toEqual([15, 13]);
    expect(COCO_SKELETON[18]).toEqual([4, 6]);
  });

  it('draws anti-aliased lines and circles', async () => {
    const img: RgbImage = { width: 20, height: 20, data: new Uint8Array(20 * 20 * 3) };
    const d = await createDrawing(img);
    d.line(2, 3, 17, 15, { color: [255, 255, 255], width: 2 });
    d.circle(10, 10, 4, { fill: [255, 0, 0] });
    const out = d.toImage();
    expect(img.data.every((v) => v === 0)).toBe(true); // the source is not drawn on
    const levels = new Set<number>();
    for (let i = 0; i < 400; i++) levels.add(out.data[i * 3] as number);
    expect(levels.size).toBeGreaterThan(4); // partial coverage at the edges: anti-aliased
    expect([...out.data.slice((10 * 20 + 10) * 3, (10 * 20 + 10) * 3 + 3)]).toEqual([255, 0, 0]);
  });

  it(`matches the golden skeleton drawing (≤ ${POSE_MAX_FRACTION * 100} % of pixels off by > ${POSE_MAX_DELTA})`, async () => {
    const img = await fixtureImage('chelsea-small.png');
    const out = await drawPose(img, poseScene(), { threshold: 0.3 });
    const g = await golden('pose-coco.png', out);
    const d = pixelDiff(out.data, g.data, POSE_MAX_DELTA);
    expect(d.over).toBeLessThanOrEqual(POSE_MAX_FRACTION * d.pixels);
    // The skipped left wrist of the second pose (x 134.5, y 59.75) is left as the image.
    const at = (im: RgbImage, x: number, y: number) => [
      ...im.data.slice((y * W + x) * 3, (y * W + x) * 3 + 3),
    ];
    expect(at(out, 134, 59)).toEqual(at(img, 134, 59));
    expect(at(out, 40, 15)).not.toEqual(at(img, 40, 15));
  });

  it('refuses poses of the wrong length', async () => {
    const img = await fixtureImage('chelsea-small.png');
    await expect(drawPose(img, [[1, 2, 3]])).rejects.toThrow(/51 numbers/);
  });
});
