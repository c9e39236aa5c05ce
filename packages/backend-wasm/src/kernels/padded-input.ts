/**
 * The zero-padded, stride-phase-split copy of a convolution's input that the GEMM, direct and
 * Winograd convolutions read without bounds checks.
 *
 * @module
 */
import type { Conv2dInfo } from '@kernelzoo/core';
import type { KernelContext } from '../context.js';

/** The shape of a padded copy: column phases, rows per plane and floats per phase row. */
export interface PaddedLayout {
  readonly phases: number;
  readonly rows: number;
  readonly cols: number;
}

/**
 * A zero-padded, stride-phase-split copy of the input (`direct_pad_run`): plane (n, c), row
 * y, phase s, column q holds input (y − padTop, q·phases + s − padLeft) — zero outside the
 * input. By default `phases` is the stride and the copy holds every row and column a
 * convolution's GEMM reads, with room for the reads of a last, partial 8-pixel tile; `layout`
 * sets other sizes (rows and columns past it are not copied). The caller frees `buf`.
 */
export function padInput(
  ctx: KernelContext,
  xp: number,
  info: Conv2dInfo,
  layout?: PaddedLayout,
): { buf: number; hp: number; wq: number } {
  const { batch, inChannels, inHeight, inWidth, outWidth, kernelWidth: kw } = info;
  const { dilationWidth: dw } = info;
  const sw = layout?.phases ?? info.strideWidth;
  const hp = layout?.rows ?? inHeight + info.padTop + info.padBottom;
  const wpad = inWidth + info.padLeft + info.padRight;
  const wq = layout?.cols ?? Math.max(Math.ceil(wpad / sw), outWidth + Math.floor(((kw - 1) * dw) / sw)) + 8;
  const buf = ctx.alloc((batch * inChannels * hp * sw * wq + 16) * 4, 'padded conv2d input');
  const p = ctx.params([
    xp,
    0,
    0,
    0,
    0,
    batch,
    inChannels,
    0,
    0,
    inHeight,
    inWidth,
    0,
    0,
    0,
    0,
    0,
    sw,
    0,
    0,
    info.padTop,
    info.padLeft,
    buf,
    hp,
    wq,
  ]);
  // Split over the threads like any elementwise kernel (from 65,536 elements): on 2 threads a
  // copy kept on the calling thread left the worker idle and cost HRNet-W32 ~10 % (183 against
  // 165 ms a forward); below that, one thread saves a pool round trip.
  const elems = batch * inChannels * hp * sw * wq;
  ctx.par('direct_pad_run', [p], elems);
  return { buf, hp, wq };
}
