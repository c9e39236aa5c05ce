import { registerJsBackend } from '@kernelzoo/backend-js';
import {
  conv2d,
  getBackend,
  linear,
  randomUniform,
  registerBackend,
  resizeBilinear,
  setBackend,
  softmax,
  sum,
  type Tensor,
  tensor,
} from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { WasmBackend } from './backend.js';

// Addresses at and above 2 GiB do not fit an int32: every pointer the TypeScript side turns into
// a typed-array index must shift without sign (`>>>`). A backend of 4 GiB with 2.25 GiB held by
// one allocation puts the tensors below above 2³¹; their results must equal backend-js's.

const GiB = 2 ** 30;

/** The inputs, made on backend-js (seeded). */
let inputs: Record<string, { data: Float32Array; shape: number[] }>;

async function values(t: Tensor): Promise<Float32Array> {
  return (await t.data()) as Float32Array;
}

/** The ops under test, on the current backend. */
async function run(): Promise<{ out: Record<string, Float32Array>; ptrs: number[] }> {
  const t = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, tensor(v.data, v.shape)]));
  const made: Record<string, Tensor> = {
    conv: conv2d(t.x, t.w, { padding: 1, activation: 'relu' }),
    resize: resizeBilinear(t.x, [11, 7], false),
    sum: sum(t.x, [2, 3]),
    softmax: softmax(t.x, 1),
    // k = 0: the output is the bias through the activation, written from TypeScript.
    empty: linear(t.e, t.ew, t.eb, 'relu'),
  };
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(made)) out[k] = await values(v);
  // Every non-empty buffer's address (an empty one has none); the convolution's weights are
  // held only in their packed form (see kernels/packed-weights.ts), at that form's address.
  type Id = { ptr: number; packed: { ptr: number } | null };
  const ptrs = [...Object.values(t), ...Object.values(made)]
    .filter((x) => x.size > 0)
    .map((x) => {
      const id = (x as unknown as { record: { dataId: Id } }).record.dataId;
      return (id.ptr || (id.packed?.ptr ?? 0)) >>> 0;
    });
  for (const x of [...Object.values(t), ...Object.values(made)]) x.dispose();
  return { out, ptrs };
}

beforeAll(async () => {
  registerJsBackend();
  await setBackend('js');
  const make = (shape: number[], seed: number) => {
    const r = randomUniform(shape, -1, 1, { seed });
    const data = r.dataSync() as Float32Array;
    r.dispose();
    return { data, shape };
  };
  inputs = {
    x: make([1, 4, 9, 6], 1),
    w: make([5, 4, 3, 3], 2),
    e: make([3, 0], 3),
    ew: make([2, 0], 4),
    eb: make([2], 5),
  };
});

describe('wasm memory above 2 GiB (maxMemoryMB 4096)', () => {
  it('tensors placed above 2³¹ are written, computed and read as on backend-js (2 threads)', async () => {
    const want = (await run()).out;
    registerBackend('wasm-4g', () => WasmBackend.create({ threads: 2, maxMemoryMB: 4096 }), 0);
    await setBackend('wasm-4g');
    const ctx = (getBackend() as unknown as { ctx: { alloc(bytes: number, what: string): number } }).ctx;
    const filler = ctx.alloc(2.25 * GiB, 'test filler below 2 GiB');
    expect(filler).toBeLessThan(2 * GiB);
    const got = await run();
    expect(got.ptrs.length).toBe(8); // x, w, eb and the five outputs
    expect(Math.min(...got.ptrs)).toBeGreaterThanOrEqual(2 * GiB);
    for (const k of Object.keys(want)) {
      expect(got.out[k].length, k).toBe(want[k].length);
      for (let i = 0; i < want[k].length; i++)
        expect(Math.abs(got.out[k][i] - want[k][i]), `${k}[${i}]`).toBeLessThanOrEqual(
          1e-5 * (1 + Math.abs(want[k][i])),
        );
    }
    expect(Array.from(got.out.empty)).toEqual([
      Math.max(inputs.eb.data[0], 0),
      Math.max(inputs.eb.data[1], 0),
      Math.max(inputs.eb.data[0], 0),
      Math.max(inputs.eb.data[1], 0),
      Math.max(inputs.eb.data[0], 0),
      Math.max(inputs.eb.data[1], 0),
    ]);
  }, 60_000);
});
