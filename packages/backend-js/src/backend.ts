/**
 * The {@link JsBackend} class: storage plus every kernel, in plain TypeScript.
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
import { BackendError } from '@kernelzoo/core';
import { gemm, StridedMatrix } from './gemm.js';
import { biasActivationPerColumn, biasActivationPerRow } from './kernels/activation.js';
import { conv2d } from './kernels/conv2d.js';
import * as elementwise from './kernels/elementwise.js';
import * as pooling from './kernels/pooling.js';
import * as reduction from './kernels/reduce.js';
import * as resize from './kernels/resize.js';
import * as transform from './kernels/transform.js';
import { Storage } from './storage.js';

/**
 * The reference CPU backend: Float32Array/Int32Array buffers in a map, kernels in plain
 * TypeScript (im2col + cache-blocked GEMM for convolution and matmul). Synchronous, so
 * `dataSync()` works. Register it with {@link registerJsBackend}.
 */
export class JsBackend implements Backend {
  /** Always `js`. */
  readonly name = 'js';
  private readonly storage = new Storage();

  private out(values: TypedArray, shape: Shape, dtype: DType): TensorInfo {
    return { dataId: this.storage.write(values, dtype), shape, dtype };
  }

  private data(t: TensorInfo, op: string): TypedArray {
    return this.storage.get(t.dataId, op);
  }

  private f32(t: TensorInfo, op: string): Float32Array {
    return this.storage.f32(t.dataId, op);
  }

  // ---- storage ----

  /** Keeps `values` as the buffer of a new handle. */
  write(values: TypedArray, _shape: Shape, dtype: DType): DataId {
    return this.storage.write(values, dtype);
  }

  /** A copy of the buffer's values. */
  async read(dataId: DataId): Promise<TypedArray> {
    return this.storage.copy(dataId, 'read');
  }

  /** A copy of the buffer's values, synchronously. */
  readSync(dataId: DataId): TypedArray {
    return this.storage.copy(dataId, 'readSync');
  }

  /** Frees a buffer (a second call is harmless). */
  disposeData(dataId: DataId): void {
    this.storage.delete(dataId);
  }

  /** Live buffers and the bytes they hold. */
  memory(): BackendMemory {
    return this.storage.stats();
  }

  /** Frees every buffer. */
  dispose(): void {
    this.storage.clear();
  }

  // ---- kernels ----

  /** 2-D convolution with fused bias and activation (im2col + GEMM, 1×1 and depthwise fast paths). */
  conv2d(
    x: TensorInfo,
    weight: TensorInfo,
    bias: TensorInfo | null,
    info: Conv2dInfo,
    activation: Activation,
  ): TensorInfo {
    const op = 'conv2d';
    const y = conv2d(
      this.f32(x, op),
      this.f32(weight, op),
      bias === null ? null : this.f32(bias, op),
      info,
      activation,
    );
    return this.out(y, [info.batch, info.outChannels, info.outHeight, info.outWidth], 'float32');
  }

  /** Batched matrix product with transposes, broadcast batch, fused bias and activation. */
  matmul(
    a: TensorInfo,
    b: TensorInfo,
    bias: TensorInfo | null,
    info: MatMulInfo,
    activation: Activation,
  ): TensorInfo {
    const op = 'matmul';
    const av = this.f32(a, op);
    const bv = this.f32(b, op);
    const { batch, m, n, k, transposeA, transposeB } = info;
    const out = new Float32Array(batch * m * n);
    const aRs = transposeA ? 1 : k;
    const aCs = transposeA ? m : 1;
    const bRs = transposeB ? 1 : n;
    const bCs = transposeB ? k : 1;
    for (let i = 0; i < batch; i++) {
      const aOff = info.aBatch === 1 ? 0 : i * m * k;
      const bOff = info.bBatch === 1 ? 0 : i * k * n;
      gemm(m, n, k, av, aOff, aRs, aCs, new StridedMatrix(bv, bOff, bRs, bCs), out, i * m * n, n);
    }
    biasActivationPerColumn(out, batch * m, n, bias === null ? null : this.f32(bias, op), activation);
    return this.out(out, info.outShape, 'float32');
  }

  /** Elementwise function of one tensor. */
  unary(op: UnaryOp, x: TensorInfo): TensorInfo {
    return this.out(elementwise.unary(op, this.data(x, op)), x.shape, x.dtype);
  }

  /** Elementwise function of two tensors, broadcast to `outShape`, then `activation` (float32). */
  binary(
    op: BinaryOp,
    a: TensorInfo,
    b: TensorInfo,
    outShape: Shape,
    activation: BinaryActivation = 'linear',
  ): TensorInfo {
    const y = elementwise.binary(op, this.data(a, op), a.shape, this.data(b, op), b.shape, outShape, a.dtype);
    if (activation !== 'linear') {
      if (!(y instanceof Float32Array))
        throw new BackendError(
          `js backend: '${op}' with an activation takes float32 tensors, got ${a.dtype}`,
        );
      biasActivationPerRow(y, 1, 1, y.length, null, activation);
    }
    return this.out(y, outShape, a.dtype);
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
    const y = elementwise.batchNorm(
      this.f32(x, op),
      x.shape,
      this.f32(mean, op),
      this.f32(variance, op),
      scale === null ? null : this.f32(scale, op),
      offset === null ? null : this.f32(offset, op),
      eps,
    );
    return this.out(y, x.shape, 'float32');
  }

  /** Max or average pooling. */
  pool2d(x: TensorInfo, type: 'max' | 'avg', info: Pool2dInfo): TensorInfo {
    const y = pooling.pool2d(this.f32(x, `${type}Pool2d`), type, info);
    return this.out(y, [info.batch, info.channels, info.outHeight, info.outWidth], 'float32');
  }

  /** Adaptive average pooling. */
  adaptiveAvgPool2d(x: TensorInfo, info: ResizeInfo): TensorInfo {
    const y = pooling.adaptiveAvgPool2d(this.f32(x, 'adaptiveAvgPool2d'), info);
    return this.out(y, [info.batch, info.channels, info.outHeight, info.outWidth], 'float32');
  }

  /** Bilinear resize. */
  resizeBilinear(x: TensorInfo, info: ResizeInfo, alignCorners: boolean): TensorInfo {
    const y = resize.resizeBilinear(this.f32(x, 'resizeBilinear'), info, alignCorners);
    return this.out(y, [info.batch, info.channels, info.outHeight, info.outWidth], 'float32');
  }

  /** Nearest resize. */
  resizeNearest(x: TensorInfo, info: ResizeInfo): TensorInfo {
    const y = resize.resizeNearest(this.f32(x, 'resizeNearest'), info);
    return this.out(y, [info.batch, info.channels, info.outHeight, info.outWidth], 'float32');
  }

  /** Sum, mean or max over axes. */
  reduce(op: ReduceOp, x: TensorInfo, axes: readonly number[]): TensorInfo {
    const y = reduction.reduce(op, this.data(x, op), x.shape, axes);
    const outShape = x.shape.filter((_, i) => !axes.includes(i));
    return this.out(y, outShape, op === 'mean' ? 'float32' : x.dtype);
  }

  /** Softmax along `axis`. */
  softmax(x: TensorInfo, axis: number): TensorInfo {
    return this.out(reduction.softmax(this.f32(x, 'softmax'), x.shape, axis), x.shape, 'float32');
  }

  /** Index of the maximum along `axis`. */
  argmax(x: TensorInfo, axis: number): TensorInfo {
    const y = reduction.argmax(this.data(x, 'argmax'), x.shape, axis);
    return this.out(
      y,
      x.shape.filter((_, i) => i !== axis),
      'int32',
    );
  }

  /** Joins tensors along `axis`. */
  concat(xs: readonly TensorInfo[], axis: number, outShape: Shape): TensorInfo {
    const dtype = xs[0].dtype;
    const y = transform.concat(
      xs.map((x) => this.data(x, 'concat')),
      xs.map((x) => x.shape),
      axis,
      outShape,
      dtype,
    );
    return this.out(y, outShape, dtype);
  }

  /** A block of `x`. */
  slice(x: TensorInfo, begin: readonly number[], size: readonly number[]): TensorInfo {
    return this.out(
      transform.slice(this.data(x, 'slice'), x.shape, begin, size, x.dtype),
      [...size],
      x.dtype,
    );
  }

  /** Permutes dimensions. */
  transpose(x: TensorInfo, perm: readonly number[]): TensorInfo {
    const y = transform.transpose(this.data(x, 'transpose'), x.shape, perm, x.dtype);
    return this.out(
      y,
      perm.map((p) => x.shape[p]),
      x.dtype,
    );
  }

  /** Reverses `x` along `axes`. */
  flip(x: TensorInfo, axes: readonly number[]): TensorInfo {
    return this.out(transform.flip(this.data(x, 'flip'), x.shape, axes, x.dtype), x.shape, x.dtype);
  }

  /** Constant padding. */
  pad(x: TensorInfo, paddings: readonly (readonly [number, number])[], value: number): TensorInfo {
    const y = transform.pad(this.data(x, 'pad'), x.shape, paddings, value, x.dtype);
    return this.out(
      y,
      x.shape.map((d, i) => d + paddings[i][0] + paddings[i][1]),
      x.dtype,
    );
  }

  /** Converts to `dtype`. */
  cast(x: TensorInfo, dtype: DType): TensorInfo {
    return this.out(elementwise.cast(this.data(x, 'cast'), dtype), x.shape, dtype);
  }
}
