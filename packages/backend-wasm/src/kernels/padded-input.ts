/**
 * The zero-padded, stride-phase-split copy of a convolution's input that the GEMM, direct and
 * Winograd convolutions read without bounds checks.
 *
 * @module
 */
import type { Conv2dInfo } from '@kernelzoo/core';
import type { KernelContext } from '../context.js';

/**
 * What one float of a padded copy weighs against the parallel threshold (`ctx.par`'s work, in
 * elements of an elementwise op): the copy fills and copies row pieces and splits phases, and
 * costs ~4.5× an `add` per float on one thread (0.77 against 0.17 ns at HRNet-W32's 128×16×12
 * and 24,576-element sizes), so it splits from 16,384 floats instead of 65,536.
 */
export const PAD_WORK_PER_FLOAT = 4;

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
  // Split over the threads like the elementwise kernels, each float weighing PAD_WORK_PER_FLOAT
  // elements. On 2 threads a copy kept on the calling thread leaves the worker idle: that cost
  // HRNet-W32 ~10 % when no copy split (183 against 165 ms a forward), and ~4 % while each float
  // weighed one element and its 156 copies of 17–57 thousand floats stayed on one thread.
  const elems = batch * inChannels * hp * sw * wq;
  ctx.par('direct_pad_run', [p], elems * PAD_WORK_PER_FLOAT);
  return { buf, hp, wq };
}
