import { sizeFromShape } from '@kernelzoo/core';
import { budgetOf } from './budget.js';
import { onlyWeightsErrors, quote, WeightsError } from './errors.js';
import {
  decodeContiguous,
  isView,
  type RawStateDict,
  type RawTensor,
  SOURCE_DTYPE_BYTES,
  type SourceDType,
} from './raw.js';

const FORMAT = 'safetensors';

/** The largest JSON header read (as the reference implementation: 100 MB). */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;

const DTYPES: Readonly<Record<string, SourceDType>> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

/** What {@link readSafetensors} returns: the tensors and the header's `__metadata__`. */
export interface SafetensorsContents {
  /** The tensors by name, in the order of their data in the file. */
  readonly tensors: RawStateDict;
  /** The string-to-string `__metadata__` of the header (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Whether the bytes look like a safetensors file: an 8-byte header length, then `{`. The
 * length itself is checked by {@link readSafetensors}, so a damaged one gets a precise error.
 */
export function isSafetensors(bytes: Uint8Array): boolean {
  return bytes.length >= 9 && bytes[8] === 0x7b;
}

function fail(message: string, offset?: number, key?: string): never {
  throw new WeightsError(message, { format: FORMAT, offset, key });
}

/** The deepest nesting of the header's JSON (a shape inside an entry inside the header is 3). */
const MAX_HEADER_DEPTH = 4;

/** A header value, briefly: at most 8 items of an array or keys of an object, cut at 60 characters. */
function describe(v: unknown, depth = 0): string {
  let s: string;
  if (typeof v === 'string') s = quote(v, 60);
  else if (Array.isArray(v))
    s =
      depth > 1
        ? '[…]'
        : `[${v
            .slice(0, 8)
            .map((x) => describe(x, depth + 1))
            .join(', ')}${v.length > 8 ? ', …' : ''}]`;
  else if (v !== null && typeof v === 'object') {
    const ks = Object.keys(v);
    s = `{${ks
      .slice(0, 8)
      .map((k) => quote(k, 30))
      .join(', ')}${ks.length > 8 ? ', …' : ''}}`;
  } else s = String(v);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/**
 * Checks what `JSON.parse` lets pass but the reference reader refuses: a key twice in one
 * object, numbers that are not integers ≥ 0 (`1.0`, `1e3`, `-1`), and nesting deeper than a
 * safetensors header has. The text is valid JSON.
 */
function checkHeaderText(t: string): void {
  const objects: (Set<string> | null)[] = [];
  const n = t.length;
  let i = 0;
  while (i < n) {
    const c = t.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      while (j < n && t.charCodeAt(j) !== 0x22) j += t.charCodeAt(j) === 0x5c ? 2 : 1;
      const end = j + 1;
      let k = end;
      while (k < n && isSpace(t.charCodeAt(k))) k++;
      const keys = objects[objects.length - 1];
      if (t.charCodeAt(k) === 0x3a && keys) {
        const name = JSON.parse(t.slice(i, end)) as string;
        if (keys.has(name)) fail(`the header names ${quote(name)} twice`, 8);
        keys.add(name);
      }
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      objects.push(c === 0x7b ? new Set() : null);
      if (objects.length > MAX_HEADER_DEPTH)
        fail(`the header's JSON nests deeper than ${MAX_HEADER_DEPTH} levels`, 8);
      i++;
    } else if (c === 0x7d || c === 0x5d) {
      objects.pop();
      i++;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i;
      while (j < n && /[-+0-9.eE]/.test(t[j])) j++;
      const num = t.slice(i, j);
      // negative and fractional values are refused where they are used; here those JSON.parse
      // would silently turn into integers (1.0, 1e3, 1E0) are
      const v = Number(num);
      if (Number.isInteger(v) && v >= 0 && !/^(0|[1-9][0-9]*)$/.test(num))
        fail(
          `the header holds the number ${quote(num, 40)}; its sizes and offsets must be written as integers`,
          8,
        );
      i = j;
    } else i++;
  }
}

/**
 * Reads a safetensors file. F32 tensors whose data is 4-byte aligned are views of `bytes`
 * (no copy); F16, BF16 and F64 are converted to float32, I64/I32/I16/I8/U8/BOOL to int32
 * (I64 with a range check), each in one copy. Every header length, offset and shape is
 * checked against the file before anything is read, as strictly as the reference reader: the
 * tensors cover the data section exactly (no gaps, overlaps or trailing bytes), no key is
 * named twice, every number is an integer.
 * @param bytes - the whole file.
 * @param options - `maxBytes`, the most bytes conversions may allocate (default 2 GiB).
 * @throws {@link WeightsError} saying what was wrong and where.
 */
export function readSafetensors(
  bytes: Uint8Array | ArrayBuffer,
  options: { maxBytes?: number } = {},
): SafetensorsContents {
  try {
    return readChecked(bytes, options);
  } catch (e) {
    return onlyWeightsErrors(e);
  }
}

function readChecked(bytes: Uint8Array | ArrayBuffer, options: { maxBytes?: number }): SafetensorsContents {
  const budget = budgetOf(options);
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (b.length < 8) fail(`file is ${b.length} bytes, shorter than the 8-byte header length`, 0);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  const headerLen = hi * 2 ** 32 + lo;
  if (headerLen > MAX_SAFETENSORS_HEADER_BYTES)
    fail(`header length ${headerLen} exceeds the limit of ${MAX_SAFETENSORS_HEADER_BYTES} bytes`, 0);
  if (headerLen > b.length - 8)
    fail(`header length ${headerLen} runs past the end of the ${b.length}-byte file`, 0);
  let header: unknown;
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(8, 8 + headerLen));
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid UTF-8 JSON: ${(e as Error).message}`, 8);
  }
  checkHeaderText(text);
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    fail(`header must be a JSON object, got ${describe(header)}`, 8);
  const dataStart = 8 + headerLen;
  const dataLen = b.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { key: string; src: SourceDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [key, value] of Object.entries(header as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value))
        fail(`__metadata__ must be an object of strings, got ${describe(value)}`, 8);
      for (const [mk, mv] of Object.entries(value as Record<string, unknown>)) {
        if (typeof mv !== 'string')
          fail(`__metadata__ value ${quote(mk)} must be a string, got ${describe(mv)}`, 8);
        metadata[mk] = mv;
      }
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      fail(`tensor entry must be an object, got ${describe(value)}`, 8, key);
    const e = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e.dtype !== 'string') fail(`dtype must be a string, got ${describe(e.dtype)}`, 8, key);
    const src = Object.hasOwn(DTYPES, e.dtype) ? DTYPES[e.dtype] : undefined;
    if (src === undefined)
      fail(
        `unknown or unsupported dtype ${quote(e.dtype)} (supported: ${Object.keys(DTYPES).join(', ')})`,
        8,
        key,
      );
    if (
      !Array.isArray(e.shape) ||
      !e.shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)
    )
      fail(`shape must be an array of integers ≥ 0, got ${describe(e.shape)}`, 8, key);
    const shape = e.shape as number[];
    const off = e.data_offsets;
    if (
      !Array.isArray(off) ||
      off.length !== 2 ||
      !off.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)
    )
      fail(`data_offsets must be [begin, end] integers ≥ 0, got ${describe(off)}`, 8, key);
    const [begin, end] = off as [number, number];
    if (begin > end) fail(`data_offsets [${begin}, ${end}] has begin after end`, 8, key);
    if (end > dataLen)
      fail(
        `data_offsets [${begin}, ${end}] run past the end of the ${dataLen}-byte data section`,
        dataStart + begin,
        key,
      );
    let n = 1;
    for (const d of shape) n *= d;
    const want = n * SOURCE_DTYPE_BYTES[src];
    if (!Number.isSafeInteger(want))
      fail(`shape [${shape.join(', ')}] holds more elements than any file`, dataStart + begin, key);
    if (end - begin !== want)
      fail(
        `data_offsets [${begin}, ${end}] span ${end - begin} bytes but ${e.dtype} [${shape.join(', ')}] needs ${want}`,
        dataStart + begin,
        key,
      );
    entries.push({ key, src, shape, begin, end });
  }
  entries.sort((x, y) => x.begin - y.begin || x.end - y.end);
  // As the reference reader: the tensors cover the data section exactly, in some order.
  let covered = 0;
  for (let i = 0; i < entries.length; i++) {
    const c = entries[i];
    if (c.begin < covered)
      fail(
        `data_offsets [${c.begin}, ${c.end}] overlap those of ${quote(entries[i - 1].key)} [${entries[i - 1].begin}, ${entries[i - 1].end}]`,
        dataStart + c.begin,
        c.key,
      );
    if (c.begin > covered)
      fail(
        `data_offsets [${c.begin}, ${c.end}] leave bytes [${covered}, ${c.begin}) of the data section to no tensor`,
        dataStart + c.begin,
        c.key,
      );
    covered = c.end;
  }
  if (covered !== dataLen)
    fail(
      `the tensors cover ${covered} bytes but the data section has ${dataLen} (trailing bytes)`,
      dataStart + covered,
    );
  const tensors: RawStateDict = new Map();
  for (const e of entries) {
    const count = sizeFromShape(e.shape);
    if (!isView(b, dataStart + e.begin, e.src))
      budget.charge(count * 4, 'converting the tensor', { format: FORMAT, key: e.key });
    const data = decodeContiguous(b, dataStart + e.begin, count, e.src, { format: FORMAT, key: e.key });
    const t: RawTensor = {
      dtype: data instanceof Float32Array ? 'float32' : 'int32',
      shape: e.shape,
      data,
      sourceDtype: e.src,
    };
    tensors.set(e.key, t);
  }
  return { tensors, metadata };
}

/** Options of {@link writeSafetensors}. */
export interface WriteSafetensorsOptions {
  /** String-to-string metadata stored as the header's `__metadata__`. */
  metadata?: Readonly<Record<string, string>>;
}

/**
 * Writes tensors as a safetensors file: float32 as F32, int32 as I32, in the given order,
 * the header padded with spaces to 8 bytes so every tensor's data is aligned.
 * @param tensors - names to raw tensors (e.g. from {@link fromTensors}).
 * @param options - metadata to store.
 * @returns the file's bytes.
 */
export function writeSafetensors(
  tensors: ReadonlyMap<string, Pick<RawTensor, 'dtype' | 'shape' | 'data'>>,
  options: WriteSafetensorsOptions = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (options.metadata && Object.keys(options.metadata).length > 0) header.__metadata__ = options.metadata;
  let offset = 0;
  for (const [key, t] of tensors) {
    if (key === '__metadata__')
      throw new WeightsError(`'__metadata__' cannot name a tensor`, { format: FORMAT, key });
    const n = sizeFromShape(t.shape);
    if (t.data.length !== n)
      throw new WeightsError(`has ${t.data.length} values for shape [${t.shape.join(', ')}]`, {
        format: FORMAT,
        key,
      });
    const bytes = n * 4;
    header[key] = {
      dtype: t.dtype === 'int32' ? 'I32' : 'F32',
      shape: [...t.shape],
      data_offsets: [offset, offset + bytes],
    };
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, json.length, true);
  dv.setUint32(4, 0, true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const t of tensors.values()) {
    const want = t.dtype === 'int32' ? Int32Array : Float32Array;
    const src = t.data instanceof want ? t.data : want.from(t.data);
    out.set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength), pos);
    pos += src.byteLength;
  }
  return out;
}
