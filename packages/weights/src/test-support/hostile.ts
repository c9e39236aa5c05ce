/**
 * Hostile files, one per resource-exhaustion class of issue 11, each built small and read by
 * `child.mjs` in a fresh process so its peak memory and CPU can be measured. `run` returns a
 * short summary of what loaded (or throws what the loader threw).
 */
import { parseWeights, readWeights } from '../load.js';
import type { RawStateDict } from '../raw.js';
import { buildTorchZip, buildZip, f32, Pickler, pickleCheckpoint, type Value } from './builders.js';

const MiB = 2 ** 20;

/** A raw deflate stream of `mib` MiB of zeros, about 1 KB per MiB, built without that many bytes. */
export function zerosDeflate(mib: number): Uint8Array {
  const zlib = process.getBuiltinModule('node:zlib');
  const block = zlib.deflateRawSync(new Uint8Array(MiB), {
    level: 9,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  const out = new Uint8Array(block.length * mib + 2);
  for (let i = 0; i < mib; i++) out.set(block, i * block.length);
  out.set([0x03, 0x00], block.length * mib); // a final, empty fixed-Huffman block
  return out;
}

/**
 * A zip of stored entries and one deflated entry whose data is given raw, its directory
 * declaring `size` bytes (zip64 fields when `size` needs them). `extraCentral` repeats the
 * deflated entry's central record under other names, pointing at the same data.
 */
export function zipWithDeflated(
  stored: [string, Uint8Array][],
  deflated: [string, Uint8Array, number],
  options: { extraCentral?: string[]; crc?: number } = {},
): Uint8Array {
  const base = buildZip(stored);
  const dv = new DataView(base.buffer);
  // the stored archive's central directory and end record
  const eocd = base.length - 22;
  const cdSize = dv.getUint32(eocd + 12, true);
  const cdOffset = dv.getUint32(eocd + 16, true);
  const enc = new TextEncoder();
  const [name, data, size] = deflated;
  const nameBytes = enc.encode(name);
  const z = size >= 0xffffffff;
  const le = (v: number, w: number): number[] => {
    const b: number[] = [];
    for (let i = 0; i < w; i++) b.push(Math.floor(v / 2 ** (8 * i)) & 0xff);
    return b;
  };
  const localOffset = cdOffset;
  const local = [
    ...le(0x04034b50, 4),
    ...le(45, 2),
    ...le(0, 2),
    ...le(8, 2),
    ...le(0, 4),
    ...le(options.crc ?? 0, 4),
    ...le(data.length, 4),
    ...le(z ? 0xffffffff : size, 4),
    ...le(nameBytes.length, 2),
    ...le(0, 2),
    ...nameBytes,
  ];
  const central = (n: Uint8Array): number[] => [
    ...le(0x02014b50, 4),
    ...le(45, 2),
    ...le(45, 2),
    ...le(0, 2),
    ...le(8, 2),
    ...le(0, 4),
    ...le(options.crc ?? 0, 4),
    ...le(data.length, 4),
    ...le(z ? 0xffffffff : size, 4),
    ...le(n.length, 2),
    ...le(z ? 12 : 0, 2),
    ...le(0, 2),
    ...le(0, 2),
    ...le(0, 2),
    ...le(0, 4),
    ...le(localOffset, 4),
    ...n,
    ...(z ? [...le(1, 2), ...le(8, 2), ...le(size, 8)] : []),
  ];
  const names = [nameBytes, ...(options.extraCentral ?? []).map((x) => enc.encode(x))];
  const centralBytes = names.flatMap(central);
  const oldCentral = base.subarray(cdOffset, cdOffset + cdSize);
  const newCdOffset = cdOffset + local.length + data.length;
  const count = dv.getUint16(eocd + 10, true) + names.length;
  const out = new Uint8Array(newCdOffset + cdSize + centralBytes.length + 22);
  out.set(base.subarray(0, cdOffset));
  out.set(local, cdOffset);
  out.set(data, cdOffset + local.length);
  out.set(oldCentral, newCdOffset);
  out.set(centralBytes, newCdOffset + cdSize);
  const end = newCdOffset + cdSize + centralBytes.length;
  out.set(
    [
      ...le(0x06054b50, 4),
      ...le(0, 4),
      ...le(count, 2),
      ...le(count, 2),
      ...le(cdSize + centralBytes.length, 4),
      ...le(newCdOffset, 4),
      ...le(0, 2),
    ],
    end,
  );
  return out;
}

function summary(sd: RawStateDict): string {
  return [...sd]
    .map(([k, t]) => `${k.length > 40 ? `${k.slice(0, 40)}…` : k}:[${t.shape.join(',')}]`)
    .join(' ');
}

const t = (storage: string, numel: number, shape: number[], stride?: number[]): Value => ({
  tensor: { storage, storageType: 'FloatStorage', numel, shape, stride },
});

/** A one-tensor zip checkpoint's pickle and stored entries, to add a hostile entry to. */
function smallCheckpoint(extra: [string, Uint8Array][] = []): [string, Uint8Array][] {
  return [
    ['archive/data.pkl', pickleCheckpoint(new Map([['w', t('0', 2, [2])]]))],
    ['archive/byteorder', new TextEncoder().encode('little')],
    ['archive/data/0', f32([1, 2])],
    ...extra,
  ];
}

/** A pickle of `n` repetitions of an opcode after a first value. */
function repeated(first: number[], op: number, n: number): Uint8Array {
  const b = new Uint8Array(2 + first.length + n + 1);
  b.set([0x80, 2, ...first]);
  b.fill(op, 2 + first.length, 2 + first.length + n);
  b[b.length - 1] = 0x2e;
  return b;
}

interface Case {
  run: () => Promise<unknown>;
}

/** The hostile cases by name. */
export const HOSTILE: Record<string, () => Case> = {
  /** A 3 MB zip whose referenced storage entry deflates to 3 GiB. */
  'zip-bomb-referenced': () => {
    const bomb = zerosDeflate(3072);
    const bytes = zipWithDeflated(smallCheckpoint().slice(0, 2), ['archive/data/0', bomb, 3 * 2 ** 30]);
    return { run: async () => summary(await readWeights(bytes)) };
  },
  /** The same bomb (1.5 GiB, within the default budget) in an entry nothing references. */
  'zip-bomb-unreferenced': () => {
    const bomb = zerosDeflate(1536);
    const bytes = zipWithDeflated(smallCheckpoint(), ['archive/data/junk', bomb, 1536 * MiB]);
    return { run: async () => summary(await readWeights(bytes)) };
  },
  /** A referenced 256 MiB deflated storage under a 64 MiB budget. */
  'zip-bomb-budget': () => {
    const pkl = pickleCheckpoint(new Map([['w', t('0', 64 * MiB, [64 * MiB])]]));
    const bytes = zipWithDeflated(
      [
        ['archive/data.pkl', pkl],
        ['archive/byteorder', new TextEncoder().encode('little')],
      ],
      ['archive/data/0', zerosDeflate(256), 256 * MiB],
    );
    return { run: async () => summary(await readWeights(bytes, { maxBytes: 64 * MiB })) };
  },
  /** A legitimate 128 MiB deflated storage (CRC of zeros): loads, inflated once, no extra copy. */
  'zip-deflated-128mib': () => {
    const pkl = pickleCheckpoint(new Map([['w', t('0', 32 * MiB, [32 * MiB])]]));
    const bytes = zipWithDeflated(
      [
        ['archive/data.pkl', pkl],
        ['archive/byteorder', new TextEncoder().encode('little')],
      ],
      ['archive/data/0', zerosDeflate(128), 128 * MiB],
      { crc: 0x80654151 },
    );
    return { run: async () => summary(await readWeights(bytes)) };
  },
  /** One deflated entry listed 64 times in the central directory (overlapping entries). */
  'zip-overlapping-entries': () => {
    const extra = Array.from({ length: 64 }, (_, i) => `archive/data/${i + 1}`);
    const bytes = zipWithDeflated(
      smallCheckpoint().slice(0, 2),
      ['archive/data/0', zerosDeflate(64), 64 * MiB],
      {
        extraCentral: extra,
      },
    );
    return { run: async () => summary(await readWeights(bytes)) };
  },
  /** 64 keys, each a stride-0 view of 2^24 elements over one 1-element storage. */
  'stride0-shared': () => {
    const sd = new Map<string, Value>();
    for (let i = 0; i < 64; i++) sd.set(`k${i}`, t('0', 1, [2 ** 24], [0]));
    const bytes = buildTorchZip(sd, { '0': f32([1]) });
    return {
      run: async () => {
        const out = parseWeights(bytes);
        const first = out.get('k0')?.data;
        return {
          keys: out.size,
          shared: [...out.values()].every((x) => x.data === first),
          bytes: bytes.length,
        };
      },
    };
  },
  /** 64 keys, each a differently shaped stride-0 view of 2^24 elements over one element. */
  'stride0-distinct': () => {
    const sd = new Map<string, Value>();
    for (let i = 0; i < 64; i++) sd.set(`k${i}`, t('0', 1, [2 ** 24 - i], [0]));
    const bytes = buildTorchZip(sd, { '0': f32([1]) });
    return { run: async () => summary(parseWeights(bytes)) };
  },
  /** 2000 keys sharing one float16 storage of 2^21 elements (8 MiB once converted). */
  'storage-shared': () => {
    const sd = new Map<string, Value>();
    for (let i = 0; i < 2000; i++)
      sd.set(`k${i}`, {
        tensor: { storage: '0', storageType: 'HalfStorage', numel: 2 ** 21, shape: [2 ** 21] },
      });
    const bytes = buildTorchZip(sd, { '0': new Uint8Array(2 ** 22) });
    return {
      run: async () => {
        const out = parseWeights(bytes);
        const first = out.get('k0')?.data;
        return { keys: out.size, shared: [...out.values()].every((x) => x.data === first) };
      },
    };
  },
  /** 2000 keys each transposing one 2^12×2^10 float32 storage a different way (copies). */
  'storage-views-copied': () => {
    const sd = new Map<string, Value>();
    for (let i = 0; i < 2000; i++) sd.set(`k${i}`, t('0', 2 ** 22, [2 ** 10, 2 ** 12 - i], [1, 2 ** 10]));
    const bytes = buildTorchZip(sd, { '0': new Uint8Array(2 ** 24) });
    return { run: async () => summary(parseWeights(bytes)) };
  },
  /** ~840 KB: 50,000 keys all naming one dict of 100,000 non-tensor entries. */
  'dict-search-quadratic': () => {
    const p = new Pickler().proto().emptyDict().put(1).mark();
    for (let i = 0; i < 100_000; i++) p.int(i).int(0);
    p.setitems().put(2).op(0x30); // POP the inner dict; it stays in the memo
    p.emptyDict().mark();
    for (let i = 0; i < 50_000; i++) p.int(i).get(2);
    p.setitems().stop();
    const z = buildZip([
      ['archive/data.pkl', p.bytes()],
      ['archive/byteorder', new TextEncoder().encode('little')],
    ]);
    return { run: async () => summary(parseWeights(z)) };
  },
  /** One key of 700 KB: `module.` repeated 100,000 times, then `w`. */
  'prefix-search-quadratic': () => {
    const key = `${'module.'.repeat(100_000)}w`;
    const bytes = buildTorchZip(new Map([[key, t('0', 2, [2])]]), { '0': f32([1, 2]) });
    return { run: async () => summary(parseWeights(bytes)) };
  },
  /** A tensor whose dict key is a tuple nested 200,000 deep. */
  'tuple-key-deep': () => {
    const p = new Pickler().proto().emptyDict().str('x');
    for (let i = 0; i < 200_000; i++) p.op(0x85); // TUPLE1
    const rest = pickleCheckpoint(t('0', 2, [2]));
    p.op(...rest.subarray(2, rest.length - 1))
      .setitem()
      .stop();
    const bytes = buildZip([
      ['archive/data.pkl', p.bytes()],
      ['archive/byteorder', new TextEncoder().encode('little')],
      ['archive/data/0', f32([1, 2])],
    ]);
    return { run: async () => summary(parseWeights(bytes)) };
  },
  /** A tensor whose dict key is a tuple aliased 2^40 times: (t, t) of (t, t) of … 40 levels. */
  'tuple-key-aliased': () => {
    const p = new Pickler().proto().emptyDict().str('x').op(0x85).put(0).op(0x30);
    for (let i = 0; i < 40; i++)
      p.get(i % 2)
        .get(i % 2)
        .op(0x86)
        .put(1 - (i % 2))
        .op(0x30);
    p.get(0);
    const rest = pickleCheckpoint(t('0', 2, [2]));
    p.op(...rest.subarray(2, rest.length - 1))
      .setitem()
      .stop();
    const bytes = buildZip([
      ['archive/data.pkl', p.bytes()],
      ['archive/byteorder', new TextEncoder().encode('little')],
      ['archive/data/0', f32([1, 2])],
    ]);
    return { run: async () => summary(parseWeights(bytes)) };
  },
  /** 20 MB of EMPTY_DICT opcodes. */
  'pickle-empty-dicts': () => {
    const bytes = buildZip([['archive/data.pkl', repeated([], 0x7d, 20_000_000)]]);
    return { run: async () => summary(parseWeights(bytes)) };
  },
  /** 20 MB of DUP opcodes after one value. */
  'pickle-dup': () => {
    const bytes = buildZip([['archive/data.pkl', repeated([0x5d], 0x32, 20_000_000)]]);
    return { run: async () => summary(parseWeights(bytes)) };
  },
};
