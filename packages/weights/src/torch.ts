import type { Budget } from './budget.js';
import { quote, WeightsError } from './errors.js';
import { describeValue, isGlobal, kindOf, markMadeBy, type PyGlobal, unpickle } from './pickle.js';
import {
  decodeContiguous,
  decodeStrided,
  isView,
  type RawTensor,
  rawDtypeOf,
  SOURCE_DTYPE_BYTES,
  type SourceDType,
} from './raw.js';
import type { ZipArchive } from './zip.js';

/** The storage types the loader accepts, by class name (under `torch.` and `torch.cuda.`). */
const STORAGE_TYPES: Readonly<Record<string, SourceDType>> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** The magic number opening a legacy (pre-1.6) `torch.save` file. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/** Views may hold more elements than their storage (stride 0) only up to this many. */
const MAX_EXPANDED_ELEMENTS = 1 << 24;

/** A storage referenced by a checkpoint: a typed run of bytes, or a slice of another storage. */
export interface StorageRef {
  /** Always `'storage'`. */
  readonly kind: 'storage';
  /** The storage's key in the file (a zip record name or a legacy storage key). */
  readonly key: string;
  /** The element type. */
  readonly dtype: SourceDType;
  /** Elements in the storage. */
  readonly numel: number;
  /** The bytes, once known (legacy storages are read after the pickle). */
  bytes: Uint8Array | null;
  /** For a legacy storage view: the storage it slices and its first element there. */
  readonly view?: StorageView;
  /** Where the bytes came from, for errors. */
  entry?: string;
}

/** A legacy storage view: a slice of another storage. */
export interface StorageView {
  /** The storage sliced. */
  readonly root: StorageRef;
  /** The view's first element, in elements of the root storage. */
  readonly offset: number;
}

/** A tensor in a checkpoint, not yet read: a strided view of a storage. */
export interface TensorRef {
  /** Always `'tensor'`. */
  readonly kind: 'tensor';
  /** The storage viewed. */
  readonly storage: StorageRef;
  /** The first element, in the storage's elements. */
  readonly offset: number;
  /** The sizes, outermost first. */
  readonly shape: readonly number[];
  /** The strides, in elements. */
  readonly stride: readonly number[];
}

/** Whether a value from a checkpoint is a {@link TensorRef}. */
export function isTensorRef(v: unknown): v is TensorRef {
  return v !== null && typeof v === 'object' && (v as { kind?: unknown }).kind === 'tensor';
}

function isStorageRef(v: unknown): v is StorageRef {
  return v !== null && typeof v === 'object' && (v as { kind?: unknown }).kind === 'storage';
}

function intList(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0))
    throw new Error(`${what} must be a tuple of integers ≥ 0, got ${kindOf(v)}`);
  return v as number[];
}

function rebuildTensor(args: unknown[]): TensorRef {
  if (args.length < 4) throw new Error(`needs at least 4 arguments, got ${args.length}`);
  const [storage, offset, size, stride] = args;
  if (!isStorageRef(storage)) throw new Error(`argument 0 must be a storage, got ${kindOf(storage)}`);
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0)
    throw new Error(`storage offset must be an integer ≥ 0, got ${describeValue(offset)}`);
  const shape = intList(size, 'size');
  const strides = intList(stride, 'stride');
  if (shape.length !== strides.length)
    throw new Error(`size has ${shape.length} dimensions but stride has ${strides.length}`);
  return { kind: 'tensor', storage, offset, shape, stride: strides };
}

function storageGlobal(module: string, name: string, dtype: SourceDType): PyGlobal {
  return { kind: 'global', module, name, dtype } as PyGlobal & { dtype: SourceDType };
}

const ORDERED_DICT: PyGlobal = {
  kind: 'global',
  module: 'collections',
  name: 'OrderedDict',
  call: (args) => {
    const m = new Map<unknown, unknown>();
    if (args.length > 0 && Array.isArray(args[0]))
      for (const pair of args[0]) {
        if (!Array.isArray(pair) || pair.length !== 2) throw new Error('items must be (key, value) pairs');
        m.set(pair[0], pair[1]);
      }
    return markMadeBy(m, ORDERED_DICT);
  },
  // The state a state dict's OrderedDict carries is its `_metadata` attribute: not needed.
  build: (obj) => obj,
};

const GLOBALS = new Map<string, PyGlobal>([
  ['collections.OrderedDict', ORDERED_DICT],
  [
    'torch._utils._rebuild_tensor_v2',
    { kind: 'global', module: 'torch._utils', name: '_rebuild_tensor_v2', call: rebuildTensor },
  ],
  [
    'torch._utils._rebuild_tensor',
    { kind: 'global', module: 'torch._utils', name: '_rebuild_tensor', call: rebuildTensor },
  ],
  [
    'torch._utils._rebuild_parameter',
    { kind: 'global', module: 'torch._utils', name: '_rebuild_parameter', call: rebuildParameter },
  ],
  [
    'torch._utils._rebuild_parameter_with_state',
    { kind: 'global', module: 'torch._utils', name: '_rebuild_parameter_with_state', call: rebuildParameter },
  ],
  [
    'torch._tensor._rebuild_from_type_v2',
    { kind: 'global', module: 'torch._tensor', name: '_rebuild_from_type_v2', call: rebuildFromType },
  ],
  ['torch.Tensor', { kind: 'global', module: 'torch', name: 'Tensor' }],
  ['torch.nn.parameter.Parameter', { kind: 'global', module: 'torch.nn.parameter', name: 'Parameter' }],
]);
for (const [name, dtype] of Object.entries(STORAGE_TYPES)) {
  GLOBALS.set(`torch.${name}`, storageGlobal('torch', name, dtype));
  GLOBALS.set(`torch.cuda.${name}`, storageGlobal('torch.cuda', name, dtype));
}

/** `_rebuild_from_type_v2(func, type, args, state)`: applies `func` (itself allowed) to `args`. */
function rebuildFromType(args: unknown[]): unknown {
  const [func, type, inner] = args;
  if (!isGlobal(func) || !func.call)
    throw new Error(`argument 0 must be an allowed callable, got ${kindOf(func)}`);
  if (!isGlobal(type) || (type.name !== 'Tensor' && type.name !== 'Parameter'))
    throw new Error(`argument 1 must be torch.Tensor or Parameter, got ${kindOf(type)}`);
  if (!Array.isArray(inner)) throw new Error(`argument 2 must be a tuple, got ${kindOf(inner)}`);
  return func.call(inner);
}

function rebuildParameter(args: unknown[]): unknown {
  if (!isTensorRef(args[0])) throw new Error(`argument 0 must be a tensor, got ${kindOf(args[0])}`);
  return args[0];
}

/** The allow-list of globals a checkpoint may name: `module.name` strings. */
export const ALLOWED_GLOBALS: readonly string[] = [...GLOBALS.keys()];

function findGlobal(module: string, name: string): PyGlobal | undefined {
  return GLOBALS.get(`${module}.${name}`);
}

function storageDtype(t: unknown): SourceDType {
  if (!isGlobal(t) || !('dtype' in t))
    throw new Error(`storage type must be a torch.*Storage class, got ${kindOf(t)}`);
  return (t as PyGlobal & { dtype: SourceDType }).dtype;
}

function storageKey(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  throw new Error(`storage key must be a string, got ${kindOf(v)}`);
}

/** Whether the bytes start like a legacy `torch.save` file (protocol 2, then the magic number). */
export function isLegacyTorch(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x80 && bytes[1] === 0x02 && bytes[2] === 0x8a && bytes[3] === 0x0a
  );
}

/**
 * Reads a zip-format checkpoint (PyTorch ≥ 1.6): `<name>/data.pkl` unpickled with the
 * restricted unpickler, storages found at `<name>/data/<key>`. Deflated entries must have
 * been inflated ({@link ZipArchive.inflateAll}).
 * @param zip - the archive.
 * @returns the unpickled object, with tensors as {@link TensorRef}s (read them with {@link readTensorRef}).
 */
export function readTorchZip(zip: ZipArchive): unknown {
  const { value, storages } = openTorchZip(zip, (name) => zip.read(name));
  for (const s of storages) attachStorage(s, zip.read(s.entry as string));
  return value;
}

/**
 * A zip-format checkpoint unpickled, its storages not yet read: each {@link StorageRef}
 * names its entry and has `bytes: null` until {@link attachStorage}. @internal
 */
export interface OpenedTorchZip {
  /** The unpickled object. */
  readonly value: unknown;
  /** Every storage the object references, once each. */
  readonly storages: readonly StorageRef[];
}

/**
 * Unpickles `data.pkl` of a zip-format checkpoint without reading any storage.
 * @param zip - the archive.
 * @param read - reads an entry (`data.pkl`, `byteorder`); it may only be called synchronously.
 * @internal
 */
export function openTorchZip(zip: ZipArchive, read: (name: string) => Uint8Array): OpenedTorchZip {
  const pkl = findDataPkl(zip);
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const order = `${prefix}byteorder`;
  if (zip.has(order)) {
    const bo = new TextDecoder().decode(read(order)).trim();
    if (bo !== 'little')
      throw new WeightsError(`byte order ${quote(bo)} is not supported (only little-endian)`, {
        format: 'pytorch',
        entry: order,
      });
  }
  const storages = new Map<string, StorageRef>();
  const persistentLoad = (pid: unknown): StorageRef => {
    if (!Array.isArray(pid) || pid.length < 5 || pid[0] !== 'storage')
      throw new Error(`expected ('storage', type, key, location, numel), got ${kindOf(pid)}`);
    const dtype = storageDtype(pid[1]);
    const key = storageKey(pid[2]);
    const n = pid[4];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
      throw new Error(`storage size must be an integer ≥ 0, got ${describeValue(n)}`);
    const seen = storages.get(key);
    if (seen) {
      if (seen.dtype !== dtype || seen.numel !== n)
        throw new Error(
          `storage ${quote(key)} is referenced as ${seen.dtype}[${seen.numel}] and as ${dtype}[${n}]`,
        );
      return seen;
    }
    const entry = `${prefix}data/${key}`;
    if (!zip.has(entry)) throw new Error(`storage ${quote(key)} has no entry ${quote(entry)}`);
    const s: StorageRef = { kind: 'storage', key, dtype, numel: n, bytes: null, entry };
    storages.set(key, s);
    return s;
  };
  const value = unpickle(read(pkl), { findGlobal, persistentLoad, format: 'pytorch', entry: pkl }).value;
  return { value, storages: [...storages.values()] };
}

/**
 * Gives a storage of {@link openTorchZip} its entry's bytes, checking they are enough.
 * @internal
 */
export function attachStorage(s: StorageRef, bytes: Uint8Array): void {
  const want = s.numel * SOURCE_DTYPE_BYTES[s.dtype];
  if (bytes.length < want)
    throw new WeightsError(`holds ${bytes.length} bytes but ${s.dtype}[${s.numel}] needs ${want}`, {
      format: 'pytorch',
      entry: s.entry,
    });
  s.bytes = bytes.subarray(0, want);
}

function findDataPkl(zip: ZipArchive): string {
  let best: string | undefined;
  for (const name of zip.entries.keys())
    if (
      (name === 'data.pkl' || name.endsWith('/data.pkl')) &&
      (best === undefined || name.length < best.length)
    )
      best = name;
  if (best === undefined)
    throw new WeightsError('zip archive has no data.pkl entry: not a PyTorch checkpoint', {
      format: 'pytorch',
    });
  return best;
}

/**
 * Reads a legacy-format checkpoint (PyTorch < 1.6, `_use_new_zipfile_serialization=False`):
 * the magic number, protocol version and system info pickles, the object pickle, the list of
 * storage keys, then each storage's element count and raw bytes.
 * @param bytes - the whole file.
 * @returns the unpickled object, with tensors as {@link TensorRef}s.
 */
export function readTorchLegacy(bytes: Uint8Array): unknown {
  const format = 'pytorch-legacy';
  const noGlobals = (): undefined => undefined;
  let pos = 0;
  let magic: unknown;
  try {
    const r = unpickle(bytes, { findGlobal: noGlobals, format, start: pos });
    magic = r.value;
    pos = r.end;
  } catch (e) {
    throw new WeightsError(
      `not a PyTorch checkpoint: the magic number does not parse (${(e as Error).message})`,
      {
        format,
        offset: 0,
      },
    );
  }
  if (magic !== LEGACY_MAGIC)
    throw new WeightsError(`wrong magic number ${describeValue(magic)} (not a legacy PyTorch checkpoint)`, {
      format,
      offset: 0,
    });
  let r = unpickle(bytes, { findGlobal: noGlobals, format, start: pos });
  if (r.value !== LEGACY_PROTOCOL)
    throw new WeightsError(
      `protocol version ${describeValue(r.value)} is not supported (expected ${LEGACY_PROTOCOL})`,
      {
        format,
        offset: pos,
      },
    );
  pos = r.end;
  r = unpickle(bytes, { findGlobal: noGlobals, format, start: pos });
  if (r.value instanceof Map && r.value.get('little_endian') === false)
    throw new WeightsError('big-endian checkpoints are not supported', { format, offset: pos });
  pos = r.end;

  const roots = new Map<string, StorageRef>();
  const views = new Map<string, StorageRef>();
  const persistentLoad = (pid: unknown): StorageRef => {
    if (!Array.isArray(pid) || pid.length < 6 || pid[0] !== 'storage')
      throw new Error(
        `expected ('storage', type, key, location, numel, view), got ${Array.isArray(pid) ? `(${describeValue(pid[0])}, …)` : kindOf(pid)}`,
      );
    const dtype = storageDtype(pid[1]);
    const key = storageKey(pid[2]);
    const n = pid[4];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
      throw new Error(`storage size must be an integer ≥ 0, got ${describeValue(n)}`);
    let root = roots.get(key);
    if (!root) {
      root = { kind: 'storage', key, dtype, numel: n, bytes: null };
      roots.set(key, root);
    } else if (root.dtype !== dtype) {
      throw new Error(`storage ${quote(key)} is referenced as ${root.dtype} and as ${dtype}`);
    }
    const view = pid[5];
    if (view === null || view === undefined) return root;
    if (!Array.isArray(view) || view.length !== 3)
      throw new Error(`storage view must be (key, offset, size)`);
    const vkey = storageKey(view[0]);
    const [, off, size] = view as [unknown, unknown, unknown];
    if (typeof off !== 'number' || typeof size !== 'number' || !(off >= 0) || !(size >= 0))
      throw new Error('storage view offset and size must be integers ≥ 0');
    if (!Number.isSafeInteger(off) || !Number.isSafeInteger(size) || off + size > root.numel)
      throw new Error(
        `storage view [${off}, ${off + size}) exceeds storage ${quote(key)} of ${root.numel} elements`,
      );
    let v = views.get(vkey);
    if (!v) {
      v = { kind: 'storage', key: vkey, dtype, numel: size, bytes: null, view: { root, offset: off } };
      views.set(vkey, v);
    }
    return v;
  };
  r = unpickle(bytes, { findGlobal, persistentLoad, format, start: pos });
  const value = r.value;
  pos = r.end;
  r = unpickle(bytes, { findGlobal: noGlobals, format, start: pos });
  const keys = r.value;
  if (!Array.isArray(keys))
    throw new WeightsError(`storage key list is ${kindOf(keys)}`, { format, offset: pos });
  pos = r.end;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const k of keys) {
    const key = typeof k === 'string' ? k : describeValue(k, 120, true);
    const s = roots.get(key);
    if (!s)
      throw new WeightsError(`storage key ${quote(key)} was never referenced by the object`, {
        format,
        offset: pos,
      });
    if (pos + 8 > bytes.length)
      throw new WeightsError(`truncated: storage ${quote(key)} has no element count`, {
        format,
        offset: pos,
      });
    const n = dv.getUint32(pos + 4, true) * 2 ** 32 + dv.getUint32(pos, true);
    if (n !== s.numel)
      throw new WeightsError(`storage ${quote(key)} holds ${n} elements but the object says ${s.numel}`, {
        format,
        offset: pos,
      });
    const len = n * SOURCE_DTYPE_BYTES[s.dtype];
    if (pos + 8 + len > bytes.length)
      throw new WeightsError(
        `truncated: storage ${quote(key)} needs ${len} bytes but ${bytes.length - pos - 8} remain`,
        {
          format,
          offset: pos,
        },
      );
    s.bytes = bytes.subarray(pos + 8, pos + 8 + len);
    pos += 8 + len;
  }
  for (const s of roots.values())
    if (!s.bytes)
      throw new WeightsError(`storage ${quote(s.key)} is referenced but absent from the file`, { format });
  return value;
}

/**
 * Reads the values of a tensor in a checkpoint: checks that its view (offset, sizes,
 * strides) lies inside its storage, then returns a view of the file's bytes (contiguous,
 * aligned float32/int32) or one converted copy.
 * @param ref - the tensor.
 * @param key - the tensor's key, for errors.
 */
export function readTensorRef(ref: TensorRef, key: string): RawTensor {
  return decodeTensorRef(ref, key, new DecodeContext());
}

/**
 * What decoding one file's tensors shares: the memory budget, views already decoded (a
 * storage viewed the same way by several keys is decoded once), the elements expanded
 * beyond their storages (stride-0 views), and the elements copied, bounded by a small
 * multiple of what the storages hold. @internal
 */
export class DecodeContext {
  /** Elements of views larger than their storage, so far. */
  expanded = 0;
  /** Elements decoded into fresh arrays, so far. */
  copied = 0;
  /** The memory budget copies are charged to (none when absent). */
  readonly budget: Budget | undefined;
  /** The most elements that may be copied in all. */
  readonly copyLimit: number;
  private readonly done = new WeakMap<StorageRef, Map<string, RawTensor>>();

  /**
   * @param budget - the memory budget copies are charged to (none when absent).
   * @param copyLimit - the most elements that may be copied in all.
   */
  constructor(budget?: Budget, copyLimit: number = Number.POSITIVE_INFINITY) {
    this.budget = budget;
    this.copyLimit = copyLimit;
  }

  /** The decoded view of `root` described by `id`, when already decoded. */
  get(root: StorageRef, id: string): RawTensor | undefined {
    return this.done.get(root)?.get(id);
  }

  /** Records a decoded view. */
  set(root: StorageRef, id: string, t: RawTensor): void {
    let m = this.done.get(root);
    if (!m) {
      m = new Map();
      this.done.set(root, m);
    }
    m.set(id, t);
  }
}

/**
 * The copied elements a file's tensors may need in all: four times what their storages hold,
 * plus {@link MAX_EXPANDED_ELEMENTS} for broadcast views. @internal
 */
export function copyLimitOf(refs: Iterable<TensorRef>): number {
  const roots = new Set<StorageRef>();
  for (const r of refs) roots.add(r.storage.view ? r.storage.view.root : r.storage);
  let held = 0;
  for (const s of roots) held += s.numel;
  return 4 * held + MAX_EXPANDED_ELEMENTS;
}

/** {@link readTensorRef} with a shared {@link DecodeContext}. @internal */
export function decodeTensorRef(ref: TensorRef, key: string, ctx: DecodeContext): RawTensor {
  let s = ref.storage;
  let offset = ref.offset;
  if (s.view) {
    offset += s.view.offset;
    s = s.view.root;
  }
  const where = { format: 'pytorch', key, entry: s.entry };
  const bytes = s.bytes;
  if (!bytes) throw new WeightsError(`storage ${quote(s.key)} has no data`, where);
  let n = 1;
  let last = offset;
  for (let d = 0; d < ref.shape.length; d++) {
    n *= ref.shape[d];
    last += (ref.shape[d] - 1) * ref.stride[d];
  }
  const limit = ref.storage.view ? ref.storage.view.offset + ref.storage.numel : s.numel;
  const shape = [...ref.shape];
  if (n === 0) {
    const data = rawDtypeOf(s.dtype) === 'float32' ? new Float32Array(0) : new Int32Array(0);
    return { dtype: rawDtypeOf(s.dtype), shape, data, sourceDtype: s.dtype };
  }
  if (!Number.isSafeInteger(n) || n > Math.max(s.numel, MAX_EXPANDED_ELEMENTS))
    throw new WeightsError(
      `view of ${ref.shape.join('×')} elements over a storage of ${s.numel} is refused (expanded views are limited to ${MAX_EXPANDED_ELEMENTS} elements)`,
      where,
    );
  if (offset >= limit || last >= limit)
    throw new WeightsError(
      `view (offset ${ref.offset}, size [${ref.shape.join(', ')}], stride [${ref.stride.join(', ')}]) reaches element ${last}, past the storage's ${limit}`,
      where,
    );
  const id = `${offset}|${ref.shape.join(',')}|${ref.stride.join(',')}`;
  const cached = ctx.get(s, id);
  if (cached) return { ...cached, shape };
  if (n > s.numel) {
    ctx.expanded += n;
    if (ctx.expanded > MAX_EXPANDED_ELEMENTS)
      throw new WeightsError(
        `views larger than their storages (stride 0) expand to more than ${MAX_EXPANDED_ELEMENTS} elements in all`,
        where,
      );
  }
  const esize = SOURCE_DTYPE_BYTES[s.dtype];
  let contiguous = true;
  let expect = 1;
  for (let d = ref.shape.length - 1; d >= 0; d--) {
    if (ref.shape[d] !== 1 && ref.stride[d] !== expect) contiguous = false;
    expect *= ref.shape[d];
  }
  const view = contiguous && isView(bytes, offset * esize, s.dtype);
  if (!view) {
    ctx.copied += n;
    if (ctx.copied > ctx.copyLimit)
      throw new WeightsError(
        `the tensors' views copy more than ${ctx.copyLimit} elements, far more than their storages hold`,
        where,
      );
    ctx.budget?.charge(n * 4, 'converting the tensor', where);
  }
  const data = contiguous
    ? decodeContiguous(bytes, offset * esize, n, s.dtype, where)
    : decodeStrided(bytes, offset * esize, ref.shape, ref.stride, s.dtype, where);
  const t: RawTensor = {
    dtype: data instanceof Float32Array ? 'float32' : 'int32',
    shape,
    data,
    sourceDtype: s.dtype,
  };
  ctx.set(s, id, t);
  return t;
}
