/**
 * Pooling on the wasm backend: max and average pooling with padding and dilation, and
 * adaptive average pooling.
 *
 * @module
 */
import type { Pool2dInfo, ResizeInfo, TensorInfo } from '@kernelzoo/core';
import type { KernelContext } from '../context.js';

/** Max or average pooling. */
export function pool2d(ctx: KernelContext, x: TensorInfo, type: 'max' | 'avg', info: Pool2dInfo): TensorInfo {
  const op = `${type}Pool2d`;
  const out = ctx.make([info.batch, info.channels, info.outHeight, info.outWidth], 'float32', op);
  if (out.size === 0) return out.info;
  const p = ctx.params([
    info.batch,
    info.channels,
    info.inHeight,
    info.inWidth,
    info.outHeight,
    info.outWidth,
    info.kernelHeight,
    info.kernelWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padTop,
    info.padBottom,
    info.padLeft,
    info.padRight,
    info.countIncludePad ? 1 : 0,
  ]);
  const work = out.size * info.kernelHeight * info.kernelWidth;
  if (type === 'avg') {
    ctx.par('avgpool_run', [ctx.ptr(x, op), out.ptr, p], work);
    return out.info;
  }
  // Max pooling keeps one row of the window's row-wise maxima per thread (see maxpool_run).
  const row = ctx.alloc(
    ctx.exports.maxpoolRowFloats(info.inWidth) * 4 * ctx.threads,
    'maxPool2d row buffers',
  );
  try {
    ctx.par('maxpool_run', [ctx.ptr(x, op), out.ptr, p, row], work);
  } finally {
    ctx.free(row);
  }
  return out.info;
}

/** Adaptive average pooling. */
export function adaptiveAvgPool2d(ctx: KernelContext, x: TensorInfo, info: ResizeInfo): TensorInfo {
  const op = 'adaptiveAvgPool2d';
  const out = ctx.make([info.batch, info.channels, info.outHeight, info.outWidth], 'float32', op);
  if (out.size === 0) return out.info;
  ctx.par(
    'adaptive_avg_run',
    [
      ctx.ptr(x, op),
      out.ptr,
      info.batch * info.channels,
      info.inHeight,
      info.inWidth,
      info.outHeight,
      info.outWidth,
    ],
    info.batch * info.channels * info.inHeight * info.inWidth,
  );
  return out.info;
}
