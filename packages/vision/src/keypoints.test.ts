import { readFileSync } from 'node:fs';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { memory, setBackend, type Tensor, tensor } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  averageFlipped,
  COCO_FLIP_PAIRS,
  decodePoses,
  flipBack,
  getFinalPreds,
  getMaxPreds,
  type Heatmaps,
  poseFlipTest,
  shiftHeatmap,
} from './keypoints.js';
import { boxToCenterScale, type PoseBox } from './pose.js';
import { FIXTURES } from './test-support/fixtures.js';

const DIR = `${FIXTURES}pose-seg/`;
const man = JSON.parse(readFileSync(`${DIR}manifest.json`, 'utf8')).keypoints;
const f32 = (name: string) => {
  const b = readFileSync(DIR + name);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const shape = man.shape as [number, number, number, number];
const crops = (man.boxes as PoseBox[]).map((b) => boxToCenterScale(b, man.inputSize));

describe("keypoint decoding against the reference's numpy functions on random heatmaps (fixtures/make_pose_seg_fixtures.py)", () => {
  it('get_final_preds: coordinates and maxvals equal the reference (float32) exactly', () => {
    const { preds, maxvals } = getFinalPreds({ data: f32(man.heatmaps), shape }, crops);
    expect(Array.from(maxvals)).toEqual(man.maxvals);
    expect(Array.from(preds)).toEqual(man.preds);
  });

  it('flip test: flip_back, shift_heatmap and the average equal the reference, and so do its predictions', () => {
    const avg = averageFlipped({ data: f32(man.heatmaps), shape }, { data: f32(man.flipped), shape });
    expect(avg.data).toEqual(f32(man.averaged));
    const { preds, maxvals } = getFinalPreds(avg, crops);
    expect(Array.from(maxvals)).toEqual(man.maxvalsFlip);
    expect(Array.from(preds)).toEqual(man.predsFlip);
  });
});

describe('keypoint decoding on hand-made heatmaps', () => {
  const one = (h: number, w: number, set: [number, number, number][]): Heatmaps => {
    const data = new Float32Array(h * w);
    for (const [y, x, v] of set) data[y * w + x] = v;
    return { data, shape: [1, 1, h, w] };
  };

  it('argmax: x = idx % W, y = ⌊idx / W⌋, first maximum; zeroed when the maximum ≤ 0', () => {
    expect(getMaxPreds(one(4, 5, [[2, 3, 0.5]]))).toEqual({
      coords: new Float32Array([3, 2]),
      maxvals: new Float32Array([0.5]),
    });
    expect(
      getMaxPreds(
        one(4, 5, [
          [1, 1, 0.7],
          [2, 2, 0.7],
        ]),
      ).coords,
    ).toEqual(new Float32Array([1, 1]));
    const neg = { data: new Float32Array(20).fill(-1), shape: [1, 1, 4, 5] as const };
    neg.data[13] = -0.5;
    expect(getMaxPreds(neg)).toEqual({ coords: new Float32Array([0, 0]), maxvals: new Float32Array([-0.5]) });
  });

  it('quarter-pixel shift only where 1 < px < W − 1 and 1 < py < H − 1, toward the higher neighbour', () => {
    // A 48×64 heatmap whose back-transform is the identity (centre = heatmap centre, scale·200 = W),
    // so the predictions read as heatmap coordinates.
    const cs = {
      center: [24, 32] as [number, number],
      scale: [Math.fround(48 / 200), Math.fround(64 / 200)] as [number, number],
    };
    const at = (set: [number, number, number][]) => Array.from(getFinalPreds(one(64, 48, set), [cs]).preds);
    expect(
      at([
        [10, 10, 1],
        [10, 11, 0.5],
      ]),
    ).toEqual([10.25, 10]);
    expect(
      at([
        [10, 10, 1],
        [9, 10, 0.5],
      ]),
    ).toEqual([10, 9.75]);
    expect(
      at([
        [10, 10, 1],
        [10, 9, 0.5],
        [10, 11, 0.5],
      ]),
    ).toEqual([10, 10]); // sign(0) = 0
    expect(
      at([
        [1, 10, 1],
        [1, 11, 0.5],
      ]),
    ).toEqual([10, 1]); // py = 1: no shift
    expect(
      at([
        [10, 1, 1],
        [11, 1, 0.5],
      ]),
    ).toEqual([1, 10]); // px = 1: no shift
    expect(
      at([
        [10, 46, 1],
        [10, 45, 0.5],
      ]),
    ).toEqual([45.75, 10]); // px = W − 2 = 46 < W − 1: shifted
    expect(
      at([
        [10, 47, 1],
        [10, 46, 0.5],
      ]),
    ).toEqual([47, 10]); // px = W − 1: no shift
    expect(
      at([
        [63, 10, 1],
        [62, 10, 0.5],
      ]),
    ).toEqual([10, 63]); // py = H − 1: no shift
    expect(
      at([
        [62, 10, 1],
        [61, 10, 0.5],
      ]),
    ).toEqual([10, 61.75]); // py = H − 2 = 62 < H − 1: shifted up
  });

  it('flipBack mirrors and swaps the COCO pairs; shiftHeatmap moves one pixel right', () => {
    const data = new Float32Array(17 * 2 * 3).map((_, i) => i);
    const fb = flipBack({ data, shape: [1, 17, 2, 3] });
    // joint 1 gets joint 2's map mirrored
    expect(Array.from(fb.data.subarray(6, 12))).toEqual([14, 13, 12, 17, 16, 15]);
    expect(Array.from(fb.data.subarray(0, 6))).toEqual([2, 1, 0, 5, 4, 3]);
    expect(COCO_FLIP_PAIRS).toHaveLength(8);
    const sh = shiftHeatmap({ data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [1, 1, 2, 3] });
    expect(Array.from(sh.data)).toEqual([1, 1, 2, 4, 4, 5]);
  });

  it('decodePoses gives [x, y, score] per joint per person', () => {
    const cs = {
      center: [24, 32] as [number, number],
      scale: [Math.fround(48 / 200), Math.fround(64 / 200)] as [number, number],
    };
    const [p] = decodePoses(one(64, 48, [[5, 7, 0.9]]), [cs]);
    expect(Array.from(p)).toEqual([7, 5, Math.fround(0.9)]);
  });
});

describe('poseFlipTest on backend-js with a fake network', () => {
  beforeAll(async () => {
    registerJsBackend();
    await setBackend('js');
  });

  it("mirrors the input with core's flip, flips the output back and averages, leaving no tensor behind", async () => {
    const before = memory().numTensors;
    // 17 joints × 4 × 6 input; the fake network copies channel 0 into 17 heatmaps scaled by (j + 1).
    const vals = new Float32Array(3 * 4 * 6).map((_, i) => Math.sin(i));
    const input = tensor(vals, [1, 3, 4, 6]);
    const forward = (x: Tensor): Tensor => {
      const d = x.dataSync() as Float32Array;
      const out = new Float32Array(17 * 24);
      for (let j = 0; j < 17; j++) for (let i = 0; i < 24; i++) out[j * 24 + i] = d[i] * (j + 1);
      return tensor(out, [1, 17, 4, 6]);
    };
    const hm = await poseFlipTest(forward, input);
    const orig = forward(input);
    const origHm = { data: orig.dataSync() as Float32Array, shape: [1, 17, 4, 6] as const };
    const mirrored = new Float32Array(17 * 24);
    for (let j = 0; j < 17; j++)
      for (let y = 0; y < 4; y++)
        for (let x = 0; x < 6; x++) mirrored[j * 24 + y * 6 + x] = vals[y * 6 + 5 - x] * (j + 1);
    expect(hm.data).toEqual(averageFlipped(origHm, { data: mirrored, shape: [1, 17, 4, 6] }).data);
    orig.dispose();
    input.dispose();
    expect(memory().numTensors).toBe(before);
  });
});
