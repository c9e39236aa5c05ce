/**
 * The {@link WasmBackend} class: tensors in WebAssembly linear memory, kernels in the
 * AssemblyScript module, split across a worker pool when threads are available. The class
 * holds storage and threads; each kernel family lives in `kernels/`.
 *
 * @module
 */
import type {
  Activation,
  Backend,
  BackendMemory,
  BinaryActivation,
  BinaryOp,
  Conv2dInfo,
  DataId,
  DType,
  MatMulInfo,
  Pool2dInfo,
  ReduceOp,
  ResizeInfo,
  Shape,
  TensorInfo,
  TypedArray,
  UnaryOp,
} from '@kernelzoo/core';
import { Allocator, PAGE } from './allocator.js';
import {
  CTRL,
  type Exports,
  HEAP,
  KernelContext,
  MAX_THREADS,
  PARALLEL_KERNELS,
  WasmDataId,
} from './context.js';
import { assertWasmSupport, wasmFeatures } from './features.js';
import { conv2d } from './kernels/conv2d.js';
import * as elementwise from './kernels/elementwise.js';
import { matmul } from './kernels/matmul.js';
import { unpackWeights } from './kernels/packed-weights.js';
import * as pooling from './kernels/pooling.js';
import * as reduction from './kernels/reduce.js';
import * as resize from './kernels/resize.js';
import * as transform from './kernels/transform.js';
import { compileAsync, compiled, compileSync, defaultThreads } from './modules.js';
import { ThreadPool } from './pool.js';

/** The default `maxMemoryMB`: 4096 in Node, 2048 in browsers. */
const DEFAULT_MAX_MB =
  typeof process !== 'undefined' && process.versions?.node !== undefined && typeof window === 'undefined'
    ? 4096
    : 2048;

/** Options of {@link WasmBackend.create}. */
export interface WasmBackendOptions {
  /** Threads to run kernels on (1 = main thread only). Default: the logical processors, at most 8. */
  readonly threads?: number;
  /**
   * The most memory the backend may use, in MiB, at most 4096 (wasm32's whole address space).
   * Default: 4096 in Node (HRNet-W48 seg at its 1024×2048 input needs more than 2 GiB), 2048 in
   * browsers (where reserving 4 GiB fails on some devices).
   */
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
  private readonly ctx: KernelContext;

  /**
   * Makes a backend synchronously: instantiates the kernels (compiling them first unless
   * {@link WasmBackend.create} already did) on a fresh memory — shared when threads are
   * possible — and runs single-threaded until {@link WasmBackend.setThreads}. Throws a
   * `WasmFeatureError` where the runtime lacks SIMD128.
   */
  constructor(options: WasmBackendOptions = {}) {
    assertWasmSupport();
    const maxMB = Math.min(4096, Math.max(4, options.maxMemoryMB ?? DEFAULT_MAX_MB));
    const maxPages = Math.floor((maxMB * 1024 * 1024) / PAGE);
    const f = wasmFeatures();
    const shared = f.threads && options.singleThreaded !== true;
    const relaxed = f.relaxedSimd && options.relaxedSimd !== false;
    const module = compiled(shared, relaxed) ?? compileSync(shared, relaxed);
    this.variant = `${relaxed ? 'relaxed-simd' : 'simd'}${shared ? '+threads' : ''}`;
    const memory = new WebAssembly.Memory({ initial: HEAP / PAGE + 16, maximum: maxPages, shared });
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    this.wasmMemory = memory;
    this.ctx = new KernelContext(
      memory,
      instance.exports as unknown as Exports,
      new Allocator(memory, HEAP, maxPages),
      shared ? new ThreadPool(module, memory, CTRL, PARALLEL_KERNELS) : null,
    );
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
    if (compiled(shared, relaxed) === null) await compileAsync(shared, relaxed);
    const backend = new WasmBackend(options);
    await backend.setThreads(options.threads ?? Math.min(8, await defaultThreads()));
    return backend;
  }

  /** Threads kernels run on (1 without shared memory). */
  getThreads(): number {
    return this.ctx.threads;
  }

  /**
   * Sets the threads kernels run on, starting workers as needed, and returns the count in
   * effect (at most 1920). Without shared memory (no `SharedArrayBuffer`, or a browser page
   * that is not cross-origin isolated) it stays 1; `wasmFeatures().threadsUnavailable` says why.
   */
  async setThreads(n: number): Promise<number> {
    const ctx = this.ctx;
    const want = Math.min(MAX_THREADS, Math.max(1, Math.floor(n)));
    if (ctx.pool === null) {
      ctx.threads = 1;
      return 1;
    }
    if (ctx.pool.size < want - 1) await ctx.pool.resize(want - 1);
    ctx.threads = want;
    return want;
  }

  // ---- storage ----

  /** Copies `values` into the wasm memory and returns its handle. */
  write(values: TypedArray, shape: Shape, dtype: DType): DataId {
    const ctx = this.ctx;
    const size = values.length;
    const ptr = ctx.alloc(size * 4, `a ${dtype} tensor [${shape.join(', ')}]`);
    if (size > 0) {
      if (dtype === 'int32') {
        const v = values instanceof Int32Array ? values : Int32Array.from(values);
        ctx.i32().set(v, ptr >>> 2);
      } else {
        const v = values instanceof Float32Array ? values : Float32Array.from(values);
        ctx.f32().set(v, ptr >>> 2);
      }
    }
    const id = new WasmDataId(ptr, size, dtype);
    ctx.ids.add(id);
    ctx.bytes += size * 4;
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
    const r = this.ctx.record(dataId, op);
    if (r.ptr === 0 && r.packed !== null) {
      // Weights held only packed: unpacked straight into the copy, the heap left as it is.
      const out = new Float32Array(r.size);
      unpackWeights(this.ctx.f32(), r.packed, r.size, out, 0);
      return out;
    }
    const start = r.ptr >>> 2;
    if (r.dtype === 'int32') return this.ctx.i32().slice(start, start + r.size);
    return this.ctx.f32().slice(start, start + r.size);
  }

  /** Frees a buffer (a second call is harmless). */
  disposeData(dataId: DataId): void {
    const ctx = this.ctx;
    if (!(dataId instanceof WasmDataId) || !ctx.ids.has(dataId)) return;
    ctx.ids.delete(dataId);
    ctx.bytes -= dataId.size * 4;
    ctx.release(dataId);
  }

  /** Live buffers and the bytes they hold. */
  memory(): BackendMemory {
    return { buffers: this.ctx.ids.size, bytes: this.ctx.bytes };
  }

  /** Bytes of the WebAssembly memory: its current size and the part the allocator has handed out. */
  heapStats(): WasmHeapStats {
    const { allocator } = this.ctx;
    return { memoryBytes: allocator.memoryBytes, usedBytes: allocator.usedBytes };
  }

  /**
   * Bytes of the heap in use by this backend's own allocations: every block the allocator
   * has handed out and not taken back — tensor buffers (convolution weights in their packed
   * form once a convolution has used them, see `kernels/packed-weights.ts`), and any scratch a kernel allocated and did not free, each rounded up
   * to 64 bytes — except one: the GEMM's per-thread scratch arena (a packed-B block per thread,
   * 480.25 KiB each), allocated on first use and kept, on purpose, for the backend's lifetime,
   * growing only when the thread count grows. So the value returns to the same number after
   * any sequence of kernel calls whose outputs (and weights) are disposed, whichever kernels
   * ran first; a scratch buffer allocated per call and not freed makes it grow. Compare
   * {@link WasmBackend.heapStats}, whose `usedBytes` includes the arena.
   */
  heapBytesInUse(): number {
    const { allocator, scratch } = this.ctx;
    return allocator.usedBytes - allocator.sizeOf(scratch);
  }

  /**
   * Jobs each thread has run so far, by thread id: entry 0 is the calling thread (it runs
   * share 0 of every split kernel, and every kernel too small to split), entry i ≥ 1 pool
   * worker i; one entry per thread in use ({@link WasmBackend.getThreads}). A job is one
   * thread's share of one parallel kernel call (GEMM, convolutions, elementwise, batch norm,
   * pooling, resize), counted only when that share held work — so a kernel that splits over
   * every thread raises every entry, and a worker that is never given (or never does) work
   * stays put. The counts only grow; compare two readings.
   */
  workerJobs(): number[] {
    return this.ctx.jobs();
  }

  /** Frees every buffer and stops the workers. */
  dispose(): void {
    const ctx = this.ctx;
    ctx.ids.clear();
    ctx.bytes = 0;
    ctx.allocator.reset();
    ctx.scratch = 0;
    ctx.scratchThreads = 0;
    if (ctx.pool !== null) {
      ctx.pool.quitAll();
      ctx.pool.terminate();
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
    return conv2d(this.ctx, x, weight, bias, info, activation);
  }

  /** Batched matrix product: packed SIMD GEMM with fused bias (per column) and activation. */
  matmul(
    a: TensorInfo,
    b: TensorInfo,
    bias: TensorInfo | null,
    info: MatMulInfo,
    activation: Activation,
  ): TensorInfo {
    return matmul(this.ctx, a, b, bias, info, activation);
  }

  /** Elementwise function of one tensor. */
  unary(op: UnaryOp, x: TensorInfo): TensorInfo {
    return elementwise.unary(this.ctx, op, x);
  }

  /** Elementwise function of two tensors, broadcast to `outShape`. */
  binary(
    op: BinaryOp,
    a: TensorInfo,
    b: TensorInfo,
    outShape: Shape,
    activation: BinaryActivation = 'linear',
  ): TensorInfo {
    return elementwise.binary(this.ctx, op, a, b, outShape, activation);
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
    return elementwise.batchNorm(this.ctx, x, mean, variance, scale, offset, eps);
  }

  /** Max or average pooling. */
  pool2d(x: TensorInfo, type: 'max' | 'avg', info: Pool2dInfo): TensorInfo {
    return pooling.pool2d(this.ctx, x, type, info);
  }

  /** Adaptive average pooling. */
  adaptiveAvgPool2d(x: TensorInfo, info: ResizeInfo): TensorInfo {
    return pooling.adaptiveAvgPool2d(this.ctx, x, info);
  }

  /** Bilinear resize. */
  resizeBilinear(x: TensorInfo, info: ResizeInfo, alignCorners: boolean): TensorInfo {
    return resize.resizeBilinear(this.ctx, x, info, alignCorners);
  }

  /** Nearest resize. */
  resizeNearest(x: TensorInfo, info: ResizeInfo): TensorInfo {
    return resize.resizeNearest(this.ctx, x, info);
  }

  /** Sum, mean or max over axes. */
  reduce(op: ReduceOp, x: TensorInfo, axes: readonly number[]): TensorInfo {
    return reduction.reduce(this.ctx, op, x, axes);
  }

  /** Softmax along `axis`. */
  softmax(x: TensorInfo, axis: number): TensorInfo {
    return reduction.softmax(this.ctx, x, axis);
  }

  /** Index of the maximum along `axis`. */
  argmax(x: TensorInfo, axis: number): TensorInfo {
    return reduction.argmax(this.ctx, x, axis);
  }

  /** Joins tensors along `axis`. */
  concat(xs: readonly TensorInfo[], axis: number, outShape: Shape): TensorInfo {
    return transform.concat(this.ctx, xs, axis, outShape);
  }

  /** A block of `x`. */
  slice(x: TensorInfo, begin: readonly number[], size: readonly number[]): TensorInfo {
    return transform.slice(this.ctx, x, begin, size);
  }

  /** Permutes dimensions. */
  transpose(x: TensorInfo, perm: readonly number[]): TensorInfo {
    return transform.transpose(this.ctx, x, perm);
  }

  /** Reverses `x` along `axes`. */
  flip(x: TensorInfo, axes: readonly number[]): TensorInfo {
    return transform.flip(this.ctx, x, axes);
  }

  /** Constant padding. */
  pad(x: TensorInfo, paddings: readonly (readonly [number, number])[], value: number): TensorInfo {
    return transform.pad(this.ctx, x, paddings, value);
  }

  /** Converts to `dtype`. */
  cast(x: TensorInfo, dtype: DType): TensorInfo {
    return elementwise.cast(this.ctx, x, dtype);
  }
}
