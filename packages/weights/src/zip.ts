import { Budget } from './budget.js';
import { quote, WeightsError } from './errors.js';

const FORMAT = 'zip';
const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;

/** One file in a zip archive. */
export interface ZipEntry {
  /** The entry's path in the archive. */
  readonly name: string;
  /** The compression method: 0 stored, 8 deflate. */
  readonly method: number;
  /** Byte offset of the entry's (compressed) data in the archive. */
  readonly dataOffset: number;
  /** Bytes of compressed data. */
  readonly compressedSize: number;
  /** Bytes once uncompressed. */
  readonly size: number;
  /** The CRC-32 of the uncompressed bytes, from the central directory. */
  readonly crc32: number;
}

/** Deflate cannot expand data by more than 1032:1; a directory claiming more is lying. */
const MAX_DEFLATE_RATIO = 1032;

/**
 * A zip archive read from memory: its central directory, with entries' data read on demand
 * as views of the archive's bytes (stored entries) or inflated copies (deflate, see
 * {@link ZipArchive.inflateAll}).
 */
export class ZipArchive {
  /** The entries by name, in central-directory order. */
  readonly entries: ReadonlyMap<string, ZipEntry>;
  private readonly bytes: Uint8Array;
  private readonly inflated = new Map<string, Uint8Array>();
  private readonly checked = new Set<string>();

  /**
   * Parses the central directory. Throws a {@link WeightsError} when it is missing,
   * truncated, points outside the archive, names an entry twice or lets entries overlap.
   * @param bytes - the whole archive.
   */
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.entries = readCentralDirectory(bytes);
  }

  /** Whether the archive has an entry of this name. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  private entry(name: string): ZipEntry {
    const e = this.entries.get(name);
    if (!e) throw new WeightsError(`no entry ${quote(name)} in the archive`, { format: FORMAT });
    return e;
  }

  private verify(e: ZipEntry, data: Uint8Array): Uint8Array {
    if (this.checked.has(e.name)) return data;
    const crc = crc32(data);
    if (crc !== e.crc32)
      throw new WeightsError(
        `CRC-32 of the data is ${hex(crc)} but the directory says ${hex(e.crc32)} (corrupt archive)`,
        { format: FORMAT, entry: e.name, offset: e.dataOffset },
      );
    this.checked.add(e.name);
    return data;
  }

  /**
   * The uncompressed bytes of an entry, its CRC-32 checked: a view of the archive for a
   * stored entry. A deflated entry must have been inflated first ({@link ZipArchive.readAsync}
   * or {@link ZipArchive.inflateAll}).
   * @param name - the entry's path.
   */
  read(name: string): Uint8Array {
    const e = this.entry(name);
    if (e.method === 0) return this.verify(e, this.bytes.subarray(e.dataOffset, e.dataOffset + e.size));
    const done = this.inflated.get(name);
    if (done) return done;
    if (e.method === 8)
      throw new WeightsError(
        'entry is deflate-compressed; read it with the async readers (readWeights, loadWeights), which inflate with DecompressionStream or node:zlib',
        { format: FORMAT, entry: name, offset: e.dataOffset },
      );
    throw new WeightsError(`unsupported compression method ${e.method} (only stored and deflate)`, {
      format: FORMAT,
      entry: name,
      offset: e.dataOffset,
    });
  }

  /**
   * The uncompressed bytes of an entry, inflating a deflated one (streamed into one buffer of
   * its declared size, charged to `budget` first, CRC-32 checked) and keeping the result.
   * @param name - the entry's path.
   * @param budget - the memory budget the inflated bytes are charged to.
   */
  async readAsync(name: string, budget: Budget = new Budget()): Promise<Uint8Array> {
    const e = this.entry(name);
    if (e.method !== 8) return this.read(name);
    const done = this.inflated.get(name);
    if (done) return done;
    const where = { format: FORMAT, entry: name, offset: e.dataOffset };
    if (e.size > e.compressedSize * MAX_DEFLATE_RATIO + 1024)
      throw new WeightsError(
        `declares ${e.size} bytes from ${e.compressedSize} compressed, more than deflate can encode`,
        where,
      );
    budget.charge(e.size, 'inflating the entry', where);
    const src = this.bytes.subarray(e.dataOffset, e.dataOffset + e.compressedSize);
    const out = this.verify(e, await inflateRaw(src, e.size, name));
    this.inflated.set(name, out);
    return out;
  }

  /**
   * Inflates the deflate-compressed entries among `names` (all entries when omitted); see
   * {@link ZipArchive.readAsync}. The readers call it only for the entries they need.
   * @param names - the entries to inflate.
   * @param budget - the memory budget the inflated bytes are charged to (default 2 GiB).
   */
  async inflateAll(names?: Iterable<string>, budget: Budget = new Budget()): Promise<void> {
    for (const name of names ?? this.entries.keys())
      if (this.entries.get(name)?.method === 8) await this.readAsync(name, budget);
  }
}

function hex(v: number): string {
  return `0x${v.toString(16).padStart(8, '0')}`;
}

const CRC_TABLES: Uint32Array[] = (() => {
  const t0 = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t0[i] = c >>> 0;
  }
  const tables = [t0];
  for (let j = 1; j < 8; j++) {
    const prev = tables[j - 1];
    const t = new Uint32Array(256);
    for (let i = 0; i < 256; i++) t[i] = (prev[i] >>> 8) ^ t0[prev[i] & 0xff];
    tables.push(t);
  }
  return tables;
})();

/** `node:zlib`'s native crc32 where the runtime has it (Node ≥ 22.2), found without an import. */
const nativeCrc32: ((data: Uint8Array) => number) | undefined = (() => {
  const get = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
    ?.getBuiltinModule;
  const zlib = typeof get === 'function' ? (get('node:zlib') as { crc32?: unknown } | undefined) : undefined;
  return typeof zlib?.crc32 === 'function' ? (zlib.crc32 as (data: Uint8Array) => number) : undefined;
})();

/**
 * The CRC-32 (zip's, polynomial 0xedb88320) of `data`: native in Node, else in JavaScript,
 * eight bytes a step. @internal
 */
export function crc32(data: Uint8Array): number {
  return nativeCrc32 ? nativeCrc32(data) >>> 0 : crc32js(data);
}

/** {@link crc32} in JavaScript. @internal */
export function crc32js(data: Uint8Array): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES;
  let c = 0xffffffff;
  let i = 0;
  const n = data.length;
  const end8 = n - (n % 8);
  for (; i < end8; i += 8) {
    const a = (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)) ^ c;
    c =
      t7[a & 0xff] ^
      t6[(a >>> 8) & 0xff] ^
      t5[(a >>> 16) & 0xff] ^
      t4[a >>> 24] ^
      t3[data[i + 4]] ^
      t2[data[i + 5]] ^
      t1[data[i + 6]] ^
      t0[data[i + 7]];
  }
  for (; i < n; i++) c = t0[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Whether the bytes start like a zip archive. */
export function isZip(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 &&
    bytes[0] === 0x50 &&
    bytes[1] === 0x4b &&
    ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6))
  );
}

function fail(message: string, offset?: number, entry?: string): never {
  throw new WeightsError(message, { format: FORMAT, offset, entry });
}

function u64(dv: DataView, p: number): number {
  const v = dv.getUint32(p + 4, true) * 2 ** 32 + dv.getUint32(p, true);
  if (!Number.isSafeInteger(v)) fail(`64-bit field ${v} is too large`, p);
  return v;
}

function readCentralDirectory(b: Uint8Array): Map<string, ZipEntry> {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = b.length;
  if (n < 22) fail(`archive is ${n} bytes, too short for an end-of-central-directory record`, 0);
  // The EOCD record is the last 22 bytes plus a comment of at most 65535 bytes.
  let eocd = -1;
  for (let p = n - 22; p >= Math.max(0, n - 22 - 0xffff); p--) {
    if (dv.getUint32(p, true) === SIG_EOCD && p + 22 + dv.getUint16(p + 20, true) === n) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) fail('no end-of-central-directory record found (truncated or not a zip archive)', n);
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || dv.getUint32(loc, true) !== SIG_ZIP64_LOCATOR)
      fail('zip64 fields without a zip64 end-of-central-directory locator', eocd);
    const z = u64(dv, loc + 8);
    if (z + 56 > loc || dv.getUint32(z, true) !== SIG_ZIP64_EOCD)
      fail(`zip64 end-of-central-directory record at ${z} is missing or out of range`, loc);
    count = u64(dv, z + 32);
    cdSize = u64(dv, z + 40);
    cdOffset = u64(dv, z + 48);
  }
  if (cdOffset + cdSize > n)
    fail(
      `central directory [${cdOffset}, ${cdOffset + cdSize}) runs past the end of the ${n}-byte archive`,
      eocd,
    );
  // Each central record is at least 46 bytes: a count beyond that is corrupt.
  if (count * 46 > cdSize) fail(`${count} entries cannot fit a ${cdSize}-byte central directory`, eocd);
  const entries = new Map<string, ZipEntry>();
  const spans: [number, number, string][] = [];
  const decoder = new TextDecoder('utf-8');
  let p = cdOffset;
  const end = cdOffset + cdSize;
  for (let i = 0; i < count; i++) {
    if (p + 46 > end) fail(`central directory entry ${i} is truncated`, p);
    if (dv.getUint32(p, true) !== SIG_CENTRAL) fail(`bad signature of central directory entry ${i}`, p);
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let localOffset = dv.getUint32(p + 42, true);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > end) fail(`central directory entry ${i} runs past the directory's end`, p);
    const name = decoder.decode(b.subarray(p + 46, p + 46 + nameLen));
    if (flags & 1) fail('encrypted entries are not supported', p, name);
    if (entries.has(name)) fail('the archive names this entry twice', p, name);
    const crc = dv.getUint32(p + 16, true);
    // zip64 extended information: 64-bit values for the fields set to 0xffffffff, in order.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = dv.getUint16(x, true);
      const len = dv.getUint16(x + 2, true);
      if (x + 4 + len > xEnd) fail('extra field runs past its entry', x, name);
      if (id === 1) {
        let q = x + 4;
        const take = (): number => {
          if (q + 8 > x + 4 + len) fail('zip64 extra field is too short', x, name);
          const v = u64(dv, q);
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localOffset === 0xffffffff) localOffset = take();
      }
      x += 4 + len;
    }
    if (localOffset + 30 > n) fail(`local header offset ${localOffset} is out of range`, p, name);
    if (dv.getUint32(localOffset, true) !== SIG_LOCAL) fail('bad local header signature', localOffset, name);
    const dataOffset =
      localOffset + 30 + dv.getUint16(localOffset + 26, true) + dv.getUint16(localOffset + 28, true);
    if (dataOffset + compressedSize > n)
      fail(
        `data [${dataOffset}, ${dataOffset + compressedSize}) runs past the end of the ${n}-byte archive`,
        localOffset,
        name,
      );
    if (method === 0 && compressedSize !== size)
      fail(`stored entry has compressed size ${compressedSize} but size ${size}`, p, name);
    entries.set(name, { name, method, dataOffset, compressedSize, size, crc32: crc });
    spans.push([localOffset, dataOffset + compressedSize, name]);
    p = next;
  }
  // Entries may not share bytes: overlapping records would let one small file be read many times.
  spans.sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < spans.length; i++)
    if (spans[i][0] < spans[i - 1][1])
      fail(
        `entry overlaps entry ${quote(spans[i - 1][2])} ([${spans[i][0]}, ${spans[i][1]}) and [${spans[i - 1][0]}, ${spans[i - 1][1]}))`,
        spans[i][0],
        spans[i][2],
      );
  return entries;
}

/**
 * Inflates raw deflate data of a declared size into one buffer of that size, streamed: with
 * `DecompressionStream` where it exists (browsers, Node ≥ 18), else `node:zlib` with the
 * size as its output limit. More or fewer bytes than declared, or corrupt data, throw a
 * {@link WeightsError}. `via` forces a path (tests). @internal
 */
export async function inflateRaw(
  src: Uint8Array,
  size: number,
  entry: string,
  via: 'stream' | 'zlib' = typeof DecompressionStream === 'undefined' ? 'zlib' : 'stream',
): Promise<Uint8Array> {
  const where = { format: FORMAT, entry };
  if (via === 'zlib') {
    let zlib: typeof import('node:zlib');
    try {
      zlib = await import('node:zlib');
    } catch {
      throw new WeightsError(
        'entry is deflate-compressed and this runtime has neither DecompressionStream nor node:zlib',
        where,
      );
    }
    let buf: Uint8Array;
    try {
      buf = zlib.inflateRawSync(src, { maxOutputLength: Math.max(1, size) });
    } catch (e) {
      throw new WeightsError(
        `deflate data is corrupt or larger than the declared ${size} bytes: ${(e as Error).message}`,
        where,
      );
    }
    if (buf.length !== size)
      throw new WeightsError(`inflated to ${buf.length} bytes but the directory says ${size}`, where);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  let out: Uint8Array;
  try {
    out = new Uint8Array(size);
  } catch (e) {
    throw new WeightsError(`cannot allocate the declared ${size} bytes: ${(e as Error).message}`, where);
  }
  let filled = 0;
  const ds = new DecompressionStream('deflate-raw');
  const writer = ds.writable.getWriter();
  const reader = ds.readable.getReader();
  const CHUNK = 1 << 16;
  const feed = (async () => {
    for (let p = 0; p < src.length; p += CHUNK) {
      await writer.ready;
      await writer.write(src.subarray(p, Math.min(src.length, p + CHUNK)) as Uint8Array<ArrayBuffer>);
    }
    await writer.close();
  })();
  feed.catch(() => {}); // its failure surfaces through the reader
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (filled + value.length > size) {
        throw new WeightsError(`inflates to more than the declared ${size} bytes`, where);
      }
      out.set(value, filled);
      filled += value.length;
    }
    await feed;
  } catch (e) {
    await reader.cancel().catch(() => {});
    await writer.abort().catch(() => {});
    if (e instanceof WeightsError) throw e;
    throw new WeightsError(`deflate data is corrupt: ${(e as Error)?.message ?? String(e)}`, where);
  }
  if (filled !== size)
    throw new WeightsError(`inflated to ${filled} bytes but the directory says ${size}`, where);
  return out;
}
