import { readFile } from 'node:fs/promises';
import { registerWasmBackend } from '@kernelzoo/backend-wasm';
import { memory, setBackend } from '@kernelzoo/core';
import { segmentSlidingWindow } from '@kernelzoo/vision';
import { readSafetensors } from '@kernelzoo/weights';
import { beforeAll, describe, expect, it } from 'vitest';
import { SPBlock, StripPooling, spnet50 } from './index.js';
import { calibratedCase } from './test-support/parity/check.ts';
import { PARITY_CASES } from './test-support/parity/networks.ts';

// SPNet's test-time routine end to end: @kernelzoo/vision's segmentSlidingWindow driving the
// parity SPNet-50 (8 classes, our seeded weights, the calibrated statistics of
// fixtures/spnet50.safetensors) against the reference's own tool/test.py scale_process (with its
// net_process), run by src/test-support/parity/sliding.py in float64 on the same network: a
// seeded 61×83 image, base size 80, crop 48×48 (windows every 32 pixels, mean padding at scale
// 0.75), scales 0.75 and 1, flip on.
//
// Bound on the probabilities (absolute, they lie in [0, 1]): max(1e-4, 3 × the float32 routine's
// distance from float64), the parity bound's form. Labels: equal wherever the reference's top-2
// margin exceeds twice that bound (closer calls may flip within the bound).

const FIXTURES = new URL('./test-support/parity/fixtures/', import.meta.url);
const bytes = async (name: string) =>
  new Uint8Array(await readFile(new URL(`${name}.safetensors`, FIXTURES)));

beforeAll(async () => {
  registerWasmBackend();
  await setBackend('wasm');
});

describe("sliding-window + flip inference against the reference's tool/test.py routine (wasm)", () => {
  it('SPNet-50 (8 classes) on a 61×83 image, scales 0.75 and 1, crop 48: probabilities within max(1e-4, 3 × float32 distance), labels equal beyond the margin', async () => {
    const before = memory().numTensors;
    const fixture = readSafetensors(await bytes('sliding'));
    const settings = JSON.parse(fixture.metadata.settings) as {
      baseSize: number;
      crop: number;
      scales: number[];
    };
    const image = fixture.tensors.get('image')!;
    const [height, width] = image.shape;
    const want = fixture.tensors.get('probs64')!.data;
    const p = PARITY_CASES.find((c) => c.name === 'spnet50')!;
    const { module, input } = calibratedCase(
      p,
      { SPBlock, StripPooling, spnet50 },
      await bytes('input'),
      await bytes('spnet50'),
    );
    input.dispose();
    let windows = 0;
    const result = await segmentSlidingWindow(
      { width, height, data: Uint8Array.from(image.data) },
      {
        forward: (batch) => module.call(batch),
        baseSize: settings.baseSize,
        crop: [settings.crop, settings.crop],
        scales: settings.scales,
        onProgress: (q) => {
          windows = q.total;
        },
      },
    );
    module.dispose();
    expect(windows).toBe(6); // scale 0.75: 60×44, padded to 48 high, 1×2 windows; scale 1: 80×59, 2×2
    expect([result.height, result.width, result.classes]).toEqual([61, 83, 8]);
    let diff = 0;
    for (let i = 0; i < want.length; i++) diff = Math.max(diff, Math.abs(result.probs[i] - want[i]) || 0);
    const bound = Math.max(1e-4, 3 * Number(fixture.metadata.float32_distance));
    if (process.env.SPNET_PARITY_REPORT)
      // biome-ignore lint/suspicious/noConsole: an opt-in report of the measured distance
      console.info(
        `sliding window: probabilities ${diff.toExponential(2)} (bound ${bound.toExponential(2)})`,
      );
    expect(diff).toBeLessThanOrEqual(bound);
    let checked = 0;
    for (let px = 0; px < height * width; px++) {
      const row = [...want.subarray(px * 8, px * 8 + 8)];
      const sorted = [...row].sort((a, b) => b - a);
      if (sorted[0] - sorted[1] <= 2 * bound) continue;
      checked++;
      expect(result.labels[px], `pixel ${px}`).toBe(row.indexOf(sorted[0]));
    }
    expect(checked).toBeGreaterThan(0.9 * height * width);
    expect(memory().numTensors).toBe(before);
  }, 120_000);
});
