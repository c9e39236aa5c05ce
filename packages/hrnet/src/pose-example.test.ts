import { fileURLToPath } from 'node:url';
import { registerWasmBackend } from '@kernelzoo/backend-wasm';
import { memory, setBackend } from '@kernelzoo/core';
import { boxToCenterScale, drawPose, readImage } from '@kernelzoo/vision';
import { loadModel } from '@kernelzoo/weights';
import { beforeAll, describe, expect, it } from 'vitest';
import { estimatePoses } from '../examples/estimate-pose.ts';
import './index.js';

// The README's example (examples/estimate-pose.ts) end to end on a real photograph: vision's
// astronaut-tiny.png (scikit-image's astronaut, Eileen Collins, 40×45) through the registered
// hrnet_w32_pose at its 256×192 input, with the flip test. No trained weights are stored here,
// so the network is SEEDED (loadModel without a source): the test holds the pipeline — shapes,
// box geometry, decoding — not where the keypoints land.
const ASTRONAUT = fileURLToPath(new URL('../../vision/fixtures/astronaut-tiny.png', import.meta.url));

beforeAll(async () => {
  registerWasmBackend();
  await setBackend('wasm');
});

describe('pose estimation end to end through @kernelzoo/vision (seeded hrnet_w32_pose)', () => {
  it('two people’s boxes, flip test → 17 keypoints each, inside each box’s warped area, on the heatmap grid; nothing leaks', async () => {
    const before = memory().numTensors;
    const image = await readImage(ASTRONAUT);
    expect([image.width, image.height]).toEqual([40, 45]);
    const { model, entry } = await loadModel('hrnet_w32_pose', undefined, { seed: 32 });
    expect(entry.inputSize).toEqual([256, 192]);
    const boxes = [
      [0, 0, 40, 45],
      [8, 2, 24, 30],
    ] as const;
    const poses = await estimatePoses(model, entry, image, boxes);
    expect(poses).toHaveLength(2);
    poses.forEach((pose, n) => {
      expect(pose).toHaveLength(17 * 3);
      // The heatmap (48 × 64) covers the warped area: centre ± (W/2 · s) with s = scale·200/48
      // (transform_preds); a coordinate may reach one heatmap pixel short of the far edge, plus
      // the quarter-pixel shift.
      const { center, scale } = boxToCenterScale(boxes[n], [192, 256]);
      const s = (scale[0] * 200) / 48;
      for (let k = 0; k < 17; k++) {
        const [x, y, score] = pose.subarray(3 * k, 3 * k + 3);
        expect(Number.isFinite(score), `person ${n} keypoint ${k}`).toBe(true);
        if (score <= 0) continue; // get_max_preds zeroes the coordinates of non-positive maxima
        expect(x).toBeGreaterThanOrEqual(center[0] - 24 * s - 1e-3);
        expect(x).toBeLessThanOrEqual(center[0] + 23.25 * s + 1e-3);
        expect(y).toBeGreaterThanOrEqual(center[1] - 32 * s - 1e-3);
        expect(y).toBeLessThanOrEqual(center[1] + 31.25 * s + 1e-3);
        // On the heatmap grid: (x − cx) / s + 24 is a multiple of 0.25.
        const hx = (x - center[0]) / s + 24;
        expect(Math.abs(hx * 4 - Math.round(hx * 4))).toBeLessThan(1e-3);
      }
    });
    // Distinct boxes, distinct crops: the two people's keypoints differ.
    expect(Array.from(poses[0])).not.toEqual(Array.from(poses[1]));
    const drawn = await drawPose(image, poses, { threshold: -Infinity });
    expect([drawn.width, drawn.height]).toEqual([40, 45]);
    model.dispose();
    expect(memory().numTensors).toBe(before);
  }, 120_000);
});
