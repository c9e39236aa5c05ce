import { describe, expect, it } from 'vitest';
import { createDrawing, decodeImage, drawPose, overlayLabels, renderHeatmap } from './browser.js';
import { CITYSCAPES_PALETTE } from './segmentation-labels.js';
import {
  BROWSER_POSE_MAX_FRACTION,
  HEAT_H,
  HEAT_W,
  heatScene,
  labelScene,
  POSE_MAX_DELTA,
  pixelDiff,
  poseScene,
} from './test-support/visual-scenes.js';

const url = (name: string) => new URL(`../fixtures/${name}`, import.meta.url).href;
// Vite turns each `new URL(template, import.meta.url)` into a glob of one folder, so one per folder.
const goldenUrl = (name: string) => new URL(`../fixtures/golden/${name}`, import.meta.url).href;
const decode = async (href: string, name: string) =>
  decodeImage(new Uint8Array(await (await fetch(href)).arrayBuffer()), { name });
const image = (name: string) => decode(url(name), name);
const golden = (name: string) => decode(goldenUrl(name), name);

describe('drawing and overlays in Chromium (OffscreenCanvas)', () => {
  it('gives the Node golden overlay and heatmap exactly', async () => {
    const img = await image('chelsea-small.png');
    const o = overlayLabels(img, labelScene(), CITYSCAPES_PALETTE, { alpha: 0.5 });
    expect((await golden('overlay-cityscapes.png')).data).toEqual(o.data);
    const h = renderHeatmap(heatScene(), HEAT_W, HEAT_H);
    expect((await golden('heatmap-viridis.png')).data).toEqual(h.image.data);
  });

  it(`draws the skeleton within the golden's tolerance (≤ ${BROWSER_POSE_MAX_FRACTION * 100} % of pixels off by > ${POSE_MAX_DELTA})`, async () => {
    const img = await image('chelsea-small.png');
    const out = await drawPose(img, poseScene(), { threshold: 0.3 });
    const g = await golden('pose-coco.png');
    const d = pixelDiff(out.data, g.data, POSE_MAX_DELTA);
    expect(d.over).toBeLessThanOrEqual(BROWSER_POSE_MAX_FRACTION * d.pixels);
  });

  it('draws anti-aliased lines', async () => {
    const d = await createDrawing({ width: 20, height: 20, data: new Uint8Array(1200) });
    d.line(2, 3, 17, 15, { color: [255, 255, 255], width: 2 });
    const out = d.toImage();
    expect(new Set(Array.from({ length: 400 }, (_, i) => out.data[i * 3])).size).toBeGreaterThan(4);
  });
});
