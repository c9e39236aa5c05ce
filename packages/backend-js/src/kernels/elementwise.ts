/**
 * Elementwise kernels: unary functions, binary functions with NumPy broadcasting, batch-norm
 * inference and dtype casts.
 *
 * @module
 */
import {
  type BinaryOp,
  broadcastStrides,
  type DType,
  type Shape,
  type TypedArray,
  type UnaryOp,
} from '@kernelzoo/core';
import { bitsOf, reluBits } from './activation.js';

/** Applies a unary function; int32 input (neg/abs/square/relu) gives int32 output. */
export function unary(op: UnaryOp, x: TypedArray): TypedArray {
  const n = x.length;
  if (x instanceof Int32Array) {
    const out = new Int32Array(n);
    switch (op) {
      case 'neg':
        for (let i = 0; i < n; i++) out[i] = -x[i];
        break;
      case 'abs':
        for (let i = 0; i < n; i++) out[i] = x[i] < 0 ? -x[i] : x[i];
        break;
      case 'square':
        for (let i = 0; i < n; i++) out[i] = Math.imul(x[i], x[i]);
        break;
      case 'relu':
        for (let i = 0; i < n; i++) out[i] = Math.max(x[i], 0);
        break;
      default:
        for (let i = 0; i < n; i++) out[i] = floatUnary(op, x[i]);
    }
    return out;
  }
  const out = new Float32Array(n);
  switch (op) {
    case 'neg':
      for (let i = 0; i < n; i++) out[i] = -x[i];
      break;
    case 'abs':
      for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]);
      break;
    case 'exp':
      for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]);
      break;
    case 'log':
      for (let i = 0; i < n; i++) out[i] = Math.log(x[i]);
      break;
    case 'sqrt':
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]);
      break;
    case 'rsqrt':
      for (let i = 0; i < n; i++) out[i] = 1 / Math.sqrt(x[i]);
      break;
    case 'square':
      for (let i = 0; i < n; i++) out[i] = x[i] * x[i];
      break;
    case 'reciprocal':
      for (let i = 0; i < n; i++) out[i] = 1 / x[i];
      break;
    case 'relu':
      out.set(x);
      reluBits(bitsOf(out), 0, n);
      break;
    case 'sigmoid':
      for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-x[i]));
      break;
    case 'tanh':
      for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]);
      break;
  }
  return out;
}

function floatUnary(op: UnaryOp, v: number): number {
  switch (op) {
    case 'neg':
      return -v;
    case 'abs':
      return Math.abs(v);
    case 'exp':
      return Math.exp(v);
    case 'log':
      return Math.log(v);
    case 'sqrt':
      return Math.sqrt(v);
    case 'rsqrt':
      return 1 / Math.sqrt(v);
    case 'square':
      return v * v;
    case 'reciprocal':
      return 1 / v;
    case 'relu':
      return v > 0 || Number.isNaN(v) ? v : 0;
    case 'sigmoid':
      return 1 / (1 + Math.exp(-v));
    case 'tanh':
      return Math.tanh(v);
  }
}

/** C's `pow` (which PyTorch follows): unlike `Math.pow`, `pow(1, y)` is 1 and `pow(±1, ±∞)` is 1. */
function powC(a: number, b: number): number {
  if (a === 1 || b === 0) return 1;
  if (a === -1 && (b === Infinity || b === -Infinity)) return 1;
  return a ** b;
}

/**
 * `out[o..o+len] = a[ia + i·sa] op b[ib + i·sb]` for one innermost run. The switch sits outside
 * the loops so each loop is monomorphic.
 */
function run(
  op: BinaryOp,
  isInt: boolean,
  a: TypedArray,
  ia: number,
  sa: number,
  b: TypedArray,
  ib: number,
  sb: number,
  out: TypedArray,
  o: number,
  len: number,
): void {
  const end = o + len;
  switch (op) {
    case 'add':
      for (; o < end; o++, ia += sa, ib += sb) out[o] = a[ia] + b[ib];
      return;
    case 'sub':
      for (; o < end; o++, ia += sa, ib += sb) out[o] = a[ia] - b[ib];
      return;
    case 'mul':
      if (isInt) for (; o < end; o++, ia += sa, ib += sb) out[o] = Math.imul(a[ia], b[ib]);
      else for (; o < end; o++, ia += sa, ib += sb) out[o] = a[ia] * b[ib];
      return;
    case 'div':
      if (isInt) for (; o < end; o++, ia += sa, ib += sb) out[o] = Math.trunc(a[ia] / b[ib]);
      else for (; o < end; o++, ia += sa, ib += sb) out[o] = a[ia] / b[ib];
      return;
    case 'maximum':
      for (; o < end; o++, ia += sa, ib += sb) out[o] = Math.max(a[ia], b[ib]);
      return;
    case 'minimum':
      for (; o < end; o++, ia += sa, ib += sb) out[o] = Math.min(a[ia], b[ib]);
      return;
    case 'pow':
      for (; o < end; o++, ia += sa, ib += sb) out[o] = powC(a[ia], b[ib]);
      return;
  }
}

/**
 * Merges adjacent dimensions along which every operand is laid out contiguously (or is
 * broadcast along both), dropping dimensions of length 1. Returns the new shape and strides.
 */
export function collapseDims(shape: Shape, strides: number[][]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const len = shape[d];
    if (len === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * len)) {
      outShape[last] *= len;
      strides.forEach((s, k) => {
        outStrides[k][last] = s[d];
      });
    } else {
      outShape.push(len);
      strides.forEach((s, k) => {
        outStrides[k].push(s[d]);
      });
    }
  }
  return { shape: outShape, strides: outStrides };
}

/** Applies a binary function with NumPy broadcasting of `a` and `b` to `outShape`. */
export function binary(
  op: BinaryOp,
  a: TypedArray,
  aShape: Shape,
  b: TypedArray,
  bShape: Shape,
  outShape: Shape,
  dtype: DType,
): TypedArray {
  const isInt = dtype === 'int32';
  let size = 1;
  for (const d of outShape) size *= d;
  const out = isInt ? new Int32Array(size) : new Float32Array(size);
  if (size === 0) return out;
  const { shape, strides } = collapseDims(outShape, [
    broadcastStrides(aShape, outShape),
    broadcastStrides(bShape, outShape),
  ]);
  const rank = shape.length;
  if (rank === 0) {
    run(op, isInt, a, 0, 0, b, 0, 0, out, 0, 1);
    return out;
  }
  const [sa, sb] = strides;
  const inner = shape[rank - 1];
  const innerA = sa[rank - 1];
  const innerB = sb[rank - 1];
  const idx = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let o = 0; o < size; o += inner) {
    run(op, isInt, a, ia, innerA, b, ib, innerB, out, o, inner);
    // Advance the odometer over the outer dimensions.
    for (let d = rank - 2; d >= 0; d--) {
      idx[d]++;
      ia += sa[d];
      ib += sb[d];
      if (idx[d] < shape[d]) break;
      ia -= sa[d] * shape[d];
      ib -= sb[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** Batch-norm inference over `[N, C, ...]` with per-channel statistics. */
export function batchNorm(
  x: Float32Array,
  shape: Shape,
  mean: Float32Array,
  variance: Float32Array,
  scale: Float32Array | null,
  offset: Float32Array | null,
  eps: number,
): Float32Array {
  const out = new Float32Array(x.length);
  const batch = shape[0];
  const channels = shape[1];
  let inner = 1;
  for (let d = 2; d < shape.length; d++) inner *= shape[d];
  let i = 0;
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      const k = (scale === null ? 1 : scale[c]) / Math.sqrt(variance[c] + eps);
      const m = mean[c];
      const b = offset === null ? 0 : offset[c];
      const end = i + inner;
      for (; i < end; i++) out[i] = (x[i] - m) * k + b;
    }
  }
  return out;
}

/** Converts between dtypes; float → int truncates toward zero (NaN → 0, out of range wraps). */
export function cast(x: TypedArray, dtype: DType): TypedArray {
  if (dtype === 'int32') {
    const out = new Int32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = x[i];
    return out;
  }
  return Float32Array.from(x);
}
