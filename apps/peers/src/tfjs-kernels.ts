/**
 * The recorded kernels other than convolution, pooling and resizing, in TF.js. A rank-4 value
 * is worked on in NHWC (the recorded NCHW axes, begins, sizes, paddings and permutations are
 * mapped), other ranks in their recorded layout; reductions that leave a lower rank give it back
 * in recorded (NCHW) order.
 *
 * @module
 */
import type {
  Activation,
  BinaryActivation,
  BinaryOp,
  DType,
  MatMulInfo,
  ReduceOp,
  Shape,
  UnaryOp,
} from '@kernelzoo/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Getter, Prepare, Step } from './tfjs-context.js';
import { type Layout, NHWC_AXIS, nhwcAxes, remainingToNat, TO_NHWC, toNhwcOrder } from './tfjs-layout.js';

const UNARY: Record<UnaryOp, (x: tf.Tensor) => tf.Tensor> = {
  neg: tf.neg,
  abs: tf.abs,
  exp: tf.exp,
  log: tf.log,
  sqrt: tf.sqrt,
  rsqrt: tf.rsqrt,
  square: tf.square,
  reciprocal: tf.reciprocal,
  relu: tf.relu,
  sigmoid: tf.sigmoid,
  tanh: tf.tanh,
};

const BINARY: Record<BinaryOp, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = {
  add: tf.add,
  sub: tf.sub,
  mul: tf.mul,
  div: tf.div,
  maximum: tf.maximum,
  minimum: tf.minimum,
  pow: tf.pow,
};

function unsupported(kernel: string, what: string): Error {
  return new Error(`tfjs: ${kernel} ${what} is not supported`);
}

/** The layout a kernel works in for a value of recorded shape `shape`. */
const layoutFor = (shape: Shape): Layout => (shape.length === 4 ? 'nhwc' : 'nat');

/** Translates `unary(op, x)`: elementwise, in whichever layout `x` has. */
export function unaryStep(p: Prepare, op: UnaryOp, x: number): Step {
  const f = UNARY[op];
  if (!f) throw unsupported('unary', op);
  if (p.isConstant(x)) {
    const getX = p.use(x, 'nat');
    return (values) => [f(getX(values)), 'nat'];
  }
  return (values) => {
    const [t, layout] = values.any(x);
    return [f(t), layout];
  };
}

/**
 * Translates `binary(op, a, b, outShape, activation)`. A rank-4 result is computed in NHWC with
 * both operands in NHWC form (a lower-rank operand is first padded to rank 4 with leading 1s,
 * as broadcasting reads it, so `[C,1,1]` becomes `[1,1,1,C]`); a fused ReLU is `tf.relu` after
 * it, as TF.js users write a residual block.
 */
export function binaryStep(
  p: Prepare,
  op: BinaryOp,
  a: number,
  b: number,
  outShape: Shape,
  activation: BinaryActivation = 'linear',
): Step {
  const f = BINARY[op];
  if (!f) throw unsupported('binary', op);
  const layout = layoutFor(outShape);
  const getA = p.use(a, layout);
  const getB = p.use(b, layout);
  if (activation === 'relu') return (values) => [tf.relu(f(getA(values), getB(values))), layout];
  return (values) => [f(getA(values), getB(values)), layout];
}

/** Translates `batchNorm(x, mean, variance, scale, offset, eps)` (channels: NCHW axis 1). */
export function batchNormStep(
  p: Prepare,
  x: number,
  mean: number,
  variance: number,
  scale: number | null,
  offset: number | null,
  eps: number,
): Step {
  const rank = p.shape(x).length;
  const layout = layoutFor(p.shape(x));
  const getX = p.use(x, layout);
  // Channels are last in NHWC and for [N, C]; otherwise they broadcast as [C, 1, …].
  const trailing = layout === 'nhwc' ? 0 : rank - 2;
  const param = (v: number | null) =>
    v === null
      ? null
      : p.derive(v, `bn:${trailing}`, (t) =>
          trailing === 0 ? tf.reshape(t, [-1]) : tf.reshape(t, [-1, ...new Array<number>(trailing).fill(1)]),
        );
  const [getMean, getVar, getScale, getOffset] = [mean, variance, scale, offset].map(param);
  return (values) => [
    tf.batchNorm(
      getX(values),
      getMean!(values),
      getVar!(values),
      getOffset?.(values),
      getScale?.(values),
      eps,
    ),
    layout,
  ];
}

/**
 * Translates `matmul(a, b, bias, info, activation)` (recorded layout: ranks 2 and 3) to
 * `tf.fused.matMul`. A constant operand stored transposed (PyTorch's `[n, k]` Linear weight) is
 * transposed once here, as a TF.js Dense layer keeps its kernel `[k, n]`: tfjs-wasm 4.22's fused
 * product adds the bias to the wrong elements when `transposeB` is set (rows after the first).
 * For the same reason a transposed non-constant `b` gets its bias and activation unfused.
 */
export function matmulStep(
  p: Prepare,
  a: number,
  b: number,
  bias: number | null,
  info: MatMulInfo,
  activation: Activation,
): Step {
  const operand = (v: number, transposed: boolean): [Getter, boolean] => {
    if (!transposed) return [p.use(v, 'nat'), false];
    if (!p.isConstant(v)) return [p.use(v, 'nat'), true];
    const rank = p.shape(v).length;
    const swap = rank === 2 ? [1, 0] : [0, 2, 1];
    return [p.derive(v, 'matmul:transposed', (t) => tf.transpose(t, swap)), false];
  };
  const [getA, transposeA] = operand(a, info.transposeA);
  const [getB, transposeB] = operand(b, info.transposeB);
  const getBias = bias === null ? null : p.use(bias, 'nat');
  const outShape = [...info.outShape];
  const unfused = transposeB && getBias !== null;
  return (values) => {
    let y: tf.Tensor;
    if (unfused) {
      const product = tf.add(tf.matMul(getA(values), getB(values), transposeA, true), getBias!(values));
      y = activation === 'relu' ? tf.relu(product) : activation === 'sigmoid' ? tf.sigmoid(product) : product;
    } else {
      y = tf.fused.matMul({
        a: getA(values),
        b: getB(values),
        transposeA,
        transposeB,
        bias: getBias?.(values),
        activation,
      });
    }
    const same = y.shape.length === outShape.length && y.shape.every((d, i) => d === outShape[i]);
    return [same ? y : tf.reshape(y, outShape), 'nat'];
  };
}

/** Translates `reduce(op, x, axes)`; the result (a lower rank) is in recorded order. */
export function reduceStep(p: Prepare, op: ReduceOp, x: number, axes: readonly number[]): Step {
  const four = p.shape(x).length === 4;
  const getX = p.use(x, four ? 'nhwc' : 'nat');
  const tfAxes = four ? nhwcAxes(axes) : [...axes];
  const intMean = op === 'mean' && p.graph.values[x]!.dtype === 'int32';
  const f = op === 'sum' ? tf.sum : op === 'mean' ? tf.mean : op === 'max' ? tf.max : null;
  if (!f) throw unsupported('reduce', op);
  return (values) => {
    let t = getX(values);
    if (intMean) t = tf.cast(t, 'float32');
    const y = f(t, tfAxes);
    return [four ? remainingToNat(y, tfAxes) : y, 'nat'];
  };
}

/** Translates `argmax(x, axis)`; the result (a lower rank) is in recorded order. */
export function argmaxStep(p: Prepare, x: number, axis: number): Step {
  const four = p.shape(x).length === 4;
  const getX = p.use(x, four ? 'nhwc' : 'nat');
  const tfAxis = four ? NHWC_AXIS[axis]! : axis;
  return (values) => {
    const y = tf.argMax(getX(values), tfAxis);
    return [four ? remainingToNat(y, [tfAxis]) : y, 'nat'];
  };
}

/**
 * Translates `softmax(x, axis)`: `tf.softmax` works on the last axis, which in NHWC is the
 * channels; another axis is swapped to the end and back.
 */
export function softmaxStep(p: Prepare, x: number, axis: number): Step {
  const shape = p.shape(x);
  const layout = layoutFor(shape);
  const getX = p.use(x, layout);
  const tfAxis = layout === 'nhwc' ? NHWC_AXIS[axis]! : axis;
  const last = shape.length - 1;
  if (tfAxis === last) return (values) => [tf.softmax(getX(values)), layout];
  const swap = shape.map((_, i) => (i === tfAxis ? last : i === last ? tfAxis : i));
  return (values) => [tf.transpose(tf.softmax(tf.transpose(getX(values), swap)), swap), layout];
}

/** Translates `concat(xs, axis, outShape)`. */
export function concatStep(p: Prepare, xs: readonly number[], axis: number, outShape: Shape): Step {
  const layout = layoutFor(outShape);
  const gets = xs.map((x) => p.use(x, layout));
  const tfAxis = layout === 'nhwc' ? NHWC_AXIS[axis]! : axis;
  return (values) => [
    tf.concat(
      gets.map((g) => g(values)),
      tfAxis,
    ),
    layout,
  ];
}

/** Translates `slice(x, begin, size)`. */
export function sliceStep(p: Prepare, x: number, begin: readonly number[], size: readonly number[]): Step {
  const layout = layoutFor(p.shape(x));
  const getX = p.use(x, layout);
  const b = layout === 'nhwc' ? toNhwcOrder(begin) : [...begin];
  const s = layout === 'nhwc' ? toNhwcOrder(size) : [...size];
  return (values) => [tf.slice(getX(values), b, s), layout];
}

/**
 * Translates `transpose(x, perm)`. On NHWC, output NHWC dimension `j` is NCHW output dimension
 * `TO_NHWC[j]`, i.e. NCHW input dimension `perm[TO_NHWC[j]]`, found at NHWC position
 * `NHWC_AXIS[perm[TO_NHWC[j]]]`.
 */
export function transposeStep(p: Prepare, x: number, perm: readonly number[]): Step {
  const layout = layoutFor(p.shape(x));
  const getX = p.use(x, layout);
  const tfPerm = layout === 'nhwc' ? TO_NHWC.map((a) => NHWC_AXIS[perm[a]!]!) : [...perm];
  return (values) => [tf.transpose(getX(values), tfPerm), layout];
}

/** Translates `flip(x, axes)`. */
export function flipStep(p: Prepare, x: number, axes: readonly number[]): Step {
  const layout = layoutFor(p.shape(x));
  const getX = p.use(x, layout);
  const tfAxes = layout === 'nhwc' ? nhwcAxes(axes) : [...axes];
  return (values) => [tfAxes.length === 0 ? getX(values).clone() : tf.reverse(getX(values), tfAxes), layout];
}

/** Translates `pad(x, paddings, value)`. */
export function padStep(
  p: Prepare,
  x: number,
  paddings: readonly (readonly [number, number])[],
  value: number,
) {
  const layout = layoutFor(p.shape(x));
  const getX = p.use(x, layout);
  const list = paddings.map(([before, after]): [number, number] => [before, after]);
  const tfPads = layout === 'nhwc' ? toNhwcOrder(list) : list;
  return ((values) => [tf.pad(getX(values), tfPads, value), layout]) satisfies Step;
}

/** Translates `cast(x, dtype)`: elementwise, in whichever layout `x` has. */
export function castStep(p: Prepare, x: number, dtype: DType): Step {
  if (p.isConstant(x)) {
    const getX = p.use(x, 'nat');
    return (values) => [tf.cast(getX(values), dtype), 'nat'];
  }
  return (values) => {
    const [t, layout] = values.any(x);
    return [tf.cast(t, dtype), layout];
  };
}

/** Translates the synthetic `reshape(x, shape)`: a row-major view, so on the recorded layout. */
export function reshapeStep(p: Prepare, x: number, shape: Shape): Step {
  const getX = p.use(x, 'nat');
  const to = [...shape];
  return (values) => [tf.reshape(getX(values), to), 'nat'];
}
