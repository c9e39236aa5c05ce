import { oracle } from '@kernelzoo/conformance';
import { type Conv2dInfo, conv2dInfo, type MatMulInfo, type TensorInfo } from '@kernelzoo/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WasmBackend } from './backend.js';
import { kernelCases } from './cases.js';
import { KernelContext, setParallelThreshold } from './context.js';
import { setConvPath, setDirectThresholds } from './kernels/conv2d.js';
import { setWinogradMode, winogradCalls } from './kernels/winograd.js';
import { useWinogradDilated } from './kernels/winograd-dilated.js';
import { setStealing, type ThreadPool } from './pool.js';
import { checkAccumulated, conv2dValues, floats, type Host, rng, upload } from './test-util.js';

for (const threads of [1, 2]) {
  describe(`wasm kernels vs the conformance oracles, ${threads} thread(s)`, () => {
    let b: WasmBackend;
    beforeAll(async () => {
      b = await WasmBackend.create({ threads });
    });
    afterAll(() => b.dispose());
    for (const c of kernelCases()) it(c.name, () => c.run(b));
    it('reports the build it runs', () => {
      expect(b.variant).toMatch(/^(relaxed-)?simd\+threads$/);
    });
    it('leaves no buffers behind', () => {
      if (b.memory().buffers !== 0) throw new Error(`${b.memory().buffers} buffers left`);
    });
  });
}

// Every kernel case on 2 threads with every kernel through the pool, however small: shares of a
// few elements, where the calling thread often runs the worker's share before the worker claims
// it (stealing), so both orders of claiming run.
describe('wasm kernels vs the conformance oracles, 2 threads, every kernel through the pool', () => {
  let b: WasmBackend;
  beforeAll(async () => {
    b = await WasmBackend.create({ threads: 2 });
    setParallelThreshold(0);
  });
  afterAll(() => {
    setParallelThreshold(1 << 16);
    b.dispose();
  });
  for (const c of kernelCases()) it(c.name, () => c.run(b));
});

describe('wasm worker pool: the calling thread runs the shares no worker has claimed', () => {
  let b: WasmBackend;
  let pool: ThreadPool;
  beforeAll(async () => {
    b = await WasmBackend.create({ threads: 2 });
    pool = (b as unknown as { ctx: KernelContext }).ctx.pool!;
  });
  afterAll(() => {
    pool.pauseWorkers(false);
    b.dispose();
  });
  it('with the worker paused, a Winograd conv2d, a GEMM conv2d, a matmul and an add run whole on the calling thread', () => {
    const r = rng(7480);
    const x = floats(r, [1, 64, 24, 24]);
    const w3 = floats(r, [96, 64, 3, 3]);
    const w1 = floats(r, [64, 64, 1, 1]);
    const bias = floats(r, [96]);
    const a = floats(r, [256, 300]);
    const m = floats(r, [300, 200]);
    const y = floats(r, [1, 64, 24, 24]);
    const conv3 = conv2dInfo([1, 64, 24, 24], [96, 64, 3, 3], { padding: 1 });
    const conv1 = conv2dInfo([1, 64, 24, 24], [64, 64, 1, 1], {});
    const mm: MatMulInfo = {
      batch: 1,
      aBatch: 1,
      bBatch: 1,
      m: 256,
      n: 200,
      k: 300,
      transposeA: false,
      transposeB: false,
      outShape: [256, 200],
    };
    const none = { stride: [1, 1] as [number, number], dilation: [1, 1] as [number, number], groups: 1 };
    pool.pauseWorkers(true);
    const before = b.workerJobs();
    const calls = winogradCalls();
    checkAccumulated(
      b,
      [x, w3, bias],
      (be, [xi, wi, bi]) => be.conv2d(xi!, wi!, bi, conv3, 'relu'),
      oracle.accumulate.convolve(x, w3, { ...none, padding: [1, 1], bias }),
      'relu',
      'conv2d 3×3',
    );
    expect(winogradCalls(), 'the 3×3 conv2d took the Winograd path').toBe(calls + 1);
    checkAccumulated(
      b,
      [x, w1],
      (be, [xi, wi]) => be.conv2d(xi!, wi!, null, conv1, 'linear'),
      oracle.accumulate.convolve(x, w1, { ...none, padding: [0, 0], bias: null }),
      'linear',
      'conv2d 1×1',
    );
    checkAccumulated(
      b,
      [a, m],
      (be, [ai, mi]) => be.matmul(ai!, mi!, null, mm, 'linear'),
      oracle.accumulate.multiply(a, m, false, null),
      'linear',
      'matmul',
    );
    const xi = upload(b, x);
    const yi = upload(b, y);
    const sum = b.binary('add', xi, yi, [1, 64, 24, 24]);
    const got = b.readSync(sum.dataId) as Float32Array;
    for (let i = 0; i < got.length; i++)
      if (got[i] !== Math.fround(x.values[i]! + y.values[i]!)) throw new Error(`add: element ${i}`);
    for (const t of [xi, yi, sum]) b.disposeData(t.dataId);
    const jobs = b.workerJobs().map((n, i) => n - before[i]!);
    // Every call ran on the calling thread (each counts once there, whatever its shares); the
    // paused worker ran none.
    expect(jobs[1], `jobs per thread ${jobs}`).toBe(0);
    expect(jobs[0], `jobs per thread ${jobs}`).toBeGreaterThanOrEqual(4);
    pool.pauseWorkers(false);
    // Unpaused, the worker takes shares again (stealing off: one share each, deterministic).
    setStealing(false);
    try {
      const again = b.workerJobs();
      checkAccumulated(
        b,
        [a, m],
        (be, [ai, mi]) => be.matmul(ai!, mi!, null, mm, 'linear'),
        oracle.accumulate.multiply(a, m, false, null),
        'linear',
        'matmul after',
      );
      expect(b.workerJobs().map((n, i) => n - again[i]!)).toEqual([1, 1]);
    } finally {
      setStealing(true);
    }
  });
});

// Every convolution through each path: the GEMM with packed B (implicit im2col), the GEMM
// with B read in place from a padded input (unpacked), the direct kernel, and Winograd
// F(2×2, 3×3) for every convolution it takes whatever its size (the others: packed GEMM).
for (const [path, grouped, dense, convPath, winogradMode] of [
  ['packed GEMM', 0, 0, 'packed', 'never'],
  ['unpacked GEMM', 0, 0, 'unpacked', 'never'],
  ['direct', 1 << 20, 1 << 20, 'auto', 'never'],
  ['Winograd', 0, 0, 'packed', 'always'],
] as const) {
  for (const threads of [1, 2]) {
    describe(`wasm conv2d, every case through the ${path} path, ${threads} thread(s)`, () => {
      let b: WasmBackend;
      let winograd = 0;
      beforeAll(async () => {
        b = await WasmBackend.create({ threads });
        setDirectThresholds(grouped, dense);
        setConvPath(convPath);
        setWinogradMode(winogradMode);
        if (threads > 1) setParallelThreshold(0);
        winograd = winogradCalls();
      });
      afterAll(() => {
        setDirectThresholds(64, 0);
        setConvPath('auto');
        setWinogradMode('auto');
        setParallelThreshold(1 << 16);
        b.dispose();
      });
      for (const c of kernelCases().filter((k) => k.name.startsWith('conv2d'))) it(c.name, () => c.run(b));
      if (path === 'Winograd')
        it('took the Winograd path for every 3×3, stride-1, ungrouped case without sigmoid (dilated ones by phases)', () => {
          const eligible = kernelCases().filter((k) =>
            /^conv2d .* k3×3 s1×1 d1×1 p\[[\d,]+\] g1 -> .* (linear|relu)$/.test(k.name),
          );
          // Dilated ones whose phase images hold at least 8 tiles each (useWinogradDilated).
          const dilated = kernelCases().filter((k) => {
            const m =
              /^conv2d x\[(\d+),(\d+),(\d+),(\d+)\] k3×3 s1×1 d(\d+)×(\d+) p\[(\d+),(\d+),(\d+),(\d+)\] g1 -> (\d+) .*(linear|relu)$/.exec(
                k.name,
              );
            if (m === null || (m[5] === '1' && m[6] === '1')) return false;
            const [n, c, h, w, dh, dw, pt, pb, pl, pr, o] = m.slice(1, 12).map(Number);
            const info = conv2dInfo([n!, c!, h!, w!], [o!, c!, 3, 3], {
              dilation: [dh!, dw!],
              padding: [pt!, pb!, pl!, pr!],
            });
            return useWinogradDilated(info, 'linear');
          });
          expect(eligible.length).toBeGreaterThanOrEqual(12);
          expect(dilated.length).toBeGreaterThanOrEqual(2);
          expect(winogradCalls() - winograd).toBe(eligible.length + dilated.length);
        });
      it('leaves no buffers behind', () => {
        if (b.memory().buffers !== 0) throw new Error(`${b.memory().buffers} buffers left`);
      });
    });
  }
}

/** The float64 oracle's stride-1, undilated, unbiased convolution of host `x` by `w`. */
function convolve(x: Host, w: Host, groups: number, padding: number) {
  return oracle.accumulate.convolve(x, w, {
    stride: [1, 1],
    padding: [padding, padding],
    dilation: [1, 1],
    groups,
    bias: null,
  });
}

describe('wasm conv2d packed weights', () => {
  const info = conv2dInfo([1, 8, 9, 11], [12, 8, 3, 3], { padding: 1 });
  for (const path of ['packed', 'unpacked'] as const) {
    it(`reuses packed weights until they are disposed (${path} path)`, async () => {
      const b = await WasmBackend.create({ threads: 1 });
      setConvPath(path);
      try {
        const r = rng(5);
        const x = floats(r, [1, 8, 9, 11]);
        const xi = upload(b, x);
        let used = -1;
        for (let round = 0; round < 4; round++) {
          // A fresh weight buffer each round, most likely at the address of the last one.
          const wh = floats(r, [12, 8, 3, 3]);
          const w = upload(b, wh);
          const y1 = b.conv2d(xi, w, null, info, 'linear');
          const y2 = b.conv2d(xi, w, null, info, 'linear'); // from the cache
          expect(b.readSync(y2.dataId)).toEqual(b.readSync(y1.dataId));
          b.disposeData(y1.dataId);
          b.disposeData(y2.dataId);
          const expected = convolve(x, wh, 1, 1);
          checkAccumulated(
            b,
            [x, wh],
            (be, [xx, ww]) => be.conv2d(xx!, ww!, null, info, 'linear'),
            expected,
            'linear',
            `round ${round}`,
          );
          b.disposeData(w.dataId);
          // Disposing the weights frees their packed form: the heap does not grow.
          if (round === 0) used = b.heapStats().usedBytes;
          else expect(b.heapStats().usedBytes).toBe(used);
        }
        b.disposeData(xi.dataId);
        expect(b.memory().buffers).toBe(0);
      } finally {
        setConvPath('auto');
        b.dispose();
      }
    });
  }

  it('holds the weights once, packed: read back, used by another kernel, and shared with the input', async () => {
    const b = await WasmBackend.create({ threads: 1 });
    try {
      const start = b.heapBytesInUse();
      const r = rng(9);
      const x = floats(r, [1, 8, 9, 11]);
      const wh = floats(r, [12, 8, 3, 3]);
      const xi = upload(b, x);
      const w = upload(b, wh);
      const conv = (weights: TensorInfo, input = xi, at = info) => conv2dValues(b, input, weights, at);
      const before = b.heapBytesInUse();
      const first = conv(w);
      // The packed form replaced the original: 12 rows padded to 15 (MR = 5) of K = 72 is
      // 3 × 72 × 4 = 864 bytes more, not a second 3456-byte copy.
      const grown = b.heapBytesInUse() - before;
      expect(grown).toBeGreaterThanOrEqual(864 - 64);
      expect(grown).toBeLessThanOrEqual(864 + 64);
      // Read back exactly (the packing only moves values), leaving the heap as it was.
      expect(b.readSync(w.dataId)).toEqual(wh.values);
      expect(b.heapBytesInUse() - before).toBe(grown);
      // Another kernel gets the original layout back; the next convolution packs it again.
      const neg = b.unary('neg', w);
      expect(b.readSync(neg.dataId)).toEqual(wh.values.map((v) => -v));
      b.disposeData(neg.dataId);
      expect(b.heapBytesInUse() - before).toBe(0);
      expect(conv(w)).toEqual(first);
      // A buffer that is both the input and the weights of one convolution (1×1, 4 → 4
      // channels over a 2×2 map: both are 16 floats) keeps its original for the input.
      const sq = floats(r, [4, 4, 1, 1]);
      const s = upload(b, sq);
      const asInput: TensorInfo = { ...s, shape: [1, 4, 2, 2] };
      const pointwise = conv2dInfo([1, 4, 2, 2], [4, 4, 1, 1]);
      const expected = convolve({ ...sq, shape: [1, 4, 2, 2] }, sq, 1, 0);
      for (let round = 0; round < 2; round++) {
        const got = conv(s, asInput, pointwise);
        // K = 4 products of values in [-1, 1]: float32 rounding stays far below 5e-6.
        for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(expected.values[i]!, 5);
      }
      expect(b.readSync(s.dataId)).toEqual(sq.values);
      for (const t of [xi, w, s]) b.disposeData(t.dataId);
      expect(b.memory().buffers).toBe(0);
      expect(b.heapBytesInUse()).toBe(start);
    } finally {
      b.dispose();
    }
  });
});

describe('wasm conv2d direct-kernel weights, held packed in 4-row panels', () => {
  // 12 output channels in 4 groups: 3 per group, padded to one 4-row panel; K = 2 · 9 = 18.
  const info = conv2dInfo([1, 8, 9, 11], [12, 2, 3, 3], { padding: 1, groups: 4 });

  it('packs once, reads back exactly, and gives way to the GEMM layout and back', async () => {
    const b = await WasmBackend.create({ threads: 1 });
    const ctx = (b as unknown as { ctx: KernelContext }).ctx;
    try {
      const start = b.heapBytesInUse();
      const r = rng(21);
      const x = floats(r, [1, 8, 9, 11]);
      const wh = floats(r, [12, 2, 3, 3]);
      const xi = upload(b, x);
      const w = upload(b, wh);
      const record = ctx.record(w.dataId, 'test');
      const conv = () => conv2dValues(b, xi, w, info);
      const before = b.heapBytesInUse();
      const first = conv();
      // Held once, packed: 4 groups × 4 rows × 18 = 288 floats in place of the 216 original
      // ones, 288 bytes more, not a second 864-byte copy.
      expect(record.ptr).toBe(0);
      expect(record.packed?.rows).toBe(4);
      const packedAt = record.packed?.ptr;
      const grown = b.heapBytesInUse() - before;
      expect(grown).toBeGreaterThanOrEqual(288 - 64);
      expect(grown).toBeLessThanOrEqual(288 + 64);
      // The second call uses the same packed form.
      expect(conv()).toEqual(first);
      expect(record.packed?.ptr).toBe(packedAt);
      checkAccumulated(
        b,
        [x, wh],
        (be, [xx, ww]) => be.conv2d(xx!, ww!, null, info, 'linear'),
        convolve(x, wh, 4, 1),
        'linear',
        'direct kernel',
      );
      // Read back exactly (the packing only moves values; the padding row is dropped).
      expect(b.readSync(w.dataId)).toEqual(wh.values);
      // The GEMM path repacks the buffer in its own layout; the direct form is gone.
      setDirectThresholds(0, 0);
      const viaGemm = conv();
      expect(record.packed?.rows).toBe(5);
      setDirectThresholds(64, 0);
      expect(conv()).toEqual(first);
      expect(record.packed?.rows).toBe(4);
      // Same sums in another order: both within the accumulation bound of the oracle above;
      // here, close to each other.
      for (let i = 0; i < first.length; i++) expect(viaGemm[i]).toBeCloseTo(first[i]!, 5);
      for (const t of [xi, w]) b.disposeData(t.dataId);
      expect(b.memory().buffers).toBe(0);
      expect(b.heapBytesInUse()).toBe(start);
    } finally {
      setDirectThresholds(64, 0);
      b.dispose();
    }
  });

  it('keeps the original of a buffer that is also the input, and frees the form another kernel packed', async () => {
    const b = await WasmBackend.create({ threads: 1 });
    try {
      const start = b.heapBytesInUse();
      const r = rng(23);
      // 1×1, 4 → 8 channels in 2 groups over a 2×2 map: input and weights are both 16 floats.
      const sq = floats(r, [8, 2, 1, 1]);
      const s = upload(b, sq);
      const asInput: TensorInfo = { ...s, shape: [1, 4, 2, 2] };
      const grouped = conv2dInfo([1, 4, 2, 2], [8, 2, 1, 1], { groups: 2 });
      const expected = convolve({ ...sq, shape: [1, 4, 2, 2] }, sq, 2, 0);
      for (const [direct, round] of [
        [64, 0],
        [0, 1],
        [64, 2],
      ] as const) {
        setDirectThresholds(direct, 0);
        const got = conv2dValues(b, asInput, s, grouped);
        // K = 2 products of values in [-1, 1]: float32 rounding stays far below 5e-6.
        for (let i = 0; i < got.length; i++)
          expect(got[i], `round ${round}`).toBeCloseTo(expected.values[i]!, 5);
      }
      expect(b.readSync(s.dataId)).toEqual(sq.values);
      b.disposeData(s.dataId);
      expect(b.memory().buffers).toBe(0);
      // Each switch of kernels freed the other kernel's packed form.
      expect(b.heapBytesInUse()).toBe(start);
    } finally {
      setDirectThresholds(64, 0);
      b.dispose();
    }
  });
});

/**
 * The long-sum shapes the conformance suite marks `splits` (packages/conformance/src/cases/
 * large.ts), at the default parallel threshold (65536 multiply-adds): each must run a job on
 * both threads — the conformance environment lowers the threshold to 0, so this is where the
 * threshold itself is checked. `work` is what the kernel passes to the threshold test. With
 * stealing off, each thread runs one share, so a job on each thread means the work split.
 */
describe('wasm splits the long-sum shapes marked `splits` in the conformance suite over 2 threads at the default threshold', () => {
  const conv = (
    x: [number, number, number, number],
    cout: number,
    k: number,
    pad: number,
    groups: number,
  ): Conv2dInfo => ({
    batch: x[0],
    inChannels: x[1],
    inHeight: x[2],
    inWidth: x[3],
    outChannels: cout,
    outHeight: x[2] + 2 * pad - k + 1,
    outWidth: x[3] + 2 * pad - k + 1,
    kernelHeight: k,
    kernelWidth: k,
    strideHeight: 1,
    strideWidth: 1,
    dilationHeight: 1,
    dilationWidth: 1,
    padTop: pad,
    padBottom: pad,
    padLeft: pad,
    padRight: pad,
    groups,
  });
  const convs: [string, Conv2dInfo, boolean][] = [
    ['conv2d 32 groups of 8 channels (ResNeXt), direct path', conv([1, 256, 14, 14], 256, 3, 1, 32), false],
    ['conv2d 3×3, 64 → 96 channels, packed GEMM', conv([1, 64, 24, 24], 96, 3, 1, 1), true],
    ['conv2d 1×1, 256 → 64 channels, pointwise GEMM', conv([1, 256, 28, 28], 64, 1, 0, 1), false],
    // 49 columns: 7 panels of 8 split 4 : 3, so the GEMM splits its 41 row panels instead (21 : 20).
    ['conv2d 1×1 on 7×7, 256 → 203 channels, GEMM split by rows', conv([1, 256, 7, 7], 203, 1, 0, 1), true],
    // 3×3 on 7×7 with padding: 49 columns of a packed im2col B, split by rows.
    [
      'conv2d 3×3 on 7×7, 32 → 203 channels, packed GEMM split by rows',
      conv([1, 32, 7, 7], 203, 3, 1, 1),
      true,
    ],
  ];
  let b: WasmBackend;
  beforeAll(async () => {
    b = await WasmBackend.create({ threads: 2 });
    setParallelThreshold(1 << 16);
    // One share per thread: the split itself is under test, not who runs which share.
    setStealing(false);
  });
  afterAll(() => {
    setStealing(true);
    b.dispose();
  });
  const jobsOf = (run: () => void): number[] => {
    const before = b.workerJobs();
    run();
    return b.workerJobs().map((n, i) => n - before[i]);
  };
  convs.forEach(([label, info, withBias], i) => {
    it(label, () => {
      const r = rng(7300 + i);
      const cg = info.inChannels / info.groups;
      const x = floats(r, [info.batch, info.inChannels, info.inHeight, info.inWidth]);
      const w = floats(r, [info.outChannels, cg, info.kernelHeight, info.kernelWidth]);
      const bias = withBias ? floats(r, [info.outChannels]) : null;
      const work =
        info.outChannels * info.outHeight * info.outWidth * cg * info.kernelHeight * info.kernelWidth;
      expect(work).toBeGreaterThanOrEqual(1 << 16);
      const p = info.padTop;
      const expected = oracle.accumulate.convolve(x, w, {
        stride: [1, 1],
        padding: [p, p],
        dilation: [1, 1],
        groups: info.groups,
        bias,
      });
      const jobs = jobsOf(() =>
        checkAccumulated(
          b,
          [x, w, bias],
          (be, [xi, wi, bi]) => be.conv2d(xi!, wi!, bi, info, 'linear'),
          expected,
          'linear',
          label,
        ),
      );
      expect(jobs, `jobs per thread (work ${work})`).toHaveLength(2);
      for (const n of jobs) expect(n, `jobs per thread ${jobs} (work ${work})`).toBeGreaterThan(0);
    });
  });
  it('matmul a [256, 513] b [513, 260] +bias', () => {
    const r = rng(7400);
    const a = floats(r, [256, 513]);
    const m = floats(r, [513, 260]);
    const bias = floats(r, [260]);
    const info: MatMulInfo = {
      batch: 1,
      aBatch: 1,
      bBatch: 1,
      m: 256,
      n: 260,
      k: 513,
      transposeA: false,
      transposeB: false,
      outShape: [256, 260],
    };
    const jobs = jobsOf(() =>
      checkAccumulated(
        b,
        [a, m, bias],
        (be, [ai, bi, ci]) => be.matmul(ai!, bi!, ci, info, 'linear'),
        oracle.accumulate.multiply(a, m, false, bias),
        'linear',
        'matmul',
      ),
    );
    for (const n of jobs) expect(n, `jobs per thread ${jobs}`).toBeGreaterThan(0);
  });
  it('splits the padded copy of a 128×16×12 input (HRNet-W32) for the Winograd path', () => {
    // Its phase-split copy holds 128 planes × 18 rows × 2 phases × 7 floats = 32,256 floats:
    // under 65,536 as elements, over it at PAD_WORK_PER_FLOAT = 4 per float.
    const info = conv2dInfo([1, 128, 16, 12], [128, 128, 3, 3], { padding: 1 });
    const r = rng(7440);
    const x = floats(r, [1, 128, 16, 12]);
    const w = floats(r, [128, 128, 3, 3]);
    const padJobs: number[][] = [];
    const par = KernelContext.prototype.par;
    KernelContext.prototype.par = function (this: KernelContext, fn, args, work) {
      if (fn !== 'direct_pad_run') return par.call(this, fn, args, work);
      const before = this.jobs();
      par.call(this, fn, args, work);
      padJobs.push(this.jobs().map((n, i) => n - before[i]!));
    };
    const calls = winogradCalls();
    try {
      checkAccumulated(
        b,
        [x, w],
        (be, [xi, wi]) => be.conv2d(xi!, wi!, null, info, 'linear'),
        oracle.accumulate.convolve(x, w, {
          stride: [1, 1],
          padding: [1, 1],
          dilation: [1, 1],
          groups: 1,
          bias: null,
        }),
        'linear',
        'conv2d 128×16×12',
      );
    } finally {
      KernelContext.prototype.par = par;
    }
    expect(winogradCalls(), 'calls on the Winograd path').toBe(calls + 1);
    expect(padJobs, 'padded copies').toHaveLength(1);
    expect(padJobs[0], 'jobs per thread of the copy').toEqual([1, 1]);
  });
  it('splits binary ops by elements: a same-shape add (one collapsed row) and a broadcast whose split falls inside a row', () => {
    // [1, 64, 48, 64] + the same shape collapses to one row of 196,608 elements; [3, 40001] · [3, 1]
    // to 3 rows, split by two threads inside the second. Both are exact (one float32 operation).
    const cases: [string, 'add' | 'mul' | 'sub', number[], number[]][] = [
      ['add, same shape', 'add', [1, 64, 48, 64], [1, 64, 48, 64]],
      ['mul, broadcast per row', 'mul', [3, 40001], [3, 1]],
      ['sub, broadcast along rows', 'sub', [3, 40001], [1, 40001]],
    ];
    cases.forEach(([label, op, sa, sb], i) => {
      const r = rng(7450 + i);
      const x = floats(r, sa);
      const y = floats(r, sb);
      const outShape = sa.map((d, k) => Math.max(d, sb[k]!));
      const xi = upload(b, x);
      const yi = upload(b, y);
      let out: TensorInfo | null = null;
      const jobs = jobsOf(() => {
        out = b.binary(op, xi, yi, outShape);
      });
      const got = b.readSync(out!.dataId) as Float32Array;
      // b's element for output element e: its index, with the broadcast dimensions held at 0.
      const bIndex = (e: number): number => {
        let at = 0;
        let stride = 1;
        for (let d = outShape.length - 1; d >= 0; d--) {
          const i = e % outShape[d]!;
          e = Math.floor(e / outShape[d]!);
          if (sb[d] !== 1) at += i * stride;
          stride *= sb[d]!;
        }
        return at;
      };
      const bad: string[] = [];
      for (let e = 0; e < got.length; e++) {
        const av = x.values[e]!;
        const bv = y.values[bIndex(e)]!;
        const want = Math.fround(op === 'add' ? av + bv : op === 'mul' ? av * bv : av - bv);
        if (got[e] !== want && bad.length < 3)
          bad.push(`${label}: element ${e} got ${got[e]}, expected ${want}`);
      }
      expect(bad).toEqual([]);
      expect(jobs, `${label}: jobs per thread`).toEqual([1, 1]);
      for (const t of [xi, yi, out!]) b.disposeData(t.dataId);
    });
  });
  it('counts no job for a thread whose share is empty, and every job of a kernel below the threshold on thread 0', () => {
    // 3 planes of 1 pixel: below the threshold, one job of the calling thread.
    const x = floats(rng(7500), [1, 3, 1, 1]);
    const info = conv([1, 3, 1, 1], 3, 1, 0, 3);
    const w = floats(rng(7501), [3, 1, 1, 1]);
    const expected = oracle.accumulate.convolve(x, w, {
      stride: [1, 1],
      padding: [0, 0],
      dilation: [1, 1],
      groups: 3,
      bias: null,
    });
    const jobs = jobsOf(() =>
      checkAccumulated(
        b,
        [x, w, null],
        (be, [xi, wi]) => be.conv2d(xi!, wi!, null, info, 'linear'),
        expected,
        'linear',
        'depthwise',
      ),
    );
    expect(jobs).toEqual([1, 0]);
  });
});

// Max pooling takes each output row's window rows four columns a vector (maxpool_run): rows whose
// width is not a multiple of 4, dilations, strides, padding, and Inf/NaN, which must come out as
// the scalar scan's (the oracle's: a value replaces the maximum when greater or NaN).
/** The naive oracle's pooling options. */
type NaivePoolOptions = Parameters<typeof oracle.naive.pool2d>[2];

describe('wasm max pooling against the oracle, with Inf and NaN, on 1 and 2 threads', () => {
  const configs: [string, number[], NaivePoolOptions][] = [
    [
      'ResNet stem 3/2/1 on 64 × 37 × 41',
      [1, 64, 37, 41],
      {
        kernel: [3, 3],
        stride: [2, 2],
        padding: [1, 1, 1, 1],
        dilation: [1, 1],
        ceilMode: false,
        countIncludePad: true,
      },
    ],
    [
      'dilation 2, stride 1, 2 × 5 × 23 × 30',
      [2, 5, 23, 30],
      {
        kernel: [3, 2],
        stride: [1, 1],
        padding: [1, 1, 1, 0],
        dilation: [2, 2],
        ceilMode: false,
        countIncludePad: true,
      },
    ],
    [
      'ceil mode 2/2 on 3 × 15 × 13',
      [1, 3, 15, 13],
      {
        kernel: [2, 2],
        stride: [2, 2],
        padding: [0, 0, 0, 0],
        dilation: [1, 1],
        ceilMode: true,
        countIncludePad: true,
      },
    ],
  ];
  for (const threads of [1, 2]) {
    configs.forEach(([label, shape, o], i) => {
      it(`${label}, ${threads} thread(s)`, async () => {
        const b = await WasmBackend.create({ threads });
        setParallelThreshold(0);
        try {
          const x = floats(rng(7600 + i), shape);
          // Specials scattered over the planes: NaN, +Inf and −Inf, some in the same window.
          const n = x.values.length;
          for (let k = 0; k < 40; k++) {
            const at = (k * 104_729) % n;
            x.values[at] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY][k % 3]!;
          }
          const want = oracle.naive.pool2d(x, 'max', o);
          const [oh, ow] = [want.shape[2]!, want.shape[3]!];
          const xi = upload(b, x);
          const y = b.pool2d(xi, 'max', {
            batch: shape[0]!,
            channels: shape[1]!,
            inHeight: shape[2]!,
            inWidth: shape[3]!,
            outHeight: oh,
            outWidth: ow,
            kernelHeight: o.kernel[0],
            kernelWidth: o.kernel[1],
            strideHeight: o.stride[0],
            strideWidth: o.stride[1],
            dilationHeight: o.dilation[0],
            dilationWidth: o.dilation[1],
            padTop: o.padding[0],
            padBottom: o.padding[1],
            padLeft: o.padding[2],
            padRight: o.padding[3],
            countIncludePad: true,
          });
          const got = b.readSync(y.dataId) as Float32Array;
          b.disposeData(xi.dataId);
          b.disposeData(y.dataId);
          expect(got.length).toBe(want.values.length);
          const bad: string[] = [];
          let nan = 0;
          for (let k = 0; k < got.length; k++) {
            const e = want.values[k]!;
            if (Number.isNaN(e)) nan++;
            if (!Object.is(got[k], e) && !(got[k] === e) && bad.length < 3)
              bad.push(`${k}: got ${got[k]}, expected ${e}`);
          }
          expect(bad).toEqual([]);
          expect(nan, 'NaN outputs in the expected result').toBeGreaterThan(0);
          expect(b.memory().buffers).toBe(0);
        } finally {
          setParallelThreshold(1 << 16);
          b.dispose();
        }
      });
    });
  }
});
