/**
 * Elementwise kernels on the wasm backend: unary functions, binary functions with
 * broadcasting, batch-norm inference and dtype casts.
 *
 * @module
 */
import {
  BackendError,
  type BinaryActivation,
  type BinaryOp,
  broadcastStrides,
  type DType,
  type Shape,
  type TensorInfo,
  type UnaryOp,
} from '@kernelzoo/core';
import { collapse } from '../collapse.js';
import { IDX, type KernelContext } from '../context.js';

/** The unary functions, as the kernels number them. */
const UNARY: Record<UnaryOp, number> = {
  neg: 0,
  abs: 1,
  exp: 2,
  log: 3,
  sqrt: 4,
  rsqrt: 5,
  square: 6,
  reciprocal: 7,
  relu: 8,
  sigmoid: 9,
  tanh: 10,
};

/** The binary functions, as the kernels number them. */
const BINARY: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5, pow: 6 };

/** Elementwise function of one tensor. */
export function unary(ctx: KernelContext, op: UnaryOp, x: TensorInfo): TensorInfo {
  const out = ctx.make(x.shape, x.dtype, op);
  if (out.size === 0) return out.info;
  const xp = ctx.ptr(x, op);
  if (x.dtype === 'int32') ctx.exports.unary_i32(UNARY[op], xp, out.ptr, out.size);
  else ctx.par('unary_f32', [UNARY[op], xp, out.ptr, out.size], out.size * 4);
  return out.info;
}

/** Elementwise function of two tensors, broadcast to `outShape`, then `activation` (float32). */
export function binary(
  ctx: KernelContext,
  op: BinaryOp,
  a: TensorInfo,
  b: TensorInfo,
  outShape: Shape,
  activation: BinaryActivation = 'linear',
): TensorInfo {
  if (activation !== 'linear' && a.dtype !== 'float32')
    throw new BackendError(`wasm backend: '${op}' with an activation takes float32 tensors, got ${a.dtype}`);
  const out = ctx.make(outShape, a.dtype, op);
  if (out.size === 0) return out.info;
  const ap = ctx.ptr(a, op);
  const bp = ctx.ptr(b, op);
  const { shape, strides } = collapse(outShape, [
    broadcastStrides(a.shape, outShape),
    broadcastStrides(b.shape, outShape),
  ]);
  const p = ctx.params([shape.length, ...shape, ...strides[0], ...strides[1]]);
  const act = activation === 'relu' ? 1 : 0;
  ctx.par(
    'binary_run',
    [BINARY[op], a.dtype === 'int32' ? 1 : 0, ap, bp, out.ptr, p, IDX, act],
    out.size * 2,
  );
  return out.info;
}

/** Batch-norm inference over `[N, C, ...]`. */
export function batchNorm(
  ctx: KernelContext,
  x: TensorInfo,
  mean: TensorInfo,
  variance: TensorInfo,
  scale: TensorInfo | null,
  offset: TensorInfo | null,
  eps: number,
): TensorInfo {
  const op = 'batchNorm';
  const out = ctx.make(x.shape, 'float32', op);
  if (out.size === 0) return out.info;
  const outer = x.shape[0];
  const channels = x.shape[1];
  const inner = out.size / (outer * channels);
  ctx.par(
    'batchnorm_run',
    [
      ctx.ptr(x, op),
      out.ptr,
      outer,
      channels,
      inner,
      ctx.ptr(mean, op),
      ctx.ptr(variance, op),
      scale === null ? 0 : ctx.ptr(scale, op),
      offset === null ? 0 : ctx.ptr(offset, op),
      eps,
    ],
    out.size * 2,
  );
  return out.info;
}

/** Converts to `dtype`. */
export function cast(ctx: KernelContext, x: TensorInfo, dtype: DType): TensorInfo {
  const op = 'cast';
  const out = ctx.make(x.shape, dtype, op);
  if (out.size === 0) return out.info;
  const xp = ctx.ptr(x, op);
  if (x.dtype === dtype) {
    ctx.u8().copyWithin(out.ptr, xp, xp + out.size * 4);
  } else if (dtype === 'int32') ctx.exports.cast_f2i(xp, out.ptr, out.size);
  else ctx.exports.cast_i2f(xp, out.ptr, out.size);
  return out.info;
}
