import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { WeightsError } from './errors.js';
import { parseWeights, readWeights } from './load.js';
import { MAX_PICKLE_OBJECTS } from './pickle.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import { buildTorchZip, buildZip, f32, Pickler, type Value } from './test-support/builders.js';
import { zerosDeflate, zipWithDeflated } from './test-support/hostile.js';
import { crc32, crc32js, inflateRaw } from './zip.js';

const MiB = 2 ** 20;
const CHILD = fileURLToPath(new URL('./test-support/child.mjs', import.meta.url));

interface Measured {
  ok: boolean;
  result?: unknown;
  name?: string;
  message?: string;
  /** Resident high-water mark above the child's RSS once the file was built, in bytes. */
  peak: number;
  cpuMs: number;
}

/**
 * Runs a case of test-support/hostile.ts in a fresh Node process: the peak is that process's
 * `process.resourceUsage().maxRSS` after the load minus its RSS just before it.
 */
function measure(name: string): Measured {
  const r = spawnSync(process.execPath, [CHILD, name], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0)
    throw new Error(`child ${name} failed (${r.status} ${r.signal}): ${r.stderr.slice(-2000)}`);
  const o = JSON.parse(r.stdout) as Omit<Measured, 'peak'> & { maxRSS: number; rssBefore: number };
  return { ...o, peak: Math.max(0, o.maxRSS - o.rssBefore) };
}

function refused(m: Measured, re: RegExp): void {
  expect(m.ok, JSON.stringify(m)).toBe(false);
  expect(m.name).toBe('WeightsError');
  expect(m.message).toMatch(re);
}

const t = (storage: string, numel: number, shape: number[]): Value => ({
  tensor: { storage, storageType: 'FloatStorage', numel, shape },
});

describe('resource bounds: each hostile file is refused or loaded within a bounded peak (fresh process, maxRSS)', () => {
  it('a 3 MB zip whose referenced entry deflates to 3 GiB is refused before inflating', () => {
    const m = measure('zip-bomb-referenced');
    refused(
      m,
      /inflating the entry needs 3221225472 bytes, past the memory budget \(maxBytes 2147483648.*entry 'archive\/data\/0'/,
    );
    expect(m.peak).toBeLessThan(64 * MiB);
  }, 60_000);

  it('a 1.5 GiB deflate bomb nothing references is never inflated', () => {
    const m = measure('zip-bomb-unreferenced');
    expect(m.ok, JSON.stringify(m)).toBe(true);
    expect(m.result).toBe('w:[2]');
    expect(m.peak).toBeLessThan(64 * MiB);
  }, 60_000);

  it('the maxBytes option lowers the budget', () => {
    const m = measure('zip-bomb-budget');
    refused(m, /needs 268435456 bytes, past the memory budget \(maxBytes 67108864/);
    expect(m.peak).toBeLessThan(64 * MiB);
  }, 60_000);

  it('a real 128 MiB deflated storage is inflated once, streamed, with no extra copy', () => {
    const m = measure('zip-deflated-128mib');
    expect(m.ok, JSON.stringify(m)).toBe(true);
    expect(m.result).toBe('w:[33554432]');
    expect(m.peak).toBeGreaterThan(120 * MiB);
    expect(m.peak).toBeLessThan(1.75 * 128 * MiB); // a second copy would make it 2×
  }, 60_000);

  it('directory entries sharing one entry’s data are refused', () => {
    refused(measure('zip-overlapping-entries'), /entry overlaps entry 'archive\/data\/0'/);
  }, 60_000);

  it('64 keys of one stride-0 view of 2^24 elements are materialised once', () => {
    const m = measure('stride0-shared');
    expect(m.ok, JSON.stringify(m)).toBe(true);
    expect(m.result).toMatchObject({ keys: 64, shared: true });
    expect(m.peak).toBeLessThan(128 * MiB); // one 64 MiB array, not 64 of them
  }, 60_000);

  it('stride-0 views of different shapes are bounded in all, not per tensor', () => {
    const m = measure('stride0-distinct');
    refused(m, /expand to more than 16777216 elements in all.*key 'k1'/);
    expect(m.peak).toBeLessThan(160 * MiB);
  }, 60_000);

  it('a float16 storage shared by 2000 keys is converted once', () => {
    const m = measure('storage-shared');
    expect(m.ok, JSON.stringify(m)).toBe(true);
    expect(m.result).toMatchObject({ keys: 2000, shared: true });
    expect(m.peak).toBeLessThan(64 * MiB);
  }, 60_000);

  it('copies of many different views of one storage are bounded by a multiple of it', () => {
    const m = measure('storage-views-copied');
    refused(m, /copy more than 33554432 elements/);
    expect(m.peak).toBeLessThan(256 * MiB);
  }, 60_000);

  it('an 840 KB pickle of 50,000 keys naming one 100,000-entry dict is searched in linear time', () => {
    const m = measure('dict-search-quadratic');
    refused(m, /no tensors found in the checkpoint; its top-level keys are 0, 1, .*\(50000 in all\)/);
    expect(m.cpuMs).toBeLessThan(10_000); // minutes before
    expect(m.peak).toBeLessThan(128 * MiB);
  }, 60_000);

  it('a 700 KB key of repeated `module.` prefixes is stripped in linear time', () => {
    const m = measure('prefix-search-quadratic');
    expect(m.ok, JSON.stringify(m)).toBe(true);
    expect(m.result).toBe('w:[2]');
    expect(m.cpuMs).toBeLessThan(10_000);
  }, 60_000);

  it('tuple keys nested 200,000 deep or aliased 2^40 times become short keys, no RangeError', () => {
    for (const name of ['tuple-key-deep', 'tuple-key-aliased']) {
      const m = measure(name);
      expect(m.ok, JSON.stringify(m)).toBe(true);
      expect((m.result as string).length).toBeLessThan(300);
      expect(m.cpuMs).toBeLessThan(5_000);
      expect(m.peak).toBeLessThan(64 * MiB);
    }
  }, 60_000);

  it('20 MB of `}` or of DUP is refused at the object or stack bound', () => {
    const dicts = measure('pickle-empty-dicts');
    refused(dicts, new RegExp(`creates more than ${MAX_PICKLE_OBJECTS} objects`));
    expect(dicts.peak).toBeLessThan(256 * MiB); // 4 GB before
    const dup = measure('pickle-dup');
    refused(dup, new RegExp(`stack holds more than ${MAX_PICKLE_OBJECTS} items`));
    expect(dup.peak).toBeLessThan(128 * MiB);
  }, 60_000);
});

describe('only WeightsError escapes, naming the entry and the value, escaped and cut', () => {
  it('a huge declared size is refused on the DecompressionStream and the node:zlib path alike', async () => {
    const src = zerosDeflate(1);
    for (const via of ['stream', 'zlib'] as const) {
      await expect(inflateRaw(src, 2 ** 40, 'e', via)).rejects.toThrow(WeightsError);
      await expect(inflateRaw(src, 1000, 'e', via)).rejects.toThrow(
        /more than the declared 1000 bytes|larger than the declared 1000/,
      );
      await expect(inflateRaw(src, 2 * MiB, 'e', via)).rejects.toThrow(
        /inflated to 1048576 bytes but the directory says 2097152/,
      );
      await expect(inflateRaw(src.subarray(0, 100), MiB, 'e', via)).rejects.toThrow(WeightsError);
      expect((await inflateRaw(src, MiB, 'e', via)).length).toBe(MiB);
    }
    // through the reader: a zip64 directory declaring 2^40 bytes from 1 KB
    const z = zipWithDeflated([], ['archive/data.pkl', src, 2 ** 40]);
    await expect(readWeights(z)).rejects.toThrow(
      /declares 1099511627776 bytes from \d+ compressed, more than deflate can encode/,
    );
  });

  it('a deeply nested safetensors shape is a WeightsError', () => {
    const header = `{"a":{"dtype":"F32","shape":${'['.repeat(100_000)}${']'.repeat(100_000)},"data_offsets":[0,0]}}`;
    const h = new TextEncoder().encode(header);
    const b = new Uint8Array(8 + h.length);
    new DataView(b.buffer).setUint32(0, h.length, true);
    b.set(h, 8);
    expect(() => readSafetensors(b)).toThrow(/nests deeper than 4 levels/);
    expect(() => parseWeights(b)).toThrow(WeightsError);
  });

  it('control characters are escaped and a 10 MB name is cut', () => {
    const name = `evil\n\x1b[2J\u202e${'x'.repeat(10 * MiB)}`;
    const enc = new TextEncoder().encode(name);
    const pkl = new Uint8Array(2 + 1 + 5 + enc.length + 2 + 1);
    pkl.set([0x80, 2, 0x7d, 0x58]);
    new DataView(pkl.buffer).setUint32(4, enc.length, true);
    pkl.set(enc, 8);
    pkl.set([0x4e, 0x73, 0x2e], 8 + enc.length); // None, SETITEM, STOP
    const bytes = buildZip([['archive/data.pkl', pkl]]);
    let err: unknown;
    try {
      parseWeights(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WeightsError);
    const m = (err as Error).message;
    expect(m).toContain("'evil\\x0a\\x1b[2J\\u202exxx");
    expect(m).toMatch(/… \(10485770 chars\)/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting there are none
    expect(m).not.toMatch(/[\x00-\x1f\u202e]/);
    expect(m.length).toBeLessThan(1000);
    // and in the location fields' rendering
    const e2 = new WeightsError('x', { entry: 'a\nb', key: 'k'.repeat(1000) });
    expect(e2.message).toBe(`weights: x (at entry 'a\\x0ab', key '${'k'.repeat(120)}… (1000 chars)')`);
  });

  it('safetensors is as strict as the reference reader', () => {
    const good = writeSafetensors(
      new Map([
        ['a', { dtype: 'float32' as const, shape: [2], data: Float32Array.from([1, 2]) }],
        ['b', { dtype: 'float32' as const, shape: [1], data: Float32Array.from([3]) }],
      ]),
    );
    expect(readSafetensors(good).tensors.size).toBe(2);
    const make = (header: string, data: number): Uint8Array => {
      const h = new TextEncoder().encode(header);
      const b = new Uint8Array(8 + h.length + data);
      new DataView(b.buffer).setUint32(0, h.length, true);
      b.set(h, 8);
      return b;
    };
    const cases: [string, number, RegExp][] = [
      [
        '{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
        8,
        /leave bytes \[0, 4\) of the data section to no tensor/,
      ],
      [
        '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
        8,
        /cover 4 bytes but the data section has 8 \(trailing bytes\)/,
      ],
      [
        '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
        8,
        /overlap those of 'a'/,
      ],
      [
        '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
        8,
        /names 'a' twice/,
      ],
      ['{"a":{"dtype":"F32","shape":[1],"shape":[1],"data_offsets":[0,4]}}', 4, /names 'shape' twice/],
      ['{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}}', 4, /the number '4.0'.*integers/],
      ['{"a":{"dtype":"F32","shape":[1e0],"data_offsets":[0,4]}}', 4, /the number '1e0'/],
    ];
    for (const [header, data, re] of cases) {
      expect(() => readSafetensors(make(header, data)), header).toThrow(WeightsError);
      expect(() => readSafetensors(make(header, data)), header).toThrow(re);
    }
  });

  it('zip entries: a CRC-32 mismatch in what is read and a name given twice are refused', () => {
    const noise = new Uint8Array(100_003).map((_, i) => (i * 2654435761) >>> 24);
    for (const b of [noise, noise.subarray(5), new Uint8Array(0)]) {
      expect(crc32js(b)).toBe(zlibCrc32(b));
      expect(crc32(b)).toBe(zlibCrc32(b));
    }
    const zip = buildTorchZip(new Map([['w', t('0', 2, [2])]]), { '0': f32([1, 2]) });
    expect(parseWeights(zip).get('w')?.data).toEqual(Float32Array.from([1, 2]));
    const bad = zip.slice();
    bad[findBytes(bad, f32([1, 2])) + 7] ^= 1; // the float 2.0 becomes 2^-126·…: still a float

    expect(() => parseWeights(bad)).toThrow(
      /CRC-32 of the data is 0x[0-9a-f]{8} but the directory says.*entry 'archive\/data\/0'/,
    );
    const twice = buildZip([
      ['archive/data.pkl', new Pickler().proto().emptyDict().stop().bytes()],
      ['archive/data.pkl', new Pickler().proto().emptyDict().stop().bytes()],
    ]);
    expect(() => parseWeights(twice)).toThrow(/names this entry twice.*entry 'archive\/data.pkl'/);
  });
});

function findBytes(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error('not found');
}
