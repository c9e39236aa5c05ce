/**
 * 2-D convolution on the wasm backend: the direct depthwise kernel, the direct kernel for
 * grouped and small-M convolutions, and the packed SIMD GEMM over the implicit im2col matrix
 * (packed or, for few output channels, unpacked B).
 *
 * @module
 */
import type { Activation, Conv2dInfo, TensorInfo } from '@kernelzoo/core';
import type { KernelContext } from '../context.js';
import { ACT, gemmScratch, kBlock, MR, NC, SCRATCH_BYTES } from './gemm.js';
import { DIRECT_ROWS, packedWeights } from './packed-weights.js';
import { padInput } from './padded-input.js';
import { useWinograd, winogradConv2d } from './winograd.js';
import { useWinogradDilated, winogradDilated } from './winograd-dilated.js';

/** 2-D convolution: packed SIMD GEMM over the implicit im2col matrix, direct depthwise path. */
export function conv2d(
  ctx: KernelContext,
  x: TensorInfo,
  weight: TensorInfo,
  bias: TensorInfo | null,
  info: Conv2dInfo,
  activation: Activation,
): TensorInfo {
  const op = 'conv2d';
  const { batch, inChannels, inHeight, inWidth, outChannels, outHeight, outWidth, groups } = info;
  const { kernelHeight: kh, kernelWidth: kw } = info;
  const out = ctx.make([batch, outChannels, outHeight, outWidth], 'float32', op);
  if (out.size === 0) return out.info;
  const xp = ctx.ptr(x, op);
  const bp = bias === null ? 0 : ctx.ptr(bias, op);
  const act = ACT[activation];
  const hw = outHeight * outWidth;
  const cg = inChannels / groups;
  const m = outChannels / groups;
  const k = cg * kh * kw;
  if (groups > 1 && cg === 1) {
    const p = ctx.params([
      xp,
      ctx.ptr(weight, op),
      out.ptr,
      bp,
      act,
      batch,
      inChannels,
      outChannels / inChannels,
      inHeight,
      inWidth,
      outHeight,
      outWidth,
      kh,
      kw,
      info.strideHeight,
      info.strideWidth,
      info.dilationHeight,
      info.dilationWidth,
      info.padTop,
      info.padLeft,
    ]);
    ctx.par('depthwise_run', [p], out.size * kh * kw);
    return out.info;
  }
  const wid = ctx.record(weight.dataId, op);
  // A weight buffer that is also the input or the bias keeps its original layout beside the packed one.
  const shared = wid === x.dataId || wid === bias?.dataId;
  if (k > 0 && useDirect(info)) {
    const packed = packedWeights(ctx, wid, groups, m, k, k, DIRECT_ROWS, shared);
    directConv(ctx, xp, packed.ptr, bp, act, info, out.ptr, out.size * k);
    return out.info;
  }
  if (k === 0) {
    ctx.f32().fill(0, out.ptr >>> 2, (out.ptr >>> 2) + out.size);
    ctx.exports.bias_act_rows(out.ptr, batch, outChannels, hw, bp, act);
    return out.info;
  }
  const mp = Math.ceil(m / MR) * MR;
  const kc = kBlock(k);
  const packed = packedWeights(ctx, wid, groups, m, k, kc, MR, shared);
  const packA = packed.ptr;
  if (
    useWinograd(info, activation) &&
    packed.finite &&
    winogradConv2d(ctx, xp, packA, kc, bp, act, info, out.ptr)
  )
    return out.info;
  if (
    useWinogradDilated(info, activation) &&
    packed.finite &&
    winogradDilated(ctx, xp, packA, kc, bp, act, info, out.ptr)
  )
    return out.info;
  const pointwise =
    kh === 1 &&
    kw === 1 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.padTop === 0 &&
    info.padLeft === 0 &&
    info.padBottom === 0 &&
    info.padRight === 0;
  const inPlane = inHeight * inWidth;
  const unpacked = !pointwise && useUnpacked(info, k);
  let pad = 0;
  let hp = 0;
  let wq = 0;
  // Both GEMM paths read a non-pointwise convolution's input from a zero-padded copy: the
  // unpacked one in place, the packed one packing without bounds checks (gemm_run).
  if (!pointwise) {
    ({ buf: pad, hp, wq } = padInput(ctx, xp, info));
  }
  const p = ctx.params([
    pointwise ? 0 : 1,
    m,
    hw,
    k,
    packA,
    mp * k,
    xp,
    inPlane,
    1,
    inChannels * inPlane,
    cg * inPlane,
    out.ptr,
    hw,
    outChannels * hw,
    m * hw,
    bp,
    bp === 0 ? 0 : 1,
    act,
    batch,
    groups,
    gemmScratch(ctx),
    SCRATCH_BYTES,
    kc,
    NC,
    cg,
    inHeight,
    inWidth,
    outHeight,
    outWidth,
    kh,
    kw,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padTop,
    info.padLeft,
    0,
    pad,
    hp,
    wq,
  ]);
  try {
    ctx.par(unpacked ? 'conv_ind_run' : 'gemm_run', [p], out.size * k);
  } finally {
    ctx.free(pad);
  }
  return out.info;
}

/**
 * Direct convolution over a padded, stride-phase-split copy of the input (see asm/direct.ts),
 * with the weights packed in 4-row panels (`wpack`, {@link DIRECT_ROWS}).
 */
function directConv(
  ctx: KernelContext,
  xp: number,
  wpack: number,
  bp: number,
  act: number,
  info: Conv2dInfo,
  outPtr: number,
  work: number,
): void {
  const { batch, inChannels, inHeight, inWidth, outChannels, outHeight, outWidth, groups } = info;
  const { kernelHeight: kh, kernelWidth: kw, strideWidth: sw, dilationWidth: dw } = info;
  let buf = 0;
  try {
    let hp: number;
    let wq: number;
    ({ buf, hp, wq } = padInput(ctx, xp, info));
    // direct_conv_run reads the padded copy's address and sizes at the words direct_pad_run
    // takes them from (21–23).
    const p = ctx.params([
      xp,
      wpack,
      outPtr,
      bp,
      act,
      batch,
      inChannels,
      outChannels,
      groups,
      inHeight,
      inWidth,
      outHeight,
      outWidth,
      kh,
      kw,
      info.strideHeight,
      sw,
      info.dilationHeight,
      dw,
      info.padTop,
      info.padLeft,
      buf,
      hp,
      wq,
      gemmScratch(ctx),
      SCRATCH_BYTES,
    ]);
    ctx.par('direct_conv_run', [p], work);
  } finally {
    ctx.free(buf);
  }
}

/**
 * Whether a convolution takes the direct path: grouped convolutions with several channels per
 * group (the GEMM would see tiny M and K per group), and small-M convolutions whose kernel
 * reaches over more than one pixel (where im2col packing costs as much as the products).
 */
function useDirect(info: Conv2dInfo): boolean {
  const cg = info.inChannels / info.groups;
  const m = info.outChannels / info.groups;
  const khw = info.kernelHeight * info.kernelWidth;
  // One float32 accumulator per output sums all K terms: keep K short enough that the
  // rounding stays inside the 1e-5 tolerance.
  if (cg * khw > DIRECT_MAX_K) return false;
  if (info.groups > 1) return cg > 1 && m <= DIRECT_MAX_M;
  return m <= DIRECT_MAX_M_DENSE && khw > 1;
}

/**
 * Whether a (non-pointwise) convolution takes the unpacked GEMM (`conv_ind_run`): B read in
 * place from a padded copy of the input instead of packing the im2col matrix per K×N block.
 * Packing costs ~1/M of the multiply-adds, the unpacked kernel one extra load per k step and
 * 8-pixel tiles within output rows. Measured on HRNet/ResNet-like 3×3 convolutions: unpacked
 * wins by 10–25 % up to 64 output channels per group, ties at 128 and loses beyond (its
 * weight panels and scattered B reads leave the cache). So: at most 64 output channels per
 * group, and tiles that waste at most 1/8 of a row (ow a multiple of 8, or ≥ 40 wide).
 */
function useUnpacked(info: Conv2dInfo, k: number): boolean {
  // The K offset table lives in the thread's scratch.
  if (256 + k * 4 > SCRATCH_BYTES) return false;
  if (CONV_PATH !== 'auto') return CONV_PATH === 'unpacked';
  const m = info.outChannels / info.groups;
  const ow = info.outWidth;
  return m <= 64 && 8 * (Math.ceil(ow / 8) * 8 - ow) <= ow;
}

let CONV_PATH: 'auto' | 'packed' | 'unpacked' = 'auto';

/**
 * @internal Test and benchmark hook: send every non-pointwise convolution that the GEMM runs
 * through the packed-B GEMM or the unpacked one (`auto`: the rule of `useUnpacked`).
 */
export function setConvPath(path: 'auto' | 'packed' | 'unpacked'): void {
  CONV_PATH = path;
}

/** Largest channels per group for the direct path (grouped). */
let DIRECT_MAX_M = 64;
/** Largest output channels for the direct path (ungrouped). */
let DIRECT_MAX_M_DENSE = 0;
/** Largest reduction length (channels per group × kernel taps) for the direct path. */
const DIRECT_MAX_K = 288;

/** @internal Tuning hook for the benchmark: thresholds of the direct convolution path. */
export function setDirectThresholds(grouped: number, dense: number): void {
  DIRECT_MAX_M = grouped;
  DIRECT_MAX_M_DENSE = dense;
}
