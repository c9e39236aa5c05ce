/**
 * The `Backend` interface: storage calls plus every kernel the three networks need. A backend
 * package `implements Backend`, so the compiler lists whatever it lacks. Kernels receive plain
 * {@link TensorInfo} records and precomputed `*Info` objects (shapes, strides, paddings) that
 * core's ops derive once, so no backend repeats shape logic.
 *
 * Layout is NCHW for images and OIHW for convolution weights at this boundary.
 *
 * @module
 */
import type { DataId, DType, Shape, TensorInfo, TypedArray } from './types.js';

/** An activation a kernel may apply in its epilogue. */
export type Activation = 'linear' | 'relu' | 'sigmoid';

/** The activations `binary` may apply to its results (a residual block's `relu(a + b)`). */
export type BinaryActivation = Extract<Activation, 'linear' | 'relu'>;

/** Every elementwise function of one argument, the one list of their names. */
export const UNARY_OPS = [
  'neg',
  'abs',
  'exp',
  'log',
  'sqrt',
  'rsqrt',
  'square',
  'reciprocal',
  'relu',
  'sigmoid',
  'tanh',
] as const;

/** Elementwise functions of one argument. */
export type UnaryOp = (typeof UNARY_OPS)[number];

/** Every elementwise function of two arguments, the one list of their names. */
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow'] as const;

/** Elementwise functions of two arguments (NumPy/PyTorch broadcasting). */
export type BinaryOp = (typeof BINARY_OPS)[number];

/** Reductions over axes. */
export type ReduceOp = 'sum' | 'mean' | 'max';

/**
 * Everything a conv2d kernel needs, derived by core from the shapes and options. Input is
 * `[batch, inChannels, inHeight, inWidth]`, weight `[outChannels, inChannels / groups,
 * kernelHeight, kernelWidth]`, output `[batch, outChannels, outHeight, outWidth]`.
 * Output pixel `(oy, ox)` reads input rows `oy * strideHeight - padTop + ky * dilationHeight`
 * (zero outside the input), likewise for columns.
 */
export interface Conv2dInfo {
  /** Batch size N. */
  readonly batch: number;
  /** Input channels C_in. */
  readonly inChannels: number;
  /** Input height. */
  readonly inHeight: number;
  /** Input width. */
  readonly inWidth: number;
  /** Output channels C_out. */
  readonly outChannels: number;
  /** Output height. */
  readonly outHeight: number;
  /** Output width. */
  readonly outWidth: number;
  /** Kernel height. */
  readonly kernelHeight: number;
  /** Kernel width. */
  readonly kernelWidth: number;
  /** Vertical stride. */
  readonly strideHeight: number;
  /** Horizontal stride. */
  readonly strideWidth: number;
  /** Vertical dilation. */
  readonly dilationHeight: number;
  /** Horizontal dilation. */
  readonly dilationWidth: number;
  /** Zero rows added above. */
  readonly padTop: number;
  /** Zero rows added below. */
  readonly padBottom: number;
  /** Zero columns added on the left. */
  readonly padLeft: number;
  /** Zero columns added on the right. */
  readonly padRight: number;
  /** Channel groups G; C_in and C_out are both divisible by G. */
  readonly groups: number;
}

/**
 * A (batched) matrix product `out[b] = op(a[b]) · op(b[b])` where `op` transposes when asked.
 * `a` is `[aBatch, m, k]` (or `[aBatch, k, m]` when `transposeA`), `b` is `[bBatch, k, n]`
 * (or `[bBatch, n, k]` when `transposeB`); a batch of 1 broadcasts. Output `[batch, m, n]`.
 * Inputs of rank 2 have a batch of 1.
 */
export interface MatMulInfo {
  /** Output batch: max(aBatch, bBatch). */
  readonly batch: number;
  /** Batch of `a` (1 or `batch`). */
  readonly aBatch: number;
  /** Batch of `b` (1 or `batch`). */
  readonly bBatch: number;
  /** Rows of the output. */
  readonly m: number;
  /** Columns of the output. */
  readonly n: number;
  /** The shared dimension. */
  readonly k: number;
  /** Whether `a` is stored as `[k, m]`. */
  readonly transposeA: boolean;
  /** Whether `b` is stored as `[n, k]` (PyTorch Linear weights are). */
  readonly transposeB: boolean;
  /** The output shape (rank of the inputs; rank 2 when both were rank 2). */
  readonly outShape: Shape;
}

/**
 * A 2-D pooling window over NCHW input, PyTorch semantics. Windows start at
 * `oy * strideHeight - padTop` and cover `kernelHeight` rows (spaced by `dilationHeight`
 * for max pooling). Padding is -∞ for max. For average, with `countIncludePad` the divisor is
 * the window size clipped to the padded input (`inHeight + padTop + padBottom`), otherwise the
 * number of real input elements in the window.
 */
export interface Pool2dInfo {
  /** Batch size. */
  readonly batch: number;
  /** Channels. */
  readonly channels: number;
  /** Input height. */
  readonly inHeight: number;
  /** Input width. */
  readonly inWidth: number;
  /** Output height. */
  readonly outHeight: number;
  /** Output width. */
  readonly outWidth: number;
  /** Window height. */
  readonly kernelHeight: number;
  /** Window width. */
  readonly kernelWidth: number;
  /** Vertical stride. */
  readonly strideHeight: number;
  /** Horizontal stride. */
  readonly strideWidth: number;
  /** Vertical dilation (max pooling only; 1 for average). */
  readonly dilationHeight: number;
  /** Horizontal dilation (max pooling only; 1 for average). */
  readonly dilationWidth: number;
  /** Implicit padding above. */
  readonly padTop: number;
  /** Implicit padding below; under ceil mode a last window may reach past it and is clipped. */
  readonly padBottom: number;
  /** Implicit padding on the left. */
  readonly padLeft: number;
  /** Implicit padding on the right; under ceil mode a last window may reach past it and is clipped. */
  readonly padRight: number;
  /** Average pooling: whether padded positions count in the divisor. */
  readonly countIncludePad: boolean;
}

/**
 * Spatial resize of NCHW input to `[batch, channels, outHeight, outWidth]`.
 */
export interface ResizeInfo {
  /** Batch size. */
  readonly batch: number;
  /** Channels. */
  readonly channels: number;
  /** Input height. */
  readonly inHeight: number;
  /** Input width. */
  readonly inWidth: number;
  /** Output height. */
  readonly outHeight: number;
  /** Output width. */
  readonly outWidth: number;
}

/** What a backend reports about the memory it holds. */
export interface BackendMemory {
  /** Live buffers (one per data id). */
  readonly buffers: number;
  /** Bytes held by those buffers. */
  readonly bytes: number;
}

/**
 * The contract every compute backend implements: storage (write, read, dispose, memory) and
 * the kernels. A kernel returns a new buffer's {@link TensorInfo} and never keeps or frees its
 * inputs. Its output shape is the one its `*Info` or the documented rule gives; core checks
 * arguments before calling, so kernels may assume valid input.
 */
export interface Backend {
  /** The name it is registered under, e.g. `js`. */
  readonly name: string;

  // ---- storage ----
  /**
   * Takes `values` (which nobody else will touch afterwards; the backend may keep the array)
   * and returns a handle to them.
   */
  write(values: TypedArray, shape: Shape, dtype: DType): DataId;
  /** Reads a buffer into a fresh array the caller owns. */
  read(dataId: DataId): Promise<TypedArray>;
  /** Reads a buffer synchronously into a fresh array the caller owns. */
  readSync(dataId: DataId): TypedArray;
  /** Frees a buffer; later use of the handle is an error. */
  disposeData(dataId: DataId): void;
  /** Live buffers and bytes held. */
  memory(): BackendMemory;
  /** Frees everything the backend holds (for shutting down). */
  dispose(): void;

  // ---- kernels ----
  /**
   * 2-D convolution (cross-correlation as in PyTorch), optionally adding `bias` (`[outChannels]`)
   * and applying `activation` in the epilogue.
   */
  conv2d(
    x: TensorInfo,
    weight: TensorInfo,
    bias: TensorInfo | null,
    info: Conv2dInfo,
    activation: Activation,
  ): TensorInfo;
  /** Matrix product (see {@link MatMulInfo}), optionally adding `bias` (`[n]`) per row and an activation. */
  matmul(
    a: TensorInfo,
    b: TensorInfo,
    bias: TensorInfo | null,
    info: MatMulInfo,
    activation: Activation,
  ): TensorInfo;
  /** Elementwise function of one float32 tensor (`neg`/`abs`/`square` also take int32). */
  unary(op: UnaryOp, x: TensorInfo): TensorInfo;
  /**
   * Elementwise function of two tensors of one dtype, broadcast to `outShape`, then
   * `activation` on each result: `linear` (when omitted) or, for float32 `add`, `relu` (a
   * residual block's `relu(a + b)` as one kernel; NaN stays NaN).
   */
  binary(
    op: BinaryOp,
    a: TensorInfo,
    b: TensorInfo,
    outShape: Shape,
    activation?: BinaryActivation,
  ): TensorInfo;
  /**
   * Batch-norm inference on `[N, C, ...]`: `(x - mean) / sqrt(variance + eps) * scale + offset`
   * per channel (axis 1); `scale`/`offset` default to 1/0 when null.
   */
  batchNorm(
    x: TensorInfo,
    mean: TensorInfo,
    variance: TensorInfo,
    scale: TensorInfo | null,
    offset: TensorInfo | null,
    eps: number,
  ): TensorInfo;
  /** Max or average 2-D pooling over NCHW input (see {@link Pool2dInfo}). */
  pool2d(x: TensorInfo, type: 'max' | 'avg', info: Pool2dInfo): TensorInfo;
  /**
   * PyTorch's adaptive average pooling: output cell `i` averages input rows
   * `floor(i * inH / outH)` to `ceil((i + 1) * inH / outH) - 1`, likewise for columns.
   */
  adaptiveAvgPool2d(x: TensorInfo, info: ResizeInfo): TensorInfo;
  /**
   * Bilinear resize with PyTorch's rule. `alignCorners`: source = dst · (in − 1) / (out − 1)
   * (0 when out is 1). Otherwise source = max(0, (dst + 0.5) · in / out − 0.5), with the upper
   * neighbour clamped to the last row/column.
   */
  resizeBilinear(x: TensorInfo, info: ResizeInfo, alignCorners: boolean): TensorInfo;
  /** Nearest resize, PyTorch `mode='nearest'`: source = min(floor(dst · in / out), in − 1). */
  resizeNearest(x: TensorInfo, info: ResizeInfo): TensorInfo;
  /**
   * Reduces over `axes` (sorted, unique, non-empty, none of length 0). The output shape is the
   * input shape with those axes removed. `sum`/`max` keep the dtype; `mean` gives float32.
   */
  reduce(op: ReduceOp, x: TensorInfo, axes: readonly number[]): TensorInfo;
  /** Softmax along `axis` (normalised, non-negative), numerically stable. */
  softmax(x: TensorInfo, axis: number): TensorInfo;
  /** Index of the largest value along `axis` (first on ties); int32 output without that axis. */
  argmax(x: TensorInfo, axis: number): TensorInfo;
  /** Joins tensors of one dtype along `axis`; `outShape` is their joined shape. */
  concat(xs: readonly TensorInfo[], axis: number, outShape: Shape): TensorInfo;
  /** The block starting at `begin` with lengths `size` (both one entry per dimension). */
  slice(x: TensorInfo, begin: readonly number[], size: readonly number[]): TensorInfo;
  /** Permutes dimensions: output dimension `i` is input dimension `perm[i]`. */
  transpose(x: TensorInfo, perm: readonly number[]): TensorInfo;
  /**
   * Reverses `x` along `axes` (PyTorch's `torch.flip(x, dims)`): the output has the shape and
   * dtype (float32 or int32) of `x`, and `out[i0, …, iR−1] = x[j0, …, jR−1]` with
   * `ja = size_a − 1 − ia` for each axis `a` in `axes` and `ja = ia` otherwise. `axes` are
   * normalised (0 ≤ a < rank), unique and sorted ascending; axes of length 0 or 1 may be
   * among them. Empty `axes` (always so for a 0-d `x`) give a copy.
   */
  flip(x: TensorInfo, axes: readonly number[]): TensorInfo;
  /** Constant padding: `paddings[i] = [before, after]` for every dimension. */
  pad(x: TensorInfo, paddings: readonly (readonly [number, number])[], value: number): TensorInfo;
  /** Converts to `dtype` (float → int truncates toward zero). */
  cast(x: TensorInfo, dtype: DType): TensorInfo;
}
