/**
 * 3×3 stride-1 convolutions by Winograd's F(2×2, 3×3) (see asm/winograd.ts): 16 products
 * per 2×2 output tile and channel pair instead of 36, run by the packed GEMM's micro-kernel.
 *
 * The filters are transformed on every call from the GEMM's packed weights, which hold the
 * original values, into a block of 16/9 their size freed after the call, so the weights stay
 * held once, in one layout. That costs ~15 vector operations per channel pair against 16
 * multiply-adds per tile and pair: the path is taken only where the output has enough tiles
 * (see {@link useWinograd}). Float32 throughout; errors stay within ~2 ε·Σ|x·w|, as the GEMM's
 * (scripts/profile/wasm-winograd.mjs; the conformance bound is 8).
 *
 * @module
 */
import type { Activation, Conv2dInfo } from '@kernelzoo/core';
import type { KernelContext } from '../context.js';
import { gemmScratch, kBlock, MR, SCRATCH_BYTES } from './gemm.js';
import { padInput } from './padded-input.js';

/**
 * The least output pixels per channel, over the batch, for the Winograd path. Transforming the
 * filters on every call costs the same whatever the map's size and the batch: on HRNet's 16×12
 * maps (192 pixels) the path is 2× faster than the GEMM, on its 8×6 maps (48 pixels) 1.2×,
 * which is not worth a 4 MiB transient block per call for 256 × 256 filters
 * (scripts/profile/wasm-winograd.mjs).
 */
const MIN_PIXELS = 192;

let MODE: 'auto' | 'always' | 'never' = 'auto';

/**
 * @internal Test and benchmark hook: `always` sends every convolution the Winograd kernel can
 * compute through it, whatever its channels and size; `never` none; `auto` (the default)
 * follows the speed rules of {@link useWinograd}.
 */
export function setWinogradMode(mode: 'auto' | 'always' | 'never'): void {
  MODE = mode;
}

/** The word of wino_run's parameter block it clears on an Inf or NaN result (asm: W_FINITE). */
const FINITE_WORD = 22;

let CALLS = 0;

/** @internal Test hook: how many convolutions the Winograd path has computed so far. */
export function winogradCalls(): number {
  return CALLS;
}

/** Bytes a position block's stride may add to its size (see {@link skewed}). */
const SKEW_MAX = 4096;

/** Tiles per chunk whose V and M fit a thread's GEMM scratch (0: not even 8). */
function chunkTiles(ic: number, mp: number): number {
  const room = SCRATCH_BYTES - 256 - 32 * SKEW_MAX;
  return Math.floor(room / (64 * (ic + mp)) / 8) * 8;
}

/**
 * A thread's scratch for convolutions whose chunk of 8 tiles does not fit the GEMM scratch (input
 * plus output channels over 704, SPNet's 512- and 1024-channel 3×3s): they get a scratch of their
 * own for the call. Their transformed filters U (16 × mp × ic floats, 16 MiB at 512 → 512) do not
 * stay in the last-level cache, and every chunk streams all of U from memory, so chunks are as
 * large as this scratch holds, up to {@link OWN_MAX_TILES}: SPNet-50's 512-channel dilated 3×3 ran
 * 1.09× faster with 64 tiles a chunk than with 32, 1.14× with 128, 1.18× with 256
 * (`scripts/profile/conv-ab.mjs … 512 60 60 512 3 1 4` against builds of 6d43263 with
 * `OWN_SCRATCH_TILES` set to each; docs/benchmarks.md, "Eighth round"). At 256 channels (U 4 MiB)
 * larger chunks were slower (0.95× with 32 tiles against the GEMM scratch's 8): V and M leave the
 * L2 cache.
 */
const OWN_SCRATCH_BYTES = 16 << 20;

/** Most tiles a chunk of an own scratch holds. */
const OWN_MAX_TILES = 256;

/** Tiles per chunk in an own scratch: as many as {@link OWN_SCRATCH_BYTES} holds, a multiple of 8. */
function ownChunkTiles(ic: number, mp: number): number {
  return Math.min(OWN_MAX_TILES, Math.floor(OWN_SCRATCH_BYTES / (64 * (ic + mp)) / 8) * 8);
}

/** Most input plus (padded) output channels for which the Winograd path takes its own scratch (64 tiles a chunk, 16 MiB a thread). */
const MAX_CHANNELS = 4096;

/** Bytes a thread's scratch needs for chunks of `tc` tiles: the partial-tile buffer, then V and M. */
function scratchBytes(ic: number, mp: number, tc: number): number {
  return 256 + 16 * (skewed(ic * tc * 4) + skewed(mp * tc * 4));
}

/**
 * Tiles per chunk: a multiple of 8, at most `most` (the scratch's room), and among those the
 * one that gives the busiest of `nt` threads the fewest tiles (each takes a contiguous share of
 * the chunks of the batch's `batch × tiles` tiles, as wino_run splits them), the largest on a
 * tie.
 */
export function chunkSize(tiles: number, batch: number, most: number, nt: number): number {
  let best = 8;
  let bestLoad = Number.POSITIVE_INFINITY;
  const total = batch * tiles;
  const top = Math.min(Math.floor(most / 8) * 8, Math.ceil(total / 8) * 8);
  for (let tc = top; tc >= 8; tc -= 8) {
    const units = Math.ceil(total / tc);
    let load = 0;
    for (let t = 0; t < nt; t++) {
      const u0 = Math.floor((units * t) / nt);
      const u1 = Math.floor((units * (t + 1)) / nt);
      load = Math.max(load, Math.min(total, u1 * tc) - Math.min(total, u0 * tc));
    }
    if (load < bestLoad) {
      best = tc;
      bestLoad = load;
    }
  }
  return best;
}

/**
 * A position block's stride in bytes: `bytes` rounded up so that it is 320 past a multiple of
 * 4096. The 16 blocks (of U, V or M) are written and read together; strides that are
 * multiples of 4 KiB put them all in one set of a 4 KiB-periodic L1 cache (measured: a third
 * of a 256 → 32-channel layer's time, and 3× slower filter transforms at 256 → 256).
 */
function skewed(bytes: number): number {
  return bytes + ((320 - (bytes % SKEW_MAX) + SKEW_MAX) % SKEW_MAX);
}

/**
 * Whether a convolution takes the Winograd path. The kernel computes 3×3, stride-1,
 * undilated, ungrouped convolutions with a linear or ReLU epilogue and at most
 * {@link MAX_CHANNELS} input plus output channels. It is taken for those with at least 16
 * channels on both sides (below that the transforms cost as much as they save), at least
 * {@link MIN_PIXELS} output pixels per channel over the batch, and tiles at least 3/4 filled
 * (the tile grid's width is rounded up to even).
 */
export function useWinograd(info: Conv2dInfo, activation: Activation): boolean {
  if (MODE === 'never') return false;
  if (info.kernelHeight !== 3 || info.kernelWidth !== 3 || info.groups !== 1) return false;
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return false;
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return false;
  if (activation === 'sigmoid') return false;
  const { inChannels: ic, outChannels: oc, outHeight: oh, outWidth: ow } = info;
  if (ic + Math.ceil(oc / MR) * MR > MAX_CHANNELS) return false;
  if (MODE === 'always') return true;
  if (ic < 16 || oc < 16 || info.batch * oh * ow < MIN_PIXELS) return false;
  const grid = 4 * Math.ceil(oh / 2) * Math.ceil(Math.ceil(ow / 2) / 2) * 2;
  return 4 * oh * ow >= 3 * grid;
}

/**
 * Runs the convolution by Winograd F(2×2, 3×3) into `outPtr`. Returns false, the output partly
 * written, when a result came out Inf or NaN: the transforms spread a non-finite input over
 * its whole tile (and any non-finite input makes some result non-finite), so the caller then
 * runs the GEMM over the whole output, whose results are the direct convolution's. Weights
 * holding Inf or NaN never come here (`PackedWeights.finite`).
 * @param packA - the GEMM's packed weights (pack_a of outChannels × inChannels·9, K block kc9).
 */
export function winogradConv2d(
  ctx: KernelContext,
  xp: number,
  packA: number,
  kc9: number,
  bp: number,
  act: number,
  info: Conv2dInfo,
  outPtr: number,
): boolean {
  const { batch, inChannels: ic, outChannels: oc, outHeight: oh, outWidth: ow } = info;
  const mp = Math.ceil(oc / MR) * MR;
  const th = Math.ceil(oh / 2);
  const tw = Math.ceil(Math.ceil(ow / 2) / 2) * 2;
  const tiles = th * tw;
  // Chunks of tiles whose V and M fit the GEMM's scratch, or, for many channels, a scratch of
  // the call's own.
  const shared = chunkTiles(ic, mp) >= 8;
  const tc = chunkSize(tiles, batch, shared ? chunkTiles(ic, mp) : ownChunkTiles(ic, mp), ctx.threads);
  const vPos = skewed(ic * tc * 4);
  const mPos = skewed(mp * tc * 4);
  const uPos = skewed(mp * ic * 4);
  // Per thread: the partial-tile buffer, then V and M.
  const kc = kBlock(ic);
  const perThread = shared ? SCRATCH_BYTES : scratchBytes(ic, mp, tc);
  let own = 0;
  let u = 0;
  let pad = 0;
  try {
    if (!shared) own = ctx.alloc(perThread * ctx.threads, 'Winograd conv2d scratch');
    const scratch = shared ? gemmScratch(ctx) : own;
    let hp: number;
    let wq: number;
    // Tile (ty, tx) reads padded rows 2ty..2ty+3 and phase columns tx..tx+1, four tiles a
    // load: columns up to tw in all.
    ({ buf: pad, hp, wq } = padInput(ctx, xp, info, { phases: 2, rows: 2 * th + 2, cols: tw + 1 }));
    u = ctx.alloc(16 * uPos, 'Winograd-transformed conv2d weights');
    ctx.par('wino_filter_run', [ctx.params([packA, kc9, ic, mp, u, kc, uPos])], mp * ic * 16);
    const p = ctx.params([
      pad,
      hp,
      wq,
      batch,
      ic,
      oc,
      oh,
      ow,
      th,
      tw,
      u,
      mp,
      kc,
      outPtr,
      bp,
      act,
      scratch,
      perThread,
      tc,
      vPos,
      mPos,
      uPos,
      1,
    ]);
    ctx.par('wino_run', [p], batch * oc * oh * ow * ic * 4);
    if (ctx.i32()[(p >> 2) + FINITE_WORD] === 0) return false;
    CALLS++;
  } finally {
    ctx.free(u);
    ctx.free(pad);
    ctx.free(own);
  }
  return true;
}
