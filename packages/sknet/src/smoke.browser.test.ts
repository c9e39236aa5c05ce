import { registerGpujsBackend } from '@kernelzoo/backend-gpujs';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { referenceParityBound } from '@kernelzoo/conformance';
import { getBackend, memory, nn, setBackend, tensor } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { SKNET_MODELS } from './index.js';

// The four networks parity.browser.test.ts does not run (sknet50, sknet101, skresnet34,
// skresnet50) on backend-gpujs (WebGL2; SwiftShader here) at 1×3×32×32, batch 1, eval mode, with
// seeded weights (nn.manualSeed(7), as smoke.test.ts). In the same page each network is built
// and run on backend-js first with the same seed and input; the gpujs logits must be [1, 1000],
// finite, and within gpujs's bound of parity.browser.test.ts — 20 × the CPU floor 1e-4 = 2e-3,
// relative to the largest |js logit| — of js's. Measured here (SwiftShader, 2 cores): gpujs
// 18.2 / 15.5 / 26.5 / 9.0 s, 82 s for the four tests with their js runs (98 s in `pnpm run test`); distances 8.6e-7,
// 6.8e-7, 5.7e-7, 9.9e-7. skresnet18 is gpujs's parity run (parity.browser.test.ts).
const BOUND = referenceParityBound(0, 'gpujs');
const SHAPE = [1, 3, 32, 32];
const IDS = ['sknet50', 'sknet101', 'skresnet34', 'skresnet50'];

// A fixed input, the same numbers on both backends.
const INPUT = Float32Array.from(
  { length: SHAPE.reduce((a, b) => a * b) },
  (_, i) => Math.sin(i * 0.37) * 1.5,
);

async function logitsOn(backend: string, id: string): Promise<{ shape: number[]; logits: Float32Array }> {
  await setBackend(backend);
  expect(getBackend().name).toBe(backend);
  const entry = SKNET_MODELS.find((e) => e.id === id)!;
  const before = memory().numTensors;
  nn.manualSeed(7);
  const net = entry.build().eval();
  const x = tensor(INPUT, SHAPE);
  const y = net.call(x);
  const shape = [...y.shape];
  const logits = Float32Array.from(await y.data());
  y.dispose();
  x.dispose();
  net.dispose();
  expect(memory().numTensors).toBe(before);
  return { shape, logits };
}

beforeAll(() => {
  registerJsBackend();
  registerGpujsBackend({ mode: 'webgl2' });
});

describe('every other SK network on gpujs (WebGL2, Chromium) at 1×3×32×32 against js', () => {
  for (const id of IDS)
    it(`${id}: logits [1, 1000], finite, within ${BOUND} of js (relative)`, async () => {
      expect(referenceParityBound(0, 'gpujs') / referenceParityBound(0)).toBeCloseTo(20, 9);
      const ref = await logitsOn('js', id);
      const t0 = performance.now();
      const got = await logitsOn('gpujs', id);
      const seconds = (performance.now() - t0) / 1000;
      expect(got.shape).toEqual([1, 1000]);
      expect(got.logits.every(Number.isFinite)).toBe(true);
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < ref.logits.length; i++) {
        diff = Math.max(diff, Math.abs(got.logits[i]! - ref.logits[i]!));
        scale = Math.max(scale, Math.abs(ref.logits[i]!));
      }
      expect(scale).toBeGreaterThan(0);
      // biome-ignore lint/suspicious/noConsole: the measured time and distance, for the README
      console.info(
        `[sknet smoke] ${id} gpujs ${seconds.toFixed(1)} s, relative logits distance ${(diff / scale).toExponential(2)}`,
      );
      expect(diff / scale).toBeLessThanOrEqual(BOUND);
    }, 300_000);
});
