import { registerJsBackend } from '@kernelzoo/backend-js';
import { registerWasmBackend } from '@kernelzoo/backend-wasm';
import { conv2d, memory, nn, randomNormal, setBackend, type Tensor } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { hrnet_w18_cls, hrnet_w32_pose, hrnetSeg, type PoseHighResolutionNet } from './index.js';
import { maxDifference, randomizeBatchNorms } from './test-support/helpers.js';

// Whole networks at reduced inputs (the full sizes run in `pnpm bench`). Pose needs input sides
// divisible by 32 (nearest fuse upsampling, as the reference), so pose W32 runs at 64×64:
// heatmaps 16×16, branches 16, 8, 4, 2.

beforeAll(() => {
  registerJsBackend();
  registerWasmBackend();
});

/** Pose W32 with seeded weights and randomized BatchNorms (equal on every backend). */
function seededPose(): PoseHighResolutionNet {
  nn.manualSeed(32);
  const net = hrnet_w32_pose();
  randomizeBatchNorms(net, 33);
  return net;
}

/** |a − b| ≤ 1e-4 · max|b| (float32 through ~60 layers; fused vs unfused rounding is ~1e-6 of the scale). */
function expectAgree(a: Tensor, b: Tensor): void {
  const d = maxDifference(a, b);
  expect(d.maxRef).toBeGreaterThan(0);
  expect(d.maxDiff).toBeLessThanOrEqual(1e-4 * d.maxRef);
}

const heatmaps: Record<string, Float32Array> = {};

for (const backend of ['js', 'wasm'])
  describe(`pose W32 end to end on ${backend} at 1×3×64×64`, () => {
    beforeAll(async () => {
      await setBackend(backend);
    });

    it('eval (fused) heatmaps [1, 17, 16, 16], finite, equal to the unfused forward; no tensor left behind', async () => {
      const before = memory().numTensors;
      const net = seededPose();
      const x = randomNormal([1, 3, 64, 64], 0, 1, { seed: 64 });
      const unfused = backend === 'js' ? net.call(x) : null;
      net.eval();
      const y = net.call(x);
      expect(y.shape).toEqual([1, 17, 16, 16]);
      const v = Float32Array.from(await y.data());
      expect(v.every(Number.isFinite)).toBe(true);
      if (unfused) {
        expectAgree(y, unfused);
        unfused.dispose();
      }
      heatmaps[backend] = v;
      y.dispose();
      x.dispose();
      net.dispose();
      expect(memory().numTensors).toBe(before);
    }, 120_000);
  });

describe('backends agree', () => {
  it('pose W32 heatmaps: wasm equals js within 1e-4 of the scale', () => {
    const [a, b] = [heatmaps.wasm, heatmaps.js];
    expect(a && b).toBeTruthy();
    let maxDiff = 0;
    let maxRef = 0;
    for (let i = 0; i < b.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      maxRef = Math.max(maxRef, Math.abs(b[i]));
    }
    expect(maxRef).toBeGreaterThan(0);
    expect(maxDiff).toBeLessThanOrEqual(1e-4 * maxRef);
  });
});

describe('every stream through nn.captureFeatures (js)', () => {
  beforeAll(async () => {
    await setBackend('js');
  });

  it('stage2…stage4 branches at 1/4 … 1/32, and final_layer applied to the captured stage-4 output gives the heatmaps', () => {
    const before = memory().numTensors;
    const net = seededPose().eval();
    const x = randomNormal([1, 3, 64, 64], 0, 1, { seed: 1 });
    const names = ['stage2', 'stage3', 'stage4.1', 'stage4', 'stage4.2.branches.3', 'transition3'];
    const [y, f] = nn.captureFeatures(net, names, () => net.call(x));
    const shapes = (n: string) => f.getList(n).map((t) => t.shape);
    expect(shapes('stage2')).toEqual([
      [1, 32, 16, 16],
      [1, 64, 8, 8],
    ]);
    expect(shapes('stage3')).toEqual([
      [1, 32, 16, 16],
      [1, 64, 8, 8],
      [1, 128, 4, 4],
    ]);
    expect(shapes('stage4.1')).toEqual([
      [1, 32, 16, 16],
      [1, 64, 8, 8],
      [1, 128, 4, 4],
      [1, 256, 2, 2],
    ]);
    expect(shapes('transition3')[3]).toEqual([1, 256, 2, 2]);
    expect(shapes('stage4')).toEqual([[1, 32, 16, 16]]); // the single-scale last module
    expect(f.get('stage4.2.branches.3').shape).toEqual([1, 256, 2, 2]);
    // The captured stream is the one the head read: final_layer's convolution on it = heatmaps.
    const sd = net.final_layer.stateDict();
    const again = conv2d(f.getList('stage4')[0], sd.get('weight')!, { bias: sd.get('bias')! });
    expect(maxDifference(again, y).maxDiff).toBeLessThanOrEqual(1e-6 * maxDifference(again, y).maxRef);
    // stage4.1's outputs survive the stage freeing them (captured handles): module stage4.2 run
    // again on them gives the captured stage-4 output exactly.
    const [last] = net.stages[2].modules[2].call(f.getList('stage4.1'));
    expect(maxDifference(last, f.getList('stage4')[0]).maxDiff).toBe(0);
    for (const t of [again, y, x, last]) t.dispose();
    f.dispose();
    net.dispose();
    expect(memory().numTensors).toBe(before);
  }, 60_000);
});

describe('classification and segmentation run at reduced inputs (js, eval)', () => {
  beforeAll(async () => {
    await setBackend('js');
  });

  it('cls W18 at 1×3×64×64: logits [1, 1000], finite, fused = unfused', async () => {
    const before = memory().numTensors;
    nn.manualSeed(18);
    const net = hrnet_w18_cls();
    randomizeBatchNorms(net, 19);
    const x = randomNormal([1, 3, 64, 64], 0, 1, { seed: 2 });
    const unfused = net.call(x);
    const y = net.eval().call(x);
    expect(y.shape).toEqual([1, 1000]);
    expect((await y.data()).every(Number.isFinite)).toBe(true);
    expectAgree(y, unfused);
    for (const t of [unfused, y, x]) t.dispose();
    net.dispose();
    expect(memory().numTensors).toBe(before);
  }, 60_000);

  it('seg HRNetV2-W16 (W48’s definition at a third of the width) at 1×3×36×52 (any size: bilinear fuse): logits [1, 19, 9, 13], finite, fused = unfused', async () => {
    const before = memory().numTensors;
    nn.manualSeed(48);
    const net = hrnetSeg({ width: 16 });
    randomizeBatchNorms(net, 49);
    const x = randomNormal([1, 3, 36, 52], 0, 1, { seed: 3 });
    const unfused = net.call(x);
    const y = net.eval().call(x);
    expect(y.shape).toEqual([1, 19, 9, 13]);
    expect((await y.data()).every(Number.isFinite)).toBe(true);
    expectAgree(y, unfused);
    for (const t of [unfused, y, x]) t.dispose();
    net.dispose();
    expect(memory().numTensors).toBe(before);
  }, 60_000);
});
