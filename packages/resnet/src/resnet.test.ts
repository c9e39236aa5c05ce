import { memory, nn, randomNormal, summary, type Tensor, traceKernels } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BasicBlock,
  Bottleneck,
  dilatedResNet50,
  type GateOptions,
  planStages,
  ResNet,
  resnet18,
  resnet34,
  resnet50,
  resnet101,
  resnet152,
  resnext50_32x4d,
  resnext101_32x8d,
} from './index.js';
import {
  compare,
  randomizeBatchNorms,
  referenceKeys,
  StripGate,
  spnetPlacement,
  useJs,
} from './test-support/helpers.js';

beforeAll(useJs);

const LONG = 120_000;

describe('parameter counts and multiply-adds equal torchvision', () => {
  // torchvision's published parameter counts (1000-class fc). Multiply-adds: convolutions and the
  // fc at 224×224 (what torchvision's model table calls GFLOPS: 4.09 for ResNet-50, 7.80 for
  // ResNet-101, 4.23 for ResNeXt-50 32x4d, 1.81 for ResNet-18, 3.66 for ResNet-34, 11.51 for
  // ResNet-152, 16.41 for ResNeXt-101 32x8d).
  const cases: [string, () => ResNet, number, number][] = [
    ['resnet18', () => resnet18(), 11_689_512, 1_814_073_344],
    ['resnet34', () => resnet34(), 21_797_672, 3_663_761_408],
    ['resnet50', () => resnet50(), 25_557_032, 4_089_184_256],
    ['resnet101', () => resnet101(), 44_549_160, 7_801_405_440],
    ['resnext50_32x4d', () => resnext50_32x4d(), 25_028_904, 4_230_479_872],
    ['resnet152', () => resnet152(), 60_192_808, 11_513_626_624],
    ['resnext101_32x8d', () => resnext101_32x8d(), 88_791_336, 16_414_015_488],
  ];
  for (const [name, make, params, macs] of cases)
    it(
      `${name}: ${params.toLocaleString('en')} parameters, ${macs.toLocaleString('en')} multiply-adds at 224×224`,
      () => {
        const net = nn.withoutInit(make); // placeholders: no parameter memory, no random numbers
        expect(net.numParameters()).toBe(params);
        const s = summary(net, [1, 3, 224, 224]);
        expect(s.totalParameters).toBe(params);
        expect(s.totalMultiplyAdds).toBe(macs);
        expect(s.rows[0].outputShapes).toEqual([[1, 1000]]);
        net.dispose();
      },
      LONG,
    );

  it('resnet50 without classifier: 25,557,032 − 2048·1000 − 1000 = 23,508,032', () => {
    const net = nn.withoutInit(() => resnet50({ numClasses: null }));
    expect(net.fc).toBeNull();
    expect(net.numParameters()).toBe(23_508_032);
    net.dispose();
  });
});

describe('built without initial values (nn.withoutInit)', () => {
  it('resnet50 takes only its 53 num_batches_tracked scalars until loaded', () => {
    const before = memory().numBytes;
    const net = nn.withoutInit(() => resnet50());
    expect(memory().numBytes - before).toBe(53 * 4);
    expect(net.numParameters()).toBe(25_557_032);
    net.dispose();
  });

  it('a network built without values, loaded with a twin’s state dict, computes what the twin computes', () => {
    const options = {
      numClasses: 5,
      planes: [4, 8, 8, 16],
      stemWidth: 8,
      deepStem: true,
      outputStride: 16,
    } as const;
    nn.manualSeed(31);
    const twin = resnet50(options);
    randomizeBatchNorms(twin, 32);
    const net = nn.withoutInit(() => resnet50(options));
    net.loadStateDict(twin.stateDict());
    const x = randomNormal([1, 3, 40, 32], 0, 1, { seed: 33 });
    const [a, b] = [twin.call(x), net.call(x)];
    expect(a.shape).toEqual([1, 5]);
    expect(compare(b, a).maxDiff).toBe(0);
    for (const t of [x, a, b]) t.dispose();
    twin.dispose();
    net.dispose();
  });
});

describe('resnet50 state dict', () => {
  it('has torchvision’s 320 keys: 53 convolutions, 53 BatchNorms × 5, fc weight and bias', () => {
    // 53 convolutions = the stem + 16 blocks × 3 + 4 projection shortcuts, each with one
    // BatchNorm (weight, bias, running_mean, running_var, num_batches_tracked): 53 + 265 + 2 = 320.
    const net = nn.withoutInit(() => resnet50());
    const sd = net.stateDict();
    const keys = [...sd.keys()];
    expect(keys.length).toBe(320);
    expect(keys.filter((k) => k.endsWith('num_batches_tracked')).length).toBe(53);
    expect([...sd].filter(([, t]) => t.rank === 4).length).toBe(53);
    const bn = (p: string) =>
      ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'].map((s) => `${p}.${s}`);
    expect(keys.slice(0, 20)).toEqual([
      'conv1.weight',
      ...bn('bn1'),
      'layer1.0.conv1.weight',
      ...bn('layer1.0.bn1'),
      'layer1.0.conv2.weight',
      ...bn('layer1.0.bn2'),
      'layer1.0.conv3.weight',
      'layer1.0.bn3.weight',
    ]);
    expect(keys.slice(-10)).toEqual([
      'layer4.2.bn2.running_var',
      'layer4.2.bn2.num_batches_tracked',
      'layer4.2.conv3.weight',
      ...bn('layer4.2.bn3'),
      'fc.weight',
      'fc.bias',
    ]);
    const shape = (k: string) => sd.get(k)!.shape;
    expect(shape('conv1.weight')).toEqual([64, 3, 7, 7]);
    expect(shape('layer1.0.downsample.0.weight')).toEqual([256, 64, 1, 1]);
    expect(shape('layer2.0.conv2.weight')).toEqual([128, 128, 3, 3]);
    expect(shape('layer4.0.downsample.0.weight')).toEqual([2048, 1024, 1, 1]);
    expect(shape('fc.weight')).toEqual([1000, 2048]);
    expect(shape('bn1.num_batches_tracked')).toEqual([]);
    for (const s of ['layer1', 'layer2', 'layer3', 'layer4'])
      expect(keys.filter((k) => k.startsWith(`${s}.`) && k.includes('.downsample.0.'))).toEqual([
        `${s}.0.downsample.0.weight`,
      ]);
    net.dispose();
  });
});

describe("SPNet's backbone: dilated deep-stem ResNet-50", () => {
  const spm: GateOptions = {
    name: 'spm',
    create: ({ channels, planes, position: p }) =>
      spnetPlacement(planes, p.index, p.blocks) ? new StripGate(channels) : null,
  };
  const listed = (net: nn.Module) => [...net.stateDict()].map(([k, t]) => [k, [...t.shape]]);

  it('keys and shapes equal the reference (module.pretrained.*, without spm)', () => {
    const ref = referenceKeys('module.pretrained.').filter(([k]) => !k.includes('.spm.'));
    expect(ref.length).toBe(330);
    const net = nn.withoutInit(() => dilatedResNet50({ multiGrid: [4, 8, 16] }));
    expect(listed(net)).toEqual(ref);
    const params = ref
      .filter(([k]) => !/running_mean|running_var|num_batches_tracked/.test(k))
      .reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
    expect(net.numParameters()).toBe(params);
    expect(params).toBe(23_631_808);
    net.dispose();
  });

  it('with a test gate of the SPM’s keys at SPNet’s placement, every key and shape equals the reference (414)', () => {
    const ref = referenceKeys('module.pretrained.');
    expect(ref.length).toBe(414);
    const net = nn.withoutInit(() => dilatedResNet50({ multiGrid: [4, 8, 16], extensions: { gate: spm } }));
    expect(listed(net)).toEqual(ref);
    const gated = net
      .namedModules()
      .filter(([, m]) => m instanceof StripGate)
      .map(([n]) => n);
    expect(gated).toEqual([
      'layer1.2.spm',
      'layer2.3.spm',
      'layer3.5.spm',
      'layer4.0.spm',
      'layer4.1.spm',
      'layer4.2.spm',
    ]);
    net.dispose();
  });

  it('strides and dilations as SPNet: layer3 stride 1, first block dilation 1 then 2; layer4 stride 1, multi-grid 4, 8, 16', () => {
    const net = nn.withoutInit(() => dilatedResNet50({ multiGrid: [4, 8, 16] }));
    expect(net.stages.map((s) => [s.stride, s.dilations])).toEqual([
      [1, [1, 1, 1]],
      [2, [1, 1, 1, 1]],
      [1, [1, 2, 2, 2, 2, 2]],
      [1, [4, 8, 16]],
    ]);
    const conv2 = (s: number, b: number) =>
      (net[`layer${s}` as 'layer1'].at(b) as Bottleneck).conv2 as nn.Conv2d;
    expect([conv2(2, 0).stride, conv2(2, 0).dilation]).toEqual([
      [2, 2],
      [1, 1],
    ]);
    for (const [s, b, d] of [
      [3, 0, 1],
      [3, 1, 2],
      [3, 5, 2],
      [4, 0, 4],
      [4, 1, 8],
      [4, 2, 16],
    ]) {
      expect(conv2(s, b).stride).toEqual([1, 1]);
      expect(conv2(s, b).dilation).toEqual([d, d]);
      expect(conv2(s, b).padding).toEqual([d, d]);
    }
    const ds = (s: number) =>
      ((net[`layer${s}` as 'layer1'].at(0) as Bottleneck).downsample as nn.Sequential).at(0) as nn.Conv2d;
    expect([1, 2, 3, 4].map((s) => ds(s).stride[0])).toEqual([1, 2, 1, 1]);
    const stem = net.conv1 as nn.Sequential;
    expect((stem.at(0) as nn.Conv2d).stride).toEqual([2, 2]);
    expect([...stem].map((m) => m.typeName)).toEqual([
      'Conv2d',
      'BatchNorm2d',
      'ReLU',
      'Conv2d',
      'BatchNorm2d',
      'ReLU',
      'Conv2d',
    ]);
    net.dispose();
  });

  it('at 1×3×64×64 its stages are [256, 16²], [512, 8²], [1024, 8²], [2048, 8²] (shapes traced by summary)', () => {
    const net = nn.withoutInit(() => dilatedResNet50({ multiGrid: [4, 8, 16], extensions: { gate: spm } }));
    const s = summary(net, [1, 3, 64, 64]);
    const out = (n: string) => s.rows.find((r) => r.name === n)!.outputShapes;
    expect(out('layer1')).toEqual([[1, 256, 16, 16]]);
    expect(out('layer2')).toEqual([[1, 512, 8, 8]]);
    expect(out('layer3')).toEqual([[1, 1024, 8, 8]]);
    expect(out('layer4')).toEqual([[1, 2048, 8, 8]]);
    expect(out('layer4.1.spm')).toEqual([[1, 512, 8, 8]]);
    net.dispose();
  });
});

describe('output stride', () => {
  it('planStages: 32, 16, 8 and multi-grid', () => {
    const d = (os: 8 | 16 | 32, mg: number[] | null = null) =>
      planStages([3, 4, 6, 3], os, mg).map((s) => [s.stride, s.dilations]);
    expect(d(32)).toEqual([
      [1, [1, 1, 1]],
      [2, [1, 1, 1, 1]],
      [2, [1, 1, 1, 1, 1, 1]],
      [2, [1, 1, 1]],
    ]);
    expect(d(16).slice(2)).toEqual([
      [2, [1, 1, 1, 1, 1, 1]],
      [1, [1, 2, 2]],
    ]);
    expect(d(8).slice(2)).toEqual([
      [1, [1, 2, 2, 2, 2, 2]],
      [1, [2, 4, 4]],
    ]);
    expect(d(16, [1, 2, 4])[3]).toEqual([1, [1, 2, 4]]);
  });

  it('layer4 is 2×2, 4×4, 8×8 at 1×3×64×64 for output stride 32, 16, 8 (run on backend-js, narrow widths; full widths traced)', () => {
    const expected: Record<number, number[]> = {
      32: [16, 8, 4, 2],
      16: [16, 8, 4, 4],
      8: [16, 8, 8, 8],
    };
    for (const os of [32, 16, 8] as const) {
      nn.manualSeed(os);
      const narrow = resnet50({ numClasses: null, outputStride: os, planes: [4, 8, 16, 32], stemWidth: 8 });
      const x = randomNormal([1, 3, 64, 64], 0, 1, { seed: os });
      const features = narrow.forwardFeatures(x);
      const sizes = expected[os];
      expect(features.map((t) => t.shape)).toEqual(sizes.map((h, i) => [1, [16, 32, 64, 128][i], h, h]));
      const y = narrow.call(x); // no classifier: layer4's output
      expect(compare(y, features[3]).maxDiff).toBe(0);
      for (const t of [x, y, ...features]) t.dispose();
      narrow.dispose();
      const full = nn.withoutInit(() => resnet50({ numClasses: null, outputStride: os }));
      expect(summary(full, [1, 3, 64, 64]).rows[0].outputShapes).toEqual([[1, 2048, sizes[3], sizes[3]]]);
      full.dispose();
    }
  });

  it('forwardFeatures equals the stage outputs read by feature capture, and leaves nothing behind', () => {
    nn.manualSeed(3);
    const net = resnet50({ numClasses: null, planes: [4, 8, 16, 32], stemWidth: 8, outputStride: 16 });
    randomizeBatchNorms(net, 4);
    const x = randomNormal([2, 3, 32, 40], 0, 1, { seed: 5 });
    const names = ['layer1', 'layer2', 'layer3', 'layer4'];
    const [y, captured] = nn.captureFeatures(net, names, () => net.call(x));
    const before = memory().numTensors;
    const features = net.forwardFeatures(x);
    expect(memory().numTensors).toBe(before + 4);
    features.forEach((f, i) => {
      expect(compare(f, captured.get(names[i])).maxDiff).toBe(0);
    });
    captured.dispose();
    for (const t of [x, y, ...features]) t.dispose();
    net.dispose();
  });
});

describe('a whole network fused (eval) equals unfused', () => {
  function fusedVsUnfused(net: ResNet, x: Tensor) {
    const unfused = net.call(x);
    net.eval();
    net.call(x).dispose(); // prepares the folded weights
    const [fused, trace] = traceKernels(() => net.call(x));
    const c = compare(fused, unfused);
    for (const t of [unfused, fused]) t.dispose();
    return { ...c, trace };
  }

  it(
    'resnet50 at 1×3×32×32 (BatchNorm statistics randomised): logits within 1e-4, 53 conv2d and no batchNorm',
    () => {
      nn.manualSeed(21);
      const net = resnet50();
      randomizeBatchNorms(net, 22, 2);
      const x = randomNormal([1, 3, 32, 32], 0, 1, { seed: 23 });
      const { maxDiff, maxRef, trace } = fusedVsUnfused(net, x);
      expect(maxRef).toBeGreaterThan(0.05); // the logits are not vanishingly small
      expect(maxDiff).toBeLessThanOrEqual(1e-4 * Math.max(1, maxRef));
      expect(trace.count('conv2d')).toBe(53);
      expect(trace.count('batchNorm')).toBe(0);
      expect(trace.count('matmul')).toBe(1);
      x.dispose();
      net.dispose();
    },
    LONG,
  );

  it('the dilated deep-stem network with gates (narrow) within 1e-4; no batchNorm runs (conv1.6 → bn1 → relu fuses across the stem Sequential)', () => {
    nn.manualSeed(24);
    const net = new ResNet({
      block: Bottleneck,
      layers: [2, 2, 3, 3],
      planes: [4, 8, 16, 32],
      stemWidth: 8,
      deepStem: true,
      outputStride: 8,
      multiGrid: [4, 8, 16],
      numClasses: null,
      extensions: {
        gate: {
          name: 'spm',
          create: (s) =>
            spnetPlacement(s.planes, s.position.index, s.position.blocks) ? new StripGate(s.channels) : null,
        },
      },
    });
    randomizeBatchNorms(net, 25, 1.5);
    const x = randomNormal([1, 3, 48, 40], 0, 1, { seed: 26 });
    const { maxDiff, maxRef, trace } = fusedVsUnfused(net, x);
    expect(maxRef).toBeGreaterThan(0.05);
    expect(maxDiff).toBeLessThanOrEqual(1e-4 * Math.max(1, maxRef));
    expect(trace.count('batchNorm')).toBe(0);
    x.dispose();
    net.dispose();
  });

  it('a BasicBlock network with a 10-class classifier gives [N, 10]', () => {
    nn.manualSeed(27);
    const net = new ResNet({
      block: BasicBlock,
      layers: [1, 1, 1, 1],
      planes: [8, 8, 16, 16],
      stemWidth: 8,
      numClasses: 10,
    });
    randomizeBatchNorms(net, 28);
    const x = randomNormal([2, 3, 32, 32], 0, 1, { seed: 29 });
    const { maxDiff, maxRef, trace } = fusedVsUnfused(net, x);
    expect(maxDiff).toBeLessThanOrEqual(1e-4 * Math.max(1, maxRef));
    expect(trace.count('conv2d')).toBe(1 + 4 * 2 + 3); // stem, 2 per block, projections in layer2-4 (layer1 keeps 8 channels)
    x.dispose();
    const y = net.call(randomNormal([2, 3, 32, 32]));
    expect(y.shape).toEqual([2, 10]);
    y.dispose();
    net.dispose();
  });
});

describe('refusals', () => {
  it('names the argument', () => {
    expect(() => new ResNet({ block: Bottleneck, layers: [3, 4, 6] })).toThrow(
      /argument 'layers' must be four block counts/,
    );
    expect(() => new ResNet({ block: Bottleneck, layers: [3, 4, 0, 3] })).toThrow(/argument 'layers\[2\]'/);
    expect(() => resnet50({ outputStride: 4 as 8 })).toThrow(
      /ResNet: argument 'outputStride' must be 8, 16 or 32/,
    );
    expect(() => resnet50({ multiGrid: [1, 2, 4] })).toThrow(
      /argument 'multiGrid' must be used only with outputStride 8 or 16/,
    );
    expect(() => resnet50({ outputStride: 8, multiGrid: [1, 2] })).toThrow(
      /one dilation per block of layer4 \(3\)/,
    );
    expect(() => resnet50({ numClasses: 0 })).toThrow(/argument 'numClasses'/);
    expect(() => planStages([3, 4], 8)).toThrow(/planStages: argument 'layers'/);
    expect(() => resnet18({ groups: 32 })).toThrow(/BasicBlock: argument 'groups'/);
    expect(() => new ResNet({ block: {} as typeof Bottleneck, layers: [1, 1, 1, 1] })).toThrow(
      /argument 'block'/,
    );
  });

  it('refuses an input with the wrong channel count', () => {
    const net = new ResNet({
      block: BasicBlock,
      layers: [1, 1, 1, 1],
      planes: [4, 4, 4, 4],
      numClasses: null,
    });
    const x = randomNormal([1, 1, 16, 16]);
    expect(() => net.call(x)).toThrow(/ResNet: argument 'x' must be shape \[N, 3, H, W\]/);
    expect(() => net.forwardFeatures(x)).toThrow(/ResNet.forwardFeatures: argument 'x'/);
    x.dispose();
    net.dispose();
  });
});
