import { registerGpujsBackend } from '@kernelzoo/backend-gpujs';
import { referenceParityBound } from '@kernelzoo/conformance';
import { getBackend, memory, setBackend } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { sknet50, skresnet18, skresnet50 } from './index.js';
import { measureParity } from './test-support/parity/check.ts';
import { PARITY_NETWORKS } from './test-support/parity/networks.ts';

// The parity fixtures of parity.test.ts on backend-gpujs in Chromium (WebGL2; SwiftShader in CI,
// ~100× slower than wasm): skresnet18 only, on the fixture's first input (1×3×64×64). This run is
// also gpujs's smoke run (measured in Chromium/SwiftShader: logits 6.1e-6, attention 5.6e-6; shape [1, 1000]; a NaN or Inf would fail the distance bounds).
//
// The bound: js's and wasm's `max(1e-4, 3 × float32 PyTorch's distance)`, scaled by how much
// looser gpujs's stated per-operation precision is than js's — conformance's
// precisionFor('gpujs').elementwise.rtol / precisionFor('js').elementwise.rtol = 2e-4 / 1e-5 =
// 20 (its float32 arithmetic is IEEE, but WebGL's shaders round differently and its exp, used
// by the attention's softmax, is an approximation: transcendental rtol 1e-3). So the logits
// (relative to the largest |logit|) and the attention (absolute) are held to 20 × the CPU bound.

const fixture = async (name: string) =>
  new Uint8Array(
    await (
      await fetch(new URL(`./test-support/parity/fixtures/${name}.safetensors`, import.meta.url))
    ).arrayBuffer(),
  );

beforeAll(async () => {
  registerGpujsBackend({ mode: 'webgl2' });
  await setBackend('gpujs');
});

describe("parity with timm's PyTorch reference on gpujs (WebGL2, Chromium)", () => {
  const p = PARITY_NETWORKS.find((n) => n.timm === 'skresnet18')!;
  it(`skresnet18, the first stored input: logits and attention within 20 × the CPU bound`, async () => {
    expect(getBackend().name).toBe('gpujs');
    expect(referenceParityBound(0, 'gpujs') / referenceParityBound(0)).toBeCloseTo(20, 9);
    const before = memory().numTensors;
    const m = await measureParity(
      p,
      { sknet50, skresnet18, skresnet50 },
      await fixture('input'),
      await fixture(p.timm),
      1,
    );
    expect(m.checksum.ours).toBeCloseTo(m.checksum.reference, 3);
    expect(m.unexpected).toEqual([]);
    expect(m.units.ours).toEqual(m.units.reference);
    expect(m.shape).toEqual([1, 1000]);
    expect(m.logits).toBeLessThanOrEqual(referenceParityBound(m.torch32, 'gpujs'));
    expect(m.attention).toBeLessThanOrEqual(referenceParityBound(m.attention32, 'gpujs'));
    expect(memory().numTensors).toBe(before);
  }, 300_000);
});
