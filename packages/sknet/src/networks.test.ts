import { registerJsBackend } from '@kernelzoo/backend-js';
import { randomizeBatchNorms } from '@kernelzoo/conformance';
import {
  getModel,
  memory,
  nn,
  randomNormal,
  setBackend,
  summary,
  type Tensor,
  tidy,
  traceKernels,
} from '@kernelzoo/core';
import type { ResNet } from '@kernelzoo/resnet';
import { referenceKeys as sharedReferenceKeys } from '@kernelzoo/test-support';
import { fromTensors, loadModel, writeSafetensors } from '@kernelzoo/weights';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  makeDivisible,
  SelectiveKernel,
  SKNET_MODELS,
  sknet50,
  sknet101,
  skresnet18,
  skresnet34,
  skresnet50,
  skresnext50_32x4d,
} from './index.js';

beforeAll(async () => {
  registerJsBackend();
  await setBackend('js');
});

/** The reference's `key<TAB>[shape]` lines (timm's state dict, in registration order). */
function referenceKeys(name: string): [string, number[]][] {
  return sharedReferenceKeys(`timm_${name}`);
}

const NETWORKS: [string, () => ResNet, number][] = [
  ['skresnet18', () => skresnet18(), 11_958_056],
  ['skresnet34', () => skresnet34(), 22_282_376],
  ['skresnet50', () => skresnet50(), 25_803_160],
  ['skresnext50_32x4d', () => skresnext50_32x4d(), 27_479_784],
];

describe('SKNet networks', () => {
  for (const [name, build, params] of NETWORKS)
    it(`${name}: every key and shape of timm's state dict, in order; ${params.toLocaleString('en')} parameters`, () => {
      const net = nn.withoutInit(build);
      const got = [...net.stateDict()].map(([k, t]) => [k, [...t.shape]]);
      expect(got).toEqual(referenceKeys(name));
      expect(net.numParameters()).toBe(params);
      net.dispose();
    });

  it('sknet50 is skresnext50_32x4d; sknet101 has 48,736,040 parameters with d = 32, 32, 32, 64', () => {
    expect(sknet50).toBe(skresnext50_32x4d);
    const net = nn.withoutInit(() => sknet101());
    expect(net.numParameters()).toBe(48_736_040);
    const d = net
      .namedModules()
      .filter(([, m]) => m instanceof SelectiveKernel)
      .map(([n, m]) => [n.split('.')[0], (m as SelectiveKernel).attnChannels]);
    expect(new Set(d.map((e) => e.join(':')))).toEqual(
      new Set(['layer1:32', 'layer2:32', 'layer3:32', 'layer4:64']),
    );
    expect(d.length).toBe(33);
    net.dispose();
  });

  it("the attention width follows timm's make_divisible (and the paper's max(C/16, 32) for SKNet)", () => {
    expect([8, 16, 32, 64].map((c) => makeDivisible((c * 8) / 8, 16))).toEqual([16, 16, 32, 64]);
    for (const c of [128, 256, 512, 1024]) expect(makeDivisible(c / 16, 32)).toBe(Math.max(c / 16, 32));
    expect([64, 128, 256, 512].map((c) => makeDivisible(c / 16, 8))).toEqual([8, 8, 16, 32]);
    expect(makeDivisible(10, 8)).toBe(16); // rounds to 8, which loses > 10 %: bumped up
  });

  it('multiply-adds at 224×224: SKNet-50 ≈ 4.46 G, SKNet-101 ≈ 8.45 G (paper: 4.47, 8.46)', () => {
    const rows: Record<string, number> = {};
    for (const [name, build] of [
      ['sknet50', sknet50],
      ['sknet101', sknet101],
      ['skresnet18', skresnet18],
      ['skresnet34', skresnet34],
      ['skresnet50', skresnet50],
    ] as const) {
      const net = nn.withoutInit(() => build());
      rows[name] = summary(net, [1, 3, 224, 224]).totalMultiplyAdds;
      net.dispose();
    }
    expect(rows).toEqual({
      sknet50: 4_462_710_784, // 4.46 G (paper 4.47)
      sknet101: 8_448_724_992, // 8.45 G (paper 8.46)
      skresnet18: 1_814_337_536,
      skresnet34: 3_664_237_568,
      skresnet50: 4_089_422_336,
    });
  });

  it('registers its ids with the reference facts, each building the stated parameter count', () => {
    expect(SKNET_MODELS.map((e) => e.id)).toEqual([
      'sknet50',
      'sknet101',
      'skresnet18',
      'skresnet34',
      'skresnet50',
    ]);
    for (const e of SKNET_MODELS) {
      expect(getModel(e.id)).toBe(e);
      expect(e.preprocessing).toMatchObject({
        interpolation: 'bicubic',
        cropPct: 0.875,
        resize: 'shorter-side',
      });
      const net = nn.withoutInit(() => e.build());
      expect(net.numParameters(), e.id).toBe(e.reference.parameters);
      net.dispose();
    }
    expect(getModel('sknet50').reference.gflops).toBe(4.47);
    expect(getModel('sknet101').reference.gflops).toBe(8.46);
  });
});

describe('fusion', () => {
  for (const [name, build] of [
    ['skresnet18', skresnet18],
    ['sknet50', sknet50],
  ] as const)
    it(`${name}: eval (every BatchNorm folded) equals the unfused network within 1e-4 at 1×3×64×64, and runs no batchNorm`, () => {
      nn.manualSeed(5);
      const plain = build();
      randomizeBatchNorms(plain, 9);
      const fused = nn.withoutInit(() => build());
      fused.loadStateDict(plain.stateDict());
      fused.eval();
      const x = randomNormal([1, 3, 64, 64], 0, 1, { seed: 4 });
      const a = plain.call(x);
      const [b, trace] = traceKernels(() => fused.call(x));
      expect(trace.count('batchNorm')).toBe(0);
      const ya = a.dataSync();
      const yb = b.dataSync();
      let maxDiff = 0;
      let maxRef = 0;
      for (let i = 0; i < ya.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(ya[i] - yb[i]));
        maxRef = Math.max(maxRef, Math.abs(ya[i]));
      }
      expect(maxDiff / maxRef).toBeLessThan(1e-4);
      for (const t of [x, a, b]) t.dispose();
      const before = memory().numTensors;
      plain.dispose();
      fused.dispose();
      expect(memory().numTensors).toBeLessThan(before);
    }, 60_000);
});

describe('loading by id', () => {
  it("loadModel('skresnet18', safetensors with timm's keys) builds, loads and gives the source's outputs", async () => {
    nn.manualSeed(21);
    const source = skresnet18();
    randomizeBatchNorms(source, 22);
    source.eval();
    const bytes = writeSafetensors(await fromTensors(source.stateDict()));
    const { model, entry } = await loadModel('skresnet18', bytes);
    expect(entry.id).toBe('skresnet18');
    const x = randomNormal([1, 3, 32, 32], 0, 1, { seed: 23 });
    const a = tidy(() => source.call(x));
    const b = tidy(() => model.call(x) as Tensor);
    expect(b.dataSync()).toEqual(a.dataSync());
    for (const t of [x, a, b]) t.dispose();
    source.dispose();
    model.dispose();
  }, 60_000);
});
