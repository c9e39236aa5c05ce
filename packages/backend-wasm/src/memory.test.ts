import {
  adaptiveAvgPool2d,
  add,
  batchNorm,
  concat,
  conv2d,
  KernelzooError,
  keep,
  maxPool2d,
  memory,
  nn,
  randomNormal,
  randomUniform,
  registerBackend,
  resizeBilinear,
  setBackend,
  startKernelTrace,
  sum,
  tidy,
} from '@kernelzoo/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Allocator, PAGE, WasmOutOfMemoryError } from './allocator.js';
import { WasmBackend } from './backend.js';
import { resetWasmFeatures, WasmFeatureError } from './features.js';
import { getThreads, registerWasmBackend, setThreads } from './index.js';

describe('wasm backend memory', () => {
  it('stays flat over 2000 forward passes of a small multi-branch network (2 threads)', async () => {
    registerWasmBackend({ threads: 2 });
    await setBackend('wasm');
    await setThreads(2);
    expect(getThreads()).toBe(2);
    const [x, w1, w2, mean, variance] = tidy(() =>
      [
        randomUniform([1, 8, 24, 20], -1, 1, { seed: 1 }),
        randomUniform([16, 8, 3, 3], -1, 1, { seed: 2 }),
        randomUniform([16, 4, 3, 3], -1, 1, { seed: 3 }),
        randomUniform([16], -1, 1, { seed: 4 }),
        randomUniform([16], 0.5, 1, { seed: 5 }),
      ].map((t) => keep(t)),
    );
    const forward = () =>
      tidy(() => {
        const a = conv2d(x, w1, { padding: 1, activation: 'relu' });
        const b = batchNorm(conv2d(a, w2, { padding: 2, dilation: 2, groups: 4 }), mean, variance);
        const p = maxPool2d(add(a, b), 2, { stride: 2 });
        const up = resizeBilinear(p, [24, 20], false);
        const g = adaptiveAvgPool2d(up, 1);
        return sum(concat([add(up, g), a], 1));
      });
    const backend = (await import('@kernelzoo/core')).getBackend() as WasmBackend;
    const baseline = memory().numTensors;
    let heap = 0;
    let inUse = 0;
    let checksum = 0;
    for (let i = 0; i < 2000; i++) {
      const y = forward();
      if (i % 500 === 0) checksum = y.dataSync()[0];
      y.dispose();
      if (i === 20) {
        heap = backend.heapStats().memoryBytes;
        inUse = backend.heapBytesInUse();
      }
    }
    expect(Number.isFinite(checksum)).toBe(true);
    expect(memory().numTensors).toBe(baseline);
    expect(backend.heapStats().memoryBytes).toBe(heap);
    // Every per-call scratch block was freed (the memory's size alone cannot show a slow leak).
    expect(backend.heapBytesInUse()).toBe(inUse);
    expect(backend.memory().buffers).toBe(5);
    for (const t of [x, w1, w2, mean, variance]) t.dispose();
    expect(backend.memory()).toEqual({ buffers: 0, bytes: 0 });
  }, 120_000); // ~2 s alone; generous for a loaded CI machine

  it('holds an eval forward within the folded weights plus twice its live activations, flat over 20', async () => {
    // Conv + BatchNorm + ReLU stages like a network's: eight 128 → 128 3×3 stages after a
    // stride-2 stem, 4.7 MiB of weights and ~2.3 MiB of live activations at 96².
    registerBackend('wasm-forward-memory', () => WasmBackend.create({ threads: 1 }), 0);
    await setBackend('wasm-forward-memory');
    const backend = (await import('@kernelzoo/core')).getBackend() as WasmBackend;
    const start = backend.heapStats().memoryBytes;
    nn.manualSeed(3);
    const stage = (cin: number, cout: number, stride: number) => [
      new nn.Conv2d(cin, cout, 3, { stride, padding: 1, bias: false }),
      new nn.BatchNorm2d(cout),
      new nn.ReLU(),
    ];
    const net = new nn.Sequential(
      ...stage(3, 128, 2),
      ...Array.from({ length: 8 }, () => stage(128, 128, 1)).flat(),
    ).eval();
    const x = randomNormal([1, 3, 96, 96], 0, 1, { seed: 4 });
    const forward = async () => {
      const y = net.call(x);
      await y.data();
      y.dispose();
    };
    await forward(); // folds the weights: the originals move to host memory
    const held = backend.memory().bytes; // folded weights + input
    const trace = startKernelTrace();
    await forward();
    trace.stop();
    const activations = trace.peakBackendBytes - held;
    const afterTwo = backend.heapStats().memoryBytes;
    for (let i = 0; i < 18; i++) await forward();
    expect(backend.heapStats().memoryBytes).toBe(afterTwo);
    // The memory grew by: the weights once (in the GEMM's packed layout: 128 output channels
    // padded to 130, +1.6 %), at most twice the activations, the GEMM's per-thread scratch
    // arena, one stage's weights more while the first forward folds it (folded and packed
    // forms side by side), the Winograd path's transformed filters of one stage while its
    // convolution runs (16 positions × 130 × 128 floats, kernels/winograd.ts), and up to one
    // growth step (1 MiB) past the last block.
    const arena = backend.heapStats().usedBytes - backend.heapBytesInUse();
    const stageWeights = 128 * 128 * 9 * 4;
    const transformed = 16 * 130 * 128 * 4;
    const bound = held * 1.02 + 2 * activations + arena + stageWeights + transformed + (1 << 20);
    expect(activations).toBeGreaterThan(1 << 20);
    expect(afterTwo - start).toBeLessThanOrEqual(bound);
    // Here: 11.6 MB against a bound of 12.9 (8.4 MB before the Winograd path). With the
    // BatchNorms' tensors left on the backend (pinning the freed originals between them) and
    // growth by an eighth, 13.4 MB against 11.8.
    x.dispose();
    net.dispose();
    backend.dispose();
  });

  it('reuses freed space before moving the top, and places long-lived blocks lowest', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 256 });
    const a = new Allocator(memory, 64, 256);
    const MiB = 1 << 20;
    const x = a.alloc(MiB, 'x');
    a.alloc(64, 'y');
    const z = a.alloc(MiB, 'z');
    a.alloc(64, 'pin');
    const grown = a.memoryBytes;
    a.release(x);
    // Half of x's space, not new space above the top (which stays free for larger blocks).
    const small = a.alloc(MiB / 2, 'small');
    expect(small).toBe(x);
    a.release(z);
    // Long-lived: the lowest free address that fits (the rest of x), not z's block.
    const long = a.alloc(MiB / 4, 'long', true);
    expect(long).toBe(x + MiB / 2);
    expect(a.alloc(MiB, 'z again')).toBe(z);
    expect(a.memoryBytes).toBe(grown);
    expect(grown % PAGE).toBe(0);
  });

  it('merges a freed block with its free neighbours at once, and lowers the top under a free run', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 256 });
    const a = new Allocator(memory, 64, 256);
    const KiB = 1024;
    const p = [a.alloc(KiB, 'p0'), a.alloc(2 * KiB, 'p1'), a.alloc(KiB, 'p2'), a.alloc(64, 'pin')];
    a.release(p[0]);
    a.release(p[2]);
    // p1 joins p0 before it and p2 after it: one free block of 4 KiB, handed out whole.
    a.release(p[1]);
    expect(a.alloc(4 * KiB, 'merged')).toBe(p[0]);
    const q = a.alloc(KiB, 'q');
    expect(q).toBe(p[3] + 64);
    // Freeing the block under the top, then the pin under it, gives both back to the top.
    a.release(q);
    a.release(p[3]);
    expect(a.alloc(KiB, 'again')).toBe(p[3]);
  });

  it('never hands out overlapping blocks, and returns to an empty memory, over 20,000 random calls', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1024 });
    const a = new Allocator(memory, 64, 1024);
    let s = 12345;
    const next = (n: number): number => {
      s = (s * 1103515245 + 12345) >>> 0;
      return s % n;
    };
    const live = new Map<number, number>();
    for (let i = 0; i < 20000; i++) {
      if (live.size >= 300 || (live.size > 0 && next(2) === 0)) {
        const ptrs = [...live.keys()];
        const ptr = ptrs[next(ptrs.length)]!;
        a.release(ptr);
        live.delete(ptr);
      } else {
        const bytes = 1 + next(next(4) === 0 ? 1 << 18 : 4096);
        const ptr = a.alloc(bytes, 'random', next(8) === 0);
        expect(ptr % 64).toBe(0);
        expect(a.sizeOf(ptr)).toBeGreaterThanOrEqual(bytes);
        live.set(ptr, a.sizeOf(ptr));
      }
      if (i % 1000 === 0) {
        const blocks = [...live].sort((x, y) => x[0] - y[0]);
        for (let k = 1; k < blocks.length; k++)
          expect(blocks[k]![0], 'a block starts before the one below it ends').toBeGreaterThanOrEqual(
            blocks[k - 1]![0] + blocks[k - 1]![1],
          );
      }
    }
    for (const ptr of live.keys()) a.release(ptr);
    expect(a.usedBytes).toBe(0);
    // Every free block merged back into the top: the next block starts at the base.
    expect(a.alloc(1 << 20, 'whole')).toBe(64);
  });

  it('reuses freed blocks', () => {
    const b = new WasmBackend({ singleThreaded: true });
    const id = b.write(new Float32Array(1000), [1000], 'float32');
    const used = b.heapStats().usedBytes;
    b.disposeData(id);
    for (let i = 0; i < 100; i++) b.disposeData(b.write(new Float32Array(1000), [1000], 'float32'));
    const keepIds = [
      b.write(new Float32Array(10), [10], 'float32'),
      b.write(new Float32Array(1000), [1000], 'float32'),
    ];
    expect(b.heapStats().usedBytes).toBeLessThanOrEqual(used + 64);
    for (const k of keepIds) b.disposeData(k);
    b.dispose();
  });

  it('raises a KernelzooError saying how much was asked and how much exists when memory runs out', () => {
    const b = new WasmBackend({ singleThreaded: true, maxMemoryMB: 16 });
    const small = b.write(new Float32Array(1 << 20), [1 << 20], 'float32');
    let error: unknown = null;
    try {
      b.write(new Float32Array(4 << 20), [4 << 20], 'float32');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WasmOutOfMemoryError);
    expect(error).toBeInstanceOf(KernelzooError);
    const message = (error as Error).message;
    expect(message).toContain('asked for 16.0 MiB');
    expect(message).toContain('maximum is 16.0 MiB');
    expect(message).toContain('4.0 MiB');
    expect(message).toContain('[4194304]');
    // The backend still works after the failure.
    b.disposeData(small);
    b.disposeData(b.write(new Float32Array(8), [8], 'float32'));
    b.dispose();
  });
});

describe('wasm feature detection', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    resetWasmFeatures();
  });

  it('throws a clear WasmFeatureError where the runtime lacks SIMD128', () => {
    vi.spyOn(WebAssembly, 'validate').mockReturnValue(false);
    resetWasmFeatures();
    expect(() => new WasmBackend()).toThrow(WasmFeatureError);
    expect(() => new WasmBackend()).toThrow(/lacks WebAssembly SIMD128/);
  });
});
