import { ENGINE } from '../engine.js';
import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { DType, Shape, TypedArray } from '../types.js';
import { SeededRandom } from '../util/random.js';
import { allocate, formatShape, sizeFromShape } from '../util/shape.js';
import { describe } from './validate.js';

function checkShape(op: string, shape: unknown): Shape {
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0))
    throw new ArgumentError(op, 'shape', 'an array of integers ≥ 0', describe(shape));
  return shape;
}

/**
 * A tensor from values (copied). `shape` defaults to `[values.length]`; `dtype` defaults to
 * int32 for an `Int32Array`, float32 otherwise.
 */
export function tensor(values: ArrayLike<number>, shape?: Shape, dtype?: DType): Tensor {
  const dt: DType = dtype ?? (values instanceof Int32Array ? 'int32' : 'float32');
  const s = shape === undefined ? [values.length] : checkShape('tensor', shape);
  if (sizeFromShape(s) !== values.length)
    throw new ArgumentError(
      'tensor',
      'values',
      `${sizeFromShape(s)} values for shape ${formatShape(s)}`,
      `${values.length} values`,
    );
  const copy = allocate(dt, values.length);
  copy.set(values as ArrayLike<number>);
  return ENGINE.makeTensor(copy, s, dt);
}

/** A rank-0 tensor holding `value`. */
export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  const a = allocate(dtype, 1);
  a[0] = value;
  return ENGINE.makeTensor(a, [], dtype);
}

/** A tensor of `shape` filled with `value`. */
export function fill(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
  const s = checkShape('fill', shape);
  const a: TypedArray = allocate(dtype, sizeFromShape(s));
  if (value !== 0) a.fill(value);
  return ENGINE.makeTensor(a, s, dtype);
}

/** A tensor of zeros. */
export function zeros(shape: Shape, dtype: DType = 'float32'): Tensor {
  return fill(shape, 0, dtype);
}

/** A tensor of ones. */
export function ones(shape: Shape, dtype: DType = 'float32'): Tensor {
  return fill(shape, 1, dtype);
}

/** Options of the seeded random constructors. */
export interface RandomOptions {
  /** The seed; equal seeds give equal tensors on every platform. Default 0. */
  seed?: number;
}

/** A float32 tensor of values uniform in [min, max), from a seeded generator. */
export function randomUniform(shape: Shape, min = 0, max = 1, options: RandomOptions = {}): Tensor {
  const s = checkShape('randomUniform', shape);
  const rng = new SeededRandom(options.seed ?? 0);
  const a = new Float32Array(sizeFromShape(s));
  for (let i = 0; i < a.length; i++) a[i] = rng.uniform(min, max);
  return ENGINE.makeTensor(a, s, 'float32');
}

/** A float32 tensor of normally distributed values, from a seeded generator. */
export function randomNormal(shape: Shape, mean = 0, std = 1, options: RandomOptions = {}): Tensor {
  const s = checkShape('randomNormal', shape);
  const rng = new SeededRandom(options.seed ?? 0);
  const a = new Float32Array(sizeFromShape(s));
  for (let i = 0; i < a.length; i++) a[i] = rng.normal(mean, std);
  return ENGINE.makeTensor(a, s, 'float32');
}
