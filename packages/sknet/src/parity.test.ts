import { fileURLToPath } from 'node:url';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { setBackend, type Tensor, tidy } from '@kernelzoo/core';
import { readSafetensorsFile, toTensors } from '@kernelzoo/weights';
import { beforeAll, describe, expect, it } from 'vitest';
import { PARITY_NETWORKS, seededNetwork, weightsChecksum } from './test-support/parity/networks.ts';

// Parity with timm's own code (timm/models/sknet.py at aa4b5850, Debian's PyTorch 1.13): our
// seeded weights, BatchNorm statistics calibrated on the input by reference.py, logits of
// timm's model in float64. See src/test-support/parity/reference.py for how the fixtures are made.

const FIXTURES = new URL('./test-support/parity/fixtures/', import.meta.url);

async function fixture(name: string) {
  const contents = await readSafetensorsFile(fileURLToPath(new URL(`${name}.safetensors`, FIXTURES)));
  return { tensors: toTensors(contents.tensors), metadata: contents.metadata };
}

beforeAll(async () => {
  registerJsBackend();
  await setBackend('js');
});

describe("parity with timm's PyTorch reference (float64 logits)", () => {
  for (const p of PARITY_NETWORKS)
    it(`${p.timm}: eval-mode logits within max(1e-4, 3 × float32 PyTorch's distance) of float64, relative to max |logit|`, async () => {
      const input = await fixture('input');
      const ref = await fixture(p.timm);
      const x = input.tensors.get('input')!;
      const logits64 = ref.tensors.get('logits64')!;
      ref.tensors.delete('logits64');
      const net = seededNetwork(p);
      // The same seeded weights reference.py ran timm on.
      expect(weightsChecksum(net)).toBeCloseTo(Number(ref.metadata.weights_checksum), 3);
      net.loadStateDict(ref.tensors, { strict: false }); // the calibrated BatchNorm statistics
      net.eval();
      const y = tidy(() => net.call(x));
      expect(y.shape).toEqual(logits64.shape);
      const a = y.dataSync();
      const b = logits64.dataSync();
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < a.length; i++) {
        diff = Math.max(diff, Math.abs(a[i] - b[i]));
        scale = Math.max(scale, Math.abs(b[i]));
      }
      const torch32 = Number(ref.metadata.float32_relative_distance);
      expect(torch32).toBeGreaterThan(0);
      expect(diff / scale).toBeLessThanOrEqual(Math.max(1e-4, 3 * torch32));
      const all: Tensor[] = [y, logits64, ...input.tensors.values(), ...ref.tensors.values()];
      for (const t of all) t.dispose();
      net.dispose();
    }, 120_000);
});
