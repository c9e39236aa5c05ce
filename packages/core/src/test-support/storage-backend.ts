import type { Backend } from '../backend.js';
import type { DataId, DType, Shape, TensorInfo, TypedArray } from '../types.js';

/**
 * A storage-only backend for the engine's own tests: it keeps buffers in a Map and implements
 * exactly one kernel (`binary`, adding same-shape tensors). Kernels are the backends' business
 * and are tested by the conformance suite. `writes` receives the shape of every write.
 */
export function storageBackend(name: string, leaky = false, writes: Shape[] = []): Backend {
  const bufs = new Map<DataId, TypedArray>();
  const b = {
    name,
    write(values: TypedArray, shape: Shape = [values.length]) {
      writes.push([...shape]);
      const id = {};
      bufs.set(id, values);
      return id;
    },
    async read(id: DataId) {
      return bufs.get(id)!.slice();
    },
    readSync(id: DataId) {
      return bufs.get(id)!.slice();
    },
    disposeData(id: DataId) {
      bufs.delete(id);
    },
    memory() {
      let bytes = 0;
      for (const v of bufs.values()) bytes += v.byteLength;
      return { buffers: bufs.size, bytes };
    },
    dispose() {
      bufs.clear();
    },
    binary(_op: string, a: TensorInfo, c: TensorInfo, outShape: Shape, activation = 'linear'): TensorInfo {
      const x = bufs.get(a.dataId)!;
      const y = bufs.get(c.dataId)!;
      const out = new Float32Array(x.length);
      for (let i = 0; i < out.length; i++) out[i] = x[i] + y[i % y.length];
      if (activation === 'relu') for (let i = 0; i < out.length; i++) out[i] = Math.max(out[i], 0);
      if (leaky) b.write(new Float32Array(1));
      return { dataId: b.write(out), shape: outShape, dtype: 'float32' as DType };
    },
  };
  return b as unknown as Backend;
}
