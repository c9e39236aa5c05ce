/**
 * The {@link GpujsBackend} class: storage on gpu.js textures (or arrays on its CPU modes) and
 * every kernel as a generated gpu.js kernel.
 *
 * @module
 */
import {
  type Activation,
  type Backend,
  BackendError,
  type BackendMemory,
  type BinaryActivation,
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
import type { ArgSpec, KernelSource } from './codegen.js';
import { lit } from './codegen.js';
import * as K from './kernels.js';
import { type Layout, layoutFor, physicalShape, physicalSize } from './layout.js';
import { AUTO_MODES, type DeviceData, type GpujsMode, Runtime } from './runtime.js';

/** Options of the gpujs backend. */
export interface GpujsBackendOptions {
  /**
   * The gpu.js mode to use. By default the best that works: `headlessgl` (Node with the `gl`
   * package), `webgl2` (browsers), `webasm`, then `cpu`.
   */
  readonly mode?: GpujsMode;
  /**
   * Caps the texture side a buffer may use (the device's maximum otherwise); buffers larger
   * than one row of it are laid out over several rows. Mainly for tests.
   */
  readonly maxTextureSize?: number;
}

/** The handle the gpujs backend gives out for one buffer. */
class GpujsDataId {
  /** A serial number, to tell handles apart when debugging. */
  readonly id: number;
  constructor(id: number) {
    this.id = id;
  }
}

interface Buffer {
  data: DeviceData;
  readonly layout: Layout;
  readonly dtype: DType;
  /** The exact values of an int32 buffer written from the host (int32 needs no rounding). */
  readonly shape: Shape;
}

/** Concat joins at most this many inputs per kernel (WebGL has 16 texture units). */
const MAX_CONCAT_INPUTS = 8;

/**
 * The gpu.js backend: every kernel of the `Backend` interface runs as a gpu.js kernel in single
 * precision. On the GL modes buffers are textures that stay on the GPU between ops (gpu.js
 * pipeline mode) and are read back only by `read`/`readSync`; kernels are compiled once per
 * op and shape. int32 tensors are stored exactly, as two float halves per value.
 */
export class GpujsBackend implements Backend {
  /** Always `gpujs`. */
  readonly name = 'gpujs';
  /** The gpu.js mode the kernels run in (`webgl2`, `headlessgl`, `webasm` or `cpu`). */
  readonly mode: GpujsMode;
  /** The texture side buffers are laid out against. */
  readonly maxTextureSize: number;
  private readonly rt: Runtime;
  private readonly buffers = new Map<DataId, Buffer>();
  private nextId = 0;
  private bytes = 0;

  /**
   * Starts gpu.js in the requested mode, or the best one that works. Throws a `BackendError`
   * listing why each mode failed when none does.
   */
  constructor(options: GpujsBackendOptions = {}) {
    const modes = options.mode ? [options.mode] : AUTO_MODES;
    const failures: string[] = [];
    let rt: Runtime | null = null;
    for (const m of modes) {
      try {
        rt = Runtime.start(m, options.maxTextureSize);
        break;
      } catch (e) {
        failures.push(`${m}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (rt === null) throw new BackendError(`gpujs: no gpu.js mode works here (${failures.join('; ')})`);
    this.rt = rt;
    this.mode = rt.mode;
    this.maxTextureSize = rt.maxTextureSize;
  }

  /** Textures this backend has deleted so far (GL modes; 0 on cpu and webasm). */
  get texturesDeleted(): number {
    return this.rt.texturesDeleted;
  }

  /** Kernels compiled so far (each op and shape once). */
  get compiledKernels(): number {
    return this.rt.kernelCount;
  }

  // ---- storage ----

  private buffer(id: DataId, op: string): Buffer {
    const b = this.buffers.get(id);
    if (b === undefined)
      throw new BackendError(
        `${op}: the gpujs backend holds no buffer for this data id (it was disposed, or belongs to another backend)`,
      );
    return b;
  }

  private add(data: DeviceData, layout: Layout, dtype: DType, shape: Shape): DataId {
    const id = new GpujsDataId(this.nextId++);
    this.buffers.set(id, { data, layout, dtype, shape });
    this.bytes += layout.size * 4;
    return id;
  }

  private layout(shape: Shape, dtype: DType, op: string): Layout {
    const inner = dtype === 'int32' ? 2 : shape.length === 0 ? 1 : shape[shape.length - 1];
    return layoutFor(physicalSize(shape, dtype), this.maxTextureSize, op, inner);
  }

  /** Uploads `values` into a new buffer. */
  write(values: TypedArray, shape: Shape, dtype: DType): DataId {
    const layout = this.layout(shape, dtype, 'write');
    let host: Float32Array;
    if (dtype === 'int32') {
      host = new Float32Array(values.length * 2);
      for (let i = 0; i < values.length; i++) {
        const v = values[i] | 0;
        host[2 * i] = v >> 16;
        host[2 * i + 1] = v & 0xffff;
      }
    } else host = values instanceof Float32Array ? values : Float32Array.from(values);
    return this.add(this.rt.upload(host, layout), layout, dtype, shape);
  }

  /** Reads a buffer back (asynchronously by contract; the readback itself is synchronous). */
  async read(dataId: DataId): Promise<TypedArray> {
    return this.readSync(dataId);
  }

  /**
   * Reads a buffer back into a fresh array. An empty tensor (a dimension of length 0) reads back
   * as an empty array: its texture holds only a placeholder value.
   */
  readSync(dataId: DataId): TypedArray {
    const b = this.buffer(dataId, 'readSync');
    if (physicalSize(b.shape, b.dtype) === 0)
      return b.dtype === 'int32' ? new Int32Array(0) : new Float32Array(0);
    const v = this.rt.download(b.data, b.layout);
    if (b.dtype === 'float32') return v;
    const out = new Int32Array(v.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = (v[2 * i] * 65536 + v[2 * i + 1]) | 0;
    return out;
  }

  /** Deletes a buffer's texture; a second call is harmless. */
  disposeData(dataId: DataId): void {
    const b = this.buffers.get(dataId);
    if (b === undefined) return;
    this.rt.free(b.data);
    this.bytes -= b.layout.size * 4;
    this.buffers.delete(dataId);
  }

  /** Live buffers and the bytes they hold. */
  memory(): BackendMemory {
    return { buffers: this.buffers.size, bytes: this.bytes };
  }

  /** Deletes every texture and compiled kernel. */
  dispose(): void {
    for (const b of this.buffers.values()) this.rt.free(b.data);
    this.buffers.clear();
    this.bytes = 0;
    this.rt.destroy();
  }

  // ---- helpers ----

  private spec(t: TensorInfo, op: string): ArgSpec {
    const b = this.buffer(t.dataId, op);
    return { shape: physicalShape(t.shape, t.dtype), layout: b.layout };
  }

  private outSpec(shape: Shape, dtype: DType, op: string): ArgSpec {
    return { shape: physicalShape(shape, dtype), layout: this.layout(shape, dtype, op) };
  }

  private exec(
    src: KernelSource,
    inputs: readonly TensorInfo[],
    shape: Shape,
    dtype: DType,
    op: string,
  ): TensorInfo {
    const data = inputs.map((t) => this.buffer(t.dataId, op).data);
    const out = this.rt.run(src, data);
    return { dataId: this.add(out, src.out.layout, dtype, shape), shape, dtype };
  }

  // ---- kernels ----

  /** Direct convolution with fused bias and activation. */
  conv2d(
    x: TensorInfo,
    weight: TensorInfo,
    bias: TensorInfo | null,
    info: Conv2dInfo,
    activation: Activation,
  ): TensorInfo {
    const op = 'conv2d';
    const shape = [info.batch, info.outChannels, info.outHeight, info.outWidth];
    const out = this.outSpec(shape, 'float32', op);
    const src = K.conv2d(
      this.spec(x, op),
      this.spec(weight, op),
      bias ? this.spec(bias, op) : null,
      out,
      info,
      activation,
    );
    return this.exec(src, bias ? [x, weight, bias] : [x, weight], shape, 'float32', op);
  }

  /** Batched matrix product with fused bias and activation. */
  matmul(
    a: TensorInfo,
    b: TensorInfo,
    bias: TensorInfo | null,
    info: MatMulInfo,
    activation: Activation,
  ): TensorInfo {
    const op = 'matmul';
    const out = this.outSpec(info.outShape, 'float32', op);
    const src = K.matmul(
      this.spec(a, op),
      this.spec(b, op),
      bias ? this.spec(bias, op) : null,
      out,
      info,
      activation,
    );
    return this.exec(src, bias ? [a, b, bias] : [a, b], info.outShape, 'float32', op);
  }

  /** Elementwise function of one tensor. */
  unary(op: UnaryOp, x: TensorInfo): TensorInfo {
    const src = K.unary(op, this.spec(x, op), x.dtype === 'int32');
    return this.exec(src, [x], x.shape, x.dtype, op);
  }

  /**
   * Elementwise function of two tensors, broadcast to `outShape`, then `activation` (float32;
   * here a second kernel, the `relu` one, on the result).
   */
  binary(
    op: BinaryOp,
    a: TensorInfo,
    b: TensorInfo,
    outShape: Shape,
    activation: BinaryActivation = 'linear',
  ): TensorInfo {
    if (activation !== 'linear') {
      if (a.dtype !== 'float32')
        throw new BackendError(
          `gpujs backend: '${op}' with an activation takes float32 tensors, got ${a.dtype}`,
        );
      const sum = this.binary(op, a, b, outShape);
      try {
        return this.unary(activation, sum);
      } finally {
        this.disposeData(sum.dataId);
      }
    }
    const out = this.outSpec(outShape, a.dtype, op);
    const src = K.binary(
      op,
      a.shape,
      this.spec(a, op),
      b.shape,
      this.spec(b, op),
      outShape,
      out,
      a.dtype === 'int32',
    );
    return this.exec(src, [a, b], outShape, a.dtype, op);
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
    const params = [mean, variance, ...(scale ? [scale] : []), ...(offset ? [offset] : [])];
    const src = K.batchNorm(
      this.spec(x, op),
      params.map((p) => this.spec(p, op)),
      scale !== null,
      offset !== null,
      eps,
    );
    return this.exec(src, [x, ...params], x.shape, 'float32', op);
  }

  /** Max or average pooling. */
  pool2d(x: TensorInfo, type: 'max' | 'avg', info: Pool2dInfo): TensorInfo {
    const op = `${type}Pool2d`;
    const shape = [info.batch, info.channels, info.outHeight, info.outWidth];
    const src = K.pool2d(this.spec(x, op), this.outSpec(shape, 'float32', op), type, info);
    return this.exec(src, [x], shape, 'float32', op);
  }

  /** Adaptive average pooling. */
  adaptiveAvgPool2d(x: TensorInfo, info: ResizeInfo): TensorInfo {
    const op = 'adaptiveAvgPool2d';
    const shape = [info.batch, info.channels, info.outHeight, info.outWidth];
    const src = K.adaptiveAvgPool2d(this.spec(x, op), this.outSpec(shape, 'float32', op), info);
    return this.exec(src, [x], shape, 'float32', op);
  }

  /** Bilinear resize. */
  resizeBilinear(x: TensorInfo, info: ResizeInfo, alignCorners: boolean): TensorInfo {
    const op = 'resizeBilinear';
    const shape = [info.batch, info.channels, info.outHeight, info.outWidth];
    const src = K.resizeBilinear(this.spec(x, op), this.outSpec(shape, 'float32', op), info, alignCorners);
    return this.exec(src, [x], shape, 'float32', op);
  }

  /** Nearest resize. */
  resizeNearest(x: TensorInfo, info: ResizeInfo): TensorInfo {
    const op = 'resizeNearest';
    const shape = [info.batch, info.channels, info.outHeight, info.outWidth];
    const src = K.resizeNearest(this.spec(x, op), this.outSpec(shape, 'float32', op), info);
    return this.exec(src, [x], shape, 'float32', op);
  }

  /** Sum, mean or max over axes. */
  reduce(op: ReduceOp, x: TensorInfo, axes: readonly number[]): TensorInfo {
    const shape = x.shape.filter((_, i) => !axes.includes(i));
    const dtype: DType = op === 'mean' ? 'float32' : x.dtype;
    const out = this.outSpec(shape, dtype, op);
    const src = K.reduce(op, x.shape, this.spec(x, op), axes, out, x.dtype === 'int32', dtype === 'int32');
    return this.exec(src, [x], shape, dtype, op);
  }

  /** Softmax along `axis`. */
  softmax(x: TensorInfo, axis: number): TensorInfo {
    const op = 'softmax';
    const src = K.softmax(x.shape, this.spec(x, op), axis);
    return this.exec(src, [x], x.shape, 'float32', op);
  }

  /** Index of the first maximum along `axis`. */
  argmax(x: TensorInfo, axis: number): TensorInfo {
    const op = 'argmax';
    const shape = x.shape.filter((_, i) => i !== axis);
    const out = this.outSpec(shape, 'int32', op);
    const src = K.argmax(x.shape, this.spec(x, op), axis, out, x.dtype === 'int32');
    return this.exec(src, [x], shape, 'int32', op);
  }

  /** Joins tensors along `axis` (in groups of at most eight inputs per kernel). */
  concat(xs: readonly TensorInfo[], axis: number, outShape: Shape): TensorInfo {
    const op = 'concat';
    if (xs.length > MAX_CONCAT_INPUTS) {
      const parts: TensorInfo[] = [];
      for (let i = 0; i < xs.length; i += MAX_CONCAT_INPUTS) {
        const group = xs.slice(i, i + MAX_CONCAT_INPUTS);
        const shape = [...outShape];
        shape[axis] = group.reduce((s, t) => s + t.shape[axis], 0);
        parts.push(group.length === 1 ? group[0] : this.concat(group, axis, shape));
      }
      const result = this.concat(parts, axis, outShape);
      for (const p of parts) if (!xs.includes(p)) this.disposeData(p.dataId);
      return result;
    }
    const dtype = xs[0].dtype;
    const src = K.concat(
      xs.map((x) => this.spec(x, op)),
      axis,
      this.outSpec(outShape, dtype, op),
    );
    return this.exec(src, xs, outShape, dtype, op);
  }

  /** A block of `x`. */
  slice(x: TensorInfo, begin: readonly number[], size: readonly number[]): TensorInfo {
    const op = 'slice';
    const shape = [...size];
    const b = x.shape.length === 0 ? [0] : [...begin];
    if (x.dtype === 'int32') b.push(0);
    const src = K.slice(this.spec(x, op), b, this.outSpec(shape, x.dtype, op));
    return this.exec(src, [x], shape, x.dtype, op);
  }

  /** Permutes dimensions. */
  transpose(x: TensorInfo, perm: readonly number[]): TensorInfo {
    const op = 'transpose';
    const shape = perm.map((p) => x.shape[p]);
    const p = x.shape.length === 0 ? [0] : [...perm];
    if (x.dtype === 'int32') p.push(p.length);
    const src = K.transpose(this.spec(x, op), p, this.outSpec(shape, x.dtype, op));
    return this.exec(src, [x], shape, x.dtype, op);
  }

  /**
   * Reverses `x` along `axes` (the int32 limb dimension is never among them); no axes, only
   * axes of length 1, or an empty tensor, is a plain copy.
   */
  flip(x: TensorInfo, axes: readonly number[]): TensorInfo {
    const op = 'flip';
    const moving = axes.filter((a) => x.shape[a] > 1);
    const src =
      moving.length === 0 || physicalSize(x.shape, x.dtype) === 0
        ? K.copy(this.spec(x, op))
        : K.flip(this.spec(x, op), moving, this.outSpec(x.shape, x.dtype, op));
    return this.exec(src, [x], x.shape, x.dtype, op);
  }

  /** Constant padding. */
  pad(x: TensorInfo, paddings: readonly (readonly [number, number])[], value: number): TensorInfo {
    const op = 'pad';
    const shape = x.shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
    const p: [number, number][] = x.shape.length === 0 ? [[0, 0]] : paddings.map(([a, b]) => [a, b]);
    let fill: (c: readonly string[]) => string;
    if (x.dtype === 'int32') {
      p.push([0, 0]);
      const v = value | 0;
      const hi = lit(v >> 16);
      const lo = lit(v & 0xffff);
      fill = (c) => `(${c[c.length - 1]} < 0.5 ? ${hi} : ${lo})`;
    } else fill = () => lit(value);
    const src = K.pad(this.spec(x, op), p, this.outSpec(shape, x.dtype, op), fill);
    return this.exec(src, [x], x.shape.length === 0 ? [] : shape, x.dtype, op);
  }

  /** Converts to `dtype`. */
  cast(x: TensorInfo, dtype: DType): TensorInfo {
    const op = 'cast';
    const src =
      x.dtype === dtype
        ? K.copy(this.spec(x, op))
        : K.cast(this.spec(x, op), this.outSpec(x.shape, dtype, op), dtype === 'int32');
    return this.exec(src, [x], x.shape, dtype, op);
  }
}
