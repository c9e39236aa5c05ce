import { registerGpujsBackend } from '@kernelzoo/backend-gpujs';
import { referenceParityBound } from '@kernelzoo/conformance';
import { getBackend, memory, setBackend } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { HighResolutionModule, hrnet_w18_cls, hrnet_w32_pose, hrnet_w48_seg } from './index.js';
import { measureParity } from './test-support/parity/check.ts';
import { PARITY_CASES } from './test-support/parity/networks.ts';

// The parity fixtures of parity.test.ts on backend-gpujs in Chromium (WebGL2; SwiftShader in CI,
// ~100× slower than wasm): the 3-branch HighResolutionModule, cls W18 and pose W32 (1×3×64×64
// each; pose with its flip test and decoding). seg W48 (1×3×72×120) runs on js and wasm only.
// Measured in Chromium/SwiftShader on 2 shared cores: module 4.9e-7, cls W18 5.2e-5, pose W32
// 4.2e-5 (flip-test average 2.1e-5), all relative to the largest |output|; about 10, 35–50 and
// 75 s. The pose decoding equals get_final_preds' on all 17 joints, plain and flip test (the
// reference's margins are ≥ 8.9 and 4.4 × gpujs's heatmap error).
//
// The bound: js's and wasm's `max(1e-4, 3 × float32 PyTorch's distance)`, scaled by how much
// looser gpujs's stated per-operation precision is than js's — conformance's
// precisionFor('gpujs').elementwise.rtol / precisionFor('js').elementwise.rtol = 2e-4 / 1e-5 =
// 20, as SKNet's gpujs parity run. The pose decoding: the rule of parity.test.ts (every joint's
// reference margin exceeds our heatmap error there, and its coordinates are the reference's).
const BROWSER_CASES = ['hr_module', 'cls_hrnet_w18', 'pose_hrnet_w32'];

const fixture = async (name: string) =>
  new Uint8Array(
    await (
      await fetch(new URL(`./test-support/parity/fixtures/${name}.safetensors`, import.meta.url))
    ).arrayBuffer(),
  );
const constructors = { HighResolutionModule, hrnet_w32_pose, hrnet_w18_cls, hrnet_w48_seg };

beforeAll(async () => {
  registerGpujsBackend({ mode: 'webgl2' });
  await setBackend('gpujs');
});

describe('parity with the HRNet reference code on gpujs (WebGL2, Chromium)', () => {
  for (const c of PARITY_CASES.filter((p) => BROWSER_CASES.includes(p.name)))
    it(`${c.name}: outputs within 20 × the CPU bound of float64`, async () => {
      expect(getBackend().name).toBe('gpujs');
      expect(referenceParityBound(0, 'gpujs') / referenceParityBound(0)).toBeCloseTo(20, 9);
      const before = memory().numTensors;
      const m = await measureParity(c, constructors, await fixture('input'), await fixture(c.name));
      expect(m.checksum.ours).toBeCloseTo(m.checksum.reference, 3);
      expect(m.unexpected).toEqual([]);
      expect(m.uncalibrated).toEqual([]);
      expect(m.distance).toBeLessThanOrEqual(referenceParityBound(m.torch32, 'gpujs'));
      if (c.name === 'pose_hrnet_w32') {
        expect(m.flipAverage).toBeLessThanOrEqual(referenceParityBound(m.torch32, 'gpujs'));
        for (const d of [m.decoding?.heatmaps, m.decoding?.flipAverage]) {
          expect(d?.decided).toBe(17);
          expect(d?.coordinates).toBe(0);
        }
      }
      expect(memory().numTensors).toBe(before);
    }, 300_000);
});
