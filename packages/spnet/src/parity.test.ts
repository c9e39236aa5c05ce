import { readFile } from 'node:fs/promises';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { registerWasmBackend } from '@kernelzoo/backend-wasm';
import { referenceParityBound } from '@kernelzoo/conformance';
import { memory, setBackend } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { SPBlock, StripPooling, spnet50 } from './index.js';
import { measureParity } from './test-support/parity/check.ts';
import { PARITY_CASES } from './test-support/parity/networks.ts';

// Parity with SPNet's own PyTorch code (Andrew-Qibin/SPNet at 5e97da3: models/resnet.py SPBlock,
// models/customize.py StripPooling, models/spnet.py SPNet-50 with 8 classes; Debian's PyTorch
// 1.13, CPU, plain BatchNorm2d): our seeded weights, BatchNorm statistics calibrated on the input
// by reference.py, the reference's float64 outputs and, by forward hooks, the strip-pooled maps
// and (in the network) layer2.3's SPM gate. See src/test-support/parity/reference.py for how the
// fixtures are made. The same fixtures run on gpujs in Chromium in parity.browser.test.ts.

const FIXTURES = new URL('./test-support/parity/fixtures/', import.meta.url);
const bytes = async (name: string) =>
  new Uint8Array(await readFile(new URL(`${name}.safetensors`, FIXTURES)));
const constructors = { SPBlock, StripPooling, spnet50 };

beforeAll(() => {
  registerJsBackend();
  registerWasmBackend();
});

for (const backend of ['js', 'wasm'])
  describe(`parity with SPNet's PyTorch reference (float64) on ${backend}`, () => {
    beforeAll(async () => {
      await setBackend(backend);
    });
    for (const p of PARITY_CASES)
      it(`${p.name} at ${p.input.join('×')}: eval-mode output and ${p.captured.join(', ')} within max(1e-4, 3 × float32 PyTorch's distance) of float64`, async () => {
        const before = memory().numTensors;
        const m = await measureParity(p, constructors, await bytes('input'), await bytes(p.name));
        expect(
          m.checksum.ours / m.checksum.reference,
          "core's seeded initialisation changed: regenerate the fixtures (src/test-support/parity/reference.py)",
        ).toBeCloseTo(1, 9);
        // The calibrated BatchNorm statistics: every fixture key is one of ours.
        expect(m.unexpected).toEqual([]);
        expect(m.shape.ours).toEqual(m.shape.reference);
        for (const [n, s] of Object.entries(m.capturedShapes)) expect(s.ours, n).toEqual(s.reference);
        expect(m.torch32).toBeGreaterThan(0);
        // SPNET_PARITY_REPORT=1 prints the distances (the README's table).
        if (process.env.SPNET_PARITY_REPORT)
          // biome-ignore lint/suspicious/noConsole: an opt-in report of the measured distances
          console.info(
            `${backend} ${p.name}: output ${m.output.toExponential(2)} (float32 PyTorch ${m.torch32.toExponential(2)}), captured ${m.captured.toExponential(2)} (${m.captured32.toExponential(2)})`,
          );
        // The output relative to its largest |value|; the captured maps (gate in [0, 1]) absolute.
        expect(m.output).toBeLessThanOrEqual(referenceParityBound(m.torch32));
        expect(m.captured).toBeLessThanOrEqual(referenceParityBound(m.captured32));
        expect(memory().numTensors).toBe(before);
      }, 120_000);
  });
