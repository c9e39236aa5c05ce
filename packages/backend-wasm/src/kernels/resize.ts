/**
 * Resizing on the wasm backend: bilinear (with PyTorch's `align_corners` semantics) and
 * nearest, from per-axis source tables built here.
 *
 * @module
 */
import type { ResizeInfo, TensorInfo } from '@kernelzoo/core';
import type { KernelContext } from '../context.js';

/**
 * Resizes the `[N, C, H, W]` planes of `x`: `mode` 0 bilinear, 1 nearest. Each output row and
 * column gets a table entry (lower source index, upper source index, weight of the upper).
 */
function resize(
  ctx: KernelContext,
  x: TensorInfo,
  info: ResizeInfo,
  mode: 0 | 1,
  alignCorners: boolean,
  op: string,
): TensorInfo {
  const out = ctx.make([info.batch, info.channels, info.outHeight, info.outWidth], 'float32', op);
  if (out.size === 0) return out.info;
  const { inHeight: ih, inWidth: iw, outHeight: oh, outWidth: ow } = info;
  const tab = ctx.alloc((oh + ow) * 12, `${op} tables`);
  const iv = ctx.i32();
  const fv = ctx.f32();
  const axis = (inSize: number, outSize: number, at: number) => {
    for (let i = 0; i < outSize; i++) {
      const w = (at >>> 2) + i * 3;
      if (mode === 1) {
        iv[w] = Math.min(Math.floor((i * inSize) / outSize), inSize - 1);
        continue;
      }
      const scale = alignCorners ? (outSize > 1 ? (inSize - 1) / (outSize - 1) : 0) : inSize / outSize;
      const src = alignCorners ? i * scale : Math.max(0, (i + 0.5) * scale - 0.5);
      const l = Math.min(Math.floor(src), inSize - 1);
      iv[w] = l;
      iv[w + 1] = Math.min(l + 1, inSize - 1);
      fv[w + 2] = src - l;
    }
  };
  axis(ih, oh, tab);
  axis(iw, ow, tab + oh * 12);
  try {
    ctx.par(
      'resize_run',
      [mode, ctx.ptr(x, op), out.ptr, info.batch * info.channels, ih, iw, oh, ow, tab],
      out.size * 4,
    );
  } finally {
    ctx.free(tab);
  }
  return out.info;
}

/** Bilinear resize. */
export function resizeBilinear(
  ctx: KernelContext,
  x: TensorInfo,
  info: ResizeInfo,
  alignCorners: boolean,
): TensorInfo {
  return resize(ctx, x, info, 0, alignCorners, 'resizeBilinear');
}

/** Nearest resize. */
export function resizeNearest(ctx: KernelContext, x: TensorInfo, info: ResizeInfo): TensorInfo {
  return resize(ctx, x, info, 1, false, 'resizeNearest');
}
