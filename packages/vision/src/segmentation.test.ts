import { readFileSync } from 'node:fs';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { conv2d, memory, setBackend, slice, type Tensor, tensor } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { cvResizeLinear, type SegmentationProgress, segmentSlidingWindow } from './segmentation.js';
import { FIXTURES } from './test-support/fixtures.js';

const DIR = `${FIXTURES}pose-seg/`;
const man = JSON.parse(readFileSync(`${DIR}manifest.json`, 'utf8')).segmentation;
const raw = (name: string) => readFileSync(DIR + name);
const f32 = (name: string) => {
  const b = raw(name);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const f64 = (name: string) => {
  const b = raw(name);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const [SW, SH] = man.sourceSize as [number, number];
const source = { width: SW, height: SH, data: new Uint8Array(raw(man.source)) };

beforeAll(async () => {
  registerJsBackend();
  await setBackend('js');
});

describe('cv2.resize INTER_LINEAR on float32 images (fixtures/make_pose_seg_fixtures.py, OpenCV 4.6)', () => {
  for (const r of man.resizes as { size: [number, number]; file: string }[])
    it(`29×19 → ${r.size.join('×')}: equal to cv2, or one float32 ulp off in under 1% of values`, () => {
      const out = Float32Array.from(
        cvResizeLinear(new Float32Array(source.data), SW, SH, 3, r.size[0], r.size[1]),
      );
      const want = f32(r.file);
      expect(out.length).toBe(want.length);
      let off = 0;
      for (let i = 0; i < want.length; i++)
        if (out[i] !== want[i]) {
          off++;
          // one ulp: the neighbouring float32 of want[i]
          expect(Math.abs(out[i] - want[i])).toBeLessThanOrEqual(
            2 ** (Math.floor(Math.log2(Math.abs(want[i]))) - 23),
          );
        }
      expect(off / want.length).toBeLessThan(0.01);
    });
});

describe("SPNet's sliding-window inference with a fake network against tool/test.py's loop in numpy/torch", () => {
  // The fixture's fake network: a fixed 3×3 conv, stride 2, padding 1 (so logits are upsampled).
  let weight: Tensor;
  let bias: Tensor;
  beforeAll(() => {
    weight = tensor(man.weight, [man.classes, 3, 3, 3]);
    bias = tensor(man.bias, [man.classes]);
  });
  const forward = (x: Tensor): Tensor => conv2d(x, weight, { stride: 2, padding: 1, bias });

  for (const c of man.cases as {
    baseSize: number;
    crop: [number, number];
    scales: number[];
    probs: string;
    labels: string;
  }[])
    it(`base ${c.baseSize}, crop ${c.crop.join('×')}, scales [${c.scales}]: probabilities within 1e-6, labels equal`, async () => {
      const before = memory().numTensors;
      const progress: SegmentationProgress[] = [];
      const res = await segmentSlidingWindow(source, {
        forward,
        baseSize: c.baseSize,
        crop: c.crop,
        scales: c.scales,
        mean: man.mean,
        std: man.std,
        onProgress: (p) => progress.push(p),
      });
      expect(memory().numTensors).toBe(before);
      expect([res.width, res.height, res.classes]).toEqual([SW, SH, man.classes]);
      const want = f64(c.probs);
      let maxDiff = 0;
      for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(res.probs[i] - want[i]));
      expect(maxDiff).toBeLessThan(1e-6);
      expect(Array.from(res.labels)).toEqual(Array.from(raw(c.labels)));
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.at(-1)).toMatchObject({ done: progress.length, total: progress.length });
    });

  it('refuses a forward output of the wrong batch size by name', async () => {
    await expect(
      segmentSlidingWindow(source, {
        forward: (x) => {
          const y = conv2d(x, weight, { bias });
          const one = slice(y, [0, 0, 0, 0], [1, ...y.shape.slice(1)]);
          y.dispose();
          return one;
        },
        baseSize: 20,
        crop: [8, 8],
      }),
    ).rejects.toThrow(/segmentSlidingWindow/);
  });
});
