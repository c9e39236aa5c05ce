// AssemblyScript: the packed, register-blocked SIMD128 GEMM and the convolutions built on it.
//
// Every function works on raw pointers into linear memory, which the TypeScript side owns
// (its allocator hands out every buffer and scratch area). Nothing here allocates, and there
// are no mutable globals in memory, so several instances (one per worker) can share one
// memory. Parallel kernels take `(share, nt)`, do their share of the work and return how many
// work units that share held (0: nothing), which the worker pool counts. A share may run on
// any thread; per-thread scratch is indexed by the instance's SLOT (slot.ts).
//
// C = A · B with A `M × K` (weights, packed once into MR-row panels per K block) and B
// `K × N` (a matrix, or the implicit im2col matrix of a convolution, packed per K×N block
// into NR-column panels in per-thread scratch). The micro-kernel keeps a 5×8 tile of C in
// ten v128 accumulators.

import { MR, micro, NR, sigmoidf } from './micro';
import { SLOT } from './slot';

// ---- parameter block layout (i32 words), written by the TypeScript side ----
const P_KIND = 0; // 0: B is a matrix, 1: B is the im2col matrix of a convolution, read from its padded copy (P_PAD_BUF)
const P_M = 1;
const P_N = 2;
const P_K = 3;
const P_A = 4; // packed A
const P_A_GROUP = 5; // floats between packed A of consecutive groups (or batches)
const P_B = 6;
const P_BRS = 7;
const P_BCS = 8;
const P_B_BATCH = 9; // floats between batches of B
const P_B_GROUP = 10; // floats between groups of B
const P_C = 11;
const P_LDC = 12;
const P_C_BATCH = 13;
const P_C_GROUP = 14;
const P_BIAS = 15;
const P_BIAS_MODE = 16; // 0 none, 1 per row (conv), 2 per column (matmul)
const P_ACT = 17; // 0 linear, 1 relu, 2 sigmoid
const P_BATCH = 18;
const P_GROUPS = 19;
const P_SCRATCH = 20;
const P_SCRATCH_BYTES = 21;
const P_KC = 22;
const P_NC = 23;
const P_OW = 28;
const P_KH = 29;
const P_KW = 30;
const P_SH = 31;
const P_SW = 32;
const P_DH = 33;
const P_DW = 34;
const P_A_BATCHED = 37; // packed A differs per batch (batched matmul)
const P_CG = 24; // input channels per group (conv_ind_run)
const P_OH = 27;
const P_PAD_BUF = 38; // conv_ind_run and gemm_run kind 1: the padded, stride-phase-split input (direct_pad_run's layout)
const P_PAD_HP = 39; // its rows per plane
const P_PAD_WQ = 40; // its floats per phase row

function pi(p: usize, i: i32): i32 {
  return load<i32>(p + ((<usize>i) << 2));
}

/**
 * Packs `A` (`m × k`, element (i, q) at `a + 4·(i·ars + q·acs)`) for the micro-kernel: K blocks
 * of `kcBlock`; inside block `pc`, panel `ip` starts at float `pc·Mp + ip·MR·kc` and holds
 * `kc × MR` values, row-padded with zeros. `Mp` is `m` rounded up to MR.
 */
export function pack_a(a: usize, ars: i32, acs: i32, m: i32, k: i32, kcBlock: i32, dst: usize): void {
  const mp = ((m + MR - 1) / MR) * MR;
  for (let pc = 0; pc < k; pc += kcBlock) {
    const kc = min(kcBlock, k - pc);
    for (let ip = 0; ip < mp; ip += MR) {
      let d = dst + ((<usize>(pc * mp + ip * kc)) << 2);
      for (let q = 0; q < kc; q++) {
        for (let r = 0; r < MR; r++) {
          const i = ip + r;
          let v: f32 = 0;
          if (i < m) v = load<f32>(a + ((<usize>(i * ars + (pc + q) * acs)) << 2));
          store<f32>(d, v);
          d += 4;
        }
      }
    }
  }
}

/** Packs a `kc × nc` block of a matrix B (element (q, j) at `b + 4·(q·brs + j·bcs)`) into NR panels. */
function pack_b_mat(b: usize, brs: i32, bcs: i32, k0: i32, kc: i32, n0: i32, nc: i32, dst: usize): void {
  let d = dst;
  for (let jp = 0; jp < nc; jp += NR) {
    const cols = min(NR, nc - jp);
    const j = n0 + jp;
    if (cols === NR && bcs === 1) {
      let s = b + ((<usize>(k0 * brs + j)) << 2);
      const step = (<usize>brs) << 2;
      for (let q = 0; q < kc; q++) {
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
        s += step;
        d += 32;
      }
    } else {
      for (let q = 0; q < kc; q++) {
        const row = b + ((<usize>((k0 + q) * brs)) << 2);
        for (let c = 0; c < NR; c++) {
          let v: f32 = 0;
          if (c < cols) v = load<f32>(row + ((<usize>((j + c) * bcs)) << 2));
          store<f32>(d, v);
          d += 4;
        }
      }
    }
  }
}

/**
 * Packs a `kc × nc` block of a convolution's im2col matrix from the zero-padded,
 * stride-phase-split input (`direct_pad_run`'s layout; `xb` its first plane of this batch and
 * group): no bounds checks. An 8-column panel within one output row is 8 consecutive floats;
 * one that crosses rows (output widths not a multiple of 8) is gathered through 8 lane offsets
 * computed once per panel.
 */
function pack_b_conv_pad(xb: usize, p: usize, k0: i32, kc: i32, n0: i32, nc: i32, dst: usize): void {
  const ow = pi(p, P_OW);
  const kh = pi(p, P_KH);
  const kw = pi(p, P_KW);
  const sh = pi(p, P_SH);
  const sw = pi(p, P_SW);
  const dh = pi(p, P_DH);
  const dw = pi(p, P_DW);
  const wq = pi(p, P_PAD_WQ);
  const rowLen = sw * wq;
  const planeLen = pi(p, P_PAD_HP) * rowLen;
  const khw = kh * kw;
  let d = dst;
  for (let jp = 0; jp < nc; jp += NR) {
    const cols = min(NR, nc - jp);
    const j = n0 + jp;
    const oy0 = j / ow;
    const ox0 = j - oy0 * ow;
    const oneRow = cols === NR && ox0 + NR <= ow;
    // Byte offsets of the panel's 8 pixels from its first; lanes past `cols` repeat lane 0
    // (a valid address; those columns are never stored).
    let o1: usize = 0;
    let o2: usize = 0;
    let o3: usize = 0;
    let o4: usize = 0;
    let o5: usize = 0;
    let o6: usize = 0;
    let o7: usize = 0;
    if (!oneRow) {
      const first = oy0 * sh * rowLen + ox0;
      let oy = oy0;
      let ox = ox0;
      for (let t = 1; t < NR; t++) {
        let off = 0;
        if (t < cols) {
          ox++;
          if (ox === ow) {
            ox = 0;
            oy++;
          }
          off = oy * sh * rowLen + ox - first;
        }
        const b = (<usize>off) << 2;
        if (t === 1) o1 = b;
        else if (t === 2) o2 = b;
        else if (t === 3) o3 = b;
        else if (t === 4) o4 = b;
        else if (t === 5) o5 = b;
        else if (t === 6) o6 = b;
        else o7 = b;
      }
    }
    const pixel = xb + ((<usize>(oy0 * sh * rowLen + ox0)) << 2);
    let c = k0 / khw;
    const rem = k0 - c * khw;
    let ky = rem / kw;
    let kx = rem - ky * kw;
    for (let q = 0; q < kc; q++) {
      const t = kx * dw;
      const s = pixel + ((<usize>(c * planeLen + ky * dh * rowLen + (t % sw) * wq + t / sw)) << 2);
      if (oneRow) {
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
      } else {
        store<f32>(d, load<f32>(s));
        store<f32>(d, load<f32>(s + o1), 4);
        store<f32>(d, load<f32>(s + o2), 8);
        store<f32>(d, load<f32>(s + o3), 12);
        store<f32>(d, load<f32>(s + o4), 16);
        store<f32>(d, load<f32>(s + o5), 20);
        store<f32>(d, load<f32>(s + o6), 24);
        store<f32>(d, load<f32>(s + o7), 28);
      }
      d += 32;
      kx++;
      if (kx === kw) {
        kx = 0;
        ky++;
        if (ky === kh) {
          ky = 0;
          c++;
        }
      }
    }
  }
}

/**
 * The micro-kernel of `conv_ind_run`: as `micro`, but B is not packed — k step q reads the 8
 * floats at `pb + offs[q]` (byte offsets, i32).
 */
function micro_ind(
  kc: i32,
  pa: usize,
  pb: usize,
  offs: usize,
  c: usize,
  ldc: i32,
  mode: i32,
  bias: usize,
  biasMode: i32,
  act: i32,
  rows: i32,
  cols: i32,
  tile: usize,
): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0);
  let c41 = f32x4.splat(0);
  // Unpacked B (`conv_ind_run`): k step q reads the 8 floats at `pb + offs[q]` (bytes).
  if (ASC_FEATURE_RELAXED_SIMD) {
    for (let q = 0; q < kc; q++) {
      const s = pb + <usize>load<i32>(offs);
      const b0 = v128.load(s);
      const b1 = v128.load(s, 16);
      let a = v128.load32_splat(pa);
      c00 = f32x4.relaxed_madd(a, b0, c00);
      c01 = f32x4.relaxed_madd(a, b1, c01);
      a = v128.load32_splat(pa, 4);
      c10 = f32x4.relaxed_madd(a, b0, c10);
      c11 = f32x4.relaxed_madd(a, b1, c11);
      a = v128.load32_splat(pa, 8);
      c20 = f32x4.relaxed_madd(a, b0, c20);
      c21 = f32x4.relaxed_madd(a, b1, c21);
      a = v128.load32_splat(pa, 12);
      c30 = f32x4.relaxed_madd(a, b0, c30);
      c31 = f32x4.relaxed_madd(a, b1, c31);
      a = v128.load32_splat(pa, 16);
      c40 = f32x4.relaxed_madd(a, b0, c40);
      c41 = f32x4.relaxed_madd(a, b1, c41);
      pa += 20;
      offs += 4;
    }
  } else {
    for (let q = 0; q < kc; q++) {
      const s = pb + <usize>load<i32>(offs);
      const b0 = v128.load(s);
      const b1 = v128.load(s, 16);
      let a = v128.load32_splat(pa);
      c00 = f32x4.add(c00, f32x4.mul(a, b0));
      c01 = f32x4.add(c01, f32x4.mul(a, b1));
      a = v128.load32_splat(pa, 4);
      c10 = f32x4.add(c10, f32x4.mul(a, b0));
      c11 = f32x4.add(c11, f32x4.mul(a, b1));
      a = v128.load32_splat(pa, 8);
      c20 = f32x4.add(c20, f32x4.mul(a, b0));
      c21 = f32x4.add(c21, f32x4.mul(a, b1));
      a = v128.load32_splat(pa, 12);
      c30 = f32x4.add(c30, f32x4.mul(a, b0));
      c31 = f32x4.add(c31, f32x4.mul(a, b1));
      a = v128.load32_splat(pa, 16);
      c40 = f32x4.add(c40, f32x4.mul(a, b0));
      c41 = f32x4.add(c41, f32x4.mul(a, b1));
      pa += 20;
      offs += 4;
    }
  }
  const acc = (mode & 1) !== 0;
  const last = (mode & 2) !== 0;
  if (rows === MR && cols === NR) {
    const step = (<usize>ldc) << 2;
    if (acc) {
      c00 = f32x4.add(c00, v128.load(c));
      c01 = f32x4.add(c01, v128.load(c, 16));
      c10 = f32x4.add(c10, v128.load(c + step));
      c11 = f32x4.add(c11, v128.load(c + step, 16));
      c20 = f32x4.add(c20, v128.load(c + 2 * step));
      c21 = f32x4.add(c21, v128.load(c + 2 * step, 16));
      c30 = f32x4.add(c30, v128.load(c + 3 * step));
      c31 = f32x4.add(c31, v128.load(c + 3 * step, 16));
      c40 = f32x4.add(c40, v128.load(c + 4 * step));
      c41 = f32x4.add(c41, v128.load(c + 4 * step, 16));
    }
    if (last && biasMode === 1) {
      let bv = v128.load32_splat(bias);
      c00 = f32x4.add(c00, bv);
      c01 = f32x4.add(c01, bv);
      bv = v128.load32_splat(bias, 4);
      c10 = f32x4.add(c10, bv);
      c11 = f32x4.add(c11, bv);
      bv = v128.load32_splat(bias, 8);
      c20 = f32x4.add(c20, bv);
      c21 = f32x4.add(c21, bv);
      bv = v128.load32_splat(bias, 12);
      c30 = f32x4.add(c30, bv);
      c31 = f32x4.add(c31, bv);
      bv = v128.load32_splat(bias, 16);
      c40 = f32x4.add(c40, bv);
      c41 = f32x4.add(c41, bv);
    } else if (last && biasMode === 2) {
      const b0 = v128.load(bias);
      const b1 = v128.load(bias, 16);
      c00 = f32x4.add(c00, b0);
      c01 = f32x4.add(c01, b1);
      c10 = f32x4.add(c10, b0);
      c11 = f32x4.add(c11, b1);
      c20 = f32x4.add(c20, b0);
      c21 = f32x4.add(c21, b1);
      c30 = f32x4.add(c30, b0);
      c31 = f32x4.add(c31, b1);
      c40 = f32x4.add(c40, b0);
      c41 = f32x4.add(c41, b1);
    }
    if (last && act === 1) {
      // max propagates NaN, as PyTorch's relu does.
      const z = f32x4.splat(0);
      c00 = f32x4.max(c00, z);
      c01 = f32x4.max(c01, z);
      c10 = f32x4.max(c10, z);
      c11 = f32x4.max(c11, z);
      c20 = f32x4.max(c20, z);
      c21 = f32x4.max(c21, z);
      c30 = f32x4.max(c30, z);
      c31 = f32x4.max(c31, z);
      c40 = f32x4.max(c40, z);
      c41 = f32x4.max(c41, z);
    }
    v128.store(c, c00);
    v128.store(c, c01, 16);
    v128.store(c + step, c10);
    v128.store(c + step, c11, 16);
    v128.store(c + 2 * step, c20);
    v128.store(c + 2 * step, c21, 16);
    v128.store(c + 3 * step, c30);
    v128.store(c + 3 * step, c31, 16);
    v128.store(c + 4 * step, c40);
    v128.store(c + 4 * step, c41, 16);
    if (last && act === 2) {
      for (let r = 0; r < MR; r++) {
        for (let t = 0; t < NR; t++) {
          const e = c + <usize>r * step + ((<usize>t) << 2);
          store<f32>(e, sigmoidf(load<f32>(e)));
        }
      }
    }
    return;
  }
  v128.store(tile, c00);
  v128.store(tile, c01, 16);
  v128.store(tile, c10, 32);
  v128.store(tile, c11, 48);
  v128.store(tile, c20, 64);
  v128.store(tile, c21, 80);
  v128.store(tile, c30, 96);
  v128.store(tile, c31, 112);
  v128.store(tile, c40, 128);
  v128.store(tile, c41, 144);
  for (let r = 0; r < rows; r++) {
    const rowc = c + <usize>(r * ldc) * 4;
    const rowt = tile + <usize>(r * NR) * 4;
    for (let t = 0; t < cols; t++) {
      let v = load<f32>(rowt + ((<usize>t) << 2));
      const e = rowc + ((<usize>t) << 2);
      if (acc) v += load<f32>(e);
      if (last) {
        if (biasMode === 1) v += load<f32>(bias + ((<usize>r) << 2));
        else if (biasMode === 2) v += load<f32>(bias + ((<usize>t) << 2));
        if (act === 1) v = v > 0 || F32.isNaN(v) ? v : 0;
        else if (act === 2) v = sigmoidf(v);
      }
      store<f32>(e, v);
    }
  }
}

/**
 * The GEMM driver (matrix or convolution B), split into `nt` shares; share `share` takes a
 * contiguous part of the work units (batch × group × column chunk). See the P_* layout.
 */
export function gemm_run(p: usize, share: i32, nt: i32): i32 {
  const kind = pi(p, P_KIND);
  const m = pi(p, P_M);
  const n = pi(p, P_N);
  const k = pi(p, P_K);
  const batch = pi(p, P_BATCH);
  const groups = pi(p, P_GROUPS);
  const kcBlock = pi(p, P_KC);
  let ncBlock = pi(p, P_NC);
  const biasMode = pi(p, P_BIAS_MODE);
  const act = pi(p, P_ACT);
  const ldc = pi(p, P_LDC);
  const brs = pi(p, P_BRS);
  const bcs = pi(p, P_BCS);
  const aBatched = pi(p, P_A_BATCHED);
  // A convolution's input, zero-padded and stride-phase-split (0: pack from the input itself).
  const padBuf = kind === 1 ? <usize>pi(p, P_PAD_BUF) : 0;
  const padGroup = pi(p, P_CG) * pi(p, P_PAD_HP) * pi(p, P_SW) * pi(p, P_PAD_WQ);
  const mp = ((m + MR - 1) / MR) * MR;
  const bg = batch * groups;
  // Column chunks: at most NC wide; with several threads, enough of them (a multiple of the
  // thread count when there is one batch × group) that every thread gets an equal share.
  let chunks = (n + ncBlock - 1) / ncBlock;
  if (nt > 1 && bg % nt !== 0) {
    let want = chunks;
    if (bg === 1) want = ((chunks + nt - 1) / nt) * nt;
    else if (bg * chunks < 2 * nt) want = (2 * nt + bg - 1) / bg;
    ncBlock = (((n + want - 1) / want + NR - 1) / NR) * NR;
    if (ncBlock < NR) ncBlock = NR;
    chunks = (n + ncBlock - 1) / ncBlock;
  }
  // Row parts: one batch × group item whose columns fit one chunk (n ≤ NC) splits into `nt`
  // chunks of whole NR-column panels, which cannot be even for some widths (49 columns, a 7×7
  // map: 4 panels against 3). There the threads split the rows instead, each packing all of B
  // (K × n floats, against M/nt × K × n multiply-adds), when that gives the busiest thread a
  // smaller share.
  let parts = 1;
  const rowPanels = mp / MR;
  if (nt > 1 && bg === 1 && chunks === nt && n <= pi(p, P_NC)) {
    const panels = (n + NR - 1) / NR;
    const busiestCols = (ncBlock + NR - 1) / NR;
    const busiestRows = (rowPanels + nt - 1) / nt;
    // busiest / total, compared as cross products.
    if (<i64>busiestRows * panels < <i64>busiestCols * rowPanels) {
      parts = nt;
      chunks = 1;
      ncBlock = n;
    }
  }
  const partRows = ((rowPanels + parts - 1) / parts) * MR;
  const units = bg * chunks * parts;
  const u0 = <i32>((<i64>units * share) / nt);
  const u1 = <i32>((<i64>units * (share + 1)) / nt);
  const scratch = <usize>pi(p, P_SCRATCH) + <usize>SLOT * <usize>pi(p, P_SCRATCH_BYTES);
  const tile = scratch;
  const packB = scratch + 256;
  for (let u = u0; u < u1; u++) {
    const part = u % parts;
    const bgChunk = u / parts;
    const bgIdx = bgChunk / chunks;
    const chunk = bgChunk - bgIdx * chunks;
    const ip0 = part * partRows;
    const ip1 = min(mp, ip0 + partRows);
    const bi = bgIdx / groups;
    const g = bgIdx - bi * groups;
    const n0 = chunk * ncBlock;
    const nc = min(ncBlock, n - n0);
    const aBase = <usize>pi(p, P_A) + ((<usize>((aBatched !== 0 ? bgIdx : g) * pi(p, P_A_GROUP))) << 2);
    const bBase = <usize>pi(p, P_B) + ((<usize>(bi * pi(p, P_B_BATCH) + g * pi(p, P_B_GROUP))) << 2);
    const padBase = padBuf + ((<usize>((bi * groups + g) * padGroup)) << 2);
    const cBase = <usize>pi(p, P_C) + ((<usize>(bi * pi(p, P_C_BATCH) + g * pi(p, P_C_GROUP))) << 2);
    let biasBase = <usize>pi(p, P_BIAS);
    if (biasMode === 1) biasBase += (<usize>(g * m)) << 2;
    for (let pc = 0; pc < k; pc += kcBlock) {
      const kc = min(kcBlock, k - pc);
      if (kind === 0) pack_b_mat(bBase, brs, bcs, pc, kc, n0, nc, packB);
      else pack_b_conv_pad(padBase, p, pc, kc, n0, nc, packB);
      const mode = (pc > 0 ? 1 : 0) | (pc + kc >= k ? 2 : 0);
      for (let ip = ip0; ip < ip1; ip += MR) {
        const rows = min(MR, m - ip);
        const pa = aBase + ((<usize>(pc * mp + ip * kc)) << 2);
        const crow = cBase + ((<usize>(ip * ldc)) << 2);
        const brow = biasMode === 1 ? biasBase + ((<usize>ip) << 2) : biasBase;
        for (let jp = 0; jp < nc; jp += NR) {
          const cols = min(NR, nc - jp);
          const j = n0 + jp;
          const bb = biasMode === 2 ? brow + ((<usize>j) << 2) : brow;
          micro(
            kc,
            pa,
            packB + ((<usize>(jp * kc)) << 2),
            crow + ((<usize>j) << 2),
            ldc,
            mode,
            bb,
            biasMode,
            act,
            rows,
            cols,
            tile,
          );
        }
      }
    }
  }
  return max(0, u1 - u0);
}

/**
 * Convolution as a GEMM whose B is read in place (no packing): C (output channels × pixels)
 * = packed weights · im2col, where the 8 output pixels of a micro-tile lie in one output row
 * and im2col row q = (channel, ky, kx) of those 8 pixels is 8 consecutive floats of the
 * zero-padded, stride-phase-split input (see `direct_pad_run`) at a byte offset `offs[q]`
 * from the tile's base, computed once per call. Work units: batch × group × chunks of
 * pixel tiles; inside a unit, per K block and weight panel, every tile of the chunk.
 */
export function conv_ind_run(p: usize, share: i32, nt: i32): i32 {
  const m = pi(p, P_M);
  const k = pi(p, P_K);
  const batch = pi(p, P_BATCH);
  const groups = pi(p, P_GROUPS);
  const kcBlock = pi(p, P_KC);
  const biasMode = pi(p, P_BIAS_MODE);
  const act = pi(p, P_ACT);
  const ldc = pi(p, P_LDC);
  const cg = pi(p, P_CG);
  const oh = pi(p, P_OH);
  const ow = pi(p, P_OW);
  const kh = pi(p, P_KH);
  const kw = pi(p, P_KW);
  const sh = pi(p, P_SH);
  const sw = pi(p, P_SW);
  const dh = pi(p, P_DH);
  const dw = pi(p, P_DW);
  const buf = <usize>pi(p, P_PAD_BUF);
  const hp = pi(p, P_PAD_HP);
  const wq = pi(p, P_PAD_WQ);
  const mp = ((m + MR - 1) / MR) * MR;
  const rowLen = sw * wq;
  const planeLen = hp * rowLen;
  const tpr = (ow + NR - 1) / NR; // pixel tiles per output row
  const tiles = oh * tpr;
  const bg = batch * groups;
  // Chunks of tiles (≤ NC pixels); with several threads, as for gemm_run, enough chunks that
  // every thread gets an equal share.
  let chunkTiles = max(1, pi(p, P_NC) / NR);
  let chunks = (tiles + chunkTiles - 1) / chunkTiles;
  if (nt > 1 && bg % nt !== 0) {
    let want = chunks;
    if (bg === 1) want = ((chunks + nt - 1) / nt) * nt;
    else if (bg * chunks < 2 * nt) want = (2 * nt + bg - 1) / bg;
    chunkTiles = max(1, (tiles + want - 1) / want);
    chunks = (tiles + chunkTiles - 1) / chunkTiles;
  }
  const units = bg * chunks;
  const u0 = <i32>((<i64>units * share) / nt);
  const u1 = <i32>((<i64>units * (share + 1)) / nt);
  const scratch = <usize>pi(p, P_SCRATCH) + <usize>SLOT * <usize>pi(p, P_SCRATCH_BYTES);
  const tile = scratch;
  const offs = scratch + 256;
  // Byte offset of im2col row q from a tile's base (its top-left tap of channel 0).
  let q = 0;
  for (let c = 0; c < cg; c++) {
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const t = kx * dw;
        const off = c * planeLen + ky * dh * rowLen + (t % sw) * wq + t / sw;
        store<i32>(offs + ((<usize>q) << 2), off << 2);
        q++;
      }
    }
  }
  for (let u = u0; u < u1; u++) {
    const bgIdx = u / chunks;
    const chunk = u - bgIdx * chunks;
    const bi = bgIdx / groups;
    const g = bgIdx - bi * groups;
    const t0 = chunk * chunkTiles;
    const t1 = min(tiles, t0 + chunkTiles);
    const aBase = <usize>pi(p, P_A) + ((<usize>(g * pi(p, P_A_GROUP))) << 2);
    const xBase = buf + ((<usize>((bi * groups + g) * cg * planeLen)) << 2);
    const cBase = <usize>pi(p, P_C) + ((<usize>(bi * pi(p, P_C_BATCH) + g * pi(p, P_C_GROUP))) << 2);
    let biasBase = <usize>pi(p, P_BIAS);
    if (biasMode === 1) biasBase += (<usize>(g * m)) << 2;
    const oyStart = t0 / tpr;
    const oxStart = (t0 - oyStart * tpr) * NR;
    for (let pc = 0; pc < k; pc += kcBlock) {
      const kc = min(kcBlock, k - pc);
      const mode = (pc > 0 ? 1 : 0) | (pc + kc >= k ? 2 : 0);
      const offsK = offs + ((<usize>pc) << 2);
      const aBlock = aBase + ((<usize>(pc * mp)) << 2);
      // Weight panels in blocks of at most ~128 KiB (they stay in L2 while the tiles pass).
      const mb = max(1, 131072 / (kc * MR * 4)) * MR;
      for (let i0 = 0; i0 < mp; i0 += mb) {
        const i1 = min(mp, i0 + mb);
        let oy = oyStart;
        let ox = oxStart;
        for (let t = t0; t < t1; t++) {
          // One tile's B (kc rows of 8 floats, spread over the input planes) stays in L1 while
          // the block's weight panels (read sequentially) pass over it.
          const pb = xBase + ((<usize>(oy * sh * rowLen + ox)) << 2);
          const ct = cBase + ((<usize>(oy * ow + ox)) << 2);
          const cols = min(NR, ow - ox);
          // Two call sites (full and partial tiles) keep Binaryen from inlining the micro-kernel
          // into this function, whose many locals would make V8 spill its accumulators.
          if (cols === NR) {
            for (let ip = i0; ip < i1; ip += MR) {
              const bb = biasMode === 1 ? biasBase + ((<usize>ip) << 2) : biasBase;
              micro_ind(
                kc,
                aBlock + ((<usize>(ip * kc)) << 2),
                pb,
                offsK,
                ct + ((<usize>(ip * ldc)) << 2),
                ldc,
                mode,
                bb,
                biasMode,
                act,
                min(MR, m - ip),
                NR,
                tile,
              );
            }
          } else {
            for (let ip = i0; ip < i1; ip += MR) {
              const bb = biasMode === 1 ? biasBase + ((<usize>ip) << 2) : biasBase;
              micro_ind(
                kc,
                aBlock + ((<usize>(ip * kc)) << 2),
                pb,
                offsK,
                ct + ((<usize>(ip * ldc)) << 2),
                ldc,
                mode,
                bb,
                biasMode,
                act,
                min(MR, m - ip),
                cols,
                tile,
              );
            }
          }
          ox += NR;
          if (ox >= ow) {
            ox = 0;
            oy++;
          }
        }
      }
    }
  }
  return max(0, u1 - u0);
}
