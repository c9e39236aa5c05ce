import { sizeFromShape } from '@kernelzoo/core';
import { describe, expect, it } from 'vitest';
import { WeightsError } from './errors.js';
import { parseWeights, readWeights } from './load.js';
import type { RawStateDict } from './raw.js';
import { writeSafetensors } from './safetensors.js';
import {
  buildTorchLegacy,
  buildTorchZip,
  buildZip,
  f16,
  f32,
  i64,
  pickleCheckpoint,
  rng,
  type Value,
} from './test-support/builders.js';
import { FIXTURE_FILES, fixture } from './test-support/fixtures.js';
import { ZipArchive } from './zip.js';

/**
 * Per-case time bound (ms), the number of mutated files tried and the seed. Raise the count
 * for a longer local run: `WEIGHTS_FUZZ_CASES=200000 WEIGHTS_FUZZ_SEED=5 pnpm vitest run src/fuzz.test.ts`.
 */
// The slowest case measured ~8 ms; the bound catches hangs and runaway work while leaving room
// for a loaded CI machine (GC pauses, descheduling).
const CASE_BOUND_MS = 500;
const SEED = Number(process.env.WEIGHTS_FUZZ_SEED ?? 20240611);
const CASES = Number(process.env.WEIGHTS_FUZZ_CASES ?? 4000);
const ASYNC_CASES = Math.max(1, Math.round(CASES / 13));
const HOSTILE_CASES = Math.max(1, Math.round(CASES / 10));
/**
 * Per-case bound of the resource-exhaustion mutations: runs of up to 400,000 opcodes reach
 * the unpickler's object bound (2^19 dicts take ~0.7 s to allocate on a loaded 2-core machine).
 */
const HOSTILE_BOUND_MS = 3000;

interface Seed {
  name: string;
  bytes: Uint8Array;
  /** [start, end) of the bytes that are structure rather than tensor data. */
  regions: [number, number][];
}

function seeds(): Seed[] {
  const out: Seed[] = [];
  for (const name of FIXTURE_FILES) {
    const bytes = fixture(name);
    const regions: [number, number][] = [];
    if (name.includes('legacy')) regions.push([0, bytes.length]);
    else {
      const zip = new ZipArchive(bytes);
      for (const e of zip.entries.values())
        if (e.name.endsWith('data.pkl'))
          regions.push([e.dataOffset - 30 - e.name.length, e.dataOffset + e.size]);
      const cd = bytes.length - 22 - 60 * zip.entries.size;
      regions.push([Math.max(0, cd), bytes.length]);
    }
    out.push({ name, bytes, regions });
  }
  const t = (storage: string, type: string, numel: number, shape: number[], extra: object = {}): Value => ({
    tensor: { storage, storageType: type, numel, shape, ...extra },
  });
  const legacy = buildTorchLegacy(
    new Map<string, Value>([
      ['w', t('1', 'FloatStorage', 12, [3, 2], { stride: [1, 3], offset: 3 })],
      ['h', t('2', 'HalfStorage', 2, [2])],
      ['v', t('1', 'FloatStorage', 12, [2, 2], { view: ['9', 4, 4] })],
      ['n', t('3', 'LongStorage', 1, [])],
    ]),
    [
      ['1', 12, f32([...Array(12).keys()])],
      ['2', 2, f16([1.5, -2])],
      ['3', 1, i64([5])],
    ],
  );
  out.push({ name: 'built-legacy', bytes: legacy, regions: [[0, legacy.length]] });
  const st = writeSafetensors(
    new Map([
      ['a.weight', { dtype: 'float32' as const, shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
      ['a.bias', { dtype: 'float32' as const, shape: [2], data: Float32Array.from([7, 8]) }],
      ['a.count', { dtype: 'int32' as const, shape: [], data: Int32Array.from([3]) }],
    ]),
    { metadata: { format: 'pt' } },
  );
  const headerEnd = 8 + new DataView(st.buffer).getUint32(0, true);
  out.push({ name: 'written.safetensors', bytes: st, regions: [[0, headerEnd]] });
  return out;
}

function mutate(seed: Seed, r: () => number): { bytes: Uint8Array; how: string } {
  const { bytes } = seed;
  const pick = (): number => {
    if (r() < 0.6) {
      const [a, b] = seed.regions[Math.floor(r() * seed.regions.length)];
      return a + Math.floor(r() * (b - a));
    }
    return Math.floor(r() * bytes.length);
  };
  const kind = r();
  if (kind < 0.45) {
    const out = bytes.slice();
    const flips = 1 + Math.floor(r() * 4);
    const at: number[] = [];
    for (let i = 0; i < flips; i++) {
      const p = pick();
      out[p] ^= 1 << Math.floor(r() * 8);
      at.push(p);
    }
    return { bytes: out, how: `bit flips at ${at.join(',')}` };
  }
  if (kind < 0.7) {
    const out = bytes.slice();
    const p = pick();
    const specials = [0, 0xff, 0x7f, 0x80, 0x01, 0x2e, 0x28, 0x71];
    out[p] = r() < 0.5 ? specials[Math.floor(r() * specials.length)] : Math.floor(r() * 256);
    return { bytes: out, how: `byte ${p} set to ${out[p]}` };
  }
  if (kind < 0.9) {
    const len = r() < 0.5 ? pick() : Math.floor(r() * bytes.length);
    return { bytes: bytes.slice(0, len), how: `truncated to ${len}` };
  }
  const p = pick();
  const n = 1 + Math.floor(r() * 16);
  const out = new Uint8Array(bytes.length - Math.min(n, bytes.length - p));
  out.set(bytes.subarray(0, p));
  out.set(bytes.subarray(p + n), p);
  return { bytes: out, how: `${n} bytes deleted at ${p}` };
}

function checkLoaded(sd: RawStateDict): void {
  for (const [k, t] of sd) {
    const n = sizeFromShape(t.shape);
    if (t.data.length !== n)
      throw new Error(`key ${k}: ${t.data.length} values for shape [${t.shape.join(', ')}]`);
  }
}

describe('fuzz: mutated checkpoints and safetensors files', () => {
  const all = seeds();

  it(`${CASES} mutated files each load or throw a WeightsError, each within ${CASE_BOUND_MS} ms`, () => {
    for (const s of all) checkLoaded(parseWeights(s.bytes, { key: '' }));
    const r = rng(SEED);
    let loaded = 0;
    let refused = 0;
    let slowest = 0;
    const kinds = new Map<string, number>();
    for (let i = 0; i < CASES; i++) {
      const seed = all[i % all.length];
      const { bytes, how } = mutate(seed, r);
      const t0 = performance.now();
      try {
        checkLoaded(parseWeights(bytes));
        loaded++;
      } catch (e) {
        if (!(e instanceof WeightsError))
          throw new Error(`case ${i} (${seed.name}, ${how}) threw a non-WeightsError: ${String(e)}`);
        refused++;
        const k = e.message.replace(/[0-9]+/g, 'N').slice(0, 50);
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
      }
      const dt = performance.now() - t0;
      slowest = Math.max(slowest, dt);
      if (dt > CASE_BOUND_MS) throw new Error(`case ${i} (${seed.name}, ${how}) took ${dt.toFixed(1)} ms`);
    }
    expect(loaded + refused).toBe(CASES);
    // both outcomes happen: the mutations reach tensor data and structure alike
    expect(loaded).toBeGreaterThan(CASES / 20);
    expect(refused).toBeGreaterThan(CASES / 4);
    expect(kinds.size).toBeGreaterThan(20);
    expect(slowest).toBeLessThan(CASE_BOUND_MS);
  }, 120_000);

  it(`${ASYNC_CASES} mutated deflated archives each load or throw a WeightsError`, async () => {
    const deflated = buildTorchZip(
      new Map<string, Value>([
        ['w', { tensor: { storage: '0', storageType: 'FloatStorage', numel: 6, shape: [2, 3] } }],
        ['b', { tensor: { storage: '1', storageType: 'FloatStorage', numel: 2, shape: [2] } }],
      ]),
      { '0': f32([1, 2, 3, 4, 5, 6]), '1': f32([7, 8]) },
      { deflate: true },
    );
    const seed: Seed = { name: 'deflated.pt', bytes: deflated, regions: [[0, deflated.length]] };
    checkLoaded(await readWeights(deflated));
    const r = rng(SEED + 1);
    for (let i = 0; i < ASYNC_CASES; i++) {
      const { bytes, how } = mutate(seed, r);
      const t0 = performance.now();
      try {
        checkLoaded(await readWeights(bytes));
      } catch (e) {
        if (!(e instanceof WeightsError))
          throw new Error(`case ${i} (${how}) threw a non-WeightsError: ${String(e)}`);
      }
      const dt = performance.now() - t0;
      if (dt > CASE_BOUND_MS) throw new Error(`case ${i} (${how}) took ${dt.toFixed(1)} ms`);
    }
  }, 120_000);

  it(`${HOSTILE_CASES} resource-exhaustion mutations each load or throw a WeightsError, each within ${HOSTILE_BOUND_MS} ms`, async () => {
    const spec = (storage: string, numel: number, shape: number[], stride?: number[]): Value => ({
      tensor: { storage, storageType: 'FloatStorage', numel, shape, stride },
    });
    const value = new Map<string, Value>([
      ['a', spec('0', 6, [2, 3])],
      ['b', spec('0', 6, [3, 2], [1, 3])],
      ['c', spec('1', 1, [4], [0])],
      ['d', new Map<string, Value>([['e', spec('1', 1, [])]])],
    ]);
    const pkl = pickleCheckpoint(value);
    const storages: [string, Uint8Array][] = [
      ['archive/data/0', f32([1, 2, 3, 4, 5, 6])],
      ['archive/data/1', f32([7])],
    ];
    const wrap = (p: Uint8Array, deflate = false): Uint8Array =>
      buildZip(
        [['archive/data.pkl', p], ['archive/byteorder', new TextEncoder().encode('little')], ...storages],
        {
          deflate,
        },
      );
    checkLoaded(parseWeights(wrap(pkl)));
    const r = rng(SEED + 2);
    const at = (n: number): number => Math.floor(r() * n);
    // opcodes that build memory from nothing: EMPTY_DICT, DUP, MARK, EMPTY_LIST, EMPTY_TUPLE, NONE,
    // TUPLE1, TUPLE2, APPEND, APPENDS, SETITEM, BINGET 0, MEMOIZE
    const runs: number[][] = [
      [0x7d],
      [0x32],
      [0x28],
      [0x5d],
      [0x29],
      [0x4e],
      [0x85],
      [0x86],
      [0x61],
      [0x65],
      [0x73],
      [0x68, 0],
      [0x94],
    ];
    const cases = new Map<string, number>();
    for (let i = 0; i < HOSTILE_CASES; i++) {
      let bytes: Uint8Array;
      let how: string;
      let deflated = false;
      const kind = r();
      if (kind < 0.45) {
        // a long run of one opcode inserted into the pickle
        const op = runs[at(runs.length)];
        const len = 1 + at(r() < 0.5 ? 1000 : 400_000);
        const pos = 2 + at(pkl.length - 3);
        const run = new Uint8Array(len * op.length);
        for (let j = 0; j < run.length; j += op.length) run.set(op, j);
        const p = new Uint8Array(pkl.length + run.length);
        p.set(pkl.subarray(0, pos));
        p.set(run, pos);
        p.set(pkl.subarray(pos), pos + run.length);
        bytes = wrap(p);
        how = `${len}× opcode ${op.map((x) => x.toString(16)).join(' ')} at ${pos}`;
      } else if (kind < 0.7) {
        // a slice of the pickle repeated many times
        const a = 2 + at(pkl.length - 3);
        const b = Math.min(pkl.length - 1, a + 1 + at(40));
        const k = 1 + at(20_000);
        const p = new Uint8Array(pkl.length + (b - a) * k);
        p.set(pkl.subarray(0, b));
        for (let j = 0; j < k; j++) p.set(pkl.subarray(a, b), b + j * (b - a));
        p.set(pkl.subarray(b), b + k * (b - a));
        bytes = wrap(p);
        how = `bytes [${a}, ${b}) repeated ${k}×`;
      } else if (kind < 0.9) {
        // a deflated archive whose central directory declares a huge or wrong size
        bytes = wrap(pkl, true).slice();
        const dv = new DataView(bytes.buffer);
        const central: number[] = [];
        for (let p = 0; p + 4 <= bytes.length; p++) if (dv.getUint32(p, true) === 0x02014b50) central.push(p);
        const c = central[at(central.length)];
        const field = r() < 0.7 ? 24 : 20; // uncompressed or compressed size
        const v = [0x7fffffff, 0xfffffffe, 2 ** 31, 2 ** 28, 1 + at(2 ** 20)][at(5)];
        dv.setUint32(c + field, v, true);
        deflated = true;
        how = `central record at ${c}: field ${field} set to ${v}`;
      } else {
        // a safetensors header with huge, fractional or deeply nested numbers
        const shapes = [
          '[1e308]',
          '[9007199254740993]',
          '[2.5]',
          '[-1]',
          `${'['.repeat(at(5000))}1${']'.repeat(at(5000))}`,
          '[65536,65536,65536]',
        ];
        const shape = shapes[at(shapes.length)];
        const h = new TextEncoder().encode(`{"t":{"dtype":"F32","shape":${shape},"data_offsets":[0,4]}}`);
        bytes = new Uint8Array(8 + h.length + 4);
        new DataView(bytes.buffer).setUint32(0, h.length, true);
        bytes.set(h, 8);
        how = `safetensors shape ${shape.slice(0, 40)}`;
      }
      const t0 = performance.now();
      try {
        checkLoaded(deflated ? await readWeights(bytes) : parseWeights(bytes));
        cases.set('loaded', (cases.get('loaded') ?? 0) + 1);
      } catch (e) {
        if (!(e instanceof WeightsError))
          throw new Error(`hostile case ${i} (${how}) threw a non-WeightsError: ${String(e)}`);
        const k = e.message.replace(/[0-9]+/g, 'N').slice(0, 50);
        cases.set(k, (cases.get(k) ?? 0) + 1);
      }
      const dt = performance.now() - t0;
      if (dt > HOSTILE_BOUND_MS) throw new Error(`hostile case ${i} (${how}) took ${dt.toFixed(1)} ms`);
    }
    expect(cases.size).toBeGreaterThan(5);
  }, 120_000);
});
