import { readFileSync } from 'node:fs';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { memory, setBackend, type Tensor, tensor } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { cvResizeLinear, type SegmentationProgress } from './segmentation.js';
import { segmentWholeImage } from './segmentation-whole.js';
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

/** `BaseDataset.inference` as the reference writes it, float64: CHW `[3, nh, nw]` in, exp of the (flip-averaged) upsampled output out. */
function inference(chw: Float64Array, nh: number, nw: number, flipOn: boolean, ac: boolean): Float64Array {
  const [o, oh, ow] = fakeNet(chw, nh, nw);
  const pred = interp(o, K, oh, ow, nh, nw, ac);
  if (flipOn) {
    const mirrored = new Float64Array(chw.length);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < nh; y++)
        for (let x = 0; x < nw; x++) mirrored[(c * nh + y) * nw + nw - 1 - x] = chw[(c * nh + y) * nw + x];
    const [of, ohf, owf] = fakeNet(mirrored, nh, nw);
    const fp = interp(of, K, ohf, owf, nh, nw, ac);
    for (let c = 0; c < K; c++)
      for (let y = 0; y < nh; y++)
        for (let x = 0; x < nw; x++)
          pred[(c * nh + y) * nw + x] =
            (pred[(c * nh + y) * nw + x] + fp[(c * nh + y) * nw + nw - 1 - x]) * 0.5;
  }
  return pred.map(Math.exp);
}

/**
 * `CityScapes.multi_scale_inference` as the reference writes it, float64: scales ≤ 1 whole, scales
 * above 1 in `crop`-sized tiles (stride = crop, `h0 = max(h1 − crop, 0)`), overlaps averaged.
 */
function reference(
  base: number,
  scales: number[],
  flipOn: boolean,
  ac: boolean,
  crop: [number, number] = [1024, 2048],
): Float64Array {
  const norm = new Float64Array(SW * SH * 3);
  for (let i = 0; i < SW * SH; i++)
    for (let c = 0; c < 3; c++) norm[i * 3 + c] = (source.data[i * 3 + c] - MEAN[c]) / STD[c];
  const final = new Float64Array(K * SH * SW);
  for (const s of scales) {
    const long = Math.floor(base * s + 0.5);
    const nh = SH > SW ? long : Math.floor((SH * long) / SW + 0.5);
    const nw = SH > SW ? Math.floor((SW * long) / SH + 0.5) : long;
    const hwc = cvResizeLinear(norm, SW, SH, 3, nw, nh, 'float64');
    // new_img[h0:h1, w0:w1] as CHW
    const part = (h0: number, h1: number, w0: number, w1: number) => {
      const th = h1 - h0;
      const tw = w1 - w0;
      const chw = new Float64Array(3 * th * tw);
      for (let y = 0; y < th; y++)
        for (let x = 0; x < tw; x++)
          for (let c = 0; c < 3; c++) chw[(c * th + y) * tw + x] = hwc[((y + h0) * nw + x + w0) * 3 + c];
      return chw;
    };
    let preds: Float64Array;
    if (s <= 1) preds = inference(part(0, nh, 0, nw), nh, nw, flipOn, ac);
    else {
      const rows = Math.ceil((nh - crop[0]) / crop[0]) + 1;
      const cols = Math.ceil((nw - crop[1]) / crop[1]) + 1;
      preds = new Float64Array(K * nh * nw);
      const count = new Float64Array(nh * nw);
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < cols; c++) {
          const h1 = Math.min(r * crop[0] + crop[0], nh);
          const w1 = Math.min(c * crop[1] + crop[1], nw);
          const h0 = Math.max(h1 - crop[0], 0);
          const w0 = Math.max(w1 - crop[1], 0);
          const th = h1 - h0;
          const tw = w1 - w0;
          const pred = inference(part(h0, h1, w0, w1), th, tw, flipOn, ac);
          for (let k = 0; k < K; k++)
            for (let y = 0; y < th; y++)
              for (let x = 0; x < tw; x++)
                preds[(k * nh + y + h0) * nw + x + w0] += pred[(k * th + y) * tw + x];
          for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) count[(y + h0) * nw + x + w0]++;
        }
      for (let k = 0; k < K; k++) for (let i = 0; i < nh * nw; i++) preds[k * nh * nw + i] /= count[i];
    }
    const back = interp(preds, K, nh, nw, SH, SW, ac);
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

describe("HRNet-seg's inference (CityScapes.multi_scale_inference / BaseDataset.inference) with a fake 1/4-resolution network", () => {
  // At baseSize 24 the 29×19 source is 36×24 at scale 1.5: with 10×16 tiles that is 3 rows
  // (starts 0, 10, 14) × 3 columns (0, 16, 20), overlapping on both axes; 1.25 gives 30×20.
  for (const ac of [false, true])
    for (const [scales, flipOn, crop] of [
      [[1], false, undefined],
      [[0.5, 1, 1.5], true, undefined],
      [[0.75, 1.5], true, [10, 16]],
      [[1.25], false, [10, 16]],
    ] as [number[], boolean, [number, number] | undefined][])
      it(`align_corners=${ac}, scales [${scales}], flip ${flipOn}${crop ? `, ${crop[0]}×${crop[1]} tiles` : ''}: sum of exp within 1e-4 relative of a float64 reference; labels its arg-max`, async () => {
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
          ...(crop ? { cropSize: crop } : {}),
          onProgress: (p) => progress.push(p),
        });
        expect(memory().numTensors).toBe(before);
        expect([res.width, res.height, res.classes]).toEqual([SW, SH, K]);
        const want = reference(24, scales, flipOn, ac, crop);
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
        // One call per whole image or tile (3 × 3 tiles at 1.5, 2 × 2 at 1.25), twice with flip.
        const calls = scales.reduce((n, sc) => n + (crop && sc > 1 ? (sc === 1.5 ? 9 : 4) : 1), 0);
        expect(progress.length).toBe(calls * (flipOn ? 2 : 1));
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

  it('hand check of the tiling: tiles at a stride of one tile, the last moved back to the border, overlaps averaged', async () => {
    // A 10×6 image at baseSize 10, scale 2 → 20×12, cut into 12×8 tiles: columns start at 0, 8
    // and 12 (the last moved back from 16 so that it ends at 20). The network's n-th call gives
    // class 0 the logit ln n and class 1 ln 2.2 everywhere, so after exp the columns hold
    // 1 (x < 8), 2 (8 ≤ x < 12), (2 + 3) / 2 (12 ≤ x < 16, two tiles) and 3 (x ≥ 16). Back at
    // 10×6 (an exact halving, align_corners false) column d averages columns 2d and 2d + 1.
    const img = { width: 10, height: 6, data: new Uint8Array(10 * 6 * 3).fill(100) };
    let calls = 0;
    const sizes: number[][] = [];
    const res = await segmentWholeImage(img, {
      forward: (t) => {
        calls++;
        sizes.push(t.shape.slice(2));
        return tensor(new Float32Array([Math.log(calls), Math.log(2.2)]), [1, 2, 1, 1]);
      },
      baseSize: 10,
      scales: [2],
      cropSize: [12, 8],
    });
    expect(sizes).toEqual([
      [12, 8],
      [12, 8],
      [12, 8],
    ]);
    const column = [1, 1, 1, 1, 2, 2, 2.5, 2.5, 3, 3];
    for (let y = 0; y < 6; y++)
      for (let x = 0; x < 10; x++) {
        expect(res.probs[(y * 10 + x) * 2]).toBeCloseTo(column[x], 5);
        expect(res.probs[(y * 10 + x) * 2 + 1]).toBeCloseTo(2.2, 5);
        expect(res.labels[y * 10 + x]).toBe(column[x] > 2.2 ? 0 : 1);
      }
  });

  it('says which option is wrong', async () => {
    const forward = () => tensor(new Float32Array(1), [1, 1, 1, 1]);
    await expect(segmentWholeImage(source, { forward, cropSize: [0, 8] })).rejects.toThrow(/cropSize/);
    await expect(segmentWholeImage(source, { forward, scales: [] })).rejects.toThrow(/scales/);
  });

  describe("against HRNet-seg's own code (fixtures/make_hrnet_seg_fixtures.py ran CityScapes.multi_scale_inference with this fake network)", () => {
    const hr = JSON.parse(readFileSync(`${DIR}manifest.json`, 'utf8')).hrnetSegmentation;
    it('the fixtures used this test’s fake network', () => {
      expect(hr.weight).toEqual(W);
      expect(hr.bias).toEqual(B);
    });
    for (const c of hr.cases as {
      baseSize: number;
      scales: number[];
      flip: boolean;
      alignCorners: boolean;
      cropSize: [number, number];
      probs: string;
    }[])
      it(`scales [${c.scales}], flip ${c.flip}, align_corners ${c.alignCorners}, ${c.cropSize[0]}×${c.cropSize[1]} tiles: final_pred within 1e-4 relative (both float32)`, async () => {
        const res = await segmentWholeImage(source, {
          forward,
          baseSize: c.baseSize,
          scales: c.scales,
          flip: c.flip,
          alignCorners: c.alignCorners,
          cropSize: c.cropSize,
          mean: MEAN,
          std: STD,
        });
        const want = new Float32Array(new Uint8Array(readFileSync(DIR + c.probs)).buffer);
        expect(want.length).toBe(K * SW * SH);
        let rel = 0;
        for (let k = 0; k < K; k++)
          for (let i = 0; i < SW * SH; i++)
            rel = Math.max(
              rel,
              Math.abs(res.probs[i * K + k] - want[k * SW * SH + i]) / want[k * SW * SH + i],
            );
        expect(rel).toBeLessThan(1e-4);
      });
  });
});
