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
//   Gᵀ-side (filters)  G  = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
//   input              Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
//   output             Aᵀ = [1 1 1 0; 0 1 −1 −1]
//
// Precision: the filters are transformed in float64 and rounded once; the input and output
// transforms add and subtract at most four float32 values per step.
//
// Tiles are numbered over a grid whose width is the tile columns rounded up to 4, so that four
// consecutive tiles lie in one tile row: the input transform then runs on four tiles at once
// (one per lane), reading the zero-padded input split into even and odd columns
// (`direct_pad_run` with stride phase 2: tile column t's 4 input columns are phase 0 and 1 at
// t and t + 1).

import { MR, micro, NR } from './micro';

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
const W_TW = 9; // tile columns, rounded up to 4
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

// ---- parameter block of wino_filter_run ----
const F_A = 0; // the im2col GEMM's packed weights (pack_a of oc × ic·9)
const F_KC9 = 1; // their K block
const F_IC = 2;
const F_MP = 3;
const F_U = 4; // destination
const F_KC = 5; // U's K block
const F_SCRATCH = 6;
const F_SCRATCH_BYTES = 7;
const F_FINITE = 8; // set to 0 by a thread that met Inf or NaN in the weights

function pi(p: usize, i: i32): i32 {
  return load<i32>(p + ((<usize>i) << 2));
}

/**
 * Transforms the filters, U_ξν = (G g Gᵀ)_ξν per (output, input) channel pair, in float64 and
 * rounded once, read from the GEMM's packed weights (pack_a of mp × ic·9: the original values,
 * rows past the output channels zero) and written as 16 packed A blocks of mp × ic. Threads
 * split the MR-row panels; each first copies its panel's rows to its scratch (row r, tap q).
 */
export function wino_filter_run(p: usize, tid: i32, nt: i32): i32 {
  const a = <usize>pi(p, F_A);
  const kc9 = pi(p, F_KC9);
  const ic = pi(p, F_IC);
  const mp = pi(p, F_MP);
  const u = <usize>pi(p, F_U);
  const kcBlock = pi(p, F_KC);
  const tmp = <usize>pi(p, F_SCRATCH) + <usize>tid * <usize>pi(p, F_SCRATCH_BYTES);
  const k9 = ic * 9;
  const block = (<usize>(mp * ic)) << 2; // bytes between U's position blocks
  const panels = mp / MR;
  const p0 = <i32>((<i64>panels * tid) / nt);
  const p1 = <i32>((<i64>panels * (tid + 1)) / nt);
  let check = f64x2.splat(0);
  for (let pn = p0; pn < p1; pn++) {
    const ip = pn * MR;
    for (let pc = 0; pc < k9; pc += kc9) {
      const kc = min(kc9, k9 - pc);
      let src = a + ((<usize>(pc * mp + ip * kc)) << 2);
      for (let q = pc; q < pc + kc; q++) {
        for (let r = 0; r < MR; r++) {
          store<f32>(tmp + ((<usize>(r * k9 + q)) << 2), load<f32>(src));
          src += 4;
        }
      }
    }
    for (let r = 0; r < MR; r++) {
      let g = tmp + ((<usize>(r * k9)) << 2);
      for (let pc = 0; pc < ic; pc += kcBlock) {
        const kc = min(kcBlock, ic - pc);
        let at = u + ((<usize>(pc * mp + ip * kc + r)) << 2);
        for (let c = pc; c < pc + kc; c++) {
          // h = g Gᵀ (3 × 4), row by row; then U = G h, column by column.
          const g00 = <f64>load<f32>(g);
          const g01 = <f64>load<f32>(g, 4);
          const g02 = <f64>load<f32>(g, 8);
          const g10 = <f64>load<f32>(g, 12);
          const g11 = <f64>load<f32>(g, 16);
          const g12 = <f64>load<f32>(g, 20);
          const g20 = <f64>load<f32>(g, 24);
          const g21 = <f64>load<f32>(g, 28);
          const g22 = <f64>load<f32>(g, 32);
          check = f64x2.add(
            check,
            f64x2.mul(f64x2(g00 + g01 + g02, g10 + g11 + g12 + g20 + g21 + g22), f64x2.splat(0)),
          );
          filterColumn(at, block, 0, g00, g10, g20);
          filterColumn(
            at,
            block,
            1,
            0.5 * (g00 + g01 + g02),
            0.5 * (g10 + g11 + g12),
            0.5 * (g20 + g21 + g22),
          );
          filterColumn(
            at,
            block,
            2,
            0.5 * (g00 - g01 + g02),
            0.5 * (g10 - g11 + g12),
            0.5 * (g20 - g21 + g22),
          );
          filterColumn(at, block, 3, g02, g12, g22);
          g += 36;
          at += MR * 4;
        }
      }
    }
  }
  // x · 0 is 0 for finite x and NaN for ±Inf and NaN.
  if (f64x2.extract_lane(check, 0) + f64x2.extract_lane(check, 1) !== 0) store<i32>(p + (F_FINITE << 2), 0);
  return max(0, p1 - p0);
}

/** Column ν of U = G h: rows ξ = 0..3 to positions 4ξ + ν, each rounded once to float32. */
function filterColumn(at: usize, block: usize, nu: i32, h0: f64, h1: f64, h2: f64): void {
  const d = at + <usize>nu * block;
  store<f32>(d, <f32>h0);
  store<f32>(d + 4 * block, <f32>(0.5 * (h0 + h1 + h2)));
  store<f32>(d + 8 * block, <f32>(0.5 * (h0 - h1 + h2)));
  store<f32>(d + 12 * block, <f32>h2);
}

/**
 * Input transform of four tiles (one per lane) of one channel: Bᵀ d B, written to the 16
 * position blocks of V (`posStride` bytes apart), 4 floats each at `dst`. `row` points at the
 * patch's top row in phase 0 of the padded input (`phase` bytes to phase 1, `rowBytes` to the
 * next row).
 */
function inputTiles(row: usize, phase: usize, rowBytes: usize, dst: usize, posStride: usize): void {
  // Rows: t_i = (Bᵀ d)_i for each of the 4 patch columns j.
  const r0 = row;
  const r1 = row + rowBytes;
  const r2 = r1 + rowBytes;
  const r3 = r2 + rowBytes;
  const d00 = v128.load(r0);
  const d01 = v128.load(r0 + phase);
  const d02 = v128.load(r0, 4);
  const d03 = v128.load(r0 + phase, 4);
  const d10 = v128.load(r1);
  const d11 = v128.load(r1 + phase);
  const d12 = v128.load(r1, 4);
  const d13 = v128.load(r1 + phase, 4);
  const d20 = v128.load(r2);
  const d21 = v128.load(r2 + phase);
  const d22 = v128.load(r2, 4);
  const d23 = v128.load(r2 + phase, 4);
  const d30 = v128.load(r3);
  const d31 = v128.load(r3 + phase);
  const d32 = v128.load(r3, 4);
  const d33 = v128.load(r3 + phase, 4);
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

/** One row ξ of Bᵀ d B: (t B)_ν for ν = 0..3, stored at positions 4ξ + ν. */
function inputRow(t0: v128, t1: v128, t2: v128, t3: v128, dst: usize, posStride: usize): void {
  v128.store(dst, f32x4.sub(t0, t2));
  v128.store(dst + posStride, f32x4.add(t1, t2));
  v128.store(dst + 2 * posStride, f32x4.sub(t2, t1));
  v128.store(dst + 3 * posStride, f32x4.sub(t1, t3));
}

/**
 * The Winograd convolution, run by `nt` threads; work units are chunks of T tiles of one
 * batch item. Per unit: the input transform of its tiles (V: 16 blocks of ic × T in the GEMM's
 * packed-B layout), the 16 GEMMs M_ξν = U_ξν · V_ξν (oc × T each), and the output transform
 * with bias and activation, written to the output.
 */
export function wino_run(p: usize, tid: i32, nt: i32): i32 {
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
  const chunks = (tiles + tc - 1) / tc;
  const units = batch * chunks;
  const u0 = <i32>((<i64>units * tid) / nt);
  const u1 = <i32>((<i64>units * (tid + 1)) / nt);
  const scratch = <usize>pi(p, W_SCRATCH) + <usize>tid * <usize>pi(p, W_SCRATCH_BYTES);
  const tile = scratch;
  const vBuf = scratch + 256;
  const vPos = <usize>pi(p, W_VPOS);
  const mBuf = vBuf + 16 * vPos;
  const mPos = <usize>pi(p, W_MPOS);
  const rowBytes = (<usize>(2 * wq)) << 2;
  const phase = (<usize>wq) << 2;
  const plane = <usize>hp * rowBytes;
  const uPos = (<usize>(mp * ic)) << 2;
  for (let un = u0; un < u1; un++) {
    const b = un / chunks;
    const t0 = (un - b * chunks) * tc;
    const xb = pad + <usize>(b * ic) * plane;
    // Input transform: V[ξν][panel][c][lane], four tiles at a time.
    for (let t = 0; t < tc; t += 4) {
      const g = t0 + t;
      // Byte offset of these 4 tiles in V's position block: panel t / NR, row c, lane t % NR.
      const vAt = vBuf + ((<usize>((t / NR) * NR * ic + (t % NR))) << 2);
      if (g >= tiles) {
        for (let c = 0; c < ic; c++) {
          const d = vAt + ((<usize>(c * NR)) << 2);
          for (let s = 0; s < 16; s++) v128.store(d + <usize>s * vPos, f32x4.splat(0));
        }
        continue;
      }
      const ty = g / tw;
      const tx = g - ty * tw;
      let row = xb + <usize>(2 * ty) * rowBytes + ((<usize>tx) << 2);
      let d = vAt;
      for (let c = 0; c < ic; c++) {
        inputTiles(row, phase, rowBytes, d, vPos);
        row += plane;
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
          for (let jp = 0; jp < tc; jp += NR) {
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
    // Output transform: Aᵀ M A per output channel, four tiles at a time.
    const ob = out + ((<usize>(b * oc * oh * ow)) << 2);
    for (let o = 0; o < oc; o++) {
      const bv = bias !== 0 ? v128.load32_splat(bias + ((<usize>o) << 2)) : f32x4.splat(0);
      const oPlane = ob + ((<usize>(o * oh * ow)) << 2);
      for (let t = 0; t < tc; t += 4) {
        const g = t0 + t;
        if (g >= tiles) break;
        const ty = g / tw;
        const tx = g - ty * tw;
        outputTiles(mBuf + ((<usize>(o * tc + t)) << 2), mPos, bv, act, oPlane, 2 * ty, 2 * tx, oh, ow, tile);
      }
    }
  }
  return max(0, u1 - u0);
}

/**
 * Output transform of four tiles (one per lane) of one output channel: Y = Aᵀ M A + bias,
 * activation, written to output rows y0, y0 + 1 and columns x0 .. x0 + 7 (those inside the
 * output). `m` points at position 0's 4 values, `posStride` bytes between positions.
 */
function outputTiles(
  m: usize,
  posStride: usize,
  bv: v128,
  act: i32,
  oPlane: usize,
  y0: i32,
  x0: i32,
  oh: i32,
  ow: i32,
  tile: usize,
): void {
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
  const row0 = oPlane + ((<usize>(y0 * ow + x0)) << 2);
  if (x0 + 8 <= ow && y0 + 2 <= oh) {
    const row1 = row0 + ((<usize>ow) << 2);
    v128.store(row0, lo0);
    v128.store(row0, hi0, 16);
    v128.store(row1, lo1);
    v128.store(row1, hi1, 16);
    return;
  }
  // At the right or bottom edge: through the scratch tile, only the pixels inside.
  v128.store(tile, lo0);
  v128.store(tile, hi0, 16);
  v128.store(tile, lo1, 32);
  v128.store(tile, hi1, 48);
  const cols = min(8, ow - x0);
  const rows = min(2, oh - y0);
  for (let r = 0; r < rows; r++) {
    const dst = row0 + ((<usize>(r * ow)) << 2);
    for (let x = 0; x < cols; x++)
      store<f32>(dst + ((<usize>x) << 2), load<f32>(tile + ((<usize>(r * 8 + x)) << 2)));
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
