import { WeightsError } from './errors.js';

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
}

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

  /**
   * Parses the central directory. Throws a {@link WeightsError} when it is missing,
   * truncated, or points outside the archive.
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

  /**
   * The uncompressed bytes of an entry: a view of the archive for a stored entry. A deflated
   * entry must have been inflated first by {@link ZipArchive.inflateAll}.
   * @param name - the entry's path.
   */
  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw new WeightsError(`no entry '${name}' in the archive`, { format: FORMAT });
    if (e.method === 0) return this.bytes.subarray(e.dataOffset, e.dataOffset + e.size);
    const done = this.inflated.get(name);
    if (done) return done;
    if (e.method === 8)
      throw new WeightsError(
        'entry is deflate-compressed; read it with the async readers (readWeights, loadWeights), which inflate with node:zlib or DecompressionStream',
        { format: FORMAT, entry: name, offset: e.dataOffset },
      );
    throw new WeightsError(`unsupported compression method ${e.method} (only stored and deflate)`, {
      format: FORMAT,
      entry: name,
      offset: e.dataOffset,
    });
  }

  /**
   * Inflates the deflate-compressed entries among `names` (all entries when omitted), with
   * `node:zlib` in Node or `DecompressionStream` in browsers; throws a {@link WeightsError}
   * where neither exists or the data is corrupt. Output is capped at each entry's declared size.
   * @param names - the entries to inflate.
   */
  async inflateAll(names?: Iterable<string>): Promise<void> {
    for (const name of names ?? this.entries.keys()) {
      const e = this.entries.get(name);
      if (e?.method !== 8 || this.inflated.has(name)) continue;
      const src = this.bytes.subarray(e.dataOffset, e.dataOffset + e.compressedSize);
      const out = await inflateRaw(src, e.size, name);
      if (out.length !== e.size)
        throw new WeightsError(`inflated to ${out.length} bytes but the directory says ${e.size}`, {
          format: FORMAT,
          entry: name,
        });
      this.inflated.set(name, out);
    }
  }
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
    entries.set(name, { name, method, dataOffset, compressedSize, size });
    p = next;
  }
  return entries;
}

async function inflateRaw(src: Uint8Array, size: number, entry: string): Promise<Uint8Array> {
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (isNode) {
    const zlib = await import('node:zlib');
    try {
      return new Uint8Array(zlib.inflateRawSync(src, { maxOutputLength: Math.max(1, size) }));
    } catch (e) {
      throw new WeightsError(`deflate data is corrupt or larger than declared: ${(e as Error).message}`, {
        format: FORMAT,
        entry,
      });
    }
  }
  if (typeof DecompressionStream === 'undefined')
    throw new WeightsError(
      'entry is deflate-compressed and this runtime has neither node:zlib nor DecompressionStream',
      { format: FORMAT, entry },
    );
  const out = new Uint8Array(size);
  let filled = 0;
  try {
    const stream = new Blob([src as Uint8Array<ArrayBuffer>])
      .stream()
      .pipeThrough(new DecompressionStream('deflate-raw'));
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (filled + value.length > size) {
        await reader.cancel();
        throw new WeightsError(`inflates to more than the declared ${size} bytes`, { format: FORMAT, entry });
      }
      out.set(value, filled);
      filled += value.length;
    }
  } catch (e) {
    if (e instanceof WeightsError) throw e;
    throw new WeightsError(`deflate data is corrupt: ${(e as Error).message}`, { format: FORMAT, entry });
  }
  return out.subarray(0, filled);
}
