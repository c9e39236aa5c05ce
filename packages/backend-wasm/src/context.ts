/**
 * {@link KernelContext}: what every kernel function of the wasm backend works with — the
 * instance's exports, views of its memory, the allocator, the buffers handed out, the
 * parameter block and the worker pool — and the fixed regions of the memory.
 *
 * @module
 */
import {
  BackendError,
  type DataId,
  type DType,
  type Shape,
  sizeFromShape,
  type TensorInfo,
} from '@kernelzoo/core';
import type { Allocator } from './allocator.js';
import { unpackWeights } from './kernels/packed-weights.js';
import { JOBS_OFFSET, type ThreadPool } from './pool.js';

// Fixed regions below the heap: the kernels' static data lives under 64 KiB.
/** Byte address of the i32 parameter block a kernel call reads (8 KiB). */
export const PARAMS = 65536;
/** Byte address of the worker pool's control block. */
export const CTRL = PARAMS + 8192;
/** Byte address of the index scratch of the strided kernels (one word per dimension). */
export const IDX = PARAMS + 16384;
/** Byte address of the job counters: one Int32 per thread id (see `pool.ts`). */
export const JOBS = CTRL + JOBS_OFFSET;
/** The most threads the backend runs (as many as the job counters between JOBS and IDX). */
export const MAX_THREADS = (IDX - JOBS) >> 2;
/** Byte address where the allocator's heap begins. */
export const HEAP = 131072;

/** The kernels a job of the worker pool may name (each takes `(…, share, nt)`), by index. */
export const PARALLEL_KERNELS = [
  'gemm_run',
  'depthwise_run',
  'unary_f32',
  'binary_run',
  'batchnorm_run',
  'avgpool_run',
  'adaptive_avg_run',
  'resize_run',
  'direct_pad_run',
  'direct_conv_run',
  'conv_ind_run',
  'wino_filter_run',
  'wino_run',
  'maxpool_run',
] as const;

/** A kernel that splits across threads. */
export type Parallel = (typeof PARALLEL_KERNELS)[number];

/** The exports of the kernels module: functions of numbers. */
export type Exports = Record<string, (...args: number[]) => number>;

/** Below this many multiply-adds (or elements) a kernel runs on one thread. */
let PARALLEL_WORK = 1 << 16;

/**
 * @internal Test hook: the work (multiply-adds or elements) from which kernels split across
 * threads (default 65536); 0 sends every kernel through the pool.
 */
export function setParallelThreshold(work: number): void {
  PARALLEL_WORK = work;
}

/** The handle the wasm backend gives out for one buffer. */
export class WasmDataId {
  /**
   * The buffer in the GEMM's packed layout, once a convolution has used it as weights (see
   * `kernels/packed-weights.ts`); null otherwise.
   */
  packed: PackedWeights | null = null;

  constructor(
    /**
     * Byte address of the buffer in its own layout: 0 for an empty buffer, and 0 while only
     * the {@link WasmDataId.packed} form is held ({@link KernelContext.ptr} restores it).
     */
    public ptr: number,
    /** Elements. */
    readonly size: number,
    /** Element type. */
    readonly dtype: DType,
  ) {}
}

/**
 * Convolution weights in a kernel's packed layout (see `kernels/packed-weights.ts`): per group,
 * panels of `rows` output channels, depth-major within a panel, in K blocks of `kc` — the GEMM's
 * (`MR` rows) or the direct kernel's (4 rows, the whole K in one block).
 */
export interface PackedWeights {
  /** Byte address of the packed form. */
  readonly ptr: number;
  /** Output channels of a panel. */
  readonly rows: number;
  /** The K block it was packed for. */
  readonly kc: number;
  /** Output channels per group. */
  readonly m: number;
  /** Groups. */
  readonly groups: number;
  /** Whether every weight is finite (no Inf or NaN): the Winograd path needs it. */
  readonly finite: boolean;
}

/** A freshly allocated output: its tensor record, byte address and element count. */
export interface Output {
  /** The record to return from the kernel. */
  readonly info: TensorInfo;
  /** Byte address of its buffer. */
  readonly ptr: number;
  /** Elements. */
  readonly size: number;
}

/**
 * The state the kernels share: one per backend. Buffers are 4-byte elements in one
 * `WebAssembly.Memory`; a kernel allocates its output with {@link KernelContext.make},
 * writes its parameters with {@link KernelContext.params} and runs an export directly or,
 * split over threads, with {@link KernelContext.par}.
 */
export class KernelContext {
  /** Threads kernels run on (1 without a pool). */
  threads = 1;
  /** The live buffers. */
  readonly ids = new Set<WasmDataId>();
  /** Bytes held by the live buffers. */
  bytes = 0;
  /** Byte address of the per-thread scratch (0: none yet; see `kernels/gemm.ts`). */
  scratch = 0;
  /** The threads the scratch was sized for. */
  scratchThreads = 0;
  private viewBuffer: ArrayBufferLike | null = null;
  private f32View = new Float32Array(0);
  private i32View = new Int32Array(0);
  private u8View = new Uint8Array(0);

  constructor(
    /** The WebAssembly memory holding every buffer. */
    readonly memory: WebAssembly.Memory,
    /** The kernels of the main thread's instance. */
    readonly exports: Exports,
    /** The heap's allocator. */
    readonly allocator: Allocator,
    /** The worker pool (null without shared memory). */
    readonly pool: ThreadPool | null,
  ) {}

  // ---- memory views ----

  private refresh(): void {
    const buf = this.memory.buffer;
    if (buf !== this.viewBuffer || this.f32View.length * 4 !== buf.byteLength) {
      this.viewBuffer = buf;
      this.f32View = new Float32Array(buf);
      this.i32View = new Int32Array(buf);
      this.u8View = new Uint8Array(buf);
    }
  }

  /** The memory as float32 (valid until the next allocation). */
  f32(): Float32Array {
    this.refresh();
    return this.f32View;
  }

  /** The memory as int32 (valid until the next allocation). */
  i32(): Int32Array {
    this.refresh();
    return this.i32View;
  }

  /** The memory as bytes (valid until the next allocation). */
  u8(): Uint8Array {
    this.refresh();
    return this.u8View;
  }

  // ---- allocation ----

  /**
   * Allocates `bytes` (0 for none); `what` names the block in an out-of-memory error;
   * `longLived` places it low in the memory (see {@link Allocator.alloc}).
   */
  alloc(bytes: number, what: string, longLived = false): number {
    if (bytes === 0) return 0;
    return this.allocator.alloc(bytes, what, longLived);
  }

  /** Frees a block from {@link KernelContext.alloc} (0 is ignored). */
  free(ptr: number): void {
    if (ptr !== 0) this.allocator.release(ptr);
  }

  /** The live record of a data id; throws a `BackendError` naming `op` when there is none. */
  record(id: DataId, op: string): WasmDataId {
    if (!(id instanceof WasmDataId) || !this.ids.has(id))
      throw new BackendError(
        `${op}: the wasm backend holds no buffer for this data id (it was disposed, or belongs to another backend)`,
      );
    return id;
  }

  /** Byte address of a tensor's buffer, in its own layout. */
  ptr(t: TensorInfo, op: string): number {
    return this.original(this.record(t.dataId, op), op);
  }

  /**
   * Byte address of a buffer in its own layout: where only the packed form of convolution
   * weights is held, the original is unpacked into a new block and the packed form freed.
   */
  original(id: WasmDataId, op: string): number {
    const packed = id.packed;
    if (id.ptr !== 0 || packed === null) return id.ptr;
    const ptr = this.alloc(id.size * 4, `the weights [${id.size} elements] unpacked for ${op}`);
    const f32 = this.f32();
    unpackWeights(f32, packed, id.size, f32, ptr >>> 2);
    this.free(packed.ptr);
    id.packed = null;
    id.ptr = ptr;
    return ptr;
  }

  /** Frees a buffer's blocks: its own layout and its packed form. */
  release(id: WasmDataId): void {
    if (id.packed !== null) this.free(id.packed.ptr);
    id.packed = null;
    this.free(id.ptr);
    id.ptr = 0;
  }

  /** Allocates and registers the output buffer of `op`. */
  make(shape: Shape, dtype: DType, op: string): Output {
    const size = sizeFromShape(shape);
    const ptr = this.alloc(size * 4, `the ${dtype} output [${shape.join(', ')}] of ${op}`);
    const id = new WasmDataId(ptr, size, dtype);
    this.ids.add(id);
    this.bytes += size * 4;
    return { info: { dataId: id, shape, dtype }, ptr, size };
  }

  // ---- calls ----

  /** Writes an i32 parameter block at PARAMS and returns its address. */
  params(words: readonly number[]): number {
    const v = this.i32();
    v.set(words, PARAMS >> 2);
    return PARAMS;
  }

  /** Runs a parallel kernel over `nt` threads (1 when the work is small). */
  par(fn: Parallel, args: number[], work: number): void {
    const nt = this.pool !== null && work >= PARALLEL_WORK ? this.threads : 1;
    if (nt <= 1) {
      this.serial(fn, args);
      return;
    }
    const f = this.exports[fn];
    if (this.pool!.run(PARALLEL_KERNELS.indexOf(fn), args, nt, (share) => f(...args, share, nt)))
      this.countJob();
  }

  /** Runs a parallel kernel entirely on the calling thread (one job of thread 0). */
  serial(fn: Parallel, args: number[]): void {
    if (this.exports[fn](...args, 0, 1) > 0) this.countJob();
  }

  private countJob(): void {
    const v = this.i32();
    const slot = JOBS >> 2;
    if (this.pool === null) v[slot]++;
    else Atomics.add(v, slot, 1);
  }

  /**
   * Jobs run so far by each of the `threads` threads, by thread id: 0 is the calling thread,
   * i ≥ 1 pool worker i. A thread counts one job per parallel kernel call whose shares it ran
   * held any work (a call below the parallel threshold is one job of thread 0).
   */
  jobs(): number[] {
    const v = this.i32();
    const slot = JOBS >> 2;
    return Array.from({ length: this.threads }, (_, i) => v[slot + i]);
  }
}
