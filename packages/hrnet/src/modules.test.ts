import { memory, nn, randomNormal, type Tensor } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type FuseUpsampling, HighResolutionModule, hrnetConfig, ModuleSlots, Transition } from './index.js';
import { maxDifference, randomizeBatchNorms, useJs } from './test-support/helpers.js';
import { type HRModuleShape, hrModule, type Map3, sample } from './test-support/oracle.js';

beforeAll(useJs);

/**
 * The float32 result against the float64 oracle: |a − e| ≤ 1e-5 · max(1, max|e|). The sums here
 * have at most a few hundred terms of size ≲ 1, so float32 rounding stays orders of magnitude
 * below (measured: ≲ 1e-6); a wrong index, padding or order of ops gives errors of order 1.
 */
function expectClose(t: Tensor, n: number, e: Map3): void {
  expect(t.shape.slice(1)).toEqual([e.c, e.h, e.w]);
  const a = sample(t, n).v;
  let maxRef = 0;
  let maxDiff = 0;
  for (let k = 0; k < a.length; k++) {
    maxRef = Math.max(maxRef, Math.abs(e.v[k]));
    maxDiff = Math.max(maxDiff, Math.abs(a[k] - e.v[k]));
  }
  expect(maxRef).toBeGreaterThan(0.1);
  expect(maxDiff).toBeLessThanOrEqual(1e-5 * Math.max(1, maxRef));
}

function inputs(sizes: [number, number][], channels: number[], seed: number): Tensor[] {
  return sizes.map(([h, w], i) => randomNormal([2, channels[i], h, w], 0, 1, { seed: seed + i }));
}

describe('HighResolutionModule (3 branches) against a plain float64 oracle', () => {
  const inChannels = [4, 5, 8]; // branch 1 projects (5 → 6): its first block has downsample.0/.1
  const channels = [4, 6, 8];
  const blocks = [2, 1, 1];
  const cases: [string, FuseUpsampling, [number, number][], boolean][] = [
    [
      'nearest ×2^(j−i), multi-scale',
      { mode: 'nearest' },
      [
        [8, 12],
        [4, 6],
        [2, 3],
      ],
      true,
    ],
    [
      'nearest, single-scale output (pose’s last module)',
      { mode: 'nearest' },
      [
        [8, 12],
        [4, 6],
        [2, 3],
      ],
      false,
    ],
    [
      'bilinear to odd sizes, align_corners false',
      { mode: 'bilinear', alignCorners: false },
      [
        [7, 5],
        [4, 3],
        [2, 2],
      ],
      true,
    ],
    [
      'bilinear, align_corners true',
      { mode: 'bilinear', alignCorners: true },
      [
        [7, 5],
        [4, 3],
        [2, 2],
      ],
      true,
    ],
  ];
  for (const [name, fuse, sizes, multiScaleOutput] of cases)
    it(`${name}: unfused and eval (fused) equal the oracle`, () => {
      const before = memory().numTensors;
      nn.manualSeed(3);
      const m = new HighResolutionModule({
        block: 'basic',
        blocks,
        inChannels,
        channels,
        multiScaleOutput,
        fuse,
      });
      randomizeBatchNorms(m, 11);
      const xs = inputs(sizes, inChannels, 5);
      const dict = m.stateDict();
      const shape: HRModuleShape = {
        blocks,
        outputs: multiScaleOutput ? 3 : 1,
        fuse: fuse.mode === 'nearest' ? fuse : { mode: 'bilinear', alignCorners: fuse.alignCorners ?? false },
      };
      const expected = [0, 1].map((n) =>
        hrModule(
          xs.map((x) => sample(x, n)),
          dict,
          '',
          shape,
        ),
      );
      const unfused = m.call(xs);
      expect(unfused.length).toBe(shape.outputs);
      unfused.forEach((t, i) => {
        expectClose(t, 0, expected[0][i]);
        expectClose(t, 1, expected[1][i]);
      });
      m.eval();
      const fused = m.call(xs);
      fused.forEach((t, i) => {
        expectClose(t, 0, expected[0][i]);
        expectClose(t, 1, expected[1][i]);
      });
      for (const t of [...unfused, ...fused, ...xs]) t.dispose();
      m.dispose();
      expect(memory().numTensors).toBe(before);
    });

  it('keys: branches, then fuse_layers.i.j with the empty slot i = j skipped, as the reference', () => {
    const m = nn.withoutInit(
      () =>
        new HighResolutionModule({
          block: 'basic',
          blocks: [1, 1, 1],
          inChannels: [2, 4, 8],
          channels: [2, 4, 8],
        }),
    );
    const convs = [...m.stateDict()]
      .filter(([k]) => k.startsWith('fuse_layers.') && k.endsWith('.weight') && !/\.1\.weight$/.test(k))
      .map(([k, t]) => `${k} ${t.shape.join('×')}`);
    expect(convs).toEqual([
      'fuse_layers.0.1.0.weight 2×4×1×1',
      'fuse_layers.0.2.0.weight 2×8×1×1',
      'fuse_layers.1.0.0.0.weight 4×2×3×3',
      'fuse_layers.1.2.0.weight 4×8×1×1',
      'fuse_layers.2.0.0.0.weight 2×2×3×3', // keeps branch 0's width, ReLU after it
      'fuse_layers.2.0.1.0.weight 8×2×3×3', // the last step maps to branch 2's width, no ReLU
      'fuse_layers.2.1.0.0.weight 8×4×3×3',
    ]);
    const slots = m.fuseLayers!.at(1);
    expect(slots).toBeInstanceOf(ModuleSlots);
    expect(slots.at(1)).toBeNull();
    expect([...m.stateDict().keys()][0]).toBe('branches.0.0.conv1.weight');
    m.dispose();
  });

  it('one branch: no fuse layers, the branch output only (as the reference)', () => {
    nn.manualSeed(1);
    const m = new HighResolutionModule({ block: 'bottleneck', blocks: [2], inChannels: [8], channels: [2] });
    expect([...m.stateDict().keys()].some((k) => k.startsWith('fuse_layers'))).toBe(false);
    expect(m.outChannels).toEqual([8]);
    const x = randomNormal([1, 8, 3, 3], 0, 1, { seed: 1 });
    const [y] = m.call([x]);
    const direct = m.branches.at(0).call(x);
    expect(maxDifference(y, direct).maxDiff).toBe(0);
    for (const t of [x, y, direct]) t.dispose();
    m.dispose();
  });

  it('nearest fuse refuses branch sizes that do not halve exactly, naming the sizes', () => {
    nn.manualSeed(1);
    const m = new HighResolutionModule({
      block: 'basic',
      blocks: [1, 1],
      inChannels: [2, 4],
      channels: [2, 4],
    });
    const xs = inputs(
      [
        [5, 4],
        [3, 2],
      ],
      [2, 4],
      1,
    ); // 3 × 2 → 6 × 4 ≠ 5 × 4
    expect(() => m.call(xs)).toThrow(/branch 1 brought to 6×4 for branch 0 of 5×4/);
    for (const t of xs) t.dispose();
    m.dispose();
  });

  it('refuses lists of the wrong length and channel counts', () => {
    expect(
      () => new HighResolutionModule({ block: 'basic', blocks: [1, 1], inChannels: [2], channels: [2, 4] }),
    ).toThrow(/inChannels/);
    const m = nn.withoutInit(
      () =>
        new HighResolutionModule({ block: 'basic', blocks: [1, 1], inChannels: [2, 4], channels: [2, 4] }),
    );
    const x = randomNormal([1, 3, 4, 4], 0, 1, { seed: 1 });
    expect(() => m.call([x])).toThrow(/2 tensors/);
    expect(() => m.call([x, x])).toThrow(/\[N, 2, H, W\]/);
    x.dispose();
    m.dispose();
  });
});

describe('Transition', () => {
  it('transition1 / 2 keys: an existing branch convolves only when its width changes; a new one steps down from the last', () => {
    const t1 = nn.withoutInit(() => new Transition([256], [32, 64]));
    expect(
      [...t1.stateDict()].filter(([k]) => k.endsWith('0.weight')).map(([k, t]) => `${k} ${t.shape}`),
    ).toEqual(['0.0.weight 32,256,3,3', '1.0.0.weight 64,256,3,3']);
    const t3 = nn.withoutInit(() => new Transition([8, 16], [8, 16, 32, 64]));
    expect(t3.layers[0]).toBeNull();
    expect(
      [...t3.stateDict()].filter(([k]) => /\.0\.weight$/.test(k)).map(([k, t]) => `${k} ${t.shape}`),
    ).toEqual([
      '2.0.0.weight 32,16,3,3',
      '3.0.0.weight 16,16,3,3', // two stride-2 steps from the last branch, the first keeping its width
      '3.1.0.weight 64,16,3,3',
    ]);
    t1.dispose();
    t3.dispose();
  });

  it('passes unchanged branches through and brings new ones to half the resolution', () => {
    nn.manualSeed(2);
    const t = new Transition([4, 6], [4, 6, 8]);
    const xs = inputs(
      [
        [8, 8],
        [4, 4],
      ],
      [4, 6],
      3,
    );
    const ys = t.call(xs);
    expect(ys.map((y) => y.shape)).toEqual([
      [2, 4, 8, 8],
      [2, 6, 4, 4],
      [2, 8, 2, 2],
    ]);
    expect(maxDifference(ys[0], xs[0]).maxDiff).toBe(0);
    expect(maxDifference(ys[1], xs[1]).maxDiff).toBe(0);
    for (const y of [...xs, ys[2]]) y.dispose();
    t.dispose();
  });
});

describe('hrnetConfig', () => {
  it('W widths double per branch; modules 1/4/3; 4 blocks; stage 1 of 4 bottlenecks', () => {
    const c = hrnetConfig(18);
    expect(c.stage1).toEqual({ block: 'bottleneck', blocks: 4, channels: 64 });
    expect(c.stages.map((s) => [s.modules, s.block, s.blocks, s.channels])).toEqual([
      [1, 'basic', [4, 4], [18, 36]],
      [4, 'basic', [4, 4, 4], [18, 36, 72]],
      [3, 'basic', [4, 4, 4, 4], [18, 36, 72, 144]],
    ]);
    expect(c.multiScaleOutput).toBe(true);
    expect(c.fuse).toEqual({ mode: 'nearest' });
    expect(() => hrnetConfig(0)).toThrow(/width/);
  });
});
