/** The element types a tensor can hold. */
export type DType = 'float32' | 'int32';

/** The typed array that holds a tensor's values for each {@link DType}. */
export type TypedArray = Float32Array | Int32Array;

/** A tensor's shape: one length per dimension, outermost first (NCHW for images). */
export type Shape = readonly number[];

/**
 * An opaque handle a backend gives out for a buffer it owns. Only the backend that made it
 * knows what it refers to.
 */
export type DataId = object;

/**
 * The plain record a kernel sees: where the data is, its shape and dtype. Kernels never see
 * the public `Tensor` class.
 */
export interface TensorInfo {
  /** The backend's handle for the data. */
  readonly dataId: DataId;
  /** The shape of the data, outermost first. */
  readonly shape: Shape;
  /** The element type. */
  readonly dtype: DType;
}
