import { registerJsBackend } from '@kernelzoo/backend-js';
import {
  memory,
  nn,
  randomNormal,
  setBackend,
  type Tensor,
  tensor,
  tidy,
  traceKernels,
} from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAttention, SelectiveKernel, skresnet18, skUnitNames, summariseAttention } from './index.js';

beforeAll(async () => {
  registerJsBackend();
  await setBackend('js');
});

function set(m: nn.Module, entries: Record<string, Tensor>): void {
  m.loadStateDict(new Map(Object.entries(entries)), { strict: false });
  for (const t of Object.values(entries)) t.dispose();
}

describe('SelectiveKernel', () => {
  it("has timm's keys and shapes (split input halves each path's input; d by make_divisible)", () => {
    const sk = new SelectiveKernel(64, { outChannels: 64, rdRatio: 1 / 8, rdDivisor: 16 });
    const shapes = Object.fromEntries([...sk.stateDict()].map(([k, t]) => [k, [...t.shape]]));
    expect(Object.keys(shapes)).toEqual([
      ...[0, 1].flatMap((i) => [
        `paths.${i}.conv.weight`,
        ...['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'].map(
          (s) => `paths.${i}.bn.${s}`,
        ),
      ]),
      'attn.fc_reduce.weight',
      ...['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'].map((s) => `attn.bn.${s}`),
      'attn.fc_select.weight',
    ]);
    expect(shapes['paths.1.conv.weight']).toEqual([64, 32, 3, 3]);
    expect(shapes['attn.fc_reduce.weight']).toEqual([16, 64, 1, 1]);
    expect(shapes['attn.fc_select.weight']).toEqual([128, 16, 1, 1]);
    const paths = [...sk.paths].map((p) => [p.conv.dilation[0], p.conv.padding[0]]);
    expect(paths).toEqual([
      [1, 1],
      [2, 2],
    ]);
    sk.dispose();
  });

  it('equal branches → attention exactly 0.5 / 0.5 and V = the common branch output (hand-derived)', () => {
    // Both paths see all 4 channels, have the same centre-only kernel (so dilation does not
    // matter: each path is the 1×1 convolution w), unit BatchNorms, and fc_select's two halves are
    // equal, so both logits are equal and softmax gives 1/2 each. V = ½·p + ½·p = p = ReLU(w ⋆ x).
    const C = 4;
    const sk = new SelectiveKernel(C, { splitInput: false, rdChannels: 2 });
    const w = new Float32Array(C * C * 9);
    const w1 = [
      [1, 0, 0, 0.5],
      [0, -1, 0, 0],
      [0.25, 0, 2, 0],
      [0, 0, 0, 1],
    ];
    for (let o = 0; o < C; o++) for (let i = 0; i < C; i++) w[(o * C + i) * 9 + 4] = w1[o][i];
    const sel = new Float32Array(2 * C * 2);
    for (let o = 0; o < C; o++)
      for (let j = 0; j < 2; j++) {
        const v = 0.3 * (o + 1) * (j ? -1 : 1);
        sel[o * 2 + j] = v; // branch 0's row o
        sel[(C + o) * 2 + j] = v; // branch 1's row o: the same
      }
    set(sk, {
      'paths.0.conv.weight': tensor(w, [C, C, 3, 3]),
      'paths.1.conv.weight': tensor(w, [C, C, 3, 3]),
      'attn.fc_select.weight': tensor(sel, [2 * C, 2, 1, 1]),
    });
    const x = randomNormal([2, C, 5, 6], 0, 1, { seed: 8 });
    for (const evalMode of [false, true]) {
      if (evalMode) sk.eval();
      const [v, features] = nn.captureFeatures(sk, ['attn.softmax'], () => sk.call(x));
      const a = features.get('attn.softmax');
      expect(a.shape).toEqual([2, 2, C]);
      for (const value of a.dataSync()) expect(value).toBe(0.5);
      const xs = x.dataSync();
      const vs = v.dataSync();
      for (let b = 0; b < 2; b++)
        for (let o = 0; o < C; o++)
          for (let p = 0; p < 30; p++) {
            let acc = 0;
            for (let i = 0; i < C; i++) acc += w1[o][i] * xs[(b * C + i) * 30 + p];
            // BatchNorm at its initial statistics: (y − 0)/√(1 + 1e-5)
            expect(vs[(b * C + o) * 30 + p]).toBeCloseTo(Math.max(acc, 0) / Math.sqrt(1 + 1e-5), 5);
          }
      v.dispose();
      features.dispose();
    }
    x.dispose();
    sk.dispose();
  });

  it('in eval mode runs M + 2 conv2d kernels and no batchNorm', () => {
    const sk = new SelectiveKernel(8, { groups: 2, rdChannels: 4 }).eval();
    const x = randomNormal([1, 8, 6, 6], 0, 1, { seed: 1 });
    const [y, trace] = traceKernels(() => sk.call(x));
    expect(trace.count('conv2d')).toBe(4);
    expect(trace.count('batchNorm')).toBe(0);
    for (const t of [x, y]) t.dispose();
    sk.dispose();
  });
});

describe('attention read-out', () => {
  it('reads every SK unit (unit × branch × channel) and summarises per stage; no leaks', () => {
    nn.manualSeed(3);
    const net = skresnet18().eval();
    expect(skUnitNames(net)).toEqual([
      'layer1.0.conv1',
      'layer1.1.conv1',
      'layer2.0.conv1',
      'layer2.1.conv1',
      'layer3.0.conv1',
      'layer3.1.conv1',
      'layer4.0.conv1',
      'layer4.1.conv1',
    ]);
    const x = randomNormal([2, 3, 64, 64], 0, 1, { seed: 2 });
    const plain = tidy(() => net.call(x));
    const before = memory().numTensors;
    const r = readAttention(net, x);
    expect(r.output.dataSync()).toEqual(plain.dataSync());
    expect(r.units.map((u) => [u.stage, u.block, ...u.attention.shape])).toEqual([
      [0, 0, 2, 2, 64],
      [0, 1, 2, 2, 64],
      [1, 0, 2, 2, 128],
      [1, 1, 2, 2, 128],
      [2, 0, 2, 2, 256],
      [2, 1, 2, 2, 256],
      [3, 0, 2, 2, 512],
      [3, 1, 2, 2, 512],
    ]);
    for (const u of r.units) {
      const a = u.attention.dataSync();
      const [n, m, c] = u.attention.shape;
      for (let b = 0; b < n; b++)
        for (let ch = 0; ch < c; ch++) {
          let s = 0;
          for (let i = 0; i < m; i++) s += a[(b * m + i) * c + ch];
          expect(Math.abs(s - 1)).toBeLessThan(1e-6);
        }
    }
    const stages = summariseAttention(r.units);
    expect(stages.map((s) => [s.stage, s.units.length])).toEqual([
      [0, 2],
      [1, 2],
      [2, 2],
      [3, 2],
    ]);
    // By hand for one unit: mean over batch and channels of a₁ − a₀.
    const u = r.units[5];
    const a = u.attention.dataSync();
    let d = 0;
    for (let b = 0; b < 2; b++)
      for (let ch = 0; ch < 256; ch++) d += a[(b * 2 + 1) * 256 + ch] - a[b * 2 * 256 + ch];
    expect(stages[2].units[1].meanDifference).toBeCloseTo(d / 512, 10);
    expect(stages[2].meanDifference).toBeCloseTo(
      (stages[2].units[0].meanDifference + stages[2].units[1].meanDifference) / 2,
      12,
    );
    r.dispose();
    expect(memory().numTensors).toBe(before);
    for (const t of [x, plain]) t.dispose();
    net.dispose();
  });
});
