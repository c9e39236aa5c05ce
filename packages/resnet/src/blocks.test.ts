import {
  ArgumentError,
  add,
  batchNorm,
  conv2d,
  memory,
  mul,
  nn,
  randomNormal,
  relu,
  type Tensor,
  tidy,
  traceKernels,
} from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { BasicBlock, Bottleneck, projectionShortcut, type SpatialConvSpec } from './index.js';
import { compare, randomizeBatchNorms, StripGate, useJs } from './test-support/helpers.js';

beforeAll(useJs);

// An oracle from core's plain ops (conv2d, batchNorm, add, relu) and the block's state dict:
// it checks the block's wiring (where the stride, dilation, padding, groups, gate and shortcut go).

function bn(x: Tensor, sd: Map<string, Tensor>, key: string): Tensor {
  return batchNorm(x, sd.get(`${key}.running_mean`)!, sd.get(`${key}.running_var`)!, {
    weight: sd.get(`${key}.weight`),
    bias: sd.get(`${key}.bias`),
  });
}

interface ConvSpec {
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
}

function conv(x: Tensor, sd: Map<string, Tensor>, key: string, spec: ConvSpec = {}): Tensor {
  return conv2d(x, sd.get(`${key}.weight`)!, {
    bias: sd.get(`${key}.bias`) ?? null,
    stride: spec.stride ?? 1,
    padding: spec.padding ?? 0,
    dilation: spec.dilation ?? 1,
    groups: spec.groups ?? 1,
  });
}

function bottleneckOracle(
  block: Bottleneck,
  x: Tensor,
  s: { stride: number; dilation: number; groups: number },
  gate?: (t: Tensor) => Tensor,
): Tensor {
  return tidy(() => {
    const sd = block.stateDict();
    let out = relu(bn(conv(x, sd, 'conv1'), sd, 'bn1'));
    out = relu(
      bn(
        conv(out, sd, 'conv2', {
          stride: s.stride,
          padding: s.dilation,
          dilation: s.dilation,
          groups: s.groups,
        }),
        sd,
        'bn2',
      ),
    );
    if (gate) out = mul(out, gate(out));
    out = bn(conv(out, sd, 'conv3'), sd, 'bn3');
    const identity = block.downsample
      ? bn(conv(x, sd, 'downsample.0', { stride: s.stride }), sd, 'downsample.1')
      : x;
    return relu(add(out, identity));
  });
}

function basicOracle(block: BasicBlock, x: Tensor, stride: number, dilation: number, second: number): Tensor {
  return tidy(() => {
    const sd = block.stateDict();
    let out = relu(bn(conv(x, sd, 'conv1', { stride, padding: dilation, dilation }), sd, 'bn1'));
    out = bn(conv(out, sd, 'conv2', { padding: second, dilation: second }), sd, 'bn2');
    const identity = block.downsample ? bn(conv(x, sd, 'downsample.0', { stride }), sd, 'downsample.1') : x;
    return relu(add(out, identity));
  });
}

const BN = (p: string) =>
  ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'].map((s) => `${p}.${s}`);

/**
 * Runs `block` on `x` unfused (vs `expected`), then in eval mode (vs unfused); returns the trace
 * of a steady eval call (after the one that prepares the folded weights).
 */
function checkFusedEqualsUnfused(block: nn.Module, x: Tensor, expected: Tensor) {
  const unfused = block.call(x);
  const a = compare(unfused, expected);
  expect(a.maxRef).toBeGreaterThan(0.1);
  expect(a.maxDiff).toBeLessThanOrEqual(1e-5 * Math.max(1, a.maxRef));
  block.eval();
  block.call(x).dispose(); // the first eval call folds the BatchNorms (its own kernels)
  const [fused, trace] = traceKernels(() => block.call(x));
  const b = compare(fused, unfused);
  expect(b.maxDiff).toBeLessThanOrEqual(1e-4 * Math.max(1, b.maxRef));
  for (const t of [unfused, fused]) t.dispose();
  return trace;
}

describe('Bottleneck', () => {
  it('has torchvision keys, in order: conv1, bn1, conv2, bn2, conv3, bn3, downsample.0, downsample.1', () => {
    const plain = new Bottleneck(256, 64);
    expect([...plain.stateDict().keys()]).toEqual([
      'conv1.weight',
      ...BN('bn1'),
      'conv2.weight',
      ...BN('bn2'),
      'conv3.weight',
      ...BN('bn3'),
    ]);
    const shapes = Object.fromEntries([...plain.stateDict()].map(([k, t]) => [k, t.shape]));
    expect(shapes['conv1.weight']).toEqual([64, 256, 1, 1]);
    expect(shapes['conv2.weight']).toEqual([64, 64, 3, 3]);
    expect(shapes['conv3.weight']).toEqual([256, 64, 1, 1]);
    plain.dispose();
    const projected = new Bottleneck(64, 64, { downsample: projectionShortcut(64, 256) });
    expect([...projected.stateDict().keys()].slice(-6)).toEqual([
      'downsample.0.weight',
      ...BN('downsample.1'),
    ]);
    projected.dispose();
  });

  it('ResNeXt width: floor(planes · baseWidth / 64) · groups, grouped 3×3', () => {
    const b = new Bottleneck(256, 128, { groups: 32, baseWidth: 4 });
    expect(b.width).toBe(256);
    expect(b.stateDict().get('conv2.weight')!.shape).toEqual([256, 8, 3, 3]);
    expect(b.outChannels).toBe(512);
    b.dispose();
    const odd = new Bottleneck(64, 10, { groups: 3, baseWidth: 40 }); // floor(10·40/64) = 6 → 18
    expect(odd.width).toBe(18);
    odd.dispose();
  });

  it('in eval runs 3 conv2d and no batchNorm without downsample (traced), equal to unfused and to the plain-op oracle', () => {
    nn.manualSeed(1);
    const block = new Bottleneck(32, 8);
    randomizeBatchNorms(block, 2);
    const x = randomNormal([2, 32, 7, 6], 0, 1, { seed: 3 });
    const expected = bottleneckOracle(block, x, { stride: 1, dilation: 1, groups: 1 });
    const trace = checkFusedEqualsUnfused(block, x, expected);
    expect(trace.count('conv2d')).toBe(3);
    expect(trace.count('batchNorm')).toBe(0);
    expect(trace.count('add')).toBe(1); // the residual sum, with the ReLU after it fused in
    expect(trace.count('relu')).toBe(0);
    expect(trace.calls.map((c) => c.kernel)).toEqual(['conv2d', 'conv2d', 'conv2d', 'add']);
    for (const t of [x, expected]) t.dispose();
    block.dispose();
  });

  it('with a projection shortcut, stride 2 on the 3×3, dilation 2 (padding 2) and groups: 4 conv2d in eval, equal to the oracle', () => {
    nn.manualSeed(4);
    const block = new Bottleneck(16, 8, {
      stride: 2,
      dilation: 2,
      groups: 2,
      baseWidth: 32,
      downsample: projectionShortcut(16, 32, 2),
    });
    expect(block.width).toBe(8);
    const conv2 = block.conv2 as nn.Conv2d;
    expect([conv2.stride, conv2.dilation, conv2.padding, conv2.groups]).toEqual([[2, 2], [2, 2], [2, 2], 2]);
    expect(block.conv1.stride).toEqual([1, 1]); // torchvision v1.5: the stride is on the 3×3
    randomizeBatchNorms(block, 5);
    const x = randomNormal([2, 16, 9, 11], 0, 1, { seed: 6 });
    const expected = bottleneckOracle(block, x, { stride: 2, dilation: 2, groups: 2 });
    expect(expected.shape).toEqual([2, 32, 5, 6]);
    const trace = checkFusedEqualsUnfused(block, x, expected);
    expect(trace.count('conv2d')).toBe(4);
    expect(trace.count('batchNorm')).toBe(0);
    for (const t of [x, expected]) t.dispose();
    block.dispose();
  });

  it('refuses an input of the wrong channel count, naming the block', () => {
    const block = new Bottleneck(16, 4);
    const x = randomNormal([1, 8, 4, 4]);
    expect(() => block.call(x)).toThrow(ArgumentError);
    expect(() => block.call(x)).toThrow(/Bottleneck: argument 'x' must be shape \[N, 16, H, W\]/);
    x.dispose();
    block.dispose();
  });

  it('refuses bad options', () => {
    expect(() => new Bottleneck(16, 4, { stride: 0 })).toThrow(/Bottleneck: argument 'stride'/);
    expect(() => new Bottleneck(16, 4, { groups: 1.5 })).toThrow(/argument 'groups'/);
    expect(() => new Bottleneck(16, 1, { baseWidth: 32 })).toThrow(/argument 'baseWidth'/);
    expect(() => new Bottleneck(16, 4, { downsample: 'conv' as unknown as nn.Module })).toThrow(
      /argument 'downsample' must be a Module or null/,
    );
    expect(
      () => new Bottleneck(16, 4, { extensions: { gate: { name: 'bn3', create: () => null } } }),
    ).toThrow(/argument 'extensions.gate.name'/);
  });
});

describe('Bottleneck extension points', () => {
  it('a gate runs as out = out * gate(out) after conv2/bn2/relu, before conv3; its keys come last', () => {
    nn.manualSeed(7);
    const specs: unknown[] = [];
    const block = new Bottleneck(16, 8, {
      downsample: projectionShortcut(16, 32),
      position: { stage: 2, index: 0, blocks: 6 },
      extensions: {
        gate: {
          name: 'spm',
          create: (spec) => {
            specs.push(spec);
            return new StripGate(spec.channels);
          },
        },
      },
    });
    expect(specs).toEqual([{ channels: 8, planes: 8, position: { stage: 2, index: 0, blocks: 6 } }]);
    expect(block.gate).toBeInstanceOf(StripGate);
    const keys = [...block.stateDict().keys()];
    expect(keys.slice(keys.indexOf('downsample.0.weight'))).toEqual([
      'downsample.0.weight',
      ...BN('downsample.1'),
      'spm.conv1.weight',
      ...BN('spm.bn1'),
      'spm.conv2.weight',
      ...BN('spm.bn2'),
      'spm.conv3.weight',
      'spm.conv3.bias',
    ]);
    randomizeBatchNorms(block, 8);
    const gate = block.gate!;
    const x = randomNormal([1, 16, 6, 5], 0, 1, { seed: 9 });
    const expected = bottleneckOracle(block, x, { stride: 1, dilation: 1, groups: 1 }, (t) => gate.call(t));
    const withoutGate = bottleneckOracle(block, x, { stride: 1, dilation: 1, groups: 1 });
    expect(compare(withoutGate, expected).maxDiff).toBeGreaterThan(1e-2); // the gate matters
    const trace = checkFusedEqualsUnfused(block, x, expected);
    expect(trace.count('conv2d')).toBe(4 + 3); // block + the gate's three (BatchNorms folded)
    expect(trace.count('batchNorm')).toBe(0);
    // The gate's output is readable by feature capture, as any module's.
    const [y, features] = nn.captureFeatures(block, ['spm'], () => block.call(x));
    expect(features.get('spm').shape).toEqual([1, 8, 6, 5]);
    features.dispose();
    for (const t of [x, y, expected, withoutGate]) t.dispose();
    block.dispose();
  });

  it('a gate factory returning null leaves the block as it is', () => {
    const block = new Bottleneck(16, 4, { extensions: { gate: { name: 'spm', create: () => null } } });
    expect(block.gate).toBeNull();
    expect([...block.stateDict().keys()].some((k) => k.startsWith('spm'))).toBe(false);
    block.dispose();
  });

  it('spatialConv builds conv2 from the spec; bn2 and relu follow a plain module', () => {
    nn.manualSeed(10);
    const seen: SpatialConvSpec[] = [];
    const block = new Bottleneck(16, 8, {
      stride: 2,
      dilation: 3,
      groups: 2,
      downsample: projectionShortcut(16, 32, 2),
      position: { stage: 1, index: 0, blocks: 4 },
      extensions: {
        spatialConv: (s) => {
          seen.push(s);
          // Not a bare Conv2d: the block cannot fuse bn2 into it.
          return new nn.Sequential(
            new nn.Conv2d(s.inChannels, s.outChannels, 3, {
              stride: s.stride,
              padding: s.dilation,
              dilation: s.dilation,
              groups: s.groups,
              bias: false,
            }),
          );
        },
      },
    });
    expect(seen).toEqual([
      {
        inChannels: 16, // floor(8 · 64 / 64) · 2
        outChannels: 16,
        stride: 2,
        dilation: 3,
        groups: 2,
        planes: 8,
        position: { stage: 1, index: 0, blocks: 4 },
      },
    ]);
    expect([...block.stateDict().keys()].filter((k) => k.startsWith('conv2') || k.startsWith('bn2'))).toEqual(
      ['conv2.0.weight', ...BN('bn2')],
    );
    randomizeBatchNorms(block, 11);
    const x = randomNormal([1, 16, 8, 8], 0, 1, { seed: 12 });
    const y = block.call(x);
    block.eval();
    block.call(x).dispose();
    const [fused, trace] = traceKernels(() => block.call(x));
    expect(compare(fused, y).maxDiff).toBeLessThan(1e-4);
    expect(trace.count('conv2d')).toBe(4);
    expect(trace.count('batchNorm')).toBe(1); // bn2 after the non-Conv2d conv2
    for (const t of [x, y, fused]) t.dispose();
    block.dispose();
  });

  it('a normalized spatialConv replaces conv2 and bn2 (timm SelectiveKernel style): no bn2 keys, no relu after it', () => {
    nn.manualSeed(13);
    const block = new Bottleneck(16, 4, {
      extensions: {
        spatialConv: (s) => ({
          module: new nn.Sequential(
            new nn.Conv2d(s.inChannels, s.outChannels, 3, { padding: 1, bias: false }),
            new nn.BatchNorm2d(s.outChannels),
            new nn.Sigmoid(), // its own activation: the block must not apply a ReLU after it
          ),
          normalized: true,
        }),
      },
    });
    expect(block.bn2).toBeNull();
    const keys = [...block.stateDict().keys()];
    expect(keys.filter((k) => k.startsWith('bn2'))).toEqual([]);
    expect(keys.filter((k) => k.startsWith('conv2'))).toEqual(['conv2.0.weight', ...BN('conv2.1')]);
    randomizeBatchNorms(block, 14);
    const x = randomNormal([1, 16, 5, 5], 0, 1, { seed: 15 });
    const expected = tidy(() => {
      const sd = block.stateDict();
      const a1 = relu(bn(conv(x, sd, 'conv1'), sd, 'bn1'));
      const a2 = block.conv2.call(a1); // its sigmoid output, no relu after it
      return relu(add(bn(conv(a2, sd, 'conv3'), sd, 'bn3'), x));
    });
    const trace = checkFusedEqualsUnfused(block, x, expected);
    expect(trace.count('conv2d')).toBe(3);
    expect(trace.count('batchNorm')).toBe(0);
    for (const t of [x, expected]) t.dispose();
    block.dispose();
  });

  it('leaves no tensor behind', () => {
    const block = new Bottleneck(8, 2, {
      extensions: { gate: { name: 'gate', create: (s) => new StripGate(s.channels) } },
    });
    const x = randomNormal([1, 8, 4, 4]);
    block.call(x).dispose();
    block.eval();
    block.call(x).dispose(); // prepares the folded weights
    const before = memory().numTensors;
    block.call(x).dispose();
    expect(memory().numTensors).toBe(before);
    x.dispose();
    block.dispose();
  });
});

describe('BasicBlock', () => {
  it('has torchvision keys and refuses groups and baseWidth', () => {
    const b = new BasicBlock(64, 128, { stride: 2, downsample: projectionShortcut(64, 128, 2) });
    expect([...b.stateDict().keys()]).toEqual([
      'conv1.weight',
      ...BN('bn1'),
      'conv2.weight',
      ...BN('bn2'),
      'downsample.0.weight',
      ...BN('downsample.1'),
    ]);
    expect(b.stateDict().get('conv1.weight')!.shape).toEqual([128, 64, 3, 3]);
    b.dispose();
    expect(() => new BasicBlock(64, 64, { groups: 2 })).toThrow(/BasicBlock: argument 'groups'/);
    expect(() => new BasicBlock(64, 64, { baseWidth: 32 })).toThrow(/BasicBlock: argument 'baseWidth'/);
  });

  it('in eval runs 2 conv2d (3 with a projection) and no batchNorm, equal to the oracle (stride 2, dilations 1 then 2)', () => {
    nn.manualSeed(16);
    const plain = new BasicBlock(8, 8);
    randomizeBatchNorms(plain, 17);
    const x = randomNormal([2, 8, 6, 7], 0, 1, { seed: 18 });
    const e1 = basicOracle(plain, x, 1, 1, 1);
    expect(checkFusedEqualsUnfused(plain, x, e1).count('conv2d')).toBe(2);
    const strided = new BasicBlock(8, 16, {
      stride: 2,
      dilation: 1,
      secondDilation: 2,
      downsample: projectionShortcut(8, 16, 2),
    });
    randomizeBatchNorms(strided, 19);
    const e2 = basicOracle(strided, x, 2, 1, 2);
    expect(e2.shape).toEqual([2, 16, 3, 4]);
    const t2 = checkFusedEqualsUnfused(strided, x, e2);
    expect(t2.count('conv2d')).toBe(3);
    expect(t2.count('batchNorm')).toBe(0);
    for (const t of [x, e1, e2]) t.dispose();
    plain.dispose();
    strided.dispose();
  });

  it('its spatialConv and gate act on conv1 (the strided 3×3)', () => {
    const seen: SpatialConvSpec[] = [];
    const b = new BasicBlock(8, 16, {
      stride: 2,
      downsample: projectionShortcut(8, 16, 2),
      extensions: {
        spatialConv: (s) => {
          seen.push(s);
          return new nn.Conv2d(s.inChannels, s.outChannels, 3, { stride: s.stride, padding: 1, bias: false });
        },
        gate: { name: 'gate', create: (s) => new StripGate(s.channels) },
      },
    });
    expect(seen.map((s) => [s.inChannels, s.outChannels, s.stride])).toEqual([[8, 16, 2]]);
    expect([...b.stateDict().keys()].at(-1)).toBe('gate.conv3.bias');
    const x = randomNormal([1, 8, 6, 6]);
    const y = b.call(x);
    expect(y.shape).toEqual([1, 16, 3, 3]);
    for (const t of [x, y]) t.dispose();
    b.dispose();
  });
});
