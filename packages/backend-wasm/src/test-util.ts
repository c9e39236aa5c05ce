/**
 * Test helpers shared by the kernel tests (Node and Chromium): run a kernel on the wasm
 * backend and on the reference js backend with the same inputs and compare.
 *
 * @module
 */
import { JsBackend } from '@kernelzoo/backend-js';
import { isClose } from '@kernelzoo/conformance';
import type { Backend, DType, Shape, TensorInfo, TypedArray } from '@kernelzoo/core';

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

/** A host tensor. */
export interface Host {
  shape: number[];
  dtype: DType;
  values: TypedArray;
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

const reference = new JsBackend();

/**
 * Runs `kernel` on `backend` and on the js reference with `inputs` (null stays null) and
 * throws unless the outputs agree in shape, dtype and values (`rtol`/`atol` 1e-5; int32 exact).
 */
export function compare(
  backend: Backend,
  inputs: (Host | null)[],
  kernel: (b: Backend, xs: (TensorInfo | null)[]) => TensorInfo,
  what: string,
  tol = 1e-5,
): void {
  const run = (b: Backend) => {
    const xs = inputs.map((h) =>
      h === null
        ? null
        : { dataId: b.write(h.values.slice(), h.shape, h.dtype), shape: h.shape as Shape, dtype: h.dtype },
    );
    try {
      const y = kernel(b, xs);
      const v = b.readSync(y.dataId);
      b.disposeData(y.dataId);
      return { shape: [...y.shape], dtype: y.dtype, values: v };
    } finally {
      for (const x of xs) if (x !== null) b.disposeData(x.dataId);
    }
  };
  const e = run(reference);
  const a = run(backend);
  if (a.shape.join() !== e.shape.join() || a.dtype !== e.dtype)
    throw new Error(`${what}: got ${a.dtype} [${a.shape}], expected ${e.dtype} [${e.shape}]`);
  const t = e.dtype === 'int32' ? { rtol: 0, atol: 0 } : { rtol: tol, atol: tol };
  let bad = 0;
  let first = '';
  for (let i = 0; i < e.values.length; i++) {
    if (isClose(a.values[i], e.values[i], t)) continue;
    if (bad === 0) first = `index ${i}: got ${a.values[i]}, expected ${e.values[i]}`;
    bad++;
  }
  if (bad > 0) throw new Error(`${what}: ${bad} of ${e.values.length} values differ; first at ${first}`);
}
