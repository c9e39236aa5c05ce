/**
 * Buffer storage of the js backend: a map from opaque data ids to typed arrays.
 *
 * @module
 */
import { BackendError, type DataId, type DType, type TypedArray } from '@kernelzoo/core';

/** The handle the js backend gives out for one buffer. */
class JsDataId {
  /** A serial number, to tell handles apart when debugging. */
  readonly id: number;
  constructor(id: number) {
    this.id = id;
  }
}

/**
 * Owns every buffer of one backend instance. A kernel creates exactly one buffer (its output)
 * through {@link Storage.write}; temporaries never go through here.
 */
export class Storage {
  private readonly buffers = new Map<DataId, TypedArray>();
  private bytes = 0;
  private nextId = 0;

  /** Stores `values` (kept, not copied) and returns a fresh handle to them. */
  write(values: TypedArray, dtype: DType): DataId {
    let stored = values;
    if (dtype === 'int32' && !(values instanceof Int32Array)) stored = Int32Array.from(values);
    else if (dtype === 'float32' && !(values instanceof Float32Array)) stored = Float32Array.from(values);
    const id = new JsDataId(this.nextId++);
    this.buffers.set(id, stored);
    this.bytes += stored.length * 4;
    return id;
  }

  /** The live array behind `id` (not a copy); throws if `id` was disposed or is foreign. */
  get(id: DataId, op: string): TypedArray {
    const a = this.buffers.get(id);
    if (a === undefined)
      throw new BackendError(
        `${op}: the js backend holds no buffer for this data id (it was disposed, or belongs to another backend)`,
      );
    return a;
  }

  /** The float32 array behind `id`. */
  f32(id: DataId, op: string): Float32Array {
    return this.get(id, op) as Float32Array;
  }

  /** A copy of the values behind `id`. */
  copy(id: DataId, op: string): TypedArray {
    return this.get(id, op).slice();
  }

  /** Frees the buffer behind `id`; freeing twice is harmless. */
  delete(id: DataId): void {
    const a = this.buffers.get(id);
    if (a === undefined) return;
    this.bytes -= a.length * 4;
    this.buffers.delete(id);
  }

  /** Live buffers and the bytes they hold. */
  stats(): { buffers: number; bytes: number } {
    return { buffers: this.buffers.size, bytes: this.bytes };
  }

  /** Frees everything. */
  clear(): void {
    this.buffers.clear();
    this.bytes = 0;
  }
}
