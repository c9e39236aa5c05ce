import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWeights } from './load.js';
import type { RawStateDict } from './raw.js';
import { writeSafetensors } from './safetensors.js';
import type { WeightsProgress } from './state-dict.js';
import { FIXTURES } from './test-support/fixtures.js';

describe('load progress (onProgress)', () => {
  it('a 24 MiB safetensors file: the bytes in 16 MiB reads (0, 16 MiB, all), then each of its 3 tensors', async () => {
    const n = 6 << 20; // 24 MiB of float32
    const dict: RawStateDict = new Map([
      ['big', { dtype: 'float32', sourceDtype: 'float32', shape: [n], data: new Float32Array(n).fill(0.5) }],
      ['small', { dtype: 'float32', sourceDtype: 'float32', shape: [2], data: new Float32Array([1, 2]) }],
      ['index', { dtype: 'int32', sourceDtype: 'int32', shape: [1], data: new Int32Array([7]) }],
    ]);
    const bytes = writeSafetensors(dict);
    const path = join(await mkdtemp(join(tmpdir(), 'kz-progress-')), 'big.safetensors');
    await writeFile(path, bytes);
    const seen: WeightsProgress[] = [];
    const sd = await readWeights(path, { onProgress: (p) => seen.push(p) });
    expect(sd.get('small')?.data).toEqual(new Float32Array([1, 2]));
    const reads = seen.filter((p) => p.phase === 'read');
    expect(reads.map((p) => p.done)).toEqual([0, 16 << 20, bytes.length]);
    expect(reads.every((p) => p.total === bytes.length)).toBe(true);
    const decodes = seen.filter((p) => p.phase === 'decode');
    expect(decodes.map((p) => [p.done, p.total])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    // reading comes first
    expect(seen.findIndex((p) => p.phase === 'decode')).toBe(reads.length);
  });

  it('a PyTorch zip checkpoint read from its path reports its bytes, then one step per tensor of the chosen dict', async () => {
    const seen: WeightsProgress[] = [];
    const sd = await readWeights(`${FIXTURES}checkpoint.pt`, { onProgress: (p) => seen.push(p) });
    const reads = seen.filter((p) => p.phase === 'read');
    expect(reads.at(-1)?.done).toBe(reads.at(-1)?.total);
    expect(reads.at(-1)!.total).toBeGreaterThan(0);
    const decodes = seen.filter((p) => p.phase === 'decode');
    expect(decodes.length).toBe(sd.size);
    expect(decodes.at(-1)).toEqual({ phase: 'decode', done: sd.size, total: sd.size });
  });
});
