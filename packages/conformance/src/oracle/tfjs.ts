/**
 * Oracles backed by TensorFlow.js's CPU backend (`@tensorflow/tfjs-core` +
 * `@tensorflow/tfjs-backend-cpu`), an independent implementation that computes in float64
 * and stores float32. kernelzoo's NCHW / OIHW layouts are converted to tfjs's NHWC / HWIO;
 * grouped convolutions run as one tfjs convolution per group, concatenated; a convolution
 * with both stride > 1 and dilation > 1 (which tfjs refuses) runs as a dilated stride-1
 * convolution followed by a strided slice.
 *
 * tfjs is a dependency of `@kernelzoo/conformance`, imported when this module loads; its CPU
 * backend is selected on the first oracle call.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { HostTensor } from '../host.js';

let initialised = false;

function ensure(): void {
  if (initialised) return;
  // IS_TEST silences tfjs's "use tfjs-node" advice; the CPU backend initialises synchronously.
  tf.env().set('IS_TEST', true);
  void tf.setBackend('cpu');
  if (tf.getBackend() !== 'cpu') throw new Error('oracle: the tfjs cpu backend did not initialise');
  initialised = true;
}

function toTf(x: HostTensor): tf.Tensor {
  return tf.tensor(x.values, [...x.shape], x.dtype);
}

function run(fn: () => tf.Tensor): HostTensor {
  ensure();
  const y = tf.tidy(fn);
  try {
    const raw = y.dataSync();
    const values =
      y.dtype === 'int32'
        ? Int32Array.from(raw as ArrayLike<number>)
        : Float32Array.from(raw as ArrayLike<number>);
    return { shape: [...y.shape], dtype: y.dtype === 'int32' ? 'int32' : 'float32', values };
  } finally {
    y.dispose();
  }
}

/** An activation applied in a kernel's epilogue. */
export type OracleActivation = 'linear' | 'relu' | 'sigmoid';

function activate(y: tf.Tensor, a: OracleActivation | undefined): tf.Tensor {
  if (a === 'relu') return tf.relu(y);
  if (a === 'sigmoid') return tf.sigmoid(y);
  return y;
}

/** Options of {@link conv2d}, PyTorch `nn.Conv2d` semantics. */
export interface OracleConvOptions {
  /** `[sH, sW]`. */
  readonly stride: readonly [number, number];
  /** `[top, bottom, left, right]` zero padding. */
  readonly padding: readonly [number, number, number, number];
  /** `[dH, dW]`. */
  readonly dilation: readonly [number, number];
  /** Channel groups. */
  readonly groups: number;
  /** `[outChannels]` added after the convolution. */
  readonly bias?: HostTensor | null;
  /** Applied after the bias. */
  readonly activation?: OracleActivation;
}

/** PyTorch's 2-D convolution of NCHW `x` with OIHW `w`, via tfjs. */
export function conv2d(x: HostTensor, w: HostTensor, o: OracleConvOptions): HostTensor {
  return run(() => {
    const xt = tf.transpose(toTf(x), [0, 2, 3, 1]) as tf.Tensor4D;
    const wt = tf.transpose(toTf(w), [2, 3, 1, 0]) as tf.Tensor4D;
    const g = o.groups;
    const xs = g > 1 ? tf.split(xt, g, 3) : [xt];
    const ws = g > 1 ? tf.split(wt, g, 3) : [wt];
    const dilated = o.dilation[0] > 1 || o.dilation[1] > 1;
    const strided = o.stride[0] > 1 || o.stride[1] > 1;
    const stride: [number, number] = dilated && strided ? [1, 1] : [o.stride[0], o.stride[1]];
    const [pt, pb, pl, pr] = o.padding;
    const pad: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [pt, pb],
      [pl, pr],
      [0, 0],
    ];
    const parts = xs.map((xg, i) =>
      tf.conv2d(xg as tf.Tensor4D, ws[i] as tf.Tensor4D, stride, pad, 'NHWC', [o.dilation[0], o.dilation[1]]),
    );
    let y: tf.Tensor = parts.length > 1 ? tf.concat(parts, 3) : parts[0];
    if (dilated && strided)
      y = tf.stridedSlice(y, [0, 0, 0, 0], [...y.shape], [1, o.stride[0], o.stride[1], 1]);
    if (o.bias) y = tf.add(y, toTf(o.bias));
    return tf.transpose(activate(y, o.activation), [0, 3, 1, 2]);
  });
}

/** Options of {@link matmul}. */
export interface OracleMatMulOptions {
  /** `a` is stored `[k, m]`. */
  readonly transposeA?: boolean;
  /** `b` is stored `[n, k]`. */
  readonly transposeB?: boolean;
  /** `[n]` added per row. */
  readonly bias?: HostTensor | null;
  /** Applied after the bias. */
  readonly activation?: OracleActivation;
}

/** Matrix product of rank-2/3 tensors, a batch of 1 broadcasting, via tfjs. */
export function matmul(a: HostTensor, b: HostTensor, o: OracleMatMulOptions = {}): HostTensor {
  return run(() => {
    const lift = (t: HostTensor) => {
      const tt = toTf(t);
      return t.shape.length === 2 ? tf.expandDims(tt, 0) : tt;
    };
    let a3 = lift(a) as tf.Tensor3D;
    let b3 = lift(b) as tf.Tensor3D;
    const batch = Math.max(a3.shape[0], b3.shape[0]);
    if (a3.shape[0] !== batch) a3 = tf.tile(a3, [batch, 1, 1]);
    if (b3.shape[0] !== batch) b3 = tf.tile(b3, [batch, 1, 1]);
    let y: tf.Tensor = tf.matMul(a3, b3, o.transposeA ?? false, o.transposeB ?? false);
    if (o.bias) y = tf.add(y, toTf(o.bias));
    y = activate(y, o.activation);
    return a.shape.length === 2 && b.shape.length === 2 ? tf.squeeze(y, [0]) : y;
  });
}

/** The unary functions tfjs computes for the oracle. */
export type OracleUnaryOp =
  | 'neg'
  | 'abs'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'rsqrt'
  | 'square'
  | 'reciprocal'
  | 'relu'
  | 'sigmoid'
  | 'tanh';

/** An elementwise function of one tensor, via tfjs. */
export function unary(op: OracleUnaryOp, x: HostTensor): HostTensor {
  const fns: Record<OracleUnaryOp, (t: tf.Tensor) => tf.Tensor> = {
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
  return run(() => fns[op](toTf(x)));
}

/** The binary functions tfjs computes for the oracle (float32 `div` only; see `naive.binary`). */
export type OracleBinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum' | 'pow';

/** An elementwise function of two tensors with NumPy broadcasting, via tfjs. */
export function binary(op: OracleBinaryOp, a: HostTensor, b: HostTensor): HostTensor {
  if (op === 'div' && a.dtype === 'int32')
    throw new Error('oracle: tfjs floors integer division; use naive.binary for int32 div');
  const fns: Record<OracleBinaryOp, (x: tf.Tensor, y: tf.Tensor) => tf.Tensor> = {
    add: tf.add,
    sub: tf.sub,
    mul: tf.mul,
    div: tf.div,
    maximum: tf.maximum,
    minimum: tf.minimum,
    pow: tf.pow,
  };
  return run(() => fns[op](toTf(a), toTf(b)));
}

/** Batch-norm inference over `[N, C, ...]` (channel axis 1), via tfjs (channels moved last). */
export function batchNorm(
  x: HostTensor,
  mean: HostTensor,
  variance: HostTensor,
  scale: HostTensor | null,
  offset: HostTensor | null,
  eps: number,
): HostTensor {
  return run(() => {
    const r = x.shape.length;
    const perm = [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1];
    const inv = [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)];
    const xl = tf.transpose(toTf(x), perm);
    const y = tf.batchNorm(
      xl,
      toTf(mean) as tf.Tensor1D,
      toTf(variance) as tf.Tensor1D,
      offset ? (toTf(offset) as tf.Tensor1D) : undefined,
      scale ? (toTf(scale) as tf.Tensor1D) : undefined,
      eps,
    );
    return tf.transpose(y, inv);
  });
}

/**
 * Max pooling in floor mode without dilation (padding ignored, as PyTorch's −∞), or average
 * pooling in floor mode that does not count padding — the cases tfjs's pools express.
 */
export function pool2d(
  x: HostTensor,
  type: 'max' | 'avg',
  kernel: readonly [number, number],
  stride: readonly [number, number],
  padding: readonly [number, number, number, number],
): HostTensor {
  return run(() => {
    const xt = tf.transpose(toTf(x), [0, 2, 3, 1]) as tf.Tensor4D;
    const [pt, pb, pl, pr] = padding;
    const pad: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [pt, pb],
      [pl, pr],
      [0, 0],
    ];
    const k: [number, number] = [kernel[0], kernel[1]];
    const s: [number, number] = [stride[0], stride[1]];
    const y = type === 'max' ? tf.maxPool(xt, k, s, pad) : tf.avgPool(xt, k, s, pad);
    return tf.transpose(y, [0, 3, 1, 2]);
  });
}

/**
 * Bilinear resize of NCHW `x`, via tfjs: PyTorch `align_corners=True` is tfjs
 * `alignCorners`, PyTorch's default is tfjs `halfPixelCenters` (whose clamping of negative
 * source coordinates matches PyTorch's).
 */
export function resizeBilinear(
  x: HostTensor,
  size: readonly [number, number],
  alignCorners: boolean,
): HostTensor {
  return run(() => {
    const xt = tf.transpose(toTf(x), [0, 2, 3, 1]) as tf.Tensor4D;
    const y = tf.image.resizeBilinear(xt, [size[0], size[1]], alignCorners, !alignCorners);
    return tf.transpose(y, [0, 3, 1, 2]);
  });
}

/** Reduction over `axes` (`mean` of int32 input is computed in float32). */
export function reduce(op: 'sum' | 'mean' | 'max', x: HostTensor, axes: readonly number[]): HostTensor {
  return run(() => {
    const t = toTf(x);
    if (op === 'sum') return tf.sum(t, [...axes]);
    if (op === 'max') return tf.max(t, [...axes]);
    return tf.mean(tf.cast(t, 'float32'), [...axes]);
  });
}

/** Softmax along `axis` (moved last for tfjs and back). */
export function softmax(x: HostTensor, axis: number): HostTensor {
  return run(() => {
    const r = x.shape.length;
    const a = axis < 0 ? axis + r : axis;
    const perm = Array.from({ length: r }, (_, i) => i).filter((i) => i !== a);
    perm.push(a);
    const inv = new Array<number>(r);
    perm.forEach((p, i) => {
      inv[p] = i;
    });
    return tf.transpose(tf.softmax(tf.transpose(toTf(x), perm)), inv);
  });
}

/** Index of the first maximum along `axis`, int32. */
export function argmax(x: HostTensor, axis: number): HostTensor {
  return run(() => tf.argMax(toTf(x), axis));
}

/** Joins tensors along `axis`. */
export function concat(xs: readonly HostTensor[], axis: number): HostTensor {
  return run(() => tf.concat(xs.map(toTf), axis));
}

/** The block at `begin` of lengths `size`. */
export function slice(x: HostTensor, begin: readonly number[], size: readonly number[]): HostTensor {
  return run(() => tf.slice(toTf(x), [...begin], [...size]));
}

/** Permutes dimensions. */
export function transpose(x: HostTensor, perm: readonly number[]): HostTensor {
  return run(() => tf.transpose(toTf(x), [...perm]));
}

/** Reverses `x` along `axes` (`tf.reverse`; empty `axes` give a copy). */
export function flip(x: HostTensor, axes: readonly number[]): HostTensor {
  return run(() => tf.reverse(toTf(x), [...axes]));
}

/** Constant padding. */
export function pad(
  x: HostTensor,
  paddings: readonly (readonly [number, number])[],
  value: number,
): HostTensor {
  return run(() =>
    tf.pad(
      toTf(x),
      paddings.map((p) => [p[0], p[1]] as [number, number]),
      value,
    ),
  );
}

/** Dtype conversion (float → int truncates toward zero). */
export function cast(x: HostTensor, dtype: 'float32' | 'int32'): HostTensor {
  return run(() => tf.cast(toTf(x), dtype));
}
