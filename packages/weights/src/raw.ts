import { type Tensor, tensor } from '@kernelzoo/core';
import { WeightsError } from './errors.js';

/** The element types a raw tensor holds: those of `@kernelzoo/core`. */
export type RawDType = 'float32' | 'int32';

/**
 * The element types found in files. Floats other than float32 are widened or narrowed to
 * float32; integers are converted to int32 (int64 with a range check).
 */
export type SourceDType =
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'float64'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

/**
 * A tensor read from a file, before any backend sees it: row-major values, a shape and a
 * dtype. `data` is a view of the file's bytes where the layout allowed it, else one copy.
 */
export interface RawTensor {
  /** The element type of `data`. */
  readonly dtype: RawDType;
  /** The shape, outermost first (`[]` for a scalar). */
  readonly shape: readonly number[];
  /** The values, row-major, `product(shape)` of them. */
  readonly data: Float32Array | Int32Array;
  /** The element type stored in the file, before conversion. */
  readonly sourceDtype: SourceDType;
}

/** A state dict in neutral form: dotted keys to raw tensors, in file order. */
export type RawStateDict = Map<string, RawTensor>;

/** Bytes per element of each source dtype. */
export const SOURCE_DTYPE_BYTES: Readonly<Record<SourceDType, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** The raw dtype a source dtype becomes. @internal */
export function rawDtypeOf(src: SourceDType): RawDType {
  return src === 'float32' || src === 'float16' || src === 'bfloat16' || src === 'float64'
    ? 'float32'
    : 'int32';
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Converts an IEEE half (as 16 bits) to a number. @internal */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Whether {@link decodeContiguous} returns a view of `bytes` (no copy) for a run at
 * `byteOffset` of `src` elements. @internal
 */
export function isView(bytes: Uint8Array, byteOffset: number, src: SourceDType): boolean {
  return (
    LITTLE_ENDIAN_HOST && (src === 'float32' || src === 'int32') && (bytes.byteOffset + byteOffset) % 4 === 0
  );
}

/**
 * Reads `count` little-endian elements of `src` dtype starting at byte `byteOffset` of
 * `bytes`, with element stride 1 (a contiguous run), converting to float32/int32. Returns a
 * view of `bytes` when the bytes are float32/int32 and suitably aligned on a little-endian
 * host, else one fresh array. The caller has checked the range. @internal
 */
export function decodeContiguous(
  bytes: Uint8Array,
  byteOffset: number,
  count: number,
  src: SourceDType,
  where: { format: string; key?: string; entry?: string },
): Float32Array | Int32Array {
  const abs = bytes.byteOffset + byteOffset;
  if (isView(bytes, byteOffset, src))
    return src === 'float32'
      ? new Float32Array(bytes.buffer, abs, count)
      : new Int32Array(bytes.buffer, abs, count);
  return decodeStrided(bytes, byteOffset, [count], [1], src, where);
}

/**
 * Gathers the elements of a strided view (sizes, strides in elements, starting at byte
 * `byteOffset`) into a fresh row-major array, converting to float32/int32. The caller has
 * checked that every index lies in range. @internal
 */
export function decodeStrided(
  bytes: Uint8Array,
  byteOffset: number,
  sizes: readonly number[],
  strides: readonly number[],
  src: SourceDType,
  where: { format: string; key?: string; entry?: string },
): Float32Array | Int32Array {
  let n = 1;
  for (const s of sizes) n *= s;
  const esize = SOURCE_DTYPE_BYTES[src];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = rawDtypeOf(src) === 'float32' ? new Float32Array(n) : new Int32Array(n);
  if (n === 0) return out;
  const rank = sizes.length;
  const idx = new Array<number>(rank).fill(0);
  let elem = 0; // element offset relative to byteOffset
  for (let i = 0; i < n; i++) {
    const p = byteOffset + elem * esize;
    switch (src) {
      case 'float32':
        out[i] = dv.getFloat32(p, true);
        break;
      case 'float64':
        out[i] = dv.getFloat64(p, true);
        break;
      case 'float16':
        out[i] = halfToFloat(dv.getUint16(p, true));
        break;
      case 'bfloat16':
        out[i] = bf16(dv.getUint16(p, true));
        break;
      case 'int32':
        out[i] = dv.getInt32(p, true);
        break;
      case 'int64': {
        const lo = dv.getUint32(p, true);
        const hi = dv.getInt32(p + 4, true);
        if (!((hi === 0 && lo <= 0x7fffffff) || (hi === -1 && lo >= 0x80000000))) {
          const v = (BigInt(hi) << 32n) | BigInt(lo);
          throw new WeightsError(`int64 value ${v} at element ${i} does not fit int32`, where);
        }
        out[i] = lo | 0;
        break;
      }
      case 'int16':
        out[i] = dv.getInt16(p, true);
        break;
      case 'int8':
        out[i] = dv.getInt8(p);
        break;
      case 'uint8':
        out[i] = dv.getUint8(p);
        break;
      case 'bool':
        out[i] = dv.getUint8(p) === 0 ? 0 : 1;
        break;
    }
    // advance the multi-index (last dimension fastest)
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      elem += strides[d];
      if (idx[d] < sizes[d]) break;
      elem -= strides[d] * sizes[d];
      idx[d] = 0;
    }
  }
  return out;
}

const bf16Scratch = new Float32Array(1);
const bf16Bits = new Uint32Array(bf16Scratch.buffer);
function bf16(u: number): number {
  bf16Bits[0] = u << 16;
  return bf16Scratch[0];
}

/**
 * Makes core tensors from a raw state dict, on the current backend. The caller owns the
 * tensors (dispose them, or make them inside a `tidy`).
 * @param raw - the raw state dict, e.g. from {@link readWeights}.
 */
export function toTensors(raw: ReadonlyMap<string, RawTensor>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  try {
    for (const [k, r] of raw) out.set(k, tensor(r.data, [...r.shape], r.dtype));
  } catch (e) {
    for (const t of out.values()) t.dispose();
    throw e;
  }
  return out;
}

/**
 * Reads core tensors into a raw state dict (each read once from its backend), e.g. to write them with
 * {@link writeSafetensors}. Float tensors become float32, integer tensors int32.
 * @param dict - keys to tensors, e.g. `model.stateDict()`.
 */
export async function fromTensors(dict: ReadonlyMap<string, Tensor>): Promise<RawStateDict> {
  const out: RawStateDict = new Map();
  for (const [k, t] of dict) {
    const v = await t.data();
    const data =
      t.dtype === 'int32'
        ? v instanceof Int32Array
          ? v
          : Int32Array.from(v)
        : v instanceof Float32Array
          ? v
          : Float32Array.from(v);
    out.set(k, { dtype: t.dtype, shape: [...t.shape], data, sourceDtype: t.dtype });
  }
  return out;
}
