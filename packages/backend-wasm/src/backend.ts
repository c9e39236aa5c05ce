/**
 * The {@link WasmBackend} class: tensors in WebAssembly linear memory, kernels in the
 * AssemblyScript module, split across a worker pool when threads are available.
 *
 * @module
 */
import {
  type Activation,
  type Backend,
  BackendError,
  type BackendMemory,
  type BinaryOp,
  type Conv2dInfo,
  type DataId,
  type DType,
  type MatMulInfo,
  type Pool2dInfo,
  type ReduceOp,
  type ResizeInfo,
  type Shape,
  type TensorInfo,
  type TypedArray,
  type UnaryOp,
} from '@kernelzoo/core';
import { Allocator, PAGE } from './allocator.js';
import { assertWasmSupport, decodeBase64, wasmFeatures } from './features.js';
import { WASM_RELAXED, WASM_RELAXED_THREADS, WASM_SIMD, WASM_SIMD_THREADS } from './generated/wasm.js';
import { ThreadPool } from './pool.js';

/** Options of {@link WasmBackend.create}. */
export interface WasmBackendOptions {
  /** Threads to run kernels on (1 = main thread only). Default: the logical processors, at most 8. */
  readonly threads?: number;
  /** The most memory the backend may use, in MiB (default 2048, at most 4096). */
  readonly maxMemoryMB?: number;
  /** Use a private (unshared) memory and no workers even where threads are possible. */
  readonly singleThreaded?: boolean;
  /** Use relaxed SIMD (fused multiply-add) where the runtime has it (default true). */
  readonly relaxedSimd?: boolean;
}

/** What {@link WasmBackend.heapStats} reports. */
export interface WasmHeapStats {
  /** The size of the WebAssembly memory in bytes (it only grows). */
  readonly memoryBytes: number;
  /** Bytes in blocks the allocator has handed out (buffers, scratch, rounding included). */
  readonly usedBytes: number;
}

/** The handle the wasm backend gives out for one buffer. */
class WasmDataId {
  constructor(
    /** Byte address in the memory (0 for an empty buffer). */
    readonly ptr: number,
    /** Elements. */
    readonly size: number,
    /** Element type. */
    readonly dtype: DType,
  ) {}
}

// Fixed regions below the heap: the kernels' static data lives under 64 KiB.
const PARAMS = 65536;
const CTRL = PARAMS + 8192;
const IDX = PARAMS + 16384;
const HEAP = 131072;
// GEMM blocking: K block (rows of a packed B block) and N block (its columns).
// The K block bounds the float32 partial sums kept in registers: blocks of more than 256
// terms measurably lose accuracy (1e-5 tolerance) and win little outside K ≥ 1024.
let KC = 256;
const NC = 240;
const MR = 5;
const SCRATCH_BYTES = 256 + 512 * NC * 4;
/** Below this many elements the unpacked convolution pads its input on one thread. */
const PAD_PARALLEL = 1 << 20;
/** Below this many multiply-adds (or elements) a kernel runs on one thread. */
let PARALLEL_WORK = 1 << 16;

const NAMES = [
  'gemm_run',
  'depthwise_run',
  'unary_f32',
  'binary_run',
  'batchnorm_run',
  'pool_run',
  'adaptive_avg_run',
  'resize_run',
  'direct_pad_run',
  'direct_conv_run',
  'conv_ind_run',
] as const;
type Parallel = (typeof NAMES)[number];

const UNARY: Record<UnaryOp, number> = {
  neg: 0,
  abs: 1,
  exp: 2,
  log: 3,
  sqrt: 4,
  rsqrt: 5,
  square: 6,
  reciprocal: 7,
  relu: 8,
  sigmoid: 9,
  tanh: 10,
};
const BINARY: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5, pow: 6 };
const ACT: Record<Activation, number> = { linear: 0, relu: 1, sigmoid: 2 };

type Exports = Record<string, (...args: number[]) => number>;

function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  for (let d = shape.length - 1, acc = 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/** Right-aligned broadcast strides of `shape` against `outShape` (0 along broadcast dims). */
function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const rank = outShape.length;
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[rank - shape.length + i] = shape[i] === 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

/**
 * Merges adjacent dimensions along which every operand is contiguous (or broadcast), drops
 * dimensions of length 1, and returns at least one dimension.
 */
function collapse(shape: Shape, strides: number[][]): { shape: number[]; strides: number[][] } {
  const out: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const len = shape[d];
    if (len === 1) continue;
    const last = out.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * len)) {
      out[last] *= len;
      strides.forEach((s, k) => {
        outStrides[k][last] = s[d];
      });
    } else {
      out.push(len);
      strides.forEach((s, k) => {
        outStrides[k].push(s[d]);
      });
    }
  }
  if (out.length === 0) {
    out.push(1);
    for (const s of outStrides) s.push(0);
  }
  return { shape: out, strides: outStrides };
}

/**
 * The WebAssembly backend: buffers live in one `WebAssembly.Memory` managed by a free-list
 * allocator; kernels are AssemblyScript compiled with SIMD128; with shared memory, a worker
 * pool splits convolutions, GEMMs and elementwise kernels across threads. Synchronous, so
 * `dataSync()` works. Create it with {@link WasmBackend.create} (or register it with
 * `registerWasmBackend`).
 */
export class WasmBackend implements Backend {
  /** Always `wasm`. */
  readonly name = 'wasm';
  /**
   * The build in use: `simd` or `relaxed-simd` (fused multiply-add), with `+threads` when the
   * memory is shared.
   */
  readonly variant: string;
  /** The WebAssembly memory holding every buffer. */
  readonly wasmMemory: WebAssembly.Memory;
  private readonly exports: Exports;
  private readonly allocator: Allocator;
  private readonly pool: ThreadPool | null;
  private threads = 1;
  private readonly ids = new Set<WasmDataId>();
  private bytes = 0;
  private scratch = 0;
  private scratchThreads = 0;
  /** Packed convolution weights per weight buffer (see `packedWeights`). */
  private readonly packCache = new Map<WasmDataId, { ptr: number; kc: number; m: number; groups: number }>();
  private viewBuffer: ArrayBufferLike | null = null;
  private f32View = new Float32Array(0);
  private i32View = new Int32Array(0);
  private u8View = new Uint8Array(0);

  /**
   * Makes a backend synchronously: instantiates the kernels (compiling them first unless
   * {@link WasmBackend.create} already did) on a fresh memory — shared when threads are
   * possible — and runs single-threaded until {@link WasmBackend.setThreads}. Throws a
   * `WasmFeatureError` where the runtime lacks SIMD128.
   */
  constructor(options: WasmBackendOptions = {}) {
    assertWasmSupport();
    const maxMB = Math.min(4096, Math.max(4, options.maxMemoryMB ?? 2048));
    const maxPages = Math.floor((maxMB * 1024 * 1024) / PAGE);
    const f = wasmFeatures();
    const shared = f.threads && options.singleThreaded !== true;
    const relaxed = f.relaxedSimd && options.relaxedSimd !== false;
    const module = compiled(shared, relaxed) ?? compileSync(shared, relaxed);
    this.variant = `${relaxed ? 'relaxed-simd' : 'simd'}${shared ? '+threads' : ''}`;
    const memory = new WebAssembly.Memory({ initial: HEAP / PAGE + 16, maximum: maxPages, shared });
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    this.wasmMemory = memory;
    this.exports = instance.exports as unknown as Exports;
    this.pool = shared ? new ThreadPool(module, memory, CTRL, NAMES) : null;
    this.allocator = new Allocator(memory, HEAP, maxPages);
  }

  /**
   * Compiles the kernels (asynchronously, once per process), makes a backend and starts
   * `threads − 1` workers. Throws a `WasmFeatureError` where the runtime lacks SIMD128.
   */
  static async create(options: WasmBackendOptions = {}): Promise<WasmBackend> {
    assertWasmSupport();
    const f = wasmFeatures();
    const shared = f.threads && options.singleThreaded !== true;
    const relaxed = f.relaxedSimd && options.relaxedSimd !== false;
    if (compiled(shared, relaxed) === null)
      modules[slot(shared, relaxed)] = await WebAssembly.compile(bytesOf(shared, relaxed));
    const backend = new WasmBackend(options);
    await backend.setThreads(options.threads ?? Math.min(8, await defaultThreads()));
    return backend;
  }

  /** Threads kernels run on (1 without shared memory). */
  getThreads(): number {
    return this.threads;
  }

  /**
   * Sets the threads kernels run on, starting workers as needed, and returns the count in
   * effect. Without shared memory (no `SharedArrayBuffer`, or a browser page that is not
   * cross-origin isolated) it stays 1; `wasmFeatures().threadsUnavailable` says why.
   */
  async setThreads(n: number): Promise<number> {
    const want = Math.max(1, Math.floor(n));
    if (this.pool === null) {
      this.threads = 1;
      return 1;
    }
    if (this.pool.size < want - 1) await this.pool.resize(want - 1);
    this.threads = want;
    return want;
  }

  // ---- memory views ----

  private refresh(): void {
    const buf = this.wasmMemory.buffer;
    if (buf !== this.viewBuffer || this.f32View.length * 4 !== buf.byteLength) {
      this.viewBuffer = buf;
      this.f32View = new Float32Array(buf);
      this.i32View = new Int32Array(buf);
      this.u8View = new Uint8Array(buf);
    }
  }

  private f32(): Float32Array {
    this.refresh();
    return this.f32View;
  }

  private i32(): Int32Array {
    this.refresh();
    return this.i32View;
  }

  private alloc(bytes: number, what: string): number {
    if (bytes === 0) return 0;
    return this.allocator.alloc(bytes, what);
  }

  private free(ptr: number): void {
    if (ptr !== 0) this.allocator.release(ptr);
  }

  private record(id: DataId, op: string): WasmDataId {
    if (!(id instanceof WasmDataId) || !this.ids.has(id))
      throw new BackendError(
        `${op}: the wasm backend holds no buffer for this data id (it was disposed, or belongs to another backend)`,
      );
    return id;
  }

  private ptr(t: TensorInfo, op: string): number {
    return this.record(t.dataId, op).ptr;
  }

  private make(shape: Shape, dtype: DType, op: string): { info: TensorInfo; ptr: number; size: number } {
    const size = sizeOf(shape);
    const ptr = this.alloc(size * 4, `the ${dtype} output [${shape.join(', ')}] of ${op}`);
    const id = new WasmDataId(ptr, size, dtype);
    this.ids.add(id);
    this.bytes += size * 4;
    return { info: { dataId: id, shape, dtype }, ptr, size };
  }

  /** Writes an i32 parameter block at PARAMS. */
  private params(words: readonly number[]): number {
    const v = this.i32();
    v.set(words, PARAMS >> 2);
    return PARAMS;
  }

  /** Per-thread scratch for the GEMM (grown when the thread count grows). */
  private gemmScratch(): number {
    if (this.scratchThreads < this.threads) {
      this.free(this.scratch);
      this.scratch = this.alloc(SCRATCH_BYTES * this.threads, 'GEMM scratch');
      this.scratchThreads = this.threads;
    }
    return this.scratch;
  }

  /** Runs a parallel kernel over `nt` threads (1 when the work is small). */
  private par(fn: Parallel, args: number[], work: number): void {
    const nt = this.pool !== null && work >= PARALLEL_WORK ? this.threads : 1;
    const f = this.exports[fn];
    if (nt <= 1) {
      f(...args, 0, 1);
      return;
    }
    this.pool!.run(NAMES.indexOf(fn), args, nt, () => {
      f(...args, 0, nt);
    });
  }

  // ---- storage ----

  /** Copies `values` into the wasm memory and returns its handle. */
  write(values: TypedArray, shape: Shape, dtype: DType): DataId {
    const size = values.length;
    const ptr = this.alloc(size * 4, `a ${dtype} tensor [${shape.join(', ')}]`);
    if (size > 0) {
      if (dtype === 'int32') {
        const v = values instanceof Int32Array ? values : Int32Array.from(values);
        this.i32().set(v, ptr >> 2);
      } else {
        const v = values instanceof Float32Array ? values : Float32Array.from(values);
        this.f32().set(v, ptr >> 2);
      }
    }
    const id = new WasmDataId(ptr, size, dtype);
    this.ids.add(id);
    this.bytes += size * 4;
    return id;
  }

  /** A copy of the buffer's values. */
  async read(dataId: DataId): Promise<TypedArray> {
    return this.copyOut(dataId, 'read');
  }

  /** A copy of the buffer's values, synchronously. */
  readSync(dataId: DataId): TypedArray {
    return this.copyOut(dataId, 'readSync');
  }

  private copyOut(dataId: DataId, op: string): TypedArray {
    const r = this.record(dataId, op);
    const start = r.ptr >> 2;
    if (r.dtype === 'int32') return this.i32().slice(start, start + r.size);
    return this.f32().slice(start, start + r.size);
  }

  /** Frees a buffer (a second call is harmless). */
  disposeData(dataId: DataId): void {
    if (!(dataId instanceof WasmDataId) || !this.ids.has(dataId)) return;
    this.ids.delete(dataId);
    const packed = this.packCache.get(dataId);
    if (packed !== undefined) {
      this.free(packed.ptr);
      this.packCache.delete(dataId);
    }
    this.bytes -= dataId.size * 4;
    this.free(dataId.ptr);
  }

  /** Live buffers and the bytes they hold. */
  memory(): BackendMemory {
    return { buffers: this.ids.size, bytes: this.bytes };
  }

  /** Bytes of the WebAssembly memory: its current size and the part the allocator has handed out. */
  heapStats(): WasmHeapStats {
    return { memoryBytes: this.allocator.memoryBytes, usedBytes: this.allocator.usedBytes };
  }

  /** Frees every buffer and stops the workers. */
  dispose(): void {
    this.ids.clear();
    this.bytes = 0;
    this.allocator.reset();
    this.packCache.clear();
    this.scratch = 0;
    this.scratchThreads = 0;
    if (this.pool !== null) {
      this.pool.quitAll();
      this.pool.terminate();
    }
  }

  // ---- kernels ----

  /** 2-D convolution: packed SIMD GEMM over the implicit im2col matrix, direct depthwise path. */
  conv2d(
    x: TensorInfo,
    weight: TensorInfo,
    bias: TensorInfo | null,
    info: Conv2dInfo,
    activation: Activation,
  ): TensorInfo {
    const op = 'conv2d';
    const { batch, inChannels, inHeight, inWidth, outChannels, outHeight, outWidth, groups } = info;
    const { kernelHeight: kh, kernelWidth: kw } = info;
    const out = this.make([batch, outChannels, outHeight, outWidth], 'float32', op);
    if (out.size === 0) return out.info;
    const xp = this.ptr(x, op);
    const wp = this.ptr(weight, op);
    const bp = bias === null ? 0 : this.ptr(bias, op);
    const act = ACT[activation];
    const hw = outHeight * outWidth;
    const cg = inChannels / groups;
    const m = outChannels / groups;
    const k = cg * kh * kw;
    if (groups > 1 && cg === 1) {
      const p = this.params([
        xp,
        wp,
        out.ptr,
        bp,
        act,
        batch,
        inChannels,
        outChannels / inChannels,
        inHeight,
        inWidth,
        outHeight,
        outWidth,
        kh,
        kw,
        info.strideHeight,
        info.strideWidth,
        info.dilationHeight,
        info.dilationWidth,
        info.padTop,
        info.padLeft,
      ]);
      this.par('depthwise_run', [p], out.size * kh * kw);
      return out.info;
    }
    if (k > 0 && useDirect(info)) {
      this.directConv(xp, wp, bp, act, info, out.ptr, out.size * k);
      return out.info;
    }
    if (k === 0) {
      this.f32().fill(0, out.ptr >> 2, (out.ptr >> 2) + out.size);
      this.exports.bias_act_rows(out.ptr, batch, outChannels, hw, bp, act);
      return out.info;
    }
    const mp = Math.ceil(m / MR) * MR;
    const kc = kBlock(k);
    const packA = this.packedWeights(weight.dataId as WasmDataId, wp, groups, m, k, kc);
    const pointwise =
      kh === 1 &&
      kw === 1 &&
      info.strideHeight === 1 &&
      info.strideWidth === 1 &&
      info.padTop === 0 &&
      info.padLeft === 0 &&
      info.padBottom === 0 &&
      info.padRight === 0;
    const inPlane = inHeight * inWidth;
    const unpacked = !pointwise && useUnpacked(info, k);
    let pad = 0;
    let hp = 0;
    let wq = 0;
    if (unpacked) {
      ({ buf: pad, hp, wq } = this.padInput(xp, info));
    }
    const p = this.params([
      pointwise ? 0 : 1,
      m,
      hw,
      k,
      packA,
      mp * k,
      xp,
      inPlane,
      1,
      inChannels * inPlane,
      cg * inPlane,
      out.ptr,
      hw,
      outChannels * hw,
      m * hw,
      bp,
      bp === 0 ? 0 : 1,
      act,
      batch,
      groups,
      this.gemmScratch(),
      SCRATCH_BYTES,
      kc,
      NC,
      cg,
      inHeight,
      inWidth,
      outHeight,
      outWidth,
      kh,
      kw,
      info.strideHeight,
      info.strideWidth,
      info.dilationHeight,
      info.dilationWidth,
      info.padTop,
      info.padLeft,
      0,
      pad,
      hp,
      wq,
    ]);
    try {
      this.par(unpacked ? 'conv_ind_run' : 'gemm_run', [p], out.size * k);
    } finally {
      this.free(pad);
    }
    return out.info;
  }

  /**
   * The weights of a convolution packed for the GEMM (`pack_a`), cached per weight buffer:
   * tensors are immutable, so the packed copy stays valid until `disposeData` frees the
   * weights (and it). Costs one more copy of each convolution's weights in memory.
   */
  private packedWeights(
    id: WasmDataId,
    wp: number,
    groups: number,
    m: number,
    k: number,
    kc: number,
  ): number {
    const hit = this.packCache.get(id);
    if (hit !== undefined && hit.kc === kc && hit.m === m && hit.groups === groups) return hit.ptr;
    if (hit !== undefined) {
      this.free(hit.ptr);
      this.packCache.delete(id);
    }
    const mp = Math.ceil(m / MR) * MR;
    const ptr = this.alloc(groups * mp * k * 4, 'packed conv2d weights');
    for (let g = 0; g < groups; g++)
      this.exports.pack_a(wp + g * m * k * 4, k, 1, m, k, kc, ptr + g * mp * k * 4);
    this.packCache.set(id, { ptr, kc, m, groups });
    return ptr;
  }

  /**
   * A zero-padded, stride-phase-split copy of the input (`direct_pad_run`): plane (n, c), row
   * y, phase s, column q holds input (y − padTop, q·strideW + s − padLeft). The caller frees
   * `buf`.
   */
  private padInput(xp: number, info: Conv2dInfo): { buf: number; hp: number; wq: number } {
    const { batch, inChannels, inHeight, inWidth, outWidth, kernelWidth: kw } = info;
    const { strideWidth: sw, dilationWidth: dw } = info;
    const hp = inHeight + info.padTop + info.padBottom;
    const wpad = inWidth + info.padLeft + info.padRight;
    // Room for the reads of a last, partial 8-pixel tile of a row, and then some.
    const wq = Math.max(Math.ceil(wpad / sw), outWidth + Math.floor(((kw - 1) * dw) / sw)) + 8;
    const buf = this.alloc((batch * inChannels * hp * sw * wq + 16) * 4, 'padded conv2d input');
    const p = this.params([
      xp,
      0,
      0,
      0,
      0,
      batch,
      inChannels,
      0,
      0,
      inHeight,
      inWidth,
      0,
      0,
      0,
      0,
      0,
      sw,
      0,
      0,
      info.padTop,
      info.padLeft,
      buf,
      hp,
      wq,
    ]);
    // Small copies stay on this thread: one pool round trip per convolution instead of two.
    const elems = batch * inChannels * hp * wpad;
    if (elems < PAD_PARALLEL) this.exports.direct_pad_run(p, 0, 1);
    else this.par('direct_pad_run', [p], elems);
    return { buf, hp, wq };
  }

  /** Direct convolution over a padded, stride-phase-split copy of the input (see asm/direct.ts). */
  private directConv(
    xp: number,
    wp: number,
    bp: number,
    act: number,
    info: Conv2dInfo,
    outPtr: number,
    work: number,
  ): void {
    const { batch, inChannels, inHeight, inWidth, outChannels, outHeight, outWidth, groups } = info;
    const { kernelHeight: kh, kernelWidth: kw, strideWidth: sw, dilationWidth: dw } = info;
    const cg = inChannels / groups;
    const mg = outChannels / groups;
    const blocks = Math.ceil(mg / 4);
    const hp = inHeight + info.padTop + info.padBottom;
    const wpad = inWidth + info.padLeft + info.padRight;
    const wq = Math.max(Math.ceil(wpad / sw), outWidth + Math.floor(((kw - 1) * dw) / sw)) + 8;
    const buf = this.alloc((batch * inChannels * hp * sw * wq + 16) * 4, 'padded conv2d input');
    let wpack = 0;
    try {
      wpack = this.alloc(groups * blocks * cg * kh * kw * 16, 'packed conv2d weights');
      this.exports.direct_pack_w(wp, wpack, outChannels, groups, cg, kh * kw);
      const p = this.params([
        xp,
        wpack,
        outPtr,
        bp,
        act,
        batch,
        inChannels,
        outChannels,
        groups,
        inHeight,
        inWidth,
        outHeight,
        outWidth,
        kh,
        kw,
        info.strideHeight,
        sw,
        info.dilationHeight,
        dw,
        info.padTop,
        info.padLeft,
        buf,
        hp,
        wq,
        this.gemmScratch(),
        SCRATCH_BYTES,
      ]);
      this.par('direct_pad_run', [p], batch * inChannels * hp * wpad);
      this.par('direct_conv_run', [p], work);
    } finally {
      this.free(buf);
      this.free(wpack);
    }
  }

  /** Batched matrix product: packed SIMD GEMM with fused bias (per column) and activation. */
  matmul(
    a: TensorInfo,
    b: TensorInfo,
    bias: TensorInfo | null,
    info: MatMulInfo,
    activation: Activation,
  ): TensorInfo {
    const op = 'matmul';
    const { batch, aBatch, bBatch, m, n, k, transposeA, transposeB } = info;
    const out = this.make(info.outShape, 'float32', op);
    if (out.size === 0) return out.info;
    const ap = this.ptr(a, op);
    const bp = this.ptr(b, op);
    const biasp = bias === null ? 0 : this.ptr(bias, op);
    const act = ACT[activation];
    if (k === 0) {
      const v = this.f32();
      v.fill(0, out.ptr >> 2, (out.ptr >> 2) + out.size);
      if (biasp !== 0 || act !== 0) {
        // Every row is bias (or 0) through the activation.
        const bv = biasp === 0 ? null : v.slice(biasp >> 2, (biasp >> 2) + n);
        for (let r = 0; r < batch * m; r++)
          for (let j = 0; j < n; j++) {
            let s = bv === null ? 0 : bv[j];
            if (act === 1) s = s > 0 || Number.isNaN(s) ? s : 0;
            else if (act === 2) s = 1 / (1 + Math.exp(-s));
            v[(out.ptr >> 2) + r * n + j] = s;
          }
      }
      return out.info;
    }
    const mp = Math.ceil(m / MR) * MR;
    const kc = kBlock(k);
    const packA = this.alloc(aBatch * mp * k * 4, 'packed matmul operand');
    const ars = transposeA ? 1 : k;
    const acs = transposeA ? m : 1;
    for (let i = 0; i < aBatch; i++)
      this.exports.pack_a(ap + i * m * k * 4, ars, acs, m, k, kc, packA + i * mp * k * 4);
    const p = this.params([
      0,
      m,
      n,
      k,
      packA,
      mp * k,
      bp,
      transposeB ? 1 : n,
      transposeB ? k : 1,
      bBatch === 1 ? 0 : k * n,
      0,
      out.ptr,
      n,
      m * n,
      0,
      biasp,
      biasp === 0 ? 0 : 2,
      act,
      batch,
      1,
      this.gemmScratch(),
      SCRATCH_BYTES,
      kc,
      NC,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      aBatch === 1 ? 0 : 1,
    ]);
    try {
      this.par('gemm_run', [p], out.size * k);
    } finally {
      this.free(packA);
    }
    return out.info;
  }

  /** Elementwise function of one tensor. */
  unary(op: UnaryOp, x: TensorInfo): TensorInfo {
    const out = this.make(x.shape, x.dtype, op);
    if (out.size === 0) return out.info;
    const xp = this.ptr(x, op);
    if (x.dtype === 'int32') this.exports.unary_i32(UNARY[op], xp, out.ptr, out.size);
    else this.par('unary_f32', [UNARY[op], xp, out.ptr, out.size], out.size * 4);
    return out.info;
  }

  /** Elementwise function of two tensors, broadcast to `outShape`. */
  binary(op: BinaryOp, a: TensorInfo, b: TensorInfo, outShape: Shape): TensorInfo {
    const out = this.make(outShape, a.dtype, op);
    if (out.size === 0) return out.info;
    const ap = this.ptr(a, op);
    const bp = this.ptr(b, op);
    const { shape, strides } = collapse(outShape, [
      broadcastStrides(a.shape, outShape),
      broadcastStrides(b.shape, outShape),
    ]);
    const p = this.params([shape.length, ...shape, ...strides[0], ...strides[1]]);
    this.par('binary_run', [BINARY[op], a.dtype === 'int32' ? 1 : 0, ap, bp, out.ptr, p, IDX], out.size * 2);
    return out.info;
  }

  /** Batch-norm inference over `[N, C, ...]`. */
  batchNorm(
    x: TensorInfo,
    mean: TensorInfo,
    variance: TensorInfo,
    scale: TensorInfo | null,
    offset: TensorInfo | null,
    eps: number,
  ): TensorInfo {
    const op = 'batchNorm';
    const out = this.make(x.shape, 'float32', op);
    if (out.size === 0) return out.info;
    const outer = x.shape[0];
    const channels = x.shape[1];
    const inner = out.size / (outer * channels);
    this.par(
      'batchnorm_run',
      [
        this.ptr(x, op),
        out.ptr,
        outer,
        channels,
        inner,
        this.ptr(mean, op),
        this.ptr(variance, op),
        scale === null ? 0 : this.ptr(scale, op),
        offset === null ? 0 : this.ptr(offset, op),
        eps,
      ],
      out.size * 2,
    );
    return out.info;
  }

  /** Max or average pooling. */
  pool2d(x: TensorInfo, type: 'max' | 'avg', info: Pool2dInfo): TensorInfo {
    const op = `${type}Pool2d`;
    const out = this.make([info.batch, info.channels, info.outHeight, info.outWidth], 'float32', op);
    if (out.size === 0) return out.info;
    const p = this.params([
      info.batch,
      info.channels,
      info.inHeight,
      info.inWidth,
      info.outHeight,
      info.outWidth,
      info.kernelHeight,
      info.kernelWidth,
      info.strideHeight,
      info.strideWidth,
      info.dilationHeight,
      info.dilationWidth,
      info.padTop,
      info.padBottom,
      info.padLeft,
      info.padRight,
      info.countIncludePad ? 1 : 0,
    ]);
    this.par(
      'pool_run',
      [type === 'max' ? 0 : 1, this.ptr(x, op), out.ptr, p],
      out.size * info.kernelHeight * info.kernelWidth,
    );
    return out.info;
  }

  /** Adaptive average pooling. */
  adaptiveAvgPool2d(x: TensorInfo, info: ResizeInfo): TensorInfo {
    const op = 'adaptiveAvgPool2d';
    const out = this.make([info.batch, info.channels, info.outHeight, info.outWidth], 'float32', op);
    if (out.size === 0) return out.info;
    this.par(
      'adaptive_avg_run',
      [
        this.ptr(x, op),
        out.ptr,
        info.batch * info.channels,
        info.inHeight,
        info.inWidth,
        info.outHeight,
        info.outWidth,
      ],
      info.batch * info.channels * info.inHeight * info.inWidth,
    );
    return out.info;
  }

  private resize(
    x: TensorInfo,
    info: ResizeInfo,
    mode: 0 | 1,
    alignCorners: boolean,
    op: string,
  ): TensorInfo {
    const out = this.make([info.batch, info.channels, info.outHeight, info.outWidth], 'float32', op);
    if (out.size === 0) return out.info;
    const { inHeight: ih, inWidth: iw, outHeight: oh, outWidth: ow } = info;
    const tab = this.alloc((oh + ow) * 12, `${op} tables`);
    const iv = this.i32();
    const fv = this.f32();
    const axis = (inSize: number, outSize: number, at: number) => {
      for (let i = 0; i < outSize; i++) {
        const w = (at >> 2) + i * 3;
        if (mode === 1) {
          iv[w] = Math.min(Math.floor((i * inSize) / outSize), inSize - 1);
          continue;
        }
        const scale = alignCorners ? (outSize > 1 ? (inSize - 1) / (outSize - 1) : 0) : inSize / outSize;
        const src = alignCorners ? i * scale : Math.max(0, (i + 0.5) * scale - 0.5);
        const l = Math.min(Math.floor(src), inSize - 1);
        iv[w] = l;
        iv[w + 1] = Math.min(l + 1, inSize - 1);
        fv[w + 2] = src - l;
      }
    };
    axis(ih, oh, tab);
    axis(iw, ow, tab + oh * 12);
    try {
      this.par(
        'resize_run',
        [mode, this.ptr(x, op), out.ptr, info.batch * info.channels, ih, iw, oh, ow, tab],
        out.size * 4,
      );
    } finally {
      this.free(tab);
    }
    return out.info;
  }

  /** Bilinear resize. */
  resizeBilinear(x: TensorInfo, info: ResizeInfo, alignCorners: boolean): TensorInfo {
    return this.resize(x, info, 0, alignCorners, 'resizeBilinear');
  }

  /** Nearest resize. */
  resizeNearest(x: TensorInfo, info: ResizeInfo): TensorInfo {
    return this.resize(x, info, 1, false, 'resizeNearest');
  }

  /** Sum, mean or max over axes. */
  reduce(op: ReduceOp, x: TensorInfo, axes: readonly number[]): TensorInfo {
    const outShape = x.shape.filter((_, i) => !axes.includes(i));
    const out = this.make(outShape, op === 'mean' ? 'float32' : x.dtype, op);
    if (out.size === 0) return out.info;
    const rank = x.shape.length;
    const outStrides = new Array<number>(rank).fill(0);
    for (let d = rank - 1, s = 1; d >= 0; d--) {
      if (axes.includes(d)) continue;
      outStrides[d] = s;
      s *= x.shape[d];
    }
    let count = 1;
    for (const a of axes) count *= x.shape[a];
    const total = sizeOf(x.shape);
    const { shape, strides } = collapse(x.shape, [stridesOf(x.shape), outStrides]);
    const p = this.params([shape.length, ...shape, ...strides[1]]);
    const acc = this.alloc(out.size * 8, `${op} accumulators`);
    try {
      this.exports.reduce_run(
        op === 'sum' ? 0 : op === 'mean' ? 1 : 2,
        x.dtype === 'int32' ? 1 : 0,
        this.ptr(x, op),
        total,
        out.ptr,
        out.size,
        count,
        p,
        acc,
        IDX,
      );
    } finally {
      this.free(acc);
    }
    return out.info;
  }

  private around(shape: Shape, axis: number): [number, number, number] {
    let outer = 1;
    let inner = 1;
    for (let d = 0; d < axis; d++) outer *= shape[d];
    for (let d = axis + 1; d < shape.length; d++) inner *= shape[d];
    return [outer, shape[axis], inner];
  }

  /** Softmax along `axis`. */
  softmax(x: TensorInfo, axis: number): TensorInfo {
    const op = 'softmax';
    const out = this.make(x.shape, 'float32', op);
    if (out.size === 0) return out.info;
    const [outer, len, inner] = this.around(x.shape, axis);
    const e = this.alloc(len * 8, 'softmax scratch');
    try {
      this.exports.softmax_run(this.ptr(x, op), out.ptr, outer, len, inner, e);
    } finally {
      this.free(e);
    }
    return out.info;
  }

  /** Index of the maximum along `axis`. */
  argmax(x: TensorInfo, axis: number): TensorInfo {
    const op = 'argmax';
    const out = this.make(
      x.shape.filter((_, i) => i !== axis),
      'int32',
      op,
    );
    if (out.size === 0) return out.info;
    const [outer, len, inner] = this.around(x.shape, axis);
    this.exports.argmax_run(x.dtype === 'int32' ? 1 : 0, this.ptr(x, op), out.ptr, outer, len, inner);
    return out.info;
  }

  /** Copies a strided block of 4-byte elements (dimensions collapsed first). */
  private copy(src: number, srcStrides: number[], dst: number, dstStrides: number[], shape: Shape): void {
    if (sizeOf(shape) === 0) return;
    const c = collapse(shape, [srcStrides, dstStrides]);
    const p = this.params([c.shape.length, ...c.shape, ...c.strides[0], ...c.strides[1]]);
    this.exports.copy_strided(src, dst, p, IDX);
  }

  /** Joins tensors along `axis`. */
  concat(xs: readonly TensorInfo[], axis: number, outShape: Shape): TensorInfo {
    const op = 'concat';
    const dtype = xs[0].dtype;
    const out = this.make(outShape, dtype, op);
    if (out.size === 0) return out.info;
    let outer = 1;
    for (let d = 0; d < axis; d++) outer *= outShape[d];
    let inner = 1;
    for (let d = axis + 1; d < outShape.length; d++) inner *= outShape[d];
    const outRow = outShape[axis] * inner;
    let start = 0;
    for (const x of xs) {
      const block = x.shape[axis] * inner;
      if (block > 0) this.copy(this.ptr(x, op), [block, 1], out.ptr + start * 4, [outRow, 1], [outer, block]);
      start += block;
    }
    return out.info;
  }

  /** A block of `x`. */
  slice(x: TensorInfo, begin: readonly number[], size: readonly number[]): TensorInfo {
    const op = 'slice';
    const out = this.make([...size], x.dtype, op);
    if (out.size === 0) return out.info;
    const inStrides = stridesOf(x.shape);
    let off = 0;
    for (let d = 0; d < x.shape.length; d++) off += begin[d] * inStrides[d];
    this.copy(this.ptr(x, op) + off * 4, inStrides, out.ptr, stridesOf(size), size);
    return out.info;
  }

  /** Permutes dimensions. */
  transpose(x: TensorInfo, perm: readonly number[]): TensorInfo {
    const op = 'transpose';
    const outShape = perm.map((p) => x.shape[p]);
    const out = this.make(outShape, x.dtype, op);
    if (out.size === 0) return out.info;
    const inStrides = stridesOf(x.shape);
    this.copy(
      this.ptr(x, op),
      perm.map((p) => inStrides[p]),
      out.ptr,
      stridesOf(outShape),
      outShape,
    );
    return out.info;
  }

  /** Constant padding. */
  pad(x: TensorInfo, paddings: readonly (readonly [number, number])[], value: number): TensorInfo {
    const op = 'pad';
    const outShape = x.shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
    const out = this.make(outShape, x.dtype, op);
    if (out.size === 0) return out.info;
    const bits = new Int32Array(1);
    if (x.dtype === 'int32') bits[0] = value;
    else new Float32Array(bits.buffer)[0] = value;
    this.exports.fill32(out.ptr, out.size, bits[0]);
    const outStrides = stridesOf(outShape);
    let off = 0;
    for (let d = 0; d < x.shape.length; d++) off += paddings[d][0] * outStrides[d];
    this.copy(this.ptr(x, op), stridesOf(x.shape), out.ptr + off * 4, outStrides, x.shape);
    return out.info;
  }

  /** Converts to `dtype`. */
  cast(x: TensorInfo, dtype: DType): TensorInfo {
    const op = 'cast';
    const out = this.make(x.shape, dtype, op);
    if (out.size === 0) return out.info;
    const xp = this.ptr(x, op);
    if (x.dtype === dtype) {
      this.refresh();
      this.u8View.copyWithin(out.ptr, xp, xp + out.size * 4);
    } else if (dtype === 'int32') this.exports.cast_f2i(xp, out.ptr, out.size);
    else this.exports.cast_i2f(xp, out.ptr, out.size);
    return out.info;
  }
}

/**
 * @internal Test hook: the work (multiply-adds or elements) from which kernels split across
 * threads (default 65536); 0 sends every kernel through the pool.
 */
export function setParallelThreshold(work: number): void {
  PARALLEL_WORK = work;
}

/** The K block: at most KC (≤ 512), the K blocks of one product as even as possible. */
function kBlock(k: number): number {
  return Math.ceil(k / Math.ceil(k / KC));
}

/** @internal Tuning hook for the benchmark: the largest K block (at most 512). */
export function setKBlock(kc: number): void {
  KC = Math.max(16, Math.min(512, kc));
}

/**
 * Whether a convolution takes the direct path: grouped convolutions with several channels per
 * group (the GEMM would see tiny M and K per group), and small-M convolutions whose kernel
 * reaches over more than one pixel (where im2col packing costs as much as the products).
 */
function useDirect(info: Conv2dInfo): boolean {
  const cg = info.inChannels / info.groups;
  const m = info.outChannels / info.groups;
  const khw = info.kernelHeight * info.kernelWidth;
  // One float32 accumulator per output sums all K terms: keep K short enough that the
  // rounding stays inside the 1e-5 tolerance.
  if (cg * khw > DIRECT_MAX_K) return false;
  if (info.groups > 1) return cg > 1 && m <= DIRECT_MAX_M;
  return m <= DIRECT_MAX_M_DENSE && khw > 1;
}

/**
 * Whether a (non-pointwise) convolution takes the unpacked GEMM (`conv_ind_run`): B read in
 * place from a padded copy of the input instead of packing the im2col matrix per K×N block.
 * Packing costs ~1/M of the multiply-adds, the unpacked kernel one extra load per k step and
 * 8-pixel tiles within output rows. Measured on HRNet/ResNet-like 3×3 convolutions: unpacked
 * wins by 10–25 % up to 64 output channels per group, ties at 128 and loses beyond (its
 * weight panels and scattered B reads leave the cache). So: at most 64 output channels per
 * group, and tiles that waste at most 1/8 of a row (ow a multiple of 8, or ≥ 40 wide).
 */
function useUnpacked(info: Conv2dInfo, k: number): boolean {
  // The K offset table lives in the thread's scratch.
  if (256 + k * 4 > SCRATCH_BYTES) return false;
  if (CONV_PATH !== 'auto') return CONV_PATH === 'unpacked';
  const m = info.outChannels / info.groups;
  const ow = info.outWidth;
  return m <= 64 && 8 * (Math.ceil(ow / 8) * 8 - ow) <= ow;
}

let CONV_PATH: 'auto' | 'packed' | 'unpacked' = 'auto';

/**
 * @internal Test and benchmark hook: send every non-pointwise convolution that the GEMM runs
 * through the packed-B GEMM or the unpacked one (`auto`: the rule of `useUnpacked`).
 */
export function setConvPath(path: 'auto' | 'packed' | 'unpacked'): void {
  CONV_PATH = path;
}

/** Largest channels per group for the direct path (grouped). */
let DIRECT_MAX_M = 64;
/** Largest output channels for the direct path (ungrouped). */
let DIRECT_MAX_M_DENSE = 0;
/** Largest reduction length (channels per group × kernel taps) for the direct path. */
const DIRECT_MAX_K = 288;

/** @internal Tuning hook for the benchmark: thresholds of the direct convolution path. */
export function setDirectThresholds(grouped: number, dense: number): void {
  DIRECT_MAX_M = grouped;
  DIRECT_MAX_M_DENSE = dense;
}

const modules: (WebAssembly.Module | null)[] = [null, null, null, null];

function slot(shared: boolean, relaxed: boolean): number {
  return (shared ? 1 : 0) + (relaxed ? 2 : 0);
}

function bytesOf(shared: boolean, relaxed: boolean): Uint8Array<ArrayBuffer> {
  const b64 = relaxed
    ? shared
      ? WASM_RELAXED_THREADS
      : WASM_RELAXED
    : shared
      ? WASM_SIMD_THREADS
      : WASM_SIMD;
  return decodeBase64(b64) as Uint8Array<ArrayBuffer>;
}

function compiled(shared: boolean, relaxed: boolean): WebAssembly.Module | null {
  return modules[slot(shared, relaxed)];
}

function compileSync(shared: boolean, relaxed: boolean): WebAssembly.Module {
  const m = new WebAssembly.Module(bytesOf(shared, relaxed));
  modules[slot(shared, relaxed)] = m;
  return m;
}

/** The logical processors of this machine (Node: `os.availableParallelism`). */
async function defaultThreads(): Promise<number> {
  const f = wasmFeatures();
  if (!f.threads) return 1;
  const g = globalThis as { process?: { versions?: { node?: string } }; window?: unknown };
  if (g.process?.versions?.node !== undefined && g.window === undefined) {
    try {
      const spec = 'node:os';
      const os = (await import(/* @vite-ignore */ spec)) as typeof import('node:os');
      return os.availableParallelism?.() ?? os.cpus().length;
    } catch {
      return 1;
    }
  }
  return f.hardwareConcurrency;
}
