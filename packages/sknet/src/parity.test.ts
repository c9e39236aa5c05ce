import { fileURLToPath } from 'node:url';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { setBackend, type Tensor } from '@kernelzoo/core';
import { readSafetensorsFile, toTensors } from '@kernelzoo/weights';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAttention, sknet50, skresnet18, skresnet50 } from './index.js';
import { PARITY_NETWORKS, seededNetwork, weightsChecksum } from './test-support/parity/networks.ts';

// Parity with timm's own code (timm/models/sknet.py at aa4b5850, Debian's PyTorch 1.13): our
// seeded weights, BatchNorm statistics calibrated on the input by reference.py, logits and
// every SK unit's attention of timm's model in float64. See src/test-support/parity/reference.py for how the fixtures are made.

const FIXTURES = new URL('./test-support/parity/fixtures/', import.meta.url);

async function fixture(name: string) {
  const contents = await readSafetensorsFile(fileURLToPath(new URL(`${name}.safetensors`, FIXTURES)));
  return { tensors: toTensors(contents.tensors), metadata: contents.metadata };
}

function distance(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; scale: number } {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { diff, scale };
}

beforeAll(async () => {
  registerJsBackend();
  await setBackend('js');
});

describe("parity with timm's PyTorch reference (float64 logits)", () => {
  for (const p of PARITY_NETWORKS)
    it(`${p.timm}: eval-mode logits and every SK unit's attention within max(1e-4, 3 × float32 PyTorch's distance) of float64`, async () => {
      const input = await fixture('input');
      const ref = await fixture(p.timm);
      const x = input.tensors.get('input')!;
      const expected = new Map<string, Tensor>();
      for (const [k, t] of ref.tensors)
        if (k === 'logits64' || k.startsWith('attention.')) {
          expected.set(k, t);
          ref.tensors.delete(k);
        }
      const net = seededNetwork(p, { sknet50, skresnet18, skresnet50 });
      // The same seeded weights reference.py ran timm on.
      expect(
        weightsChecksum(net),
        "core's seeded initialisation changed: regenerate the fixtures (src/test-support/parity/reference.py)",
      ).toBeCloseTo(Number(ref.metadata.weights_checksum), 3);
      // The calibrated BatchNorm statistics: every fixture key is one of ours.
      expect(net.loadStateDict(ref.tensors, { strict: false }).unexpected).toEqual([]);
      net.eval();
      const r = readAttention(net, x);

      // Logits, relative to the largest |logit|.
      const logits64 = expected.get('logits64')!;
      expect(r.output.shape).toEqual(logits64.shape);
      const { diff, scale } = distance(r.output.dataSync(), logits64.dataSync());
      const torch32 = Number(ref.metadata.float32_relative_distance);
      expect(torch32).toBeGreaterThan(0);
      expect(diff / scale).toBeLessThanOrEqual(Math.max(1e-4, 3 * torch32));

      // Attention (in [0, 1]), absolute, for the fixture's first samples.
      const samples = Number(ref.metadata.attention_samples);
      const attn32 = Number(ref.metadata.attention_float32_distance);
      expect(r.units.map((u) => `attention.${u.name}`)).toEqual(
        [...expected.keys()].filter((k) => k.startsWith('attention.')),
      );
      for (const u of r.units) {
        const want = expected.get(`attention.${u.name}`)!;
        const [, m, c] = u.attention.shape;
        expect(want.shape).toEqual([samples, m, c]);
        const got = u.attention.dataSync().subarray(0, samples * m * c);
        expect(distance(got, want.dataSync()).diff, u.name).toBeLessThanOrEqual(Math.max(1e-4, 3 * attn32));
      }

      r.dispose();
      for (const t of [...input.tensors.values(), ...ref.tensors.values(), ...expected.values()]) t.dispose();
      net.dispose();
    }, 120_000);
});
