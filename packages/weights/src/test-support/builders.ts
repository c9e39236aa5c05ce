/**
 * Small writers of pickles, zip archives and PyTorch checkpoints, for tests of cases the
 * real fixtures lack (strides, offsets, legacy float16/bfloat16, wrappers, hostile files).
 * Not part of the package.
 */
import { crc32 } from '../zip.js';

/** `node:zlib`'s raw deflate, found when first needed so the builders also load in a browser. */
function deflateRawSync(data: Uint8Array): Uint8Array {
  const zlib = process.getBuiltinModule('node:zlib');
  return zlib.deflateRawSync(data);
}

/** A pickle writer, protocol 2, opcode by opcode. */
export class Pickler {
  private readonly out: number[] = [];

  op(...bytes: number[]): this {
    this.out.push(...bytes);
    return this;
  }
  proto(): this {
    return this.op(0x80, 2);
  }
  mark(): this {
    return this.op(0x28);
  }
  stop(): this {
    return this.op(0x2e);
  }
  none(): this {
    return this.op(0x4e);
  }
  bool(v: boolean): this {
    return this.op(v ? 0x88 : 0x89);
  }
  int(v: number): this {
    if (v >= 0 && v < 256) return this.op(0x4b, v);
    if (v >= 0 && v < 65536) return this.op(0x4d, v & 0xff, v >> 8);
    if (v >= -(2 ** 31) && v < 2 ** 31) return this.op(0x4a, ...le32(v));
    return this.long(BigInt(v));
  }
  long(v: bigint): this {
    const bytes: number[] = [];
    let x = v;
    do {
      bytes.push(Number(x & 0xffn));
      x >>= 8n;
    } while (
      !(x === 0n && (bytes[bytes.length - 1] & 0x80) === 0) &&
      !(x === -1n && bytes[bytes.length - 1] & 0x80)
    );
    return this.op(0x8a, bytes.length, ...bytes);
  }
  float(v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, false);
    return this.op(0x47, ...b);
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    this.op(0x58, ...le32(b.length));
    for (const x of b) this.out.push(x);
    return this;
  }
  global(module: string, name: string): this {
    return this.op(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
  }
  tuple(): this {
    return this.op(0x74);
  }
  emptyTuple(): this {
    return this.op(0x29);
  }
  emptyDict(): this {
    return this.op(0x7d);
  }
  emptyList(): this {
    return this.op(0x5d);
  }
  appends(): this {
    return this.op(0x65);
  }
  setitem(): this {
    return this.op(0x73);
  }
  setitems(): this {
    return this.op(0x75);
  }
  reduce(): this {
    return this.op(0x52);
  }
  build(): this {
    return this.op(0x62);
  }
  binpersid(): this {
    return this.op(0x51);
  }
  put(i: number): this {
    return this.op(0x71, i);
  }
  get(i: number): this {
    return this.op(0x68, i);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** A tensor for the checkpoint builders: a view of a storage. */
export interface TensorSpec {
  storage: string;
  storageType: string; // e.g. 'FloatStorage'
  storageModule?: string; // default 'torch'
  numel: number;
  offset?: number;
  shape: number[];
  stride?: number[];
  /** Legacy only: a storage view (viewKey, offset, size). */
  view?: [string, number, number];
  /** Wrap in torch._utils._rebuild_parameter. */
  parameter?: boolean;
}

/** A value to pickle: a dict (Map), a tensor, or a plain number/string. */
export type Value = Map<string, Value> | { tensor: TensorSpec } | number | string | null;

function rowMajor(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

function pickleValue(p: Pickler, v: Value, legacy: boolean): void {
  if (v === null) p.none();
  else if (typeof v === 'number') Number.isInteger(v) ? p.int(v) : p.float(v);
  else if (typeof v === 'string') p.str(v);
  else if (v instanceof Map) {
    p.global('collections', 'OrderedDict').emptyTuple().reduce().mark();
    for (const [k, x] of v) {
      p.str(k);
      pickleValue(p, x, legacy);
    }
    p.setitems();
  } else {
    const t = v.tensor;
    if (t.parameter) p.global('torch._utils', '_rebuild_parameter').mark();
    p.global('torch._utils', '_rebuild_tensor_v2').mark();
    // persistent id
    p.mark()
      .str('storage')
      .global(t.storageModule ?? 'torch', t.storageType)
      .str(t.storage)
      .str('cpu')
      .int(t.numel);
    if (legacy) {
      if (t.view) p.str(t.view[0]).int(t.view[1]).int(t.view[2]).op(0x87);
      else p.none();
    }
    p.tuple().binpersid();
    p.int(t.offset ?? 0);
    p.mark();
    for (const d of t.shape) p.int(d);
    p.tuple().mark();
    for (const d of t.stride ?? rowMajor(t.shape)) p.int(d);
    p.tuple().bool(false).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
    if (t.parameter)
      p.bool(false).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
  }
}

/** Pickles a value as `torch.save` would (protocol 2). */
export function pickleCheckpoint(v: Value, legacy = false): Uint8Array {
  const p = new Pickler().proto();
  pickleValue(p, v, legacy);
  return p.stop().bytes();
}

/** Little-endian fields: [value, width in bytes] pairs. */
function fields(...fs: [number, number][]): number[] {
  const out: number[] = [];
  for (const [v, w] of fs) for (let i = 0; i < w; i++) out.push(Math.floor(v / 2 ** (8 * i)) & 0xff);
  return out;
}

/**
 * Entries of a zip archive: name to bytes, stored (or deflated when asked), data aligned
 * like PyTorch's (64 bytes by default), with zip64 directory records when asked.
 */
export function buildZip(
  entries: [string, Uint8Array][],
  options: { deflate?: boolean; align?: number; zip64?: boolean } = {},
): Uint8Array {
  const parts: Uint8Array[] = [];
  let length = 0;
  const add = (b: Uint8Array | number[]): void => {
    const u = b instanceof Uint8Array ? b : Uint8Array.from(b);
    parts.push(u);
    length += u.length;
  };
  const central: number[] = [];
  const align = options.align ?? 64;
  const z = options.zip64 === true;
  const big = 0xffffffff;
  const enc = new TextEncoder();
  for (const [name, data] of entries) {
    const nameBytes = enc.encode(name);
    const method = options.deflate ? 8 : 0;
    const body = options.deflate ? new Uint8Array(deflateRawSync(data)) : data;
    const crc = crc32(data);
    const offset = length;
    // pad the extra field so stored data starts aligned
    let extra = 0;
    if (!options.deflate && align > 1) extra = (align - ((offset + 30 + nameBytes.length) % align)) % align;
    if (extra > 0 && extra < 4) extra += align;
    add([
      ...fields([0x04034b50, 4], [20, 2], [0, 2], [method, 2], [0, 4], [crc, 4]),
      ...fields([body.length, 4], [data.length, 4], [nameBytes.length, 2], [extra, 2]),
      ...nameBytes,
    ]);
    if (extra > 0) add([...fields([0xcafe, 2], [extra - 4, 2]), ...new Array(extra - 4).fill(0)]);
    add(body);
    central.push(
      ...fields([0x02014b50, 4], [45, 2], [45, 2], [0, 2], [method, 2], [0, 4], [crc, 4]),
      ...fields([z ? big : body.length, 4], [z ? big : data.length, 4], [nameBytes.length, 2]),
      ...fields([z ? 28 : 0, 2], [0, 2], [0, 2], [0, 2], [0, 4], [z ? big : offset, 4]),
      ...nameBytes,
    );
    if (z) central.push(...fields([1, 2], [24, 2], [data.length, 8], [body.length, 8], [offset, 8]));
  }
  const cdOffset = length;
  const n = entries.length;
  const tail: number[] = [];
  if (z) {
    const record = cdOffset + central.length;
    tail.push(
      ...fields([0x06064b50, 4], [44, 8], [45, 2], [45, 2], [0, 4], [0, 4], [n, 8], [n, 8]),
      ...fields([central.length, 8], [cdOffset, 8]),
      ...fields([0x07064b50, 4], [0, 4], [record, 8], [1, 4]),
      ...fields([0x06054b50, 4], [0, 2], [0, 2], [0xffff, 2], [0xffff, 2], [big, 4], [big, 4], [0, 2]),
    );
  } else {
    tail.push(
      ...fields([0x06054b50, 4], [0, 2], [0, 2], [n, 2], [n, 2], [central.length, 4], [cdOffset, 4], [0, 2]),
    );
  }
  add(central);
  add(tail);
  const out = new Uint8Array(length);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A zip-format checkpoint of `v`, with storages' bytes given by key. */
export function buildTorchZip(
  v: Value,
  storages: Record<string, Uint8Array>,
  options: { deflate?: boolean; align?: number; zip64?: boolean } = {},
): Uint8Array {
  const entries: [string, Uint8Array][] = [['archive/data.pkl', pickleCheckpoint(v)]];
  entries.push(['archive/byteorder', new TextEncoder().encode('little')]);
  for (const [k, b] of Object.entries(storages)) entries.push([`archive/data/${k}`, b]);
  entries.push(['archive/version', new TextEncoder().encode('3\n')]);
  return buildZip(entries, options);
}

/** A legacy-format checkpoint of `v`; storages as [key, numel, bytes], written in that order. */
export function buildTorchLegacy(v: Value, storages: [string, number, Uint8Array][]): Uint8Array {
  const magic = new Pickler().proto().long(0x1950a86a20f9469cfc6cn).stop().bytes();
  const proto = new Pickler().proto().int(1001).stop().bytes();
  const sys = new Pickler()
    .proto()
    .emptyDict()
    .str('protocol_version')
    .int(1001)
    .setitem()
    .str('little_endian')
    .bool(true)
    .setitem()
    .stop()
    .bytes();
  const body = pickleCheckpoint(v, true);
  const keys = new Pickler().proto().emptyList().mark();
  for (const [k] of storages) keys.str(k);
  const keyBytes = keys.appends().stop().bytes();
  const parts: Uint8Array[] = [magic, proto, sys, body, keyBytes];
  for (const [, n, b] of storages) {
    const head = new Uint8Array(8);
    new DataView(head.buffer).setUint32(0, n, true);
    parts.push(head, b);
  }
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Little-endian bytes of float32 values. */
export function f32(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** Little-endian bytes of int64 values. */
export function i64(values: (number | bigint)[]): Uint8Array {
  return new Uint8Array(BigInt64Array.from(values.map((x) => BigInt(x))).buffer);
}

/** float16 bits of exactly representable values (normal numbers only). */
export function f16(values: number[]): Uint8Array {
  const out = new Uint16Array(values.length);
  values.forEach((v, i) => {
    if (v === 0) return;
    const sign = v < 0 ? 0x8000 : 0;
    const a = Math.abs(v);
    const e = Math.floor(Math.log2(a));
    const frac = Math.round((a / 2 ** e - 1) * 1024);
    out[i] = sign | ((e + 15) << 10) | frac;
  });
  return new Uint8Array(out.buffer);
}

/** bfloat16 bits (the top half of float32) of exactly representable values. */
export function bf16(values: number[]): Uint8Array {
  const f = Float32Array.from(values);
  const u = new Uint32Array(f.buffer);
  return new Uint8Array(Uint16Array.from(u, (x) => x >>> 16).buffer);
}

/** A seeded PRNG (mulberry32). */
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
