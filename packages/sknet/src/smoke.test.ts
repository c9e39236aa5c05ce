import { registerJsBackend } from '@kernelzoo/backend-js';
import { registerWasmBackend } from '@kernelzoo/backend-wasm';
import { memory, nn, randomNormal, setBackend } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAttention, SKNET_MODELS, summariseAttention } from './index.js';

// Every registered network runs on the CPU backends at a reduced input (1×3×32×32; the stem and
// four stages bring it to 1×1 before the pooling): finite logits [1, 1000] and one attention per
// SK unit. gpujs runs in Chromium: skresnet18 in parity.browser.test.ts, the other four in
// smoke.browser.test.ts.

beforeAll(() => {
  registerJsBackend();
  registerWasmBackend();
});

for (const backend of ['js', 'wasm'])
  describe(`every SK network on ${backend} at 32×32`, () => {
    beforeAll(async () => {
      await setBackend(backend);
    });
    for (const entry of SKNET_MODELS)
      it(entry.id, async () => {
        const before = memory().numTensors;
        nn.manualSeed(7);
        const net = entry.build().eval();
        const x = randomNormal([1, 3, 32, 32], 0, 1, { seed: 32 });
        const r = readAttention(net, x);
        expect(r.output.shape).toEqual([1, 1000]);
        const logits = await r.output.data();
        expect(logits.every(Number.isFinite)).toBe(true);
        expect(r.units.length).toBeGreaterThan(0);
        const stages = summariseAttention(r.units);
        expect(stages.map((s) => s.stage)).toEqual([0, 1, 2, 3]);
        for (const s of stages) expect(Number.isFinite(s.meanDifference)).toBe(true);
        r.dispose();
        x.dispose();
        net.dispose();
        expect(memory().numTensors).toBe(before);
      }, 60_000);
  });
