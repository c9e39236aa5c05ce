import { DisposedError, KernelzooError } from './errors.js';
import type { Storage } from './host-storage.js';
import type { DataId, DType, Shape, TypedArray } from './types.js';
import { formatShape, sizeFromShape } from './util/shape.js';

/**
 * Where a tensor's values live: one backend buffer, shared by the tensors that view it
 * (reshape shares data). Counted by the engine; freed when the last tensor goes.
 * @internal
 */
export interface DataRecord {
  /**
   * The backend that owns the buffer (changes if the data moves to another backend, or to the
   * engine's host storage when parked).
   */
  backend: Storage;
  /** The backend's handle. */
  dataId: DataId;
  /** Tensors viewing this buffer. */
  refCount: number;
  /** Bytes of the buffer. */
  bytes: number;
}

/** What a tensor asks of the engine. @internal */
export interface TensorOwner {
  disposeTensor(t: Tensor): void;
}

let nextTensorId = 0;
let owner: TensorOwner | null = null;

/** @internal */
export function setTensorOwner(o: TensorOwner): void {
  owner = o;
}

/**
 * An immutable n-dimensional array owned by a backend. Made by ops; read with
 * {@link Tensor.data} or {@link Tensor.dataSync}; freed with {@link Tensor.dispose} or by the
 * enclosing `tidy`.
 */
export class Tensor {
  /** A process-unique id, for debugging. */
  readonly id: number;
  /** The shape, outermost first. */
  readonly shape: Shape;
  /** The element type. */
  readonly dtype: DType;
  /** The number of elements. */
  readonly size: number;
  /**
   * The data record, or `null` for a shape-only tensor made while tracing (see `summary`).
   * @internal
   */
  record: DataRecord | null;
  private disposed = false;

  /** @internal Tensors are made by ops and the engine, never directly. */
  constructor(
    shape: Shape,
    dtype: DType,
    record: DataRecord | null,
    /** @internal A parameter placeholder of a module built without initial values. */
    readonly placeholder = false,
  ) {
    this.id = nextTensorId++;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = sizeFromShape(shape);
    this.record = record;
  }

  /** The number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** Whether {@link Tensor.dispose} has run. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /**
   * The name of the backend that holds the data (`meta` for a shape-only tensor, `host` for
   * original weights parked in JavaScript memory while a folded copy runs; see `Module.eval`).
   */
  get backendName(): string {
    return this.record?.backend.name ?? 'meta';
  }

  /** Reads the values (a fresh copy, row-major). */
  async data(): Promise<TypedArray> {
    const r = this.liveRecord('data');
    return r.backend.read(r.dataId);
  }

  /** Reads the values synchronously (a fresh copy, row-major). */
  dataSync(): TypedArray {
    const r = this.liveRecord('dataSync');
    return r.backend.readSync(r.dataId);
  }

  /** Reads the values as a plain number array. */
  async array(): Promise<number[]> {
    return Array.from(await this.data());
  }

  /** Frees the tensor; its buffer is freed when no other tensor views it. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    owner?.disposeTensor(this);
    this.disposed = true;
  }

  /** e.g. `Tensor float32 [1, 3, 224, 224] (js)`. */
  toString(): string {
    return `Tensor ${this.dtype} ${formatShape(this.shape)} (${this.backendName})`;
  }

  /** @internal The record, checking the tensor is alive and has data. */
  liveRecord(op: string): DataRecord {
    if (this.disposed)
      throw new DisposedError(
        `${op}: tensor ${this.id} ${formatShape(this.shape)} was already disposed; keep() it or use it inside the tidy that made it`,
      );
    if (this.record === null)
      throw new KernelzooError(
        this.placeholder
          ? `${op}: tensor ${this.id} ${formatShape(this.shape)} holds no values: it belongs to a module built without initial values (nn.withoutInit) and no weights were loaded for it`
          : `${op}: tensor ${this.id} ${formatShape(this.shape)} is shape-only (made while tracing shapes) and has no data`,
      );
    return this.record;
  }

  /** @internal Marks disposed without touching the engine (used by the engine). */
  markDisposed(): void {
    this.disposed = true;
  }
}
