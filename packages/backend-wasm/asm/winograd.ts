// AssemblyScript: 3×3 stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3)
// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016).
//
// Each 2×2 tile of output pixels is computed from the 4×4 patch d of (padded) input under it:
//   Y = Aᵀ [ Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B) ] A
// with the matrices below, so 16 products per tile and channel pair instead of 36. The 16
// products of one position (ξ, ν) of the 4×4 transformed tile, over all channel pairs, are one
// GEMM: M_ξν[o, t] = Σ_c U_ξν[o, c] · V_ξν[c, t], run by the packed GEMM's micro-kernel with
// U (the transformed filters) as its packed A and V (the transformed input tiles) as its
// packed B:
//   filters            G  = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
//   input              Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
//   output             Aᵀ = [1 1 1 0; 0 1 −1 −1]
//
// Precision: float32 throughout; each transform is two passes of sums and differences of 2 or
// 3 values (and halvings, which are exact), so a transformed value is a few roundings from exact.
//
// Tiles are numbered over a grid whose width is the tile columns rounded up to even, so that
// tiles 2i and 2i + 1 lie in one tile row. The input transform runs on four tiles at once
// (one per lane), reading the zero-padded input split into even and odd columns
// (`direct_pad_run` with stride phase 2: tile column t's 4 input columns are phase 0 and 1 at
// t and t + 1): one load per row and phase when the four lie in one tile row, two (a pair
// each) when they do not.

import { MR, micro, NR } from './micro';
import { SLOT } from './slot';

// ---- parameter block of wino_run (i32 words) ----
const W_PAD = 0; // the padded input, split into 2 column phases (direct_pad_run's layout)
const W_HP = 1; // its rows per plane
const W_WQ = 2; // its floats per phase row
const W_BATCH = 3;
const W_IC = 4;
const W_OC = 5;
const W_OH = 6;
const W_OW = 7;
const W_TH = 8; // tile rows
const W_TW = 9; // tile columns, rounded up to even
const W_U = 10; // the transformed filters: 16 packed A blocks of mp × ic
const W_MP = 11; // output channels rounded up to MR
const W_KC = 12; // the K block (input channels) of U's packing
const W_OUT = 13;
const W_BIAS = 14; // 0: none
const W_ACT = 15; // 0 linear, 1 relu
const W_SCRATCH = 16;
const W_SCRATCH_BYTES = 17;
const W_T = 18; // tiles per chunk (a multiple of NR)
const W_VPOS = 19; // bytes between V's position blocks (at least ic × T floats)
const W_MPOS = 20; // bytes between M's position blocks (at least mp × T floats: whole 5-row tiles)
const W_UPOS = 21; // bytes between U's position blocks (at least mp × ic floats)
const W_FINITE = 22; // set to 0 by a thread that computed an Inf or NaN (see wino_run)

// ---- parameter block of wino_filter_run ----
const F_A = 0; // the im2col GEMM's packed weights (pack_a of oc × ic·9)
const F_KC9 = 1; // their K block
const F_IC = 2;
const F_MP = 3;
const F_U = 4; // destination
const F_KC = 5; // U's K block
const F_UPOS = 6; // bytes between U's position blocks (at least mp × ic floats)

function pi(p: usize, i: i32): i32 {
  return load<i32>(p + ((<usize>i) << 2));
}

/**
 * Transforms the filters, U_ξν = (G g Gᵀ)_ξν per (output, input) channel pair, read from the
 * GEMM's packed weights (pack_a of mp × ic·9: the original values, rows past the output
 * channels zero) and written as 16 packed A blocks of mp × ic. In both layouts the MR rows of
 * a panel are consecutive for each column, so rows 0–3 of a panel are transformed as one
 * vector and row 4 alone. Float32 arithmetic: each value of U is at most 4 roundings from
 * exact (a sum of up to 9 weights, scaled by ¼). Threads split the panels.
 */
export function wino_filter_run(p: usize, share: i32, nt: i32): i32 {
  const a = <usize>pi(p, F_A);
  const kc9 = pi(p, F_KC9);
  const ic = pi(p, F_IC);
  const mp = pi(p, F_MP);
  const u = <usize>pi(p, F_U);
  const kcBlock = pi(p, F_KC);
  const block = <usize>pi(p, F_UPOS);
  const k9 = ic * 9;
  const panels = mp / MR;
  const p0 = <i32>((<i64>panels * share) / nt);
  const p1 = <i32>((<i64>panels * (share + 1)) / nt);
  for (let pn = p0; pn < p1; pn++) {
    const ip = pn * MR;
    for (let pc = 0; pc < ic; pc += kcBlock) {
      const kc = min(kcBlock, ic - pc);
      let at = u + ((<usize>(pc * mp + ip * kc)) << 2);
      for (let c = pc; c < pc + kc; c++) {
        // Byte address of tap t's MR rows: in one K block of the im2col packing (step MR
        // floats), or for a channel across two blocks, tap by tap.
        const q0 = c * 9;
        const b0 = (q0 / kc9) * kc9;
        const g0 = a + ((<usize>(b0 * mp + ip * min(kc9, k9 - b0) + (q0 - b0) * MR)) << 2);
        let g1 = g0 + 20;
        let g2 = g0 + 40;
        let g3 = g0 + 60;
        let g4 = g0 + 80;
        let g5 = g0 + 100;
        let g6 = g0 + 120;
        let g7 = g0 + 140;
        let g8 = g0 + 160;
        if (q0 + 8 >= b0 + kc9) {
          g1 = tapAt(a, q0 + 1, kc9, k9, mp, ip);
          g2 = tapAt(a, q0 + 2, kc9, k9, mp, ip);
          g3 = tapAt(a, q0 + 3, kc9, k9, mp, ip);
          g4 = tapAt(a, q0 + 4, kc9, k9, mp, ip);
          g5 = tapAt(a, q0 + 5, kc9, k9, mp, ip);
          g6 = tapAt(a, q0 + 6, kc9, k9, mp, ip);
          g7 = tapAt(a, q0 + 7, kc9, k9, mp, ip);
          g8 = tapAt(a, q0 + 8, kc9, k9, mp, ip);
        }
        filterRows(g0, g1, g2, g3, g4, g5, g6, g7, g8, at, block);
        filterRow4(g0, g1, g2, g3, g4, g5, g6, g7, g8, at, block);
        at += MR * 4;
      }
    }
  }
  return max(0, p1 - p0);
}

/** Byte address of column q's MR rows of panel `ip` in pack_a's layout (K block kc9 of k9). */
function tapAt(a: usize, q: i32, kc9: i32, k9: i32, mp: i32, ip: i32): usize {
  const b = (q / kc9) * kc9;
  return a + ((<usize>(b * mp + ip * min(kc9, k9 - b) + (q - b) * MR)) << 2);
}

/** Rows 0–3 of a panel for one input channel: U = G g Gᵀ, one row per lane. */
function filterRows(
  a0: usize,
  a1: usize,
  a2: usize,
  a3: usize,
  a4: usize,
  a5: usize,
  a6: usize,
  a7: usize,
  a8: usize,
  at: usize,
  block: usize,
): void {
  const half = f32x4.splat(0.5);
  // h = g Gᵀ: per kernel row y, (g0, (g0 + g1 + g2)/2, (g0 − g1 + g2)/2, g2).
  const g00 = v128.load(a0);
  const g01 = v128.load(a1);
  const g02 = v128.load(a2);
  const g10 = v128.load(a3);
  const g11 = v128.load(a4);
  const g12 = v128.load(a5);
  const g20 = v128.load(a6);
  const g21 = v128.load(a7);
  const g22 = v128.load(a8);
  const t0 = f32x4.add(g00, g02);
  const t1 = f32x4.add(g10, g12);
  const t2 = f32x4.add(g20, g22);
  filterColumnV(at, block, 0, g00, g10, g20, half);
  filterColumnV(
    at,
    block,
    1,
    f32x4.mul(f32x4.add(t0, g01), half),
    f32x4.mul(f32x4.add(t1, g11), half),
    f32x4.mul(f32x4.add(t2, g21), half),
    half,
  );
  filterColumnV(
    at,
    block,
    2,
    f32x4.mul(f32x4.sub(t0, g01), half),
    f32x4.mul(f32x4.sub(t1, g11), half),
    f32x4.mul(f32x4.sub(t2, g21), half),
    half,
  );
  filterColumnV(at, block, 3, g02, g12, g22, half);
}

/** Column ν of U = G h for 4 rows: positions 4ξ + ν, ξ = 0..3. */
function filterColumnV(at: usize, block: usize, nu: i32, h0: v128, h1: v128, h2: v128, half: v128): void {
  const d = at + <usize>nu * block;
  const t = f32x4.add(h0, h2);
  v128.store(d, h0);
  v128.store(d + 4 * block, f32x4.mul(f32x4.add(t, h1), half));
  v128.store(d + 8 * block, f32x4.mul(f32x4.sub(t, h1), half));
  v128.store(d + 12 * block, h2);
}

/** Row 4 of a panel for one input channel: the same arithmetic as one lane of filterRows. */
function filterRow4(
  a0: usize,
  a1: usize,
  a2: usize,
  a3: usize,
  a4: usize,
  a5: usize,
  a6: usize,
  a7: usize,
  a8: usize,
  at: usize,
  block: usize,
): void {
  const g00 = load<f32>(a0, 16);
  const g01 = load<f32>(a1, 16);
  const g02 = load<f32>(a2, 16);
  const g10 = load<f32>(a3, 16);
  const g11 = load<f32>(a4, 16);
  const g12 = load<f32>(a5, 16);
  const g20 = load<f32>(a6, 16);
  const g21 = load<f32>(a7, 16);
  const g22 = load<f32>(a8, 16);
  const t0 = g00 + g02;
  const t1 = g10 + g12;
  const t2 = g20 + g22;
  filterColumn1(at + 16, block, 0, g00, g10, g20);
  filterColumn1(at + 16, block, 1, (t0 + g01) * 0.5, (t1 + g11) * 0.5, (t2 + g21) * 0.5);
  filterColumn1(at + 16, block, 2, (t0 - g01) * 0.5, (t1 - g11) * 0.5, (t2 - g21) * 0.5);
  filterColumn1(at + 16, block, 3, g02, g12, g22);
}

function filterColumn1(at: usize, block: usize, nu: i32, h0: f32, h1: f32, h2: f32): void {
  const d = at + <usize>nu * block;
  const t = h0 + h2;
  store<f32>(d, h0);
  store<f32>(d + 4 * block, (t + h1) * 0.5);
  store<f32>(d + 8 * block, (t - h1) * 0.5);
  store<f32>(d + 12 * block, h2);
}

/**
 * Input transform of four tiles (one per lane) of one channel: Bᵀ d B, written to the 16
 * position blocks of V (`posStride` bytes apart), 4 floats each at `dst`. Lanes 0–1 read from
 * `rowA`, lanes 2–3 from `rowB`: the patches' top rows in phase 0 of the padded input (`phase`
 * bytes to phase 1, `rowBytes` to the next row). When `rowB` is `rowA` + 2 tiles (one tile row),
 * each row and phase is one load, else two (see {@link quad}).
 */
function inputTiles(
  rowA: usize,
  rowB: usize,
  phase: usize,
  rowBytes: usize,
  dst: usize,
  posStride: usize,
): void {
  const a1 = rowA + rowBytes;
  const a2 = a1 + rowBytes;
  const a3 = a2 + rowBytes;
  const b1 = rowB + rowBytes;
  const b2 = b1 + rowBytes;
  const b3 = b2 + rowBytes;
  const d00 = quad(rowA, rowB, 0);
  const d01 = quad(rowA + phase, rowB + phase, 0);
  const d02 = quad(rowA, rowB, 4);
  const d03 = quad(rowA + phase, rowB + phase, 4);
  const d10 = quad(a1, b1, 0);
  const d11 = quad(a1 + phase, b1 + phase, 0);
  const d12 = quad(a1, b1, 4);
  const d13 = quad(a1 + phase, b1 + phase, 4);
  const d20 = quad(a2, b2, 0);
  const d21 = quad(a2 + phase, b2 + phase, 0);
  const d22 = quad(a2, b2, 4);
  const d23 = quad(a2 + phase, b2 + phase, 4);
  const d30 = quad(a3, b3, 0);
  const d31 = quad(a3 + phase, b3 + phase, 0);
  const d32 = quad(a3, b3, 4);
  const d33 = quad(a3 + phase, b3 + phase, 4);
  inputRow(
    f32x4.sub(d00, d20),
    f32x4.sub(d01, d21),
    f32x4.sub(d02, d22),
    f32x4.sub(d03, d23),
    dst,
    posStride,
  );
  inputRow(
    f32x4.add(d10, d20),
    f32x4.add(d11, d21),
    f32x4.add(d12, d22),
    f32x4.add(d13, d23),
    dst + 4 * posStride,
    posStride,
  );
  inputRow(
    f32x4.sub(d20, d10),
    f32x4.sub(d21, d11),
    f32x4.sub(d22, d12),
    f32x4.sub(d23, d13),
    dst + 8 * posStride,
    posStride,
  );
  inputRow(
    f32x4.sub(d10, d30),
    f32x4.sub(d11, d31),
    f32x4.sub(d12, d32),
    f32x4.sub(d13, d33),
    dst + 12 * posStride,
    posStride,
  );
}

/** Two floats at `a + off` in lanes 0–1 and two at `b + off` in lanes 2–3: one load when `b` is `a` + 2 floats. */
function quad(a: usize, b: usize, off: usize): v128 {
  if (b === a + 8) return v128.load(a + off);
  return v128.load64_lane(b + off, v128.load64_zero(a + off), 1);
}

/** One row ξ of Bᵀ d B: (t B)_ν for ν = 0..3, stored at positions 4ξ + ν. */
function inputRow(t0: v128, t1: v128, t2: v128, t3: v128, dst: usize, posStride: usize): void {
  v128.store(dst, f32x4.sub(t0, t2));
  v128.store(dst + posStride, f32x4.add(t1, t2));
  v128.store(dst + 2 * posStride, f32x4.sub(t2, t1));
  v128.store(dst + 3 * posStride, f32x4.sub(t1, t3));
}

/** A tile's position: batch item, tile row and tile column, as `item << 40 | row << 20 | column`. */
function tilePos(item: i32, row: i32, col: i32): i64 {
  return ((<i64>item) << 40) | ((<i64>row) << 20) | <i64>col;
}

function posItem(pos: i64): i32 {
  return <i32>(pos >> 40);
}

function posRow(pos: i64): i32 {
  return <i32>(pos >> 20) & 0xfffff;
}

function posCol(pos: i64): i32 {
  return <i32>pos & 0xfffff;
}

/**
 * The position two tiles on, in order: along the row, then the next row, then the next item's
 * first row (the grid's width is even, so a pair never straddles a row's end).
 */
function nextPair(pos: i64, tw: i32, th: i32): i64 {
  let item = posItem(pos);
  let row = posRow(pos);
  let col = posCol(pos) + 2;
  if (col >= tw) {
    col = 0;
    if (++row >= th) {
      row = 0;
      item++;
    }
  }
  return tilePos(item, row, col);
}

/** Byte offset, in the padded input, of the top-left phase-0 value of the tile at `pos`. */
function padAt(pos: i64, image: usize, rowBytes: usize): usize {
  return <usize>posItem(pos) * image + <usize>(2 * posRow(pos)) * rowBytes + ((<usize>posCol(pos)) << 2);
}

/**
 * The Winograd convolution, split into `nt` shares; work units are chunks of T consecutive
 * tiles of the batch (the tiles of item 0, then of item 1, …), so a chunk may span items when
 * each holds few tiles (a dilated convolution's phase images). Per unit: the input transform
 * of its tiles (V: 16 blocks of ic × T in the GEMM's packed-B layout), the 16 GEMMs
 * M_ξν = U_ξν · V_ξν (oc × T each), and the output transform with bias and activation,
 * written to the output.
 */
export function wino_run(p: usize, share: i32, nt: i32): i32 {
  const pad = <usize>pi(p, W_PAD);
  const hp = pi(p, W_HP);
  const wq = pi(p, W_WQ);
  const batch = pi(p, W_BATCH);
  const ic = pi(p, W_IC);
  const oc = pi(p, W_OC);
  const oh = pi(p, W_OH);
  const ow = pi(p, W_OW);
  const th = pi(p, W_TH);
  const tw = pi(p, W_TW);
  const u = <usize>pi(p, W_U);
  const mp = pi(p, W_MP);
  const kcBlock = pi(p, W_KC);
  const out = <usize>pi(p, W_OUT);
  const bias = <usize>pi(p, W_BIAS);
  const act = pi(p, W_ACT);
  const tc = pi(p, W_T);
  const tiles = th * tw;
  const total = batch * tiles;
  const units = (total + tc - 1) / tc;
  const u0 = <i32>((<i64>units * share) / nt);
  const u1 = <i32>((<i64>units * (share + 1)) / nt);
  const scratch = <usize>pi(p, W_SCRATCH) + <usize>SLOT * <usize>pi(p, W_SCRATCH_BYTES);
  const tile = scratch;
  const vBuf = scratch + 256;
  const vPos = <usize>pi(p, W_VPOS);
  const mBuf = vBuf + 16 * vPos;
  const mPos = <usize>pi(p, W_MPOS);
  const rowBytes = (<usize>(2 * wq)) << 2;
  const phase = (<usize>wq) << 2;
  const plane = <usize>hp * rowBytes;
  const uPos = <usize>pi(p, W_UPOS);
  const zero = f32x4.splat(0);
  let probe = zero;
  const image = <usize>ic * plane;
  const outImage = (<usize>(oc * oh * ow)) << 2;
  for (let un = u0; un < u1; un++) {
    const t0 = un * tc;
    // The unit's first tile; groups of four tiles step on from it, two pairs at a time.
    const b0 = t0 / tiles;
    const ty0 = (t0 - b0 * tiles) / tw;
    const first = tilePos(b0, ty0, t0 - b0 * tiles - ty0 * tw);
    // The unit's tiles, in whole panels of the GEMM: a last, partial chunk computes no more.
    const cols = ((min(tc, total - t0) + NR - 1) / NR) * NR;
    // Input transform: V[ξν][panel][c][lane], four tiles at a time.
    let pA = first;
    for (let t = 0; t < cols; t += 4) {
      const g = t0 + t;
      // Byte offset of these 4 tiles in V's position block: panel t / NR, row c, lane t % NR.
      const vAt = vBuf + ((<usize>((t / NR) * NR * ic + (t % NR))) << 2);
      if (g >= total) {
        for (let c = 0; c < ic; c++) {
          const d = vAt + ((<usize>(c * NR)) << 2);
          for (let s = 0; s < 16; s++) v128.store(d + <usize>s * vPos, f32x4.splat(0));
        }
        continue;
      }
      // Tiles g, g + 1 (pair A) and g + 2, g + 3 (pair B) each lie in one tile row (the grid's
      // width is even), pair B possibly in the next row or item; past the last tile, pair B
      // repeats pair A (those lanes are never stored).
      const pB = g + 2 < total ? nextPair(pA, tw, th) : pA;
      let rowA = pad + padAt(pA, image, rowBytes);
      const splitB = padAt(pB, image, rowBytes) - padAt(pA, image, rowBytes);
      pA = nextPair(pB, tw, th);
      let d = vAt;
      for (let c = 0; c < ic; c++) {
        inputTiles(rowA, rowA + splitB, phase, rowBytes, d, vPos);
        rowA += plane;
        d += (<usize>NR) << 2;
      }
    }
    // The 16 GEMMs: M[ξν] (mp × tc, leading dimension tc) = U[ξν] · V[ξν].
    for (let s = 0; s < 16; s++) {
      const ua = u + <usize>s * uPos;
      const vb = vBuf + <usize>s * vPos;
      const mc = mBuf + <usize>s * mPos;
      for (let pc = 0; pc < ic; pc += kcBlock) {
        const kc = min(kcBlock, ic - pc);
        const mode = (pc > 0 ? 1 : 0) | (pc + kc >= ic ? 2 : 0);
        for (let ip = 0; ip < mp; ip += MR) {
          const pa = ua + ((<usize>(pc * mp + ip * kc)) << 2);
          const crow = mc + ((<usize>(ip * tc)) << 2);
          for (let jp = 0; jp < cols; jp += NR) {
            micro(
              kc,
              pa,
              vb + ((<usize>(jp * ic + pc * NR)) << 2),
              crow + ((<usize>jp) << 2),
              tc,
              mode,
              0,
              0,
              0,
              MR,
              NR,
              tile,
            );
          }
        }
      }
    }
    // Output transform: Aᵀ M A per output channel, four tiles at a time; `probe` sums every
    // result times 0 (before the activation, which would hide −Inf).
    for (let o = 0; o < oc; o++) {
      const bv = bias !== 0 ? v128.load32_splat(bias + ((<usize>o) << 2)) : f32x4.splat(0);
      const oPlane = out + ((<usize>(o * oh * ow)) << 2);
      let pA = first;
      for (let t = 0; t < tc; t += 4) {
        const g = t0 + t;
        if (g >= total) break;
        // Pair B (tiles g + 2, g + 3) may start the next tile row or item, or lie past the
        // last tile (then nothing of it is stored).
        const pB = nextPair(pA, tw, th);
        const y = outputTiles(
          mBuf + ((<usize>(o * tc + t)) << 2),
          mPos,
          bv,
          act,
          oPlane + <usize>posItem(pA) * outImage,
          2 * posRow(pA),
          2 * posCol(pA),
          oPlane + <usize>posItem(pB) * outImage,
          g + 2 < total ? 2 * posRow(pB) : oh,
          2 * posCol(pB),
          oh,
          ow,
          tile,
        );
        probe = f32x4.add(probe, f32x4.mul(y, zero));
        pA = nextPair(pB, tw, th);
      }
    }
  }
  // x · 0 is 0 for finite x and NaN for ±Inf and NaN.
  if (
    f32x4.extract_lane(probe, 0) +
      f32x4.extract_lane(probe, 1) +
      f32x4.extract_lane(probe, 2) +
      f32x4.extract_lane(probe, 3) !==
    0
  )
    store<i32>(p + (W_FINITE << 2), 0);
  return max(0, u1 - u0);
}

/**
 * Output transform of four tiles (one per lane) of one output channel: Y = Aᵀ M A + bias,
 * activation, written where the tiles lie inside the output (pair A's two tiles at output row
 * yA, columns xA .. xA + 3 of the output channel's plane `planeA`, pair B's at yB, xB of
 * `planeB`: the same plane, or the next batch item's). `m` points at position 0's 4 values,
 * `posStride` bytes between positions. Returns the sum of the four results per lane before
 * the activation: Inf or NaN when one of them is.
 */
function outputTiles(
  m: usize,
  posStride: usize,
  bv: v128,
  act: i32,
  planeA: usize,
  yA: i32,
  xA: i32,
  planeB: usize,
  yB: i32,
  xB: i32,
  oh: i32,
  ow: i32,
  tile: usize,
): v128 {
  // s_a,ν = (Aᵀ M)_a,ν for each column ν, then Y_a,b = (s A)_a,b.
  const m0 = m;
  const m1 = m + 4 * posStride;
  const m2 = m + 8 * posStride;
  const m3 = m + 12 * posStride;
  const a0 = v128.load(m0);
  const b0 = v128.load(m1);
  const c0 = v128.load(m2);
  const a1 = v128.load(m0 + posStride);
  const b1 = v128.load(m1 + posStride);
  const c1 = v128.load(m2 + posStride);
  const a2 = v128.load(m0 + 2 * posStride);
  const b2 = v128.load(m1 + 2 * posStride);
  const c2 = v128.load(m2 + 2 * posStride);
  const a3 = v128.load(m0 + 3 * posStride);
  const b3 = v128.load(m1 + 3 * posStride);
  const c3 = v128.load(m2 + 3 * posStride);
  const s00 = f32x4.add(f32x4.add(a0, b0), c0);
  const s01 = f32x4.add(f32x4.add(a1, b1), c1);
  const s02 = f32x4.add(f32x4.add(a2, b2), c2);
  const s03 = f32x4.add(f32x4.add(a3, b3), c3);
  const s10 = f32x4.sub(f32x4.sub(b0, c0), v128.load(m3));
  const s11 = f32x4.sub(f32x4.sub(b1, c1), v128.load(m3 + posStride));
  const s12 = f32x4.sub(f32x4.sub(b2, c2), v128.load(m3 + 2 * posStride));
  const s13 = f32x4.sub(f32x4.sub(b3, c3), v128.load(m3 + 3 * posStride));
  let y00 = f32x4.add(f32x4.add(f32x4.add(s00, s01), s02), bv);
  let y01 = f32x4.add(f32x4.sub(f32x4.sub(s01, s02), s03), bv);
  let y10 = f32x4.add(f32x4.add(f32x4.add(s10, s11), s12), bv);
  let y11 = f32x4.add(f32x4.sub(f32x4.sub(s11, s12), s13), bv);
  const sum = f32x4.add(f32x4.add(y00, y01), f32x4.add(y10, y11));
  if (act === 1) {
    // max propagates NaN, as PyTorch's relu does.
    const z = f32x4.splat(0);
    y00 = f32x4.max(y00, z);
    y01 = f32x4.max(y01, z);
    y10 = f32x4.max(y10, z);
    y11 = f32x4.max(y11, z);
  }
  // Interleave the tiles' two columns into 8 consecutive pixels per output row.
  const lo0 = v128.shuffle<f32>(y00, y01, 0, 4, 1, 5);
  const hi0 = v128.shuffle<f32>(y00, y01, 2, 6, 3, 7);
  const lo1 = v128.shuffle<f32>(y10, y11, 0, 4, 1, 5);
  const hi1 = v128.shuffle<f32>(y10, y11, 2, 6, 3, 7);
  storePixels(planeA, yA, xA, lo0, lo1, oh, ow, tile);
  storePixels(planeB, yB, xB, hi0, hi1, oh, ow, tile);
  return sum;
}

/**
 * Four output pixels of two rows (`r0` at row y, `r1` at y + 1, columns x .. x + 3): those
 * inside the output.
 */
function storePixels(oPlane: usize, y: i32, x: i32, r0: v128, r1: v128, oh: i32, ow: i32, tile: usize): void {
  if (y >= oh) return;
  const row0 = oPlane + ((<usize>(y * ow + x)) << 2);
  if (x + 4 <= ow && y + 2 <= oh) {
    v128.store(row0, r0);
    v128.store(row0 + ((<usize>ow) << 2), r1);
    return;
  }
  // At the right or bottom edge: through the scratch tile.
  v128.store(tile, r0);
  v128.store(tile, r1, 16);
  const cols = min(4, ow - x);
  const rows = min(2, oh - y);
  for (let r = 0; r < rows; r++) {
    const dst = row0 + ((<usize>(r * ow)) << 2);
    for (let i = 0; i < cols; i++)
      store<f32>(dst + ((<usize>i) << 2), load<f32>(tile + ((<usize>(r * 4 + i)) << 2)));
  }
}

/**
 * Whether `n` floats from `x` are all finite (no Inf, no NaN): the Winograd transforms would
 * spread one non-finite value over whole tiles, so such calls take the direct GEMM instead.
 */
export function all_finite(x: usize, n: i32): i32 {
  const zero = f32x4.splat(0);
  let acc = zero;
  let i = 0;
  for (; i + 4 <= n; i += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(x + ((<usize>i) << 2)), zero));
  let rest: f32 = 0;
  for (; i < n; i++) rest += load<f32>(x + ((<usize>i) << 2)) * 0;
  // x · 0 is 0 for finite x and NaN for ±Inf and NaN.
  const sum =
    f32x4.extract_lane(acc, 0) +
    f32x4.extract_lane(acc, 1) +
    f32x4.extract_lane(acc, 2) +
    f32x4.extract_lane(acc, 3) +
    rest;
  return sum === 0 ? 1 : 0;
}
