/**
 * Tests shared by the Node and Chromium runs: memory under `tidy`, the compile-once cache and
 * the row layout of tensors larger than one texture row (checked against the conformance
 * oracles).
 *
 * @module
 */
import {
  expectAccumulated,
  expectClose,
  type HostTensor,
  MismatchError,
  oracle,
  precisionFor,
  type TolerancePreset,
} from '@kernelzoo/conformance';
import * as core from '@kernelzoo/core';
import { expect, it } from 'vitest';
import { GpujsBackend, type GpujsMode } from './index.js';

const { accumulate, naive, tfjs } = oracle;

/** The gpujs backend's precision (`PRECISIONS.gpujs`). */
const PRECISION = precisionFor('gpujs');

let registered = 0;

/**
 * Registers a fresh gpujs instance under a new name, makes it active, and throws unless it
 * runs in `expected` (the mode the test file claims to exercise).
 */
async function useGpujs(
  mode: GpujsMode | undefined,
  expected: GpujsMode,
  maxTextureSize?: number,
): Promise<GpujsBackend> {
  const name = `gpujs-test-${registered++}`;
  let made: GpujsBackend | null = null;
  core.registerBackend(name, () => {
    made = new GpujsBackend({ mode, maxTextureSize });
    return made;
  });
  await core.setBackend(name);
  const b = made as GpujsBackend | null;
  if (b === null) throw new Error(`gpujs backend ${name} was not made`);
  if (b.mode !== expected)
    throw new Error(`these tests must exercise gpu.js ${expected} mode, but gpujs chose ${b.mode}`);
  return b;
}

function values(n: number, seed: number): Float32Array {
  const r = new core.SeededRandom(seed);
  return Float32Array.from({ length: n }, () => r.uniform(-1, 1));
}

function hostOf(v: Float32Array, shape: number[]): HostTensor {
  return { shape, dtype: 'float32', values: v };
}

/** The `[rows, cols]` matrix at `offset` of `v`, transposed or not. */
function matrixOf(
  v: Float32Array,
  offset: number,
  rows: number,
  cols: number,
  transpose: boolean,
): HostTensor {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const e = v[offset + r * cols + c];
      if (transpose) out[c * rows + r] = e;
      else out[r * cols + c] = e;
    }
  return hostOf(out, transpose ? [cols, rows] : [rows, cols]);
}

type Accumulated = ReturnType<typeof accumulate.multiply>;

/** Per-batch oracle results stacked into `[batch, …]`. */
function stacked(parts: Accumulated[], shape: number[]): Accumulated {
  const size = parts.reduce((s, p) => s + p.values.length, 0);
  const v = new Float64Array(size);
  const m = new Float64Array(size);
  let o = 0;
  for (const p of parts) {
    v.set(p.values, o);
    m.set(p.magnitude, o);
    o += p.values.length;
  }
  return { shape, values: v, magnitude: m, terms: parts[0].terms };
}

/** What one output of the workload is judged against. */
type Expectation =
  | { readonly what: string; readonly accumulated: Accumulated }
  | { readonly what: string; readonly host: HostTensor; readonly preset: TolerancePreset };

/** The inputs of the workload, as host tensors. */
function inputs() {
  return {
    x: hostOf(values(2 * 6 * 16 * 16, 1), [2, 6, 16, 16]),
    odd: hostOf(values(3 * 5 * 7 * 7, 2), [3, 5, 7, 7]),
    w: hostOf(values(8 * 3 * 3 * 3, 3), [8, 3, 3, 3]),
    b: hostOf(values(8, 4), [8]),
    add: hostOf(values(7, 5), [7]),
    x16: hostOf(values(16 * 9 * 11, 6), [1, 16, 9, 11]),
    w16: hostOf(values(8 * 16 * 3 * 3, 7), [8, 16, 3, 3]),
    w1: hostOf(values(12 * 16, 8), [12, 16, 1, 1]),
    ma: hostOf(values(2 * 16 * 5, 11), [2, 16, 5]),
    mb: hostOf(values(7 * 16, 12), [7, 16]),
  };
}

/** Runs the workload on the active backend and returns its outputs' shapes and values. */
function workload(): { shape: number[]; values: Float32Array }[] {
  const h = inputs();
  const outs = core.tidy(() => {
    const t = (x: HostTensor) => core.tensor(x.values, [...x.shape]);
    const [x, odd, w, b, x16, w16, w1, ma, mb] = [h.x, h.odd, h.w, h.b, h.x16, h.w16, h.w1, h.ma, h.mb].map(
      t,
    );
    return [
      core.conv2d(x16, w16, { padding: 2, dilation: 2 }),
      core.conv2d(x16, w16, { padding: [0, 1], stride: [2, 1] }),
      core.conv2d(x16, w1),
      core.matmul(ma, mb, { transposeA: true, transposeB: true }),
      core.matmul(mb, ma),
      core.conv2d(x, w, { bias: b, stride: 2, padding: 1, groups: 2 }),
      core.conv2d(core.slice(odd, [0, 0, 0, 0], [3, 3, 7, 7]), w, { padding: 1 }),
      core.resizeBilinear(x, [13, 11], false),
      core.resizeBilinear(odd, [20, 9], true),
      core.softmax(odd, 1),
      core.cast(core.argmax(x, 1), 'float32'),
      core.transpose(odd, [0, 2, 3, 1]),
      core.add(odd, t(h.add)),
      core.concat([odd, core.mul(odd, 2)], 1),
      core.sum(odd, [2, 3]),
      core.pad(odd, [
        [0, 0],
        [1, 0],
        [2, 1],
        [0, 3],
      ]),
      core.maxPool2d(odd, 3, { stride: 2, padding: 1 }),
      core.flip(odd, [3]),
      core.flip(odd, [0, 2]),
      core.flip(x, [1, 3]),
      core.cast(core.flip(core.cast(core.mul(odd, 100), 'int32'), [1, 3]), 'float32'),
    ];
  });
  const host = outs.map((y) => ({ shape: [...y.shape], values: y.dataSync() as Float32Array }));
  core.dispose(outs);
  return host;
}

/** What each output of {@link workload} should be, from the conformance oracles. */
function expectations(): Expectation[] {
  const h = inputs();
  const conv = (
    x: HostTensor,
    w: HostTensor,
    stride: [number, number],
    padding: [number, number],
    dilation: [number, number],
    groups: number,
    bias: HostTensor | null,
  ) => accumulate.convolve(x, w, { stride, padding, dilation, groups, bias });
  const ma = h.ma.values as Float32Array;
  // matmul(ma [2, 16, 5] ᵀ, mb [7, 16] ᵀ) → [2, 5, 7]; matmul(mb, ma) → [2, 7, 5].
  const aTbT = stacked(
    [0, 1].map((i) => accumulate.multiply(matrixOf(ma, i * 80, 16, 5, true), h.mb, true)),
    [2, 5, 7],
  );
  const bA = stacked(
    [0, 1].map((i) => accumulate.multiply(h.mb, matrixOf(ma, i * 80, 16, 5, false), false)),
    [2, 7, 5],
  );
  const odd3 = tfjs.slice(h.odd, [0, 0, 0, 0], [3, 3, 7, 7]);
  const exact = (what: string, host: HostTensor): Expectation => ({ what, host, preset: 'exact' });
  const scaled = Float32Array.from(h.odd.values, (v) => Math.trunc(Math.fround(v * 100)));
  return [
    { what: 'conv2d padding 2 dilation 2', accumulated: conv(h.x16, h.w16, [1, 1], [2, 2], [2, 2], 1, null) },
    {
      what: 'conv2d padding [0, 1] stride [2, 1]',
      accumulated: conv(h.x16, h.w16, [2, 1], [0, 1], [1, 1], 1, null),
    },
    { what: 'conv2d 1×1', accumulated: conv(h.x16, h.w1, [1, 1], [0, 0], [1, 1], 1, null) },
    { what: 'matmul ᵀa ᵀb', accumulated: aTbT },
    { what: 'matmul broadcast batch', accumulated: bA },
    { what: 'conv2d groups 2 stride 2 +bias', accumulated: conv(h.x, h.w, [2, 2], [1, 1], [1, 1], 2, h.b) },
    { what: 'conv2d of a slice', accumulated: conv(odd3, h.w, [1, 1], [1, 1], [1, 1], 1, null) },
    { what: 'resizeBilinear', host: tfjs.resizeBilinear(h.x, [13, 11], false), preset: 'elementwise' },
    {
      what: 'resizeBilinear alignCorners',
      host: tfjs.resizeBilinear(h.odd, [20, 9], true),
      preset: 'elementwise',
    },
    { what: 'softmax', host: tfjs.softmax(h.odd, 1), preset: 'transcendental' },
    exact('argmax', tfjs.cast(tfjs.argmax(h.x, 1), 'float32')),
    exact('transpose', tfjs.transpose(h.odd, [0, 2, 3, 1])),
    { what: 'add broadcast', host: tfjs.binary('add', h.odd, h.add), preset: 'elementwise' },
    {
      what: 'concat',
      host: tfjs.concat([h.odd, tfjs.binary('mul', h.odd, hostOf(Float32Array.of(2), []))], 1),
      preset: 'elementwise',
    },
    { what: 'sum', host: tfjs.reduce('sum', h.odd, [2, 3]), preset: 'elementwise' },
    exact(
      'pad',
      tfjs.pad(
        h.odd,
        [
          [0, 0],
          [1, 0],
          [2, 1],
          [0, 3],
        ],
        0,
      ),
    ),
    exact(
      'maxPool2d',
      naive.pool2d(h.odd, 'max', {
        kernel: [3, 3],
        stride: [2, 2],
        padding: [1, 1, 1, 1],
        dilation: [1, 1],
        ceilMode: false,
        countIncludePad: true,
      }),
    ),
    exact('flip [3]', tfjs.flip(h.odd, [3])),
    exact('flip [0, 2]', tfjs.flip(h.odd, [0, 2])),
    exact('flip [1, 3]', tfjs.flip(h.x, [1, 3])),
    exact('int32 flip', tfjs.flip(hostOf(scaled, [3, 5, 7, 7]), [1, 3])),
  ];
}

/** Checks the workload's outputs against {@link expectations}, each under gpujs's precision. */
function checkWorkload(got: { shape: number[]; values: Float32Array }[]): void {
  const want = expectations();
  expect(got.length).toBe(want.length);
  want.forEach((e, i) => {
    const what = `workload output ${i} (${e.what})`;
    const shape = 'accumulated' in e ? e.accumulated.shape : e.host.shape;
    if (got[i].shape.join() !== shape.join())
      throw new MismatchError(`${what}: got shape [${got[i].shape}], expected [${shape}]`);
    if ('accumulated' in e) expectAccumulated(got[i].values, e.accumulated, PRECISION.accumulation, what);
    else expectClose(got[i].values, e.host.values, PRECISION[e.preset], what, e.host.shape);
  });
}

/**
 * Registers the shared tests for `mode` (`undefined` = the backend's own choice), each of
 * which fails unless the backend runs in `expected`.
 */
export function backendCases(mode: GpujsMode | undefined, expected: GpujsMode): void {
  it('leaves no buffers or textures behind after thousands of ops inside tidy, compiling each op and shape once', async () => {
    const backend = await useGpujs(mode, expected);
    const before = backend.memory();
    const x0 = core.tensor(values(64, 9), [4, 16]);
    const bias = core.tensor(values(16, 10), [16]);
    core.tidy(() => {
      let x = x0;
      for (let i = 0; i < 1000; i++) x = core.relu(core.add(core.mul(x, 0.5), bias));
      expect(x.dataSync().length).toBe(64);
    });
    const compiled = backend.compiledKernels;
    const deleted = backend.texturesDeleted;
    core.tidy(() => {
      let x = x0;
      for (let i = 0; i < 1000; i++) x = core.relu(core.add(core.mul(x, 0.5), bias));
    });
    expect(backend.compiledKernels).toBe(compiled);
    x0.dispose();
    bias.dispose();
    expect(backend.memory()).toEqual(before);
    if (backend.mode === 'webgl2' || backend.mode === 'headlessgl')
      expect(backend.texturesDeleted - deleted).toBeGreaterThanOrEqual(3000);
  });

  it('lays tensors larger than one texture row over several rows and matches the conformance oracles', async () => {
    const backend = await useGpujs(mode, expected, 64);
    expect(backend.maxTextureSize).toBe(64);
    checkWorkload(workload());
  });

  it('refuses, naming the op and the limit, a tensor that cannot fit the largest texture', async () => {
    await useGpujs(mode, expected, 16);
    expect(() => core.zeros([20, 20])).toThrow(core.KernelzooError);
    expect(() => core.zeros([20, 20])).toThrow(
      /does not fit the gpujs backend's largest texture \(16×16 = 256 values\)/,
    );
    const small = core.zeros([16, 16]);
    expect(small.shape).toEqual([16, 16]);
    small.dispose();
  });

  it('reports a readable BackendError for a mode that cannot start', () => {
    expect(() => new GpujsBackend({ mode: 'webgl' })).toThrow(/gpujs: no gpu.js mode works here \(webgl: /);
  });
}
