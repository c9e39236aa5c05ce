import type { Backend, BackendMemory } from './backend.js';
import type { DataId, DType, Shape, TypedArray } from './types.js';

/** The storage half of a {@link Backend}: where a tensor's values can live. @internal */
export type Storage = Pick<Backend, 'name' | 'write' | 'read' | 'readSync' | 'disposeData' | 'memory'>;

/**
 * Plain JavaScript memory that holds values no kernel is about to read: the original weights of
 * a convolution whose BatchNorm-folded copy is what the backend runs (see `Module.eval`). It
 * runs no kernels; a tensor parked here moves back to the active backend when an op uses it.
 * @internal
 */
export class HostStorage implements Storage {
  /** Shown as a parked tensor's `backendName`. */
  readonly name = 'host';
  private readonly buffers = new Map<DataId, TypedArray>();
  private bytes = 0;

  write(values: TypedArray, _shape: Shape, _dtype: DType): DataId {
    const id = {};
    this.buffers.set(id, values);
    this.bytes += values.byteLength;
    return id;
  }

  async read(dataId: DataId): Promise<TypedArray> {
    return this.readSync(dataId);
  }

  readSync(dataId: DataId): TypedArray {
    return this.get(dataId).slice();
  }

  disposeData(dataId: DataId): void {
    this.bytes -= this.get(dataId).byteLength;
    this.buffers.delete(dataId);
  }

  memory(): BackendMemory {
    return { buffers: this.buffers.size, bytes: this.bytes };
  }

  private get(dataId: DataId): TypedArray {
    const v = this.buffers.get(dataId);
    if (!v) throw new Error('host storage: unknown or freed buffer (an engine bug)');
    return v;
  }
}
