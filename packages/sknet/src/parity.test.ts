import { readFile } from 'node:fs/promises';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { registerWasmBackend } from '@kernelzoo/backend-wasm';
import { referenceParityBound } from '@kernelzoo/conformance';
import { memory, setBackend } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { sknet50, skresnet18, skresnet50 } from './index.js';
import { measureParity } from './test-support/parity/check.ts';
import { PARITY_NETWORKS } from './test-support/parity/networks.ts';

// Parity with timm's own code (timm/models/sknet.py at aa4b5850, Debian's PyTorch 1.13): our
// seeded weights, BatchNorm statistics calibrated on the input by reference.py, logits and
// every SK unit's attention of timm's model in float64. See src/test-support/parity/reference.py
// for how the fixtures are made. The same fixtures run on gpujs in Chromium in
// parity.browser.test.ts.

const FIXTURES = new URL('./test-support/parity/fixtures/', import.meta.url);
const bytes = async (name: string) =>
  new Uint8Array(await readFile(new URL(`${name}.safetensors`, FIXTURES)));

beforeAll(() => {
  registerJsBackend();
  registerWasmBackend();
});

for (const backend of ['js', 'wasm'])
  describe(`parity with timm's PyTorch reference (float64 logits) on ${backend}`, () => {
    beforeAll(async () => {
      await setBackend(backend);
    });
    for (const p of PARITY_NETWORKS)
      it(`${p.timm}: eval-mode logits and every SK unit's attention within max(1e-4, 3 × float32 PyTorch's distance) of float64`, async () => {
        const before = memory().numTensors;
        const m = await measureParity(
          p,
          { sknet50, skresnet18, skresnet50 },
          await bytes('input'),
          await bytes(p.timm),
        );
        // The same seeded weights reference.py ran timm on.
        expect(
          m.checksum.ours,
          "core's seeded initialisation changed: regenerate the fixtures (src/test-support/parity/reference.py)",
        ).toBeCloseTo(m.checksum.reference, 3);
        // The calibrated BatchNorm statistics: every fixture key is one of ours.
        expect(m.unexpected).toEqual([]);
        expect(m.units.ours).toEqual(m.units.reference);
        expect(m.shape).toEqual([8, 1000]);
        expect(m.torch32).toBeGreaterThan(0);
        // SKNET_PARITY_REPORT=1 prints the distances (the README's table).
        if (process.env.SKNET_PARITY_REPORT)
          // biome-ignore lint/suspicious/noConsole: an opt-in report of the measured distances
          console.info(
            `${backend} ${p.timm}: logits ${m.logits.toExponential(2)} (float32 PyTorch ${m.torch32.toExponential(2)}), attention ${m.attention.toExponential(2)} (${m.attention32.toExponential(2)})`,
          );
        // Logits relative to the largest |logit|; attention (in [0, 1]) absolute.
        expect(m.logits).toBeLessThanOrEqual(referenceParityBound(m.torch32));
        expect(m.attention).toBeLessThanOrEqual(referenceParityBound(m.attention32));
        expect(memory().numTensors).toBe(before);
      }, 120_000);
  });
