import { readFileSync } from 'node:fs';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { memory, setBackend, type Tensor, tensor } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { cvResizeLinear, type SegmentationProgress, segmentWholeImage } from './segmentation.js';
import { FIXTURES } from './test-support/fixtures.js';

const DIR = `${FIXTURES}pose-seg/`;
const man = JSON.parse(readFileSync(`${DIR}manifest.json`, 'utf8')).segmentation;
const [SW, SH] = man.sourceSize as [number, number];
const source = { width: SW, height: SH, data: new Uint8Array(readFileSync(DIR + man.source)) };
const MEAN: [number, number, number] = [123.675, 116.28, 103.53];
const STD: [number, number, number] = [58.395, 57.12, 57.375];
const K = 4;
// Fake network: 1/4 resolution (⌈h/4⌉ × ⌈w/4⌉), logits = W · pixel(4y, 4x) + b.
const W = [
  [0.3, -0.2, 0.1],
  [-0.1, 0.4, -0.3],
  [0.2, 0.1, 0.25],
  [-0.35, -0.05, 0.15],
];
const B = [0.1, -0.2, 0, 0.05];
function fakeNet(x: Float32Array | Float64Array, h: number, w: number): [Float64Array, number, number] {
  const oh = Math.ceil(h / 4);
  const ow = Math.ceil(w / 4);
  const out = new Float64Array(K * oh * ow);
  for (let k = 0; k < K; k++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++) {
        let s = B[k];
        for (let c = 0; c < 3; c++) s += W[k][c] * x[c * h * w + 4 * y * w + 4 * xx];
        out[(k * oh + y) * ow + xx] = s;
      }
  return [out, oh, ow];
}
const forward = async (t: Tensor): Promise<Tensor> => {
  const [, , h, w] = t.shape;
  const [o, oh, ow] = fakeNet((await t.data()) as Float32Array, h, w);
  return tensor(Float32Array.from(o), [1, K, oh, ow], 'float32');
};

/** PyTorch's bilinear `F.interpolate` on one CHW map, written out in float64. */
function interp(x: Float64Array, ch: number, h: number, w: number, oh: number, ow: number, ac: boolean) {
  const out = new Float64Array(ch * oh * ow);
  const src = (d: number, n: number, on: number) => {
    if (ac) return on > 1 ? (d * (n - 1)) / (on - 1) : 0;
    return Math.max(((d + 0.5) * n) / on - 0.5, 0);
  };
  for (let c = 0; c < ch; c++)
    for (let y = 0; y < oh; y++) {
      const sy = src(y, h, oh);
      const y0 = Math.min(Math.floor(sy), h - 1);
      const y1 = Math.min(y0 + 1, h - 1);
      const fy = sy - y0;
      for (let xx = 0; xx < ow; xx++) {
        const sx = src(xx, w, ow);
        const x0 = Math.min(Math.floor(sx), w - 1);
        const x1 = Math.min(x0 + 1, w - 1);
        const fx = sx - x0;
        const at = (yy: number, xq: number) => x[(c * h + yy) * w + xq];
        out[(c * oh + y) * ow + xx] =
          (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) +
          fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
      }
    }
  return out;
}

/** `multi_scale_inference` (whole-image branch) + `inference` as the reference writes them, float64. */
function reference(base: number, scales: number[], flipOn: boolean, ac: boolean): Float64Array {
  const norm = new Float64Array(SW * SH * 3);
  for (let i = 0; i < SW * SH; i++)
    for (let c = 0; c < 3; c++) norm[i * 3 + c] = (source.data[i * 3 + c] - MEAN[c]) / STD[c];
  const final = new Float64Array(K * SH * SW);
  for (const s of scales) {
    const long = Math.floor(base * s + 0.5);
    const nh = SH > SW ? long : Math.floor((SH * long) / SW + 0.5);
    const nw = SH > SW ? Math.floor((SW * long) / SH + 0.5) : long;
    const hwc = cvResizeLinear(norm, SW, SH, 3, nw, nh, 'float64');
    const chw = new Float64Array(3 * nh * nw);
    const chwF = new Float64Array(3 * nh * nw);
    for (let y = 0; y < nh; y++)
      for (let x = 0; x < nw; x++)
        for (let c = 0; c < 3; c++) {
          chw[(c * nh + y) * nw + x] = hwc[(y * nw + x) * 3 + c];
          chwF[(c * nh + y) * nw + nw - 1 - x] = hwc[(y * nw + x) * 3 + c];
        }
    const [o, oh, ow] = fakeNet(chw, nh, nw);
    const pred = interp(o, K, oh, ow, nh, nw, ac);
    if (flipOn) {
      const [of, ohf, owf] = fakeNet(chwF, nh, nw);
      const fp = interp(of, K, ohf, owf, nh, nw, ac);
      for (let c = 0; c < K; c++)
        for (let y = 0; y < nh; y++)
          for (let x = 0; x < nw; x++)
            pred[(c * nh + y) * nw + x] =
              (pred[(c * nh + y) * nw + x] + fp[(c * nh + y) * nw + nw - 1 - x]) * 0.5;
    }
    for (let i = 0; i < pred.length; i++) pred[i] = Math.exp(pred[i]);
    const back = interp(pred, K, nh, nw, SH, SW, ac);
    for (let i = 0; i < final.length; i++) final[i] += back[i];
  }
  // to HWC
  const hwcOut = new Float64Array(final.length);
  for (let c = 0; c < K; c++) for (let i = 0; i < SW * SH; i++) hwcOut[i * K + c] = final[c * SW * SH + i];
  return hwcOut;
}

beforeAll(async () => {
  registerJsBackend();
  await setBackend('js');
});

describe("HRNet-seg's inference (base_dataset.inference / multi_scale_inference) with a fake 1/4-resolution network", () => {
  for (const ac of [false, true])
    for (const [scales, flipOn] of [
      [[1], false],
      [[0.5, 1, 1.5], true],
    ] as [number[], boolean][])
      it(`align_corners=${ac}, scales [${scales}], flip ${flipOn}: sum of exp within 1e-4 relative of a float64 reference; labels its arg-max`, async () => {
        const before = memory().numTensors;
        const progress: SegmentationProgress[] = [];
        const res = await segmentWholeImage(source, {
          forward,
          baseSize: 24,
          scales,
          flip: flipOn,
          alignCorners: ac,
          mean: MEAN,
          std: STD,
          onProgress: (p) => progress.push(p),
        });
        expect(memory().numTensors).toBe(before);
        expect([res.width, res.height, res.classes]).toEqual([SW, SH, K]);
        const want = reference(24, scales, flipOn, ac);
        let rel = 0;
        for (let i = 0; i < want.length; i++) rel = Math.max(rel, Math.abs(res.probs[i] - want[i]) / want[i]);
        expect(rel).toBeLessThan(1e-4);
        let sure = 0;
        for (let i = 0; i < SW * SH; i++) {
          const row = Array.from(want.subarray(i * K, i * K + K)).sort((a, b) => b - a);
          if (row[0] - row[1] < 1e-3 * row[0]) continue; // a near tie: float32 may pick either
          let best = 0;
          for (let c = 1; c < K; c++) if (want[i * K + c] > want[i * K + best]) best = c;
          expect(res.labels[i]).toBe(best);
          sure++;
        }
        expect(sure).toBeGreaterThan(SW * SH * 0.9);
        expect(progress.length).toBe(scales.length * (flipOn ? 2 : 1));
        expect(progress.at(-1)).toMatchObject({ done: progress.length, total: progress.length });
      });

  it('hand check: a constant network (logits ln 2 and 0) gives exp summed over scales: 2·3 and 1·3, label 0', async () => {
    const res = await segmentWholeImage(source, {
      forward: () =>
        tensor(new Float32Array([Math.LN2, Math.LN2, Math.LN2, Math.LN2, 0, 0, 0, 0]), [1, 2, 2, 2]),
      baseSize: 8,
      scales: [0.5, 1, 2],
      flip: true,
    });
    expect(res.classes).toBe(2);
    for (let i = 0; i < SW * SH; i++) {
      expect(res.probs[i * 2]).toBeCloseTo(6, 5);
      expect(res.probs[i * 2 + 1]).toBeCloseTo(3, 5);
      expect(res.labels[i]).toBe(0);
    }
  });
});
