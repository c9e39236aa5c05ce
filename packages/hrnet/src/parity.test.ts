import { readFile } from 'node:fs/promises';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { registerWasmBackend } from '@kernelzoo/backend-wasm';
import { referenceParityBound } from '@kernelzoo/conformance';
import { memory, setBackend } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { HighResolutionModule, hrnet_w18_cls, hrnet_w32_pose, hrnet_w48_seg } from './index.js';
import { type DecodingMeasurement, measureParity } from './test-support/parity/check.ts';
import { PARITY_CASES } from './test-support/parity/networks.ts';

// Parity with the HRNet authors' own PyTorch code (Debian's PyTorch 1.13): pose_hrnet.py's
// HighResolutionModule (3 branches) and PoseHighResolutionNet W32
// (leoxiaobin/deep-high-resolution-net.pytorch @ 6f69e467), cls_hrnet.py's HighResolutionNet W18
// (HRNet/HRNet-Image-Classification @ f760c988), seg_hrnet.py's HighResolutionNet W48 for
// Cityscapes (HRNet/HRNet-Semantic-Segmentation @ 0bbb2880, align_corners false; its
// SyncBatchNorm helper replaced by BatchNorm2d). Our seeded weights, BatchNorm statistics
// calibrated on the input by reference.py, outputs of the reference in float64; the pose
// decoding against the reference's own get_final_preds on its float64 heatmaps, plain and flip
// test. See src/test-support/parity/reference.py for how the fixtures are made. The module case,
// cls W18 and pose W32 also run on gpujs in Chromium (parity.browser.test.ts).

const FIXTURES = new URL('./test-support/parity/fixtures/', import.meta.url);
const bytes = async (name: string) =>
  new Uint8Array(await readFile(new URL(`${name}.safetensors`, FIXTURES)));
const constructors = { HighResolutionModule, hrnet_w32_pose, hrnet_w18_cls, hrnet_w48_seg };

const SHAPES: Record<string, number[][]> = {
  hr_module: [
    [2, 8, 16, 16],
    [2, 16, 8, 8],
    [2, 32, 4, 4],
  ],
  pose_hrnet_w32: [[1, 17, 16, 16]],
  cls_hrnet_w18: [[1, 1000]],
  seg_hrnet_w48: [[1, 19, 18, 30]],
};

const report = (line: string) => {
  // HRNET_PARITY_REPORT=1 prints the distances (the README's table).
  // biome-ignore lint/suspicious/noConsole: an opt-in report of the measured distances
  if (process.env.HRNET_PARITY_REPORT) console.info(line);
};

/**
 * The decoding rule: wherever the reference's decision margin for a joint (reference.py's
 * decision_margins: no change of the heatmap values smaller than it can move the decoded
 * coordinates) exceeds our heatmap error on that joint's map, our coordinates are the
 * reference's float32 values exactly — on js and wasm that is every joint (measured margin /
 * error ≥ 19); the scores (the heatmap maxima) are within our heatmap error everywhere.
 */
function expectDecoding(d: DecodingMeasurement, label: string) {
  expect(d.decided, `${label}: joints whose margin exceeds our heatmap error`).toBe(17);
  expect(d.coordinates, `${label}: coordinates of the decided joints`).toBe(0);
  expect(d.scores, `${label}: scores`).toBeLessThanOrEqual(Math.max(...d.heatmapError) + 1e-6);
}

beforeAll(() => {
  registerJsBackend();
  registerWasmBackend();
});

for (const backend of ['js', 'wasm'])
  describe(`parity with the HRNet reference code (float64 outputs) on ${backend}`, () => {
    beforeAll(async () => {
      await setBackend(backend);
    });
    for (const c of PARITY_CASES)
      it(`${c.name}: eval-mode outputs within max(1e-4, 3 × float32 PyTorch's distance) of float64`, async () => {
        const before = memory().numTensors;
        const m = await measureParity(c, constructors, await bytes('input'), await bytes(c.name));
        // The same seeded weights reference.py ran the reference on.
        expect(
          m.checksum.ours,
          "core's seeded initialisation changed: regenerate the fixtures (src/test-support/parity/reference.py)",
        ).toBeCloseTo(m.checksum.reference, 3);
        // The calibrated BatchNorm statistics: every fixture key is ours, every BN of ours calibrated.
        expect(m.unexpected).toEqual([]);
        expect(m.uncalibrated).toEqual([]);
        expect(m.shapes).toEqual(SHAPES[c.name]);
        expect(m.torch32).toBeGreaterThan(0);
        report(
          `${backend} ${c.name}: ${m.distance.toExponential(2)} (float32 PyTorch ${m.torch32.toExponential(2)}, bound ${referenceParityBound(m.torch32).toExponential(2)})`,
        );
        if (m.flipAverage !== undefined && m.decoding !== undefined) {
          const { heatmaps: h, flipAverage: f } = m.decoding;
          report(
            `  flip-test average ${m.flipAverage.toExponential(2)}; decoding (plain / flip test): coordinates ${h.coordinates} / ${f.coordinates} px, scores ${h.scores.toExponential(2)} / ${f.scores.toExponential(2)}, margin ÷ error ≥ ${h.headroom.toFixed(1)} / ${f.headroom.toFixed(1)}`,
          );
        }
        // Relative to the largest |output| (over the module's three outputs, the worst).
        expect(m.distance).toBeLessThanOrEqual(referenceParityBound(m.torch32));
        if (c.name === 'pose_hrnet_w32') {
          expect(m.flipAverage).toBeLessThanOrEqual(referenceParityBound(m.torch32));
          expect(m.decoding).toBeDefined();
          if (m.decoding) {
            expectDecoding(m.decoding.heatmaps, 'get_final_preds on the heatmaps');
            expectDecoding(m.decoding.flipAverage, 'get_final_preds on the flip test average');
          }
        }
        expect(memory().numTensors).toBe(before);
      }, 120_000);
  });
