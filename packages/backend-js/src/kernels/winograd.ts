/**
 * 3×3 stride-1 convolution by Winograd's minimal filtering, F(4×4, 3×3) (Lavin & Gray, "Fast
 * Algorithms for Convolutional Neural Networks", 2016, points 0, ±1, ±2, ∞).
 *
 * Each 4×4 output tile is `Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A` for its 6×6 input patch `d` and each 3×3
 * filter `g`, so a tile costs 36 multiply-adds per (input, output) channel pair instead of 144.
 * The 36 element-wise products summed over input channels are 36 independent GEMMs,
 * `M[ξ] = U[ξ] · V[ξ]` (`U[ξ]`: output × input channels, `V[ξ]`: input channels × tiles), run
 * by the backend's one GEMM.
 *
 * A dilated convolution is a set of undilated ones: with dilation `d`, the outputs whose row and
 * column leave remainders `(p, q)` modulo `d` read only the inputs with the same remainders, a
 * 3×3 convolution of that sub-grid (its "phase"). The tiles of all phases are the columns of
 * the same GEMMs, so a large dilation (many phases of few tiles each) keeps the GEMMs wide.
 *
 * Every transform and product is in double precision (as the js backend's GEMM accumulates), so
 * the transforms' fractions and their error growth, which in float32 implementations grows with
 * the tile size, stay far below the final float32 rounding: the result is the direct
 * convolution's to within that rounding (tested against a float64 definition).
 *
 * @module
 */
import type { Conv2dInfo } from '@kernelzoo/core';
import { gemm, StridedMatrix } from '../gemm.js';

/** Output tile side. */
const TILE = 4;
/** Input patch side (tile + kernel − 1). */
const PATCH = 6;
/** Elements of a transformed patch or filter (6 × 6). */
const XI = PATCH * PATCH;
/**
 * Most doubles of transformed filters (32 MiB: a group's 256 × 256 filters fit whole; larger
 * groups run a block of output channels at a time).
 */
const FILTER_LIMIT = 1 << 22;
/**
 * Most doubles of transformed inputs, and of products (8 MiB each): they are computed a block of
 * tiles at a time to fit.
 */
const BLOCK_LIMIT = 1 << 20;
/** Fewest output tiles for which the transforms pay for themselves (one 4×4 tile ran 1.5–1.9× slower). */
const MIN_TILES = 4;
// G's fractions as multipliers (a division per use would dominate the filter transform).
const ONE_6TH = 1 / 6;
const ONE_12TH = 1 / 12;
const ONE_24TH = 1 / 24;

/**
 * Extra doubles between the 36 matrices of a transformed array: a stride of a multiple of 4 KiB
 * would send a patch's 36 values to one cache set (measured without it: HRNet's 32×64×48 → 32
 * convolution took 5.2 ms instead of 3.5).
 */
const SKEW = 8;

/** Smallest channel count per group on either side for which the transforms pay for themselves. */
const MIN_CHANNELS = 16;

let filters = new Float64Array(0);
let inputs = new Float64Array(0);
let products = new Float64Array(0);
let plane = new Float64Array(0);
const tmp = new Float64Array(XI);

/**
 * Whether {@link winogradConv2d} computes this convolution: a 3×3 kernel, stride 1, any
 * dilation, at least {@link MIN_CHANNELS} input and output channels per group, at least
 * {@link MIN_TILES} output tiles, tiles at least half filled with outputs, and one input
 * channel's transforms within a block. The thresholds are measured: below them the im2col GEMM
 * is as fast or faster.
 */
export function useWinograd(info: Conv2dInfo): boolean {
  const cg = info.inChannels / info.groups;
  const mg = info.outChannels / info.groups;
  if (
    info.kernelHeight !== 3 ||
    info.kernelWidth !== 3 ||
    info.strideHeight !== 1 ||
    info.strideWidth !== 1 ||
    cg < MIN_CHANNELS ||
    mg < MIN_CHANNELS ||
    XI * (cg + SKEW) > BLOCK_LIMIT
  )
    return false;
  const tiles = phasesOf(info).tiles;
  return tiles >= MIN_TILES && info.outHeight * info.outWidth >= (tiles * TILE * TILE) / 2;
}

/** One phase of a (dilated) convolution: an undilated 3×3 convolution on a sub-grid. */
interface Phase {
  /** Output rows and columns of the phase. */
  readonly rows: number;
  readonly cols: number;
  /** Input row and column (may be negative: padding) of the phase grid's (0, 0). */
  readonly y0: number;
  readonly x0: number;
  /** Index in an output plane of the phase's first output. */
  readonly outOffset: number;
  /** Tiles across; the phase's tiles are numbered from `firstTile`, row by row. */
  readonly tilesW: number;
  readonly firstTile: number;
  readonly tiles: number;
  /** Its input grid in {@link plane}: `gh × gw` (padded to whole tiles plus 2) from `gridBase`. */
  readonly gh: number;
  readonly gw: number;
  readonly gridBase: number;
}

/**
 * The phases of a convolution: remainders `(p, q)` modulo the dilation, outputs
 * `(p + dh·u, q + dw·v)`, input grid row `m` = input row `p − padTop + dh·m`.
 */
function phasesOf(info: Conv2dInfo): { phases: Phase[]; tiles: number; gridSize: number } {
  const { outHeight: oh, outWidth: ow, dilationHeight: dh, dilationWidth: dw } = info;
  const phases: Phase[] = [];
  let tiles = 0;
  let gridSize = 0;
  for (let p = 0; p < Math.min(dh, oh); p++) {
    for (let q = 0; q < Math.min(dw, ow); q++) {
      const rows = Math.ceil((oh - p) / dh);
      const cols = Math.ceil((ow - q) / dw);
      const tilesH = Math.ceil(rows / TILE);
      const tilesW = Math.ceil(cols / TILE);
      const gh = tilesH * TILE + 2;
      const gw = tilesW * TILE + 2;
      phases.push({
        rows,
        cols,
        y0: p - info.padTop,
        x0: q - info.padLeft,
        outOffset: p * ow + q,
        tilesW,
        firstTile: tiles,
        tiles: tilesH * tilesW,
        gh,
        gw,
        gridBase: gridSize,
      });
      tiles += tilesH * tilesW;
      gridSize += gh * gw;
    }
  }
  return { phases, tiles, gridSize };
}

/**
 * Writes the convolution of NCHW `x` by OIHW `w` (no bias, no activation) into `out`, for a
 * convolution {@link useWinograd} accepts.
 */
export function winogradConv2d(x: Float32Array, w: Float32Array, out: Float32Array, info: Conv2dInfo): void {
  const { batch, inChannels, inHeight: ih, inWidth: iw, outChannels, outHeight: oh, outWidth: ow } = info;
  const { groups, dilationHeight: dh, dilationWidth: dw } = info;
  const cg = inChannels / groups;
  const mg = outChannels / groups;
  const { phases, tiles, gridSize } = phasesOf(info);
  // Output channels per block: their transformed filters fit (all of them, unless the group is
  // very large: then each block transforms the inputs again).
  const ob = Math.max(1, Math.min(mg, Math.floor((FILTER_LIMIT / XI - SKEW) / cg)));
  // Tiles per block: the transformed inputs (cg per tile) and products (ob per tile) fit.
  const block = Math.max(1, Math.min(tiles, Math.floor((BLOCK_LIMIT / XI - SKEW) / Math.max(cg, ob))));
  const filterStride = ob * cg + SKEW;
  const inputStride = cg * block + SKEW;
  const productStride = ob * block + SKEW;
  if (filters.length < XI * filterStride) filters = new Float64Array(XI * filterStride);
  if (inputs.length < XI * inputStride) inputs = new Float64Array(XI * inputStride);
  if (products.length < XI * productStride) products = new Float64Array(XI * productStride);
  if (plane.length < gridSize) plane = new Float64Array(gridSize);
  for (let g = 0; g < groups; g++) {
    for (let o0 = 0; o0 < mg; o0 += ob) {
      const oCount = Math.min(ob, mg - o0);
      transformFilters(w, (g * mg + o0) * cg * 9, oCount, cg, filterStride);
      for (let n = 0; n < batch; n++) {
        const xBase = (n * inChannels + g * cg) * ih * iw;
        const outBase = (n * outChannels + g * mg + o0) * oh * ow;
        for (let t0 = 0; t0 < tiles; t0 += block) {
          const count = Math.min(block, tiles - t0);
          for (let c = 0; c < cg; c++) {
            const src = xBase + c * ih * iw;
            for (const phase of phases) {
              const from = Math.max(t0, phase.firstTile);
              const to = Math.min(t0 + count, phase.firstTile + phase.tiles);
              if (from >= to) continue;
              // The grid rows under these tiles: tile row ty covers grid rows 4·ty .. 4·ty + 5.
              const mFrom = Math.floor((from - phase.firstTile) / phase.tilesW) * TILE;
              const mTo = Math.floor((to - 1 - phase.firstTile) / phase.tilesW) * TILE + PATCH;
              fillGrid(x, src, ih, iw, phase, dh, dw, mFrom, mTo);
              transformInputs(phase, from, to, from - t0 + c * block, inputStride);
            }
          }
          products.fill(0, 0, XI * productStride);
          for (let xi = 0; xi < XI; xi++) {
            const v = new StridedMatrix(inputs, xi * inputStride, block, 1);
            gemm(
              oCount,
              count,
              cg,
              filters,
              xi * filterStride,
              cg,
              1,
              v,
              products,
              xi * productStride,
              block,
            );
          }
          for (const phase of phases) {
            const from = Math.max(t0, phase.firstTile);
            const to = Math.min(t0 + count, phase.firstTile + phase.tiles);
            if (from >= to) continue;
            transformOutputs(
              out,
              outBase,
              oCount,
              phase,
              from,
              to,
              from - t0,
              oh,
              ow,
              dh,
              dw,
              block,
              productStride,
            );
          }
        }
      }
    }
  }
}

/**
 * `U[ξ][o][c] = (G g Gᵀ)[ξ]` into {@link filters} for filter `(o, c)` of one group (3×3 each,
 * from `wOff`); `ξ` steps by `stride`.
 */
function transformFilters(w: Float32Array, wOff: number, mg: number, cg: number, stride: number): void {
  const dst = filters;
  const step = PATCH * stride;
  for (let o = 0; o < mg; o++) {
    for (let c = 0; c < cg; c++) {
      const s = wOff + (o * cg + c) * 9;
      // The filter's rows a, b, c; the rows of G g are a/4, −(a+b+c)/6, −(a−b+c)/6,
      // a/24 ± b/12 + c/6 and c, each multiplied by Gᵀ in `filterRow`.
      const a0 = w[s];
      const a1 = w[s + 1];
      const a2 = w[s + 2];
      const b0 = w[s + 3];
      const b1 = w[s + 4];
      const b2 = w[s + 5];
      const c0 = w[s + 6];
      const c1 = w[s + 7];
      const c2 = w[s + 8];
      const s0 = a0 + c0;
      const s1 = a1 + c1;
      const s2 = a2 + c2;
      const e0 = a0 * ONE_24TH + c0 * ONE_6TH;
      const e1 = a1 * ONE_24TH + c1 * ONE_6TH;
      const e2 = a2 * ONE_24TH + c2 * ONE_6TH;
      const o0 = b0 * ONE_12TH;
      const o1 = b1 * ONE_12TH;
      const o2 = b2 * ONE_12TH;
      const d = o * cg + c;
      filterRow(dst, d, stride, a0 * 0.25, a1 * 0.25, a2 * 0.25);
      filterRow(dst, d + step, stride, -(s0 + b0) * ONE_6TH, -(s1 + b1) * ONE_6TH, -(s2 + b2) * ONE_6TH);
      filterRow(dst, d + 2 * step, stride, (b0 - s0) * ONE_6TH, (b1 - s1) * ONE_6TH, (b2 - s2) * ONE_6TH);
      filterRow(dst, d + 3 * step, stride, e0 + o0, e1 + o1, e2 + o2);
      filterRow(dst, d + 4 * step, stride, e0 - o0, e1 - o1, e2 - o2);
      filterRow(dst, d + 5 * step, stride, c0, c1, c2);
    }
  }
}

/** One row of `(G g) Gᵀ`: the row `(x0, x1, x2)` of `G g` times `Gᵀ`, six values `stride` apart. */
function filterRow(dst: Float64Array, d: number, stride: number, x0: number, x1: number, x2: number): void {
  const even = x0 * ONE_24TH + x2 * ONE_6TH;
  const odd = x1 * ONE_12TH;
  dst[d] = x0 * 0.25;
  dst[d + stride] = -(x0 + x1 + x2) * ONE_6TH;
  dst[d + 2 * stride] = (x1 - x0 - x2) * ONE_6TH;
  dst[d + 3 * stride] = even + odd;
  dst[d + 4 * stride] = even - odd;
  dst[d + 5 * stride] = x2;
}

/**
 * Copies grid rows `mFrom .. mTo` of a phase's input grid of one channel into their place in
 * {@link plane}: grid `(m, k)` is input `(y0 + dh·m, x0 + dw·k)`, 0 outside the input.
 */
function fillGrid(
  x: Float32Array,
  src: number,
  ih: number,
  iw: number,
  phase: Phase,
  dh: number,
  dw: number,
  mFrom: number,
  mTo: number,
): void {
  const { y0, x0, gw, gridBase } = phase;
  plane.fill(0, gridBase + mFrom * gw, gridBase + mTo * gw);
  // Grid rows and columns inside the input: y0 + dh·m ∈ [0, ih).
  const mLo = Math.max(mFrom, Math.ceil(-y0 / dh));
  const mHi = Math.min(mTo, Math.floor((ih - 1 - y0) / dh) + 1);
  const kLo = Math.max(0, Math.ceil(-x0 / dw));
  const kHi = Math.min(gw, Math.floor((iw - 1 - x0) / dw) + 1);
  for (let m = mLo; m < mHi; m++) {
    const from = src + (y0 + dh * m) * iw + x0;
    const to = gridBase + m * gw;
    for (let k = kLo; k < kHi; k++) plane[to + k] = x[from + dw * k];
  }
}

/**
 * `V[ξ][c][t] = (Bᵀ d B)[ξ]` for the patches `d` of a phase's tiles `from .. to` (global tile
 * numbers) of the channel whose grid is in {@link plane}; tile `from` goes to slot `dOff` of
 * the block, `ξ` steps by `xiStride`.
 */
function transformInputs(phase: Phase, from: number, to: number, dOff: number, xiStride: number): void {
  const { tilesW, gw: pw, gridBase, firstTile } = phase;
  for (let tile = from; tile < to; tile++) {
    const local = tile - firstTile;
    const ty = Math.floor(local / tilesW);
    const base = gridBase + ty * TILE * pw + (local - ty * tilesW) * TILE;
    // Bᵀ d: column by column.
    for (let j = 0; j < PATCH; j++) {
      const s = base + j;
      const d0 = plane[s];
      const d1 = plane[s + pw];
      const d2 = plane[s + 2 * pw];
      const d3 = plane[s + 3 * pw];
      const d4 = plane[s + 4 * pw];
      const d5 = plane[s + 5 * pw];
      const a = d4 - 4 * d2;
      const b = d3 - 4 * d1;
      const e = d4 - d2;
      const f = 2 * (d3 - d1);
      tmp[j] = 4 * d0 - 5 * d2 + d4;
      tmp[6 + j] = a + b;
      tmp[12 + j] = a - b;
      tmp[18 + j] = e + f;
      tmp[24 + j] = e - f;
      tmp[30 + j] = 4 * d1 - 5 * d3 + d5;
    }
    // (Bᵀ d) B: each row.
    let d = dOff + tile - from;
    for (let i = 0; i < PATCH; i++) {
      const s = 6 * i;
      const d0 = tmp[s];
      const d1 = tmp[s + 1];
      const d2 = tmp[s + 2];
      const d3 = tmp[s + 3];
      const d4 = tmp[s + 4];
      const d5 = tmp[s + 5];
      const a = d4 - 4 * d2;
      const b = d3 - 4 * d1;
      const e = d4 - d2;
      const f = 2 * (d3 - d1);
      inputs[d] = 4 * d0 - 5 * d2 + d4;
      inputs[d + xiStride] = a + b;
      inputs[d + 2 * xiStride] = a - b;
      inputs[d + 3 * xiStride] = e + f;
      inputs[d + 4 * xiStride] = e - f;
      inputs[d + 5 * xiStride] = 4 * d1 - 5 * d3 + d5;
      d += PATCH * xiStride;
    }
  }
}

/**
 * `Y = Aᵀ M A` for each output channel of the block and a phase's tiles `from .. to` (tile
 * `from` in slot `mOff` of the block; `M[ξ]` from {@link products}, `ξ` stepping by
 * `xiStride`), written where the 4×4 tile lies inside the phase: its output `(u, v)` is output
 * `(p + dh·u, q + dw·v)` of the `oh × ow` plane.
 */
function transformOutputs(
  out: Float32Array,
  outBase: number,
  oCount: number,
  phase: Phase,
  from: number,
  to: number,
  mOff: number,
  oh: number,
  ow: number,
  dh: number,
  dw: number,
  block: number,
  xiStride: number,
): void {
  const rowStep = dh * ow;
  const { tilesW, firstTile } = phase;
  for (let o = 0; o < oCount; o++) {
    const planeBase = outBase + o * oh * ow + phase.outOffset;
    for (let tile = from; tile < to; tile++) {
      // Aᵀ M: column by column, 6 → 4.
      let s = o * block + mOff + tile - from;
      for (let j = 0; j < PATCH; j++) {
        const m0 = products[s];
        const m1 = products[s + 6 * xiStride];
        const m2 = products[s + 12 * xiStride];
        const m3 = products[s + 18 * xiStride];
        const m4 = products[s + 24 * xiStride];
        const m5 = products[s + 30 * xiStride];
        const a = m1 + m2;
        const b = m1 - m2;
        const e = m3 + m4;
        const f = m3 - m4;
        tmp[j] = m0 + a + e;
        tmp[6 + j] = b + 2 * f;
        tmp[12 + j] = a + 4 * e;
        tmp[18 + j] = b + 8 * f + m5;
        s += xiStride;
      }
      const local = tile - firstTile;
      const ty = Math.floor(local / tilesW);
      const u0 = ty * TILE;
      const v0 = (local - ty * tilesW) * TILE;
      const rows = Math.min(TILE, phase.rows - u0);
      const cols = Math.min(TILE, phase.cols - v0);
      // (Aᵀ M) A: each row, 6 → 4, the valid part written.
      for (let i = 0; i < rows; i++) {
        const r = 6 * i;
        const m0 = tmp[r];
        const m1 = tmp[r + 1];
        const m2 = tmp[r + 2];
        const m3 = tmp[r + 3];
        const m4 = tmp[r + 4];
        const m5 = tmp[r + 5];
        const a = m1 + m2;
        const b = m1 - m2;
        const e = m3 + m4;
        const f = m3 - m4;
        const d = planeBase + (u0 + i) * rowStep + v0 * dw;
        out[d] = m0 + a + e;
        if (cols > 1) out[d + dw] = b + 2 * f;
        if (cols > 2) out[d + 2 * dw] = a + 4 * e;
        if (cols > 3) out[d + 3 * dw] = b + 8 * f + m5;
      }
    }
  }
}
