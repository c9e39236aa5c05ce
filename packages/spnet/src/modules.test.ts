import { adaptiveAvgPool2d, nn, randomNormal, type Tensor, tensor } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { FCNHead, SPBlock, SPHead, StripPooling } from './index.js';
import { compare, randomizeBatchNorms, referenceKeys, useJs } from './test-support/helpers.js';
import { sample, stripPoolingReference } from './test-support/reference.js';

beforeAll(useJs);

const BN = (p: string) =>
  ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'].map((s) => `${p}.${s}`);
const listed = (net: nn.Module) => [...net.stateDict()].map(([k, t]) => [k, [...t.shape]]);

/** Runs `m` unfused, then in eval mode (fused), and checks they agree within 1e-4 (relative to the scale). */
function fusedMatches(m: nn.Module, x: Tensor): Tensor {
  const unfused = m.call(x);
  m.eval();
  const fused = m.call(x);
  const d = compare(fused, unfused);
  expect(d.maxRef).toBeGreaterThan(0);
  expect(d.maxDiff).toBeLessThanOrEqual(1e-4 * Math.max(1, d.maxRef));
  fused.dispose();
  return unfused;
}

/** Plain-loop reference of SPBlock for one sample, from its state dict (independent of fusion). */
function spblockReference(block: SPBlock, x: Tensor): Float32Array {
  const [, c, h, w] = x.shape;
  const xv = x.dataSync();
  const sd = block.stateDict();
  const v = (k: string) => sd.get(k)!.dataSync();
  const bn = (p: string, o: number, val: number) => {
    const [g, b, m, s] = [v(`${p}.weight`), v(`${p}.bias`), v(`${p}.running_mean`), v(`${p}.running_var`)];
    return ((val - m[o]) / Math.sqrt(s[o] + 1e-5)) * g[o] + b[o];
  };
  const rows = new Float64Array(c * h); // mean over W
  const cols = new Float64Array(c * w); // mean over H
  for (let ci = 0; ci < c; ci++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        const t = xv[(ci * h + i) * w + j];
        rows[ci * h + i] += t / w;
        cols[ci * w + j] += t / h;
      }
  const w1 = v('conv1.weight');
  const w2 = v('conv2.weight');
  const w3 = v('conv3.weight');
  const b3 = v('conv3.bias');
  const x1 = new Float64Array(c * h);
  const x2 = new Float64Array(c * w);
  for (let o = 0; o < c; o++) {
    for (let i = 0; i < h; i++) {
      let s = 0;
      for (let ci = 0; ci < c; ci++)
        for (let k = 0; k < 3; k++) {
          const ii = i + k - 1;
          if (ii >= 0 && ii < h) s += w1[(o * c + ci) * 3 + k] * rows[ci * h + ii];
        }
      x1[o * h + i] = bn('bn1', o, s);
    }
    for (let j = 0; j < w; j++) {
      let s = 0;
      for (let ci = 0; ci < c; ci++)
        for (let k = 0; k < 3; k++) {
          const jj = j + k - 1;
          if (jj >= 0 && jj < w) s += w2[(o * c + ci) * 3 + k] * cols[ci * w + jj];
        }
      x2[o * w + j] = bn('bn2', o, s);
    }
  }
  const out = new Float32Array(c * h * w);
  for (let o = 0; o < c; o++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        let s = b3[o];
        for (let ci = 0; ci < c; ci++) s += w3[o * c + ci] * Math.max(0, x1[ci * h + i] + x2[ci * w + j]);
        out[(o * h + i) * w + j] = 1 / (1 + Math.exp(-s));
      }
  return out;
}

describe('SPBlock (the strip pooling module, SPM)', () => {
  it('has the reference SPM keys and shapes', () => {
    const spm = nn.withoutInit(() => new SPBlock(64));
    expect(listed(spm)).toEqual(
      referenceKeys('spnet50_ade20k')
        .filter(([k]) => k.startsWith('pretrained.layer1.2.spm.'))
        .map(([k, s]) => [k.slice('pretrained.layer1.2.spm.'.length), s]),
    );
    expect([...spm.stateDict().keys()]).toEqual([
      'conv1.weight',
      ...BN('bn1'),
      'conv2.weight',
      ...BN('bn2'),
      'conv3.weight',
      'conv3.bias',
    ]);
    spm.dispose();
  });

  it('equals a plain-loop reference (H×1 and 1×W strips, expand, ReLU, 1×1, sigmoid); fused equals unfused', () => {
    nn.manualSeed(1);
    const spm = new SPBlock(6);
    randomizeBatchNorms(spm, 2);
    const x = randomNormal([1, 6, 7, 5], 0, 1, { seed: 3 });
    const expected = spblockReference(spm, x);
    const y = fusedMatches(spm, x);
    expect(y.shape).toEqual([1, 6, 7, 5]);
    const got = y.dataSync();
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - expected[i]));
    expect(maxDiff).toBeLessThan(1e-5);
    for (const t of [x, y]) t.dispose();
    spm.dispose();
  });
});

describe('StripPooling (the mixed pooling module, MPM)', () => {
  it('has the reference keys and shapes (strip_pool1 of SPHead at 1024 channels)', () => {
    const mpm = nn.withoutInit(() => new StripPooling(1024));
    expect(listed(mpm)).toEqual(
      referenceKeys('spnet50_ade20k')
        .filter(([k]) => k.startsWith('head.strip_pool1.'))
        .map(([k, s]) => [k.slice('head.strip_pool1.'.length), s]),
    );
    expect(mpm.interChannels).toBe(256);
    mpm.dispose();
  });

  for (const [h, w] of [
    [23, 17],
    [9, 31],
    [40, 24],
  ] as const) {
    it(`at ${h}×${w} pools to 20² and 12² (PyTorch's bins), keeps the shape; fused equals unfused`, () => {
      nn.manualSeed(h * 100 + w);
      const mpm = new StripPooling(16);
      randomizeBatchNorms(mpm, w);
      const x = randomNormal([2, 16, h, w], 0, 1, { seed: h });
      const [y, feats] = nn.captureFeatures(
        mpm,
        ['pool1', 'pool2', 'pool3', 'pool4', 'conv1_1', 'conv2_1', 'conv2_2', 'conv2_3', 'conv2_4', 'conv3'],
        () => mpm.call(x),
      );
      expect(y.shape).toEqual([2, 16, h, w]);
      expect(feats.get('pool1').shape).toEqual([2, 4, 20, 20]);
      expect(feats.get('pool2').shape).toEqual([2, 4, 12, 12]);
      expect(feats.get('pool3').shape).toEqual([2, 4, 1, w]);
      expect(feats.get('pool4').shape).toEqual([2, 4, h, 1]);
      // Which path reads which pool: the convolutions keep their input's size.
      expect(feats.get('conv2_1').shape).toEqual([2, 4, 20, 20]);
      expect(feats.get('conv2_2').shape).toEqual([2, 4, 12, 12]);
      expect(feats.get('conv2_3').shape).toEqual([2, 4, 1, w]);
      expect(feats.get('conv2_4').shape).toEqual([2, 4, h, 1]);
      expect(feats.get('conv3').shape).toEqual([2, 16, h, w]);
      // pool1's bins: start = floor(i·H/20), end = ceil((i+1)·H/20), checked by hand.
      const x1 = feats.get('conv1_1');
      const xv = x1.dataSync();
      const pv = feats.get('pool1').dataSync();
      for (const [i, j] of [
        [0, 0],
        [7, 13],
        [19, 19],
      ]) {
        const [h0, h1] = [Math.floor((i * h) / 20), Math.ceil(((i + 1) * h) / 20)];
        const [w0, w1] = [Math.floor((j * w) / 20), Math.ceil(((j + 1) * w) / 20)];
        let s = 0;
        for (let a = h0; a < h1; a++) for (let b = w0; b < w1; b++) s += xv[a * w + b];
        expect(pv[i * 20 + j]).toBeCloseTo(s / ((h1 - h0) * (w1 - w0)), 5);
      }
      feats.dispose();
      const unfused = fusedMatches(mpm, x);
      expect(compare(unfused, y).maxDiff).toBe(0);
      for (const t of [x, y, unfused]) t.dispose();
      mpm.dispose();
    });
  }

  it('equals a float64 oracle written from models.md (pools, strips, align_corners=True upsampling, sums, concat) at 13×9', () => {
    nn.manualSeed(31);
    const mpm = new StripPooling(16);
    randomizeBatchNorms(mpm, 32);
    const x = randomNormal([2, 16, 13, 9], 0, 1, { seed: 33 });
    const y = mpm.call(x);
    const got = y.dataSync();
    let maxDiff = 0;
    let maxRef = 0;
    for (let n = 0; n < 2; n++) {
      const ref = stripPoolingReference(mpm, sample(x, n));
      for (let k = 0; k < ref.v.length; k++) {
        maxDiff = Math.max(maxDiff, Math.abs(got[n * ref.v.length + k] - ref.v[k]));
        maxRef = Math.max(maxRef, Math.abs(ref.v[k]));
      }
    }
    expect(maxRef).toBeGreaterThan(0.1);
    expect(maxDiff).toBeLessThan(1e-4 * Math.max(1, maxRef));
    for (const t of [x, y]) t.dispose();
    mpm.dispose();
  });

  it('the output is relu(x + …): never negative', () => {
    nn.manualSeed(5);
    const mpm = new StripPooling(8);
    const x = randomNormal([1, 8, 6, 6], 0, 1, { seed: 6 });
    const y = mpm.call(x);
    expect(Math.min(...y.dataSync())).toBeGreaterThanOrEqual(0);
    for (const t of [x, y]) t.dispose();
    mpm.dispose();
  });

  it('rejects fewer than 4 channels', () => {
    expect(() => new StripPooling(2)).toThrow(/inChannels/);
  });
});

describe('SPHead and FCNHead', () => {
  it('SPHead has the reference head.* keys; at a small width it maps [N, C, h, w] to [N, nclass, h, w], fused equals unfused', () => {
    const full = nn.withoutInit(() => new SPHead(2048, 150));
    expect(listed(full)).toEqual(
      referenceKeys('spnet50_ade20k')
        .filter(([k]) => k.startsWith('head.'))
        .map(([k, s]) => [k.slice(5), s]),
    );
    full.dispose();
    nn.manualSeed(8);
    const head = new SPHead(32, 5);
    randomizeBatchNorms(head, 9);
    const x = randomNormal([1, 32, 11, 13], 0, 1, { seed: 10 });
    const y = fusedMatches(head, x);
    expect(y.shape).toEqual([1, 5, 11, 13]);
    for (const t of [x, y]) t.dispose();
    head.dispose();
  });

  it('FCNHead has the reference auxlayer.* keys (conv5.0, conv5.1, conv5.4)', () => {
    const aux = nn.withoutInit(() => new FCNHead(1024, 19));
    expect(listed(aux)).toEqual(
      referenceKeys('spnet101_cityscapes')
        .filter(([k]) => k.startsWith('auxlayer.'))
        .map(([k, s]) => [k.slice(9), s]),
    );
    aux.dispose();
    nn.manualSeed(11);
    const small = new FCNHead(16, 3);
    const x = randomNormal([1, 16, 5, 4], 0, 1, { seed: 12 });
    const y = small.call(x);
    expect(y.shape).toEqual([1, 3, 5, 4]);
    for (const t of [x, y]) t.dispose();
    small.dispose();
  });
});

describe('adaptive pooling of a non-dividing input matches the bin rule', () => {
  it('adaptiveAvgPool2d to 12 of a 1×1×13×13 ramp', () => {
    const n = 13;
    const data = new Float32Array(n * n).map((_, i) => i);
    const x = tensor(data, [1, 1, n, n]);
    const y = adaptiveAvgPool2d(x, 12);
    const v = y.dataSync();
    // bin 0 covers rows/cols 0..1 (floor(0), ceil(13/12)=2): mean of 0, 1, 13, 14.
    expect(v[0]).toBeCloseTo((0 + 1 + 13 + 14) / 4, 5);
    for (const t of [x, y]) t.dispose();
  });
});
