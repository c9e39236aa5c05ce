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
 * 1×3 and 3×1 kernels take the same F(4, 3) along their long axis only: 4 outputs from a 6-input
 * strip, 6 multiply-adds per channel pair instead of 12, in 6 GEMMs.
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
import { gemmPackedA, PackedALayout, StridedMatrix } from '../gemm.js';

/** Output tile side along a 3-tap axis. */
const TILE = 4;
/** Input patch side along a 3-tap axis (tile + kernel − 1). */
const PATCH = 6;
/** Elements of a transformed 3×3 patch or filter (6 × 6). */
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
 * would send a patch's 36 values to one cache set.
 */
const SKEW = 8;

/** Smallest channel count per group on either side for which the transforms pay for themselves. */
const MIN_CHANNELS = 16;

let filters = new Float64Array(0);
let inputs = new Float64Array(0);
let products = new Float64Array(0);
let plane = new Float64Array(0);
const tmp = new Float64Array(XI);
const row = new Float64Array(TILE);

/**
 * The tiling of one convolution: `th × tw` outputs per tile from a `ph × pw` input patch,
 * `xi = ph · pw` transformed values (so `xi` GEMMs). A 3-tap axis has tile 4 and patch 6; a
 * 1-tap axis (of a 1×3 or 3×1 kernel) tile and patch 1, and its dilation, which it never uses,
 * is taken as 1 (no phases along it).
 */
interface Geometry {
  readonly th: number;
  readonly tw: number;
  readonly ph: number;
  readonly pw: number;
  readonly xi: number;
  /** Dilations of the two axes as the tiling uses them. */
  readonly dh: number;
  readonly dw: number;
}

function geometryOf(info: Conv2dInfo): Geometry {
  const tallKernel = info.kernelHeight === 3;
  const wideKernel = info.kernelWidth === 3;
  const ph = tallKernel ? PATCH : 1;
  const pw = wideKernel ? PATCH : 1;
  return {
    th: tallKernel ? TILE : 1,
    tw: wideKernel ? TILE : 1,
    ph,
    pw,
    xi: ph * pw,
    dh: tallKernel ? info.dilationHeight : 1,
    dw: wideKernel ? info.dilationWidth : 1,
  };
}

/**
 * Whether {@link winogradConv2d} computes this convolution: a 3×3, 1×3 or 3×1 kernel, stride
 * 1, any dilation, at least {@link MIN_CHANNELS} input and output channels per group, at least
 * {@link MIN_TILES} output tiles, tiles at least half filled with outputs, and one input
 * channel's transforms within a block. The thresholds are measured: below them the im2col GEMM
 * is as fast or faster.
 */
export function useWinograd(info: Conv2dInfo): boolean {
  const cg = info.inChannels / info.groups;
  const mg = info.outChannels / info.groups;
  const { kernelHeight: kh, kernelWidth: kw } = info;
  if (
    (kh !== 3 && kw !== 3) ||
    (kh !== 3 && kh !== 1) ||
    (kw !== 3 && kw !== 1) ||
    info.strideHeight !== 1 ||
    info.strideWidth !== 1 ||
    cg < MIN_CHANNELS ||
    mg < MIN_CHANNELS
  )
    return false;
  const geo = geometryOf(info);
  if (geo.xi * (cg + SKEW) > BLOCK_LIMIT) return false;
  const tiles = phasesOf(info, geo).tiles;
  return tiles >= MIN_TILES && info.outHeight * info.outWidth >= (tiles * geo.th * geo.tw) / 2;
}

/** One phase of a (dilated) convolution: an undilated convolution on a sub-grid. */
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
  /** Its input grid in {@link plane}: `gh × gw` (padded to whole tiles plus the patch overlap) from `gridBase`. */
  readonly gh: number;
  readonly gw: number;
  readonly gridBase: number;
}

/**
 * The phases of a convolution: remainders `(p, q)` modulo the dilation, outputs
 * `(p + dh·u, q + dw·v)`, input grid row `m` = input row `p − padTop + dh·m`.
 */
function phasesOf(info: Conv2dInfo, geo: Geometry): { phases: Phase[]; tiles: number; gridSize: number } {
  const { outHeight: oh, outWidth: ow } = info;
  const { th, tw, dh, dw } = geo;
  const phases: Phase[] = [];
  let tiles = 0;
  let gridSize = 0;
  for (let p = 0; p < Math.min(dh, oh); p++) {
    for (let q = 0; q < Math.min(dw, ow); q++) {
      const rows = Math.ceil((oh - p) / dh);
      const cols = Math.ceil((ow - q) / dw);
      const tilesH = Math.ceil(rows / th);
      const tilesW = Math.ceil(cols / tw);
      const gh = tilesH * th + geo.ph - th;
      const gw = tilesW * tw + geo.pw - tw;
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
 * convolution {@link useWinograd} accepts, and returns true; returns false as soon as it meets
 * an Inf or NaN in `x` or `w` (the transforms would mix it into every output of its tile, where
 * a direct convolution keeps it to the outputs that read it), with `out` partly written.
 */
export function winogradConv2d(
  x: Float32Array,
  w: Float32Array,
  out: Float32Array,
  info: Conv2dInfo,
): boolean {
  const { batch, inChannels, inHeight: ih, inWidth: iw, outChannels, outHeight: oh, outWidth: ow } = info;
  const groups = info.groups;
  const cg = inChannels / groups;
  const mg = outChannels / groups;
  const geo = geometryOf(info);
  const { xi: xiCount, th, ph } = geo;
  const taps = info.kernelHeight * info.kernelWidth;
  const { phases, tiles, gridSize } = phasesOf(info, geo);
  // Output channels per block: their transformed filters fit (all of them, unless the group is
  // very large: then each block transforms the inputs again).
  // (Written in the GEMM's packed layout, whose panels pad a block's rows by at most 2.)
  const ob = Math.max(1, Math.min(mg, Math.floor((FILTER_LIMIT / xiCount - SKEW) / cg) - 2));
  // Tiles per block: the transformed inputs (cg per tile) and products (ob per tile) fit.
  const block = Math.max(1, Math.min(tiles, Math.floor((BLOCK_LIMIT / xiCount - SKEW) / Math.max(cg, ob))));
  const filterStride = (ob + 2) * cg + SKEW;
  const inputStride = cg * block + SKEW;
  const productStride = ob * block + SKEW;
  if (filters.length < xiCount * filterStride) filters = new Float64Array(xiCount * filterStride);
  if (inputs.length < xiCount * inputStride) inputs = new Float64Array(xiCount * inputStride);
  if (products.length < xiCount * productStride) products = new Float64Array(xiCount * productStride);
  if (plane.length < gridSize) plane = new Float64Array(gridSize);
  for (let g = 0; g < groups; g++) {
    for (let o0 = 0; o0 < mg; o0 += ob) {
      const oCount = Math.min(ob, mg - o0);
      const layout = new PackedALayout(oCount, cg);
      if (!transformFilters(w, (g * mg + o0) * cg * taps, layout, filterStride, geo)) return false;
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
              // The grid rows under these tiles: tile row ty covers grid rows th·ty .. th·ty + ph − 1.
              const mFrom = Math.floor((from - phase.firstTile) / phase.tilesW) * th;
              const mTo = Math.floor((to - 1 - phase.firstTile) / phase.tilesW) * th + ph;
              if (!fillGrid(x, src, ih, iw, phase, geo, mFrom, mTo)) return false;
              transformInputs(phase, geo, from, to, from - t0 + c * block, inputStride);
            }
          }
          products.fill(0, 0, xiCount * productStride);
          for (let xi = 0; xi < xiCount; xi++) {
            const v = new StridedMatrix(inputs, xi * inputStride, block, 1);
            gemmPackedA(
              oCount,
              count,
              cg,
              filters,
              xi * filterStride,
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
            const slots = { from, to, mOff: from - t0, block, xiStride: productStride };
            transformOutputs(out, outBase, oCount, phase, geo, slots, oh, ow);
          }
        }
      }
    }
  }
  return true;
}

/**
 * `U[ξ][o][c] = (G g Gᵀ)[ξ]` (3×3) or `(G g)[ξ]` (1×3, 3×1) into {@link filters} for filter
 * `(o, c)` of one block of output channels (from `wOff`), each `U[ξ]` written in the GEMM's
 * packed layout for A (`layout`, so the GEMM copies it instead of gathering it; the padding
 * rows are left as they are, since their products are never written); `ξ` steps by `stride`.
 * Returns false if a weight is Inf or NaN.
 */
function transformFilters(
  w: Float32Array,
  wOff: number,
  layout: PackedALayout,
  stride: number,
  geo: Geometry,
): boolean {
  const dst = filters;
  const { m: mg, k: cg } = layout;
  // The sum of every weight read: Inf or NaN exactly when one of them is.
  let probe = 0;
  if (geo.xi !== XI) {
    // A 1×3 or 3×1 filter: its three taps are consecutive either way.
    for (let o = 0; o < mg; o++) {
      for (let c = 0; c < cg; c++) {
        const s = wOff + (o * cg + c) * 3;
        const g0 = w[s];
        const g1 = w[s + 1];
        const g2 = w[s + 2];
        probe += g0 + g1 + g2;
        filterLine(dst, layout.index(o, c), stride, g0, g1, g2);
      }
    }
    return probe - probe === 0;
  }
  const step = PATCH * stride;
  for (let o = 0; o < mg; o++) {
    for (let c = 0; c < cg; c++) {
      const s = wOff + (o * cg + c) * 9;
      // G g (6 × 3) column by column, then each of its rows times Gᵀ.
      for (let j = 0; j < 3; j++) {
        const g0 = w[s + j];
        const g1 = w[s + 3 + j];
        const g2 = w[s + 6 + j];
        probe += g0 + g1 + g2;
        filterLine(tmp, j, 3, g0, g1, g2);
      }
      const d = layout.index(o, c);
      for (let i = 0; i < PATCH; i++)
        filterLine(dst, d + i * step, stride, tmp[3 * i], tmp[3 * i + 1], tmp[3 * i + 2]);
    }
  }
  return probe - probe === 0;
}

/** `G (x0, x1, x2)ᵀ`: six values, `stride` apart from `dst[d]`. */
function filterLine(dst: Float64Array, d: number, stride: number, x0: number, x1: number, x2: number): void {
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
 * {@link plane}: grid `(m, k)` is input `(y0 + dh·m, x0 + dw·k)` (the tiling's dilations), 0
 * outside the input. Returns false if a value copied is Inf or NaN.
 */
function fillGrid(
  x: Float32Array,
  src: number,
  ih: number,
  iw: number,
  phase: Phase,
  geo: Geometry,
  mFrom: number,
  mTo: number,
): boolean {
  const { y0, x0, gw, gridBase } = phase;
  const { dh, dw } = geo;
  plane.fill(0, gridBase + mFrom * gw, gridBase + mTo * gw);
  // Grid rows and columns inside the input: y0 + dh·m ∈ [0, ih).
  const mLo = Math.max(mFrom, Math.ceil(-y0 / dh));
  const mHi = Math.min(mTo, Math.floor((ih - 1 - y0) / dh) + 1);
  const kLo = Math.max(0, Math.ceil(-x0 / dw));
  const kHi = Math.min(gw, Math.floor((iw - 1 - x0) / dw) + 1);
  // The sum of every value copied: Inf or NaN exactly when one of them is.
  let probe = 0;
  for (let m = mLo; m < mHi; m++) {
    const from = src + (y0 + dh * m) * iw + x0;
    const to = gridBase + m * gw;
    for (let k = kLo; k < kHi; k++) {
      const v = x[from + dw * k];
      plane[to + k] = v;
      probe += v;
    }
  }
  return probe - probe === 0;
}

/**
 * `V[ξ][c][t] = (Bᵀ d B)[ξ]` (3×3) or `(Bᵀ d)[ξ]` (1×3, 3×1) for the patches `d` of a phase's
 * tiles `from .. to` (global tile numbers) of the channel whose grid is in {@link plane}; tile
 * `from` goes to slot `dOff` of the block, `ξ` steps by `xiStride`.
 */
function transformInputs(
  phase: Phase,
  geo: Geometry,
  from: number,
  to: number,
  dOff: number,
  xiStride: number,
): void {
  const { tilesW, gw: pw, gridBase, firstTile } = phase;
  const { th, tw } = geo;
  if (geo.xi !== XI) {
    // A strip: along the row (1×3) or down the column (3×1).
    const e = tw === TILE ? 1 : pw;
    for (let tile = from; tile < to; tile++) {
      const local = tile - firstTile;
      const ty = Math.floor(local / tilesW);
      const s = gridBase + ty * th * pw + (local - ty * tilesW) * tw;
      inputLine(
        inputs,
        dOff + tile - from,
        xiStride,
        plane[s],
        plane[s + e],
        plane[s + 2 * e],
        plane[s + 3 * e],
        plane[s + 4 * e],
        plane[s + 5 * e],
      );
    }
    return;
  }
  for (let tile = from; tile < to; tile++) {
    const local = tile - firstTile;
    const ty = Math.floor(local / tilesW);
    const base = gridBase + ty * TILE * pw + (local - ty * tilesW) * TILE;
    // Bᵀ d column by column, then each of its rows times B.
    for (let j = 0; j < PATCH; j++) {
      const s = base + j;
      inputLine(
        tmp,
        j,
        6,
        plane[s],
        plane[s + pw],
        plane[s + 2 * pw],
        plane[s + 3 * pw],
        plane[s + 4 * pw],
        plane[s + 5 * pw],
      );
    }
    const d = dOff + tile - from;
    for (let i = 0; i < PATCH; i++) {
      const s = 6 * i;
      inputLine(
        inputs,
        d + i * PATCH * xiStride,
        xiStride,
        tmp[s],
        tmp[s + 1],
        tmp[s + 2],
        tmp[s + 3],
        tmp[s + 4],
        tmp[s + 5],
      );
    }
  }
}

/** `Bᵀ (d0 … d5)ᵀ`: six values, `stride` apart from `dst[d]`. */
function inputLine(
  dst: Float64Array,
  d: number,
  stride: number,
  d0: number,
  d1: number,
  d2: number,
  d3: number,
  d4: number,
  d5: number,
): void {
  const a = d4 - 4 * d2;
  const b = d3 - 4 * d1;
  const e = d4 - d2;
  const f = 2 * (d3 - d1);
  dst[d] = 4 * d0 - 5 * d2 + d4;
  dst[d + stride] = a + b;
  dst[d + 2 * stride] = a - b;
  dst[d + 3 * stride] = e + f;
  dst[d + 4 * stride] = e - f;
  dst[d + 5 * stride] = 4 * d1 - 5 * d3 + d5;
}

/** Where one phase's tiles `from .. to` sit in a block: tile `from` in slot `mOff` of `block`, `ξ` stepping by `xiStride`. */
interface Slots {
  readonly from: number;
  readonly to: number;
  readonly mOff: number;
  readonly block: number;
  readonly xiStride: number;
}

/**
 * `Y = Aᵀ M A` (3×3) or `Aᵀ M` (1×3, 3×1) for each output channel of the block and a phase's
 * tiles (`M[ξ]` from {@link products}), written where the tile lies inside the phase: its
 * output `(u, v)` is output `(p + dh·u, q + dw·v)` of the `oh × ow` plane.
 */
function transformOutputs(
  out: Float32Array,
  outBase: number,
  oCount: number,
  phase: Phase,
  geo: Geometry,
  slots: Slots,
  oh: number,
  ow: number,
): void {
  const { from, to, mOff, block, xiStride } = slots;
  const { th, tw, dw } = geo;
  const rowStep = geo.dh * ow;
  const { tilesW, firstTile } = phase;
  const strip = geo.xi !== XI;
  // A strip's outputs lie along the row (1×3) or down the column (3×1).
  const along = tw === TILE ? dw : rowStep;
  for (let o = 0; o < oCount; o++) {
    const planeBase = outBase + o * oh * ow + phase.outOffset;
    for (let tile = from; tile < to; tile++) {
      const s = o * block + mOff + tile - from;
      const local = tile - firstTile;
      const ty = Math.floor(local / tilesW);
      const u0 = ty * th;
      const v0 = (local - ty * tilesW) * tw;
      const rows = Math.min(th, phase.rows - u0);
      const cols = Math.min(tw, phase.cols - v0);
      const d0 = planeBase + u0 * rowStep + v0 * dw;
      if (strip) {
        const x1 = xiStride;
        outputLine(
          row,
          0,
          1,
          products[s],
          products[s + x1],
          products[s + 2 * x1],
          products[s + 3 * x1],
          products[s + 4 * x1],
          products[s + 5 * x1],
        );
        const n = tw === TILE ? cols : rows;
        for (let k = 0; k < n; k++) out[d0 + k * along] = row[k];
        continue;
      }
      // Aᵀ M column by column (6 → 4), then each of its rows times A into `row`.
      const x6 = 6 * xiStride;
      for (let j = 0; j < PATCH; j++) {
        const m = s + j * xiStride;
        outputLine(
          tmp,
          j,
          6,
          products[m],
          products[m + x6],
          products[m + 2 * x6],
          products[m + 3 * x6],
          products[m + 4 * x6],
          products[m + 5 * x6],
        );
      }
      // The valid part of each row.
      for (let i = 0; i < rows; i++) {
        const r = 6 * i;
        outputLine(row, 0, 1, tmp[r], tmp[r + 1], tmp[r + 2], tmp[r + 3], tmp[r + 4], tmp[r + 5]);
        const d = d0 + i * rowStep;
        for (let k = 0; k < cols; k++) out[d + k * dw] = row[k];
      }
    }
  }
}

/** `Aᵀ (m0 … m5)ᵀ`: four values, `stride` apart from `dst[d]`. */
function outputLine(
  dst: Float64Array,
  d: number,
  stride: number,
  m0: number,
  m1: number,
  m2: number,
  m3: number,
  m4: number,
  m5: number,
): void {
  const a = m1 + m2;
  const b = m1 - m2;
  const e = m3 + m4;
  const f = m3 - m4;
  dst[d] = m0 + a + e;
  dst[d + stride] = b + 2 * f;
  dst[d + 2 * stride] = a + 4 * e;
  dst[d + 3 * stride] = b + 8 * f + m5;
}
