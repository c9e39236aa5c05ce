/**
 * Test helpers shared by the kernel tests (Node and Chromium): run one kernel of the wasm
 * backend on host inputs and judge its output against an oracle of `@kernelzoo/conformance`
 * with the wasm backend's stated precision — long sums (conv2d, matmul) against the float64
 * loop oracle with the accumulation bound, everything else per element with a named preset.
 *
 * @module
 */
import {
  expectAccumulated,
  expectClose,
  FLOAT32_EPSILON,
  type HostTensor,
  MismatchError,
  type oracle,
  precisionFor,
  type TolerancePreset,
} from '@kernelzoo/conformance';
import type { Activation, Conv2dInfo, DType, Shape, TensorInfo, TypedArray } from '@kernelzoo/core';
import type { WasmBackend } from './backend.js';

/** What the float64 loop oracles (`oracle.accumulate.*`) return. */
export type Accumulated = ReturnType<typeof oracle.accumulate.multiply>;

/** The wasm backend's precision (`PRECISIONS.wasm`). */
export const PRECISION = precisionFor('wasm');

/** A seeded generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A host tensor (the oracles' `HostTensor`, with a mutable shape for building cases). */
export interface Host extends HostTensor {
  readonly shape: number[];
  readonly dtype: 'float32' | 'int32';
  readonly values: Float32Array | Int32Array;
}

/** Random float32 values in [-1, 1). */
export function floats(r: () => number, shape: number[]): Host {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = r() * 2 - 1;
  return { shape, dtype: 'float32', values: v };
}

/** Random int32 values in [-9, 9]. */
export function ints(r: () => number, shape: number[]): Host {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Int32Array(n);
  for (let i = 0; i < n; i++) v[i] = Math.floor(r() * 19) - 9;
  return { shape, dtype: 'int32', values: v };
}

/** A kernel call on written inputs (null inputs stay null). */
export type KernelCall = (b: WasmBackend, xs: (TensorInfo | null)[]) => TensorInfo;

/** A kernel's output, read back. */
export interface Output {
  readonly shape: number[];
  readonly dtype: DType;
  readonly values: TypedArray;
}

/** A copy of host values written to `b`, as a kernel argument (the caller disposes it). */
export function upload(b: WasmBackend, h: Host): TensorInfo {
  return { dataId: b.write(h.values.slice(), h.shape, h.dtype), shape: h.shape as Shape, dtype: h.dtype };
}

/** `b.conv2d(x, w, no bias, info, activation)`'s output values, the output freed. */
export function conv2dValues(
  b: WasmBackend,
  x: TensorInfo,
  w: TensorInfo,
  info: Conv2dInfo,
  activation: Activation = 'linear',
): TypedArray {
  const y = b.conv2d(x, w, null, info, activation);
  const values = b.readSync(y.dataId);
  b.disposeData(y.dataId);
  return values;
}

/**
 * Writes `inputs` into `b`, runs `kernel`, reads its output back and frees everything; throws
 * unless the backend's heap is back where it was (`heapBytesInUse`), so a scratch buffer a
 * kernel forgets to free fails the case that made it.
 */
export function runKernel(b: WasmBackend, inputs: (Host | null)[], kernel: KernelCall, what: string): Output {
  const heap = b.heapBytesInUse();
  const xs = inputs.map((h) => (h === null ? null : upload(b, h)));
  let out: Output;
  try {
    const y = kernel(b, xs);
    try {
      out = { shape: [...y.shape], dtype: y.dtype, values: b.readSync(y.dataId) };
    } finally {
      b.disposeData(y.dataId);
    }
  } finally {
    for (const x of xs) if (x !== null) b.disposeData(x.dataId);
  }
  const after = b.heapBytesInUse();
  if (after !== heap)
    throw new Error(
      `${what}: the wasm heap in use went from ${heap} to ${after} bytes (a scratch buffer not freed)`,
    );
  return out;
}

function expectShapeAndType(a: Output, shape: readonly number[], dtype: DType, what: string): void {
  if (a.shape.join() !== shape.join() || a.dtype !== dtype)
    throw new MismatchError(`${what}: got ${a.dtype} [${a.shape}], expected ${dtype} [${shape}]`);
}

/**
 * Runs `kernel` and checks its output against `expected` element by element: int32 exactly,
 * float32 within the wasm precision's `preset`.
 */
export function check(
  b: WasmBackend,
  inputs: (Host | null)[],
  kernel: KernelCall,
  expected: HostTensor,
  preset: TolerancePreset,
  what: string,
): void {
  const a = runKernel(b, inputs, kernel, what);
  expectShapeAndType(a, expected.shape, expected.dtype, what);
  const tol = expected.dtype === 'int32' ? PRECISION.exact : PRECISION[preset];
  expectClose(a.values, expected.values, tol, what, expected.shape);
}

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/**
 * Asserts `actual` is `activation` applied to a long sum of products, given the float64
 * oracle of the sum (`oracle.accumulate.*`):
 * - `linear`: {@link expectAccumulated} with the wasm accumulation bound (per element
 *   `|a − e| ≤ c·ε·Σ|terms|`, plus the mean signed relative error and mean offset);
 * - `relu`: the same against `max(e, 0)` — ReLU is 1-Lipschitz and keeps zeros exact, so the
 *   bound and the systematic checks carry over unchanged;
 * - `sigmoid`: per element, `|a − σ(e)| ≤ ¼·c·ε·Σ|terms| + max(rtol·σ(e), atol)` with the
 *   `transcendental` preset's rtol/atol — σ′ ≤ ¼ shrinks the sum's rounding error by at least
 *   4, and the float32 sigmoid adds its own error. The systematic checks are not applied
 *   after a sigmoid: it squashes a scale error of the sum non-uniformly (σ′(e) < 0.01 for
 *   |e| > 4.6), so a mean over σ's outputs no longer measures it; the linear and ReLU cases
 *   of the same kernels do.
 */
export function expectActivated(
  actual: ArrayLike<number>,
  expected: Accumulated,
  activation: Activation,
  what: string,
): void {
  const acc = PRECISION.accumulation;
  if (activation === 'linear') {
    expectAccumulated(actual, expected, acc, what);
    return;
  }
  if (activation === 'relu') {
    expectAccumulated(actual, { ...expected, values: expected.values.map((v) => Math.max(v, 0)) }, acc, what);
    return;
  }
  const t = PRECISION.transcendental;
  let bad = 0;
  let first = '';
  if (actual.length !== expected.values.length)
    throw new MismatchError(`${what}: expected ${expected.values.length} values, got ${actual.length}`);
  for (let i = 0; i < actual.length; i++) {
    const e = sigmoid(expected.values[i]);
    const allowed = 0.25 * acc.c * FLOAT32_EPSILON * expected.magnitude[i] + Math.max(t.rtol * e, t.atol);
    const a = actual[i];
    if (Number.isFinite(a) && Math.abs(a - e) <= allowed) continue;
    if (bad++ === 0)
      first = `index ${i}: got ${a}, expected σ(${expected.values[i]}) = ${e} (allowed ±${allowed})`;
  }
  if (bad > 0)
    throw new MismatchError(
      `${what}: ${bad} of ${actual.length} sigmoid outputs beyond ¼·c·ε·Σ|terms| + the transcendental tolerance; first at ${first}`,
    );
}

/** Runs a conv2d or matmul kernel and checks it with {@link expectActivated}. */
export function checkAccumulated(
  b: WasmBackend,
  inputs: (Host | null)[],
  kernel: KernelCall,
  expected: Accumulated,
  activation: Activation,
  what: string,
): void {
  const a = runKernel(b, inputs, kernel, what);
  expectShapeAndType(a, expected.shape, 'float32', what);
  expectActivated(a.values, expected, activation, what);
}

/** `x` with zeros added around its two innermost axes: `[top, bottom, left, right]`. */
export function padSpatial(x: Host, [pt, pb, pl, pr]: readonly [number, number, number, number]): Host {
  const [n, c, h, w] = x.shape;
  const hp = h + pt + pb;
  const wp = w + pl + pr;
  const v = new Float32Array(n * c * hp * wp);
  for (let p = 0; p < n * c; p++)
    for (let y = 0; y < h; y++)
      for (let i = 0; i < w; i++) v[(p * hp + y + pt) * wp + i + pl] = x.values[(p * h + y) * w + i];
  return { shape: [n, c, hp, wp], dtype: 'float32', values: v };
}

/** The `[rows, cols]` matrix at `offset` of `values`, transposed. */
export function transposed(values: ArrayLike<number>, offset: number, rows: number, cols: number): Host {
  const v = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) v[c * rows + r] = values[offset + r * cols + c];
  return { shape: [cols, rows], dtype: 'float32', values: v };
}

/** The `[rows, cols]` matrix at `offset` of `values`. */
export function matrix(values: ArrayLike<number>, offset: number, rows: number, cols: number): Host {
  return {
    shape: [rows, cols],
    dtype: 'float32',
    values: Float32Array.from({ length: rows * cols }, (_, i) => values[offset + i]),
  };
}

/** Stacks per-batch oracle results into one `[batch, …]` result. */
export function stack(parts: readonly Accumulated[], shape: readonly number[]): Accumulated {
  const size = parts.reduce((s, p) => s + p.values.length, 0);
  const values = new Float64Array(size);
  const magnitude = new Float64Array(size);
  let o = 0;
  for (const p of parts) {
    values.set(p.values, o);
    magnitude.set(p.magnitude, o);
    o += p.values.length;
  }
  return { shape, values, magnitude, terms: parts[0]?.terms ?? 0 };
}
