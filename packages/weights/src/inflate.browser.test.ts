/**
 * The browser's inflate path (DecompressionStream) in Chromium: the same bounds as in Node —
 * a hard output bound at the declared size, a huge declared size refused before allocating,
 * only referenced entries inflated, and nothing but WeightsError escaping.
 */
import { describe, expect, it } from 'vitest';
import { WeightsError } from './errors.js';
import { readWeights } from './load.js';
import { buildZip, f32, pickleCheckpoint, type Value } from './test-support/builders.js';
import { zipWithDeflated } from './test-support/hostile.js';
import { crc32, inflateRaw } from './zip.js';

const MiB = 2 ** 20;

async function deflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new CompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const t = (storage: string, numel: number, shape: number[]): Value => ({
  tensor: { storage, storageType: 'FloatStorage', numel, shape },
});

describe('inflate in Chromium (DecompressionStream)', () => {
  it('runs where there is no node:zlib', () => {
    expect(typeof DecompressionStream).toBe('function');
    expect(
      typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node,
    ).not.toBe('string');
  });

  it('inflates to exactly the declared size, or throws a WeightsError', async () => {
    const data = new Uint8Array(MiB).map((_, i) => i % 251);
    const src = await deflate(data);
    const out = await inflateRaw(src, MiB, 'e');
    expect(out.length).toBe(MiB);
    expect(crc32(out)).toBe(crc32(data));
    await expect(inflateRaw(src, 1000, 'e')).rejects.toThrow(/inflates to more than the declared 1000 bytes/);
    await expect(inflateRaw(src, 2 * MiB, 'e')).rejects.toThrow(
      /inflated to 1048576 bytes but the directory says 2097152/,
    );
    await expect(inflateRaw(src.subarray(0, 100), MiB, 'e')).rejects.toThrow(WeightsError);
    await expect(inflateRaw(src, 2 ** 40, 'e')).rejects.toThrow(WeightsError);
  });

  it('a huge declared size, a budget overrun and a bad CRC are refused through readWeights; unreferenced bombs are never inflated', async () => {
    const pkl = pickleCheckpoint(new Map([['w', t('0', 2, [2])]]));
    const head: [string, Uint8Array][] = [
      ['archive/data.pkl', pkl],
      ['archive/byteorder', new TextEncoder().encode('little')],
    ];
    const zeros = await deflate(new Uint8Array(64 * MiB));
    // zip64 directory: 2^40 bytes from a few KB
    await expect(readWeights(zipWithDeflated(head, ['archive/data/0', zeros, 2 ** 40]))).rejects.toThrow(
      /more than deflate can encode/,
    );
    // 64 MiB referenced under a 16 MiB budget
    await expect(
      readWeights(zipWithDeflated(head, ['archive/data/0', zeros, 64 * MiB]), { maxBytes: 16 * MiB }),
    ).rejects.toThrow(/needs 67108864 bytes, past the memory budget \(maxBytes 16777216/);
    // the right size but a wrong CRC
    const two = f32([1, 2]);
    await expect(
      readWeights(zipWithDeflated(head, ['archive/data/0', await deflate(two), 8], { crc: 1 })),
    ).rejects.toThrow(/CRC-32 of the data/);
    const ok = await readWeights(
      zipWithDeflated(head, ['archive/data/0', await deflate(two), 8], { crc: crc32(two) }),
    );
    expect(Array.from(ok.get('w')?.data ?? [])).toEqual([1, 2]);
    // an unreferenced 64 MiB entry under a 1 MiB budget: never inflated, so the load succeeds
    expect(buildZip([...head, ['archive/data/0', two]]).length).toBeGreaterThan(0); // the builders load here too
    const lazy = await readWeights(
      zipWithDeflated([...head, ['archive/data/0', two]], ['archive/data/junk', zeros, 64 * MiB]),
      {
        maxBytes: MiB,
      },
    );
    expect(lazy.get('w')?.shape).toEqual([2]);
  });
});
