/**
 * The one matrix-multiply routine of the js backend, used by both `matmul` and `conv2d`.
 *
 * It follows the classic blocked layout: the K dimension is cut into blocks of {@link KC},
 * B is packed per (K-block × N-block) into column panels {@link NR} wide, A is packed per
 * (M-block × K-block) into row panels {@link MR} (or, for tall products, {@link MR_TALL}) tall,
 * and a 4×4 (3×4) register-blocked micro-kernel multiplies one A panel by one B panel with its
 * accumulators in local variables. Packing
 * pads partial panels with zeros so the micro-kernel always runs full width; only the valid
 * part of each tile is written back. Packed panels are Float64Arrays (the values are exact
 * copies of the float32 inputs) so the micro-kernel's loads need no conversion; accumulation
 * inside a K block is in double precision.
 *
 * A is read through (row stride, column stride), so a transposed A needs no copy beyond the
 * packing every call does anyway; B comes from a {@link PanelSource}, which may be a strided
 * matrix or a gatherer such as convolution's im2col. A, a strided B and C may be float32 (tensor
 * data) or float64 (the Winograd convolution's transformed operands, kept in double precision).
 *
 * @module
 */

/** Rows of a micro-tile: 4, or {@link MR_TALL} for products of at least {@link TALL_M} rows. */
export const MR = 4;
/**
 * Rows of the micro-tile for tall products. 3 × 4 keeps its 12 accumulators, 4 B values and
 * one A value in V8's 15 allocatable xmm registers, where 4 × 4 spills: 3–6 % more
 * multiply-adds per second on a cache-resident product (scripts/profile/js-gemm-rate.mjs). Below
 * {@link TALL_M} rows (grouped convolutions' few channels per group) the padding of the last
 * 3-row panel costs more than that.
 */
export const MR_TALL = 3;
/** Rows from which the GEMM uses {@link MR_TALL}-row micro-tiles. */
export const TALL_M = 48;
/** Columns of a micro-tile. */
export const NR = 4;
/** Depth of one K block (packed panels of A and B are this long). */
export const KC = 256;
/** Rows of A packed at once (a multiple of {@link MR}; 126 for {@link MR_TALL}). */
export const MC = 128;
/** Columns of B packed at once (a multiple of {@link NR}). */
export const NC = 1024;

/** The element arrays the GEMM reads and writes: tensor data, or double-precision scratch. */
export type FloatArray = Float32Array | Float64Array;

/** Grow-only packing buffers, shared by every call (the backend is single-threaded). */
let packA = new Float64Array(MC * KC);
let packB = new Float64Array(KC * NR * 64);
const tile = new Float64Array(MR * NR);

/**
 * Where the GEMM gets B from: something that can write any `kc × nc` block of B in the packed
 * panel layout. A plain (strided) matrix is a {@link StridedMatrix}; convolution passes a
 * source that gathers the im2col matrix straight into the panels, so the column matrix is
 * never materialised.
 */
export interface PanelSource {
  /**
   * Writes rows `p0 .. p0 + kc` and columns `j0 .. j0 + nc` of B into `dst` as column panels
   * {@link NR} wide: panel `q`, depth `p`, lane `j` at `q·NR·kc + p·NR + j`. Lanes past the
   * last column of a partial panel must be written as 0.
   */
  packPanels(p0: number, kc: number, j0: number, nc: number, dst: Float64Array): void;
}

/** A matrix read through strides: element `(p, j)` is `data[offset + p·rowStride + j·colStride]`. */
export class StridedMatrix implements PanelSource {
  /**
   * @param data - the values.
   * @param offset - index of element (0, 0).
   * @param rowStride - distance between rows.
   * @param colStride - distance between columns (1 for row-major; the row length of a transposed matrix).
   */
  constructor(
    readonly data: FloatArray,
    readonly offset: number,
    readonly rowStride: number,
    readonly colStride: number,
  ) {}

  /** Packs a block (see {@link PanelSource.packPanels}). */
  packPanels(p0: number, kc: number, j0: number, nc: number, dst: Float64Array): void {
    const rs = this.rowStride;
    const cs = this.colStride;
    packPanelsB(this.data, this.offset + p0 * rs + j0 * cs, rs, cs, kc, nc, dst);
  }
}

/**
 * `C += op(A) · B` for an `m × n` C and shared dimension `k`.
 *
 * Element `(i, p)` of A is `a[aOff + i * aRs + p * aCs]`; B comes from a {@link PanelSource};
 * element `(i, j)` of C is `c[cOff + i * ldc + j]`. C is accumulated into, so pass a zeroed C
 * for a plain product.
 */
export function gemm(
  m: number,
  n: number,
  k: number,
  a: FloatArray,
  aOff: number,
  aRs: number,
  aCs: number,
  b: PanelSource,
  c: FloatArray,
  cOff: number,
  ldc: number,
): void {
  if (m <= 0 || n <= 0 || k <= 0) return;
  const mr = m >= TALL_M ? MR_TALL : MR;
  const mcBlock = Math.floor(MC / mr) * mr;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    const ncPanels = Math.ceil(nc / NR);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      const needB = ncPanels * NR * kc;
      if (packB.length < needB) packB = new Float64Array(needB);
      b.packPanels(pc, kc, jc, nc, packB);
      for (let ic = 0; ic < m; ic += mcBlock) {
        const mc = Math.min(mcBlock, m - ic);
        const mcPanels = Math.ceil(mc / mr);
        const needA = mcPanels * mr * kc;
        if (packA.length < needA) packA = new Float64Array(needA);
        packPanelsA(a, aOff + ic * aRs + pc * aCs, aRs, aCs, mc, kc, packA, mr);
        macroKernel(mc, nc, kc, packA, packB, c, cOff + ic * ldc + jc, ldc, mr);
      }
    }
  }
}

/**
 * Packs an `mc × kc` block of A into row panels `mr` (3 or 4) tall: panel `r`, depth `p`, row
 * `i` at `r·mr·kc + p·mr + i`.
 */
function packPanelsA(
  a: FloatArray,
  off: number,
  rs: number,
  cs: number,
  mc: number,
  kc: number,
  dst: Float64Array,
  mr: number,
): void {
  let d = 0;
  for (let ir = 0; ir < mc; ir += mr) {
    const rows = Math.min(mr, mc - ir);
    const base = off + ir * rs;
    if (rows === 4) {
      let s = base;
      for (let p = 0; p < kc; p++) {
        dst[d] = a[s];
        dst[d + 1] = a[s + rs];
        dst[d + 2] = a[s + 2 * rs];
        dst[d + 3] = a[s + 3 * rs];
        d += 4;
        s += cs;
      }
    } else if (rows === 3 && mr === 3) {
      let s = base;
      for (let p = 0; p < kc; p++) {
        dst[d] = a[s];
        dst[d + 1] = a[s + rs];
        dst[d + 2] = a[s + 2 * rs];
        d += 3;
        s += cs;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const s = base + p * cs;
        for (let i = 0; i < mr; i++) dst[d + i] = i < rows ? a[s + i * rs] : 0;
        d += mr;
      }
    }
  }
}

/** Packs a `kc × nc` block of B into column panels: panel `q`, depth `p`, column `j` at `q·NR·kc + p·NR + j`. */
function packPanelsB(
  b: FloatArray,
  off: number,
  rs: number,
  cs: number,
  kc: number,
  nc: number,
  dst: Float64Array,
): void {
  let d = 0;
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = Math.min(NR, nc - jr);
    const base = off + jr * cs;
    if (cols === NR) {
      let s = base;
      for (let p = 0; p < kc; p++) {
        dst[d] = b[s];
        dst[d + 1] = b[s + cs];
        dst[d + 2] = b[s + 2 * cs];
        dst[d + 3] = b[s + 3 * cs];
        d += NR;
        s += rs;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const s = base + p * rs;
        for (let j = 0; j < NR; j++) dst[d + j] = j < cols ? b[s + j * cs] : 0;
        d += NR;
      }
    }
  }
}

/** Multiplies the packed `mc × kc` A block (`mr`-row panels) by the packed `kc × nc` B block into C. */
function macroKernel(
  mc: number,
  nc: number,
  kc: number,
  pa: Float64Array,
  pb: Float64Array,
  c: FloatArray,
  cOff: number,
  ldc: number,
  mr: number,
): void {
  const panelA = mr * kc;
  const panelB = NR * kc;
  for (let jr = 0, bBase = 0; jr < nc; jr += NR, bBase += panelB) {
    const cols = Math.min(NR, nc - jr);
    for (let ir = 0, aBase = 0; ir < mc; ir += mr, aBase += panelA) {
      const rows = Math.min(mr, mc - ir);
      if (mr === 3) microKernel3(kc, pa, aBase, pb, bBase, c, cOff + ir * ldc + jr, ldc, rows, cols);
      else microKernel(kc, pa, aBase, pb, bBase, c, cOff + ir * ldc + jr, ldc, rows, cols);
    }
  }
}

/** One 4×4 tile: `C[0:rows, 0:cols] += Apanel · Bpanel` over depth `kc`. */
function microKernel(
  kc: number,
  pa: Float64Array,
  ai: number,
  pb: Float64Array,
  bi: number,
  c: FloatArray,
  ci: number,
  ldc: number,
  rows: number,
  cols: number,
): void {
  let c00 = 0;
  let c01 = 0;
  let c02 = 0;
  let c03 = 0;
  let c10 = 0;
  let c11 = 0;
  let c12 = 0;
  let c13 = 0;
  let c20 = 0;
  let c21 = 0;
  let c22 = 0;
  let c23 = 0;
  let c30 = 0;
  let c31 = 0;
  let c32 = 0;
  let c33 = 0;
  // Literal 4s, not MR/NR: V8 does not fold imported-module constants in this hot loop.
  const end = ai + kc * 4;
  for (; ai < end; ai += 4, bi += 4) {
    const a0 = pa[ai];
    const a1 = pa[ai + 1];
    const a2 = pa[ai + 2];
    const a3 = pa[ai + 3];
    const b0 = pb[bi];
    const b1 = pb[bi + 1];
    const b2 = pb[bi + 2];
    const b3 = pb[bi + 3];
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    c03 += a0 * b3;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    c13 += a1 * b3;
    c20 += a2 * b0;
    c21 += a2 * b1;
    c22 += a2 * b2;
    c23 += a2 * b3;
    c30 += a3 * b0;
    c31 += a3 * b1;
    c32 += a3 * b2;
    c33 += a3 * b3;
  }
  if (rows === MR && cols === NR) {
    c[ci] += c00;
    c[ci + 1] += c01;
    c[ci + 2] += c02;
    c[ci + 3] += c03;
    ci += ldc;
    c[ci] += c10;
    c[ci + 1] += c11;
    c[ci + 2] += c12;
    c[ci + 3] += c13;
    ci += ldc;
    c[ci] += c20;
    c[ci + 1] += c21;
    c[ci + 2] += c22;
    c[ci + 3] += c23;
    ci += ldc;
    c[ci] += c30;
    c[ci + 1] += c31;
    c[ci + 2] += c32;
    c[ci + 3] += c33;
    return;
  }
  tile[0] = c00;
  tile[1] = c01;
  tile[2] = c02;
  tile[3] = c03;
  tile[4] = c10;
  tile[5] = c11;
  tile[6] = c12;
  tile[7] = c13;
  tile[8] = c20;
  tile[9] = c21;
  tile[10] = c22;
  tile[11] = c23;
  tile[12] = c30;
  tile[13] = c31;
  tile[14] = c32;
  tile[15] = c33;
  addPartial(c, ci, ldc, rows, cols);
}

/** One 3×4 tile: `C[0:rows, 0:cols] += Apanel · Bpanel` over depth `kc` (A in 3-row panels). */
function microKernel3(
  kc: number,
  pa: Float64Array,
  ai: number,
  pb: Float64Array,
  bi: number,
  c: FloatArray,
  ci: number,
  ldc: number,
  rows: number,
  cols: number,
): void {
  let c00 = 0;
  let c01 = 0;
  let c02 = 0;
  let c03 = 0;
  let c10 = 0;
  let c11 = 0;
  let c12 = 0;
  let c13 = 0;
  let c20 = 0;
  let c21 = 0;
  let c22 = 0;
  let c23 = 0;
  // One A value live at a time: 12 accumulators + 4 B + 1 A fit the registers.
  const end = ai + kc * 3;
  for (; ai < end; ai += 3, bi += 4) {
    const b0 = pb[bi];
    const b1 = pb[bi + 1];
    const b2 = pb[bi + 2];
    const b3 = pb[bi + 3];
    let a = pa[ai];
    c00 += a * b0;
    c01 += a * b1;
    c02 += a * b2;
    c03 += a * b3;
    a = pa[ai + 1];
    c10 += a * b0;
    c11 += a * b1;
    c12 += a * b2;
    c13 += a * b3;
    a = pa[ai + 2];
    c20 += a * b0;
    c21 += a * b1;
    c22 += a * b2;
    c23 += a * b3;
  }
  if (rows === 3 && cols === NR) {
    c[ci] += c00;
    c[ci + 1] += c01;
    c[ci + 2] += c02;
    c[ci + 3] += c03;
    ci += ldc;
    c[ci] += c10;
    c[ci + 1] += c11;
    c[ci + 2] += c12;
    c[ci + 3] += c13;
    ci += ldc;
    c[ci] += c20;
    c[ci + 1] += c21;
    c[ci + 2] += c22;
    c[ci + 3] += c23;
    return;
  }
  tile[0] = c00;
  tile[1] = c01;
  tile[2] = c02;
  tile[3] = c03;
  tile[4] = c10;
  tile[5] = c11;
  tile[6] = c12;
  tile[7] = c13;
  tile[8] = c20;
  tile[9] = c21;
  tile[10] = c22;
  tile[11] = c23;
  addPartial(c, ci, ldc, rows, cols);
}

/** Adds the `rows × cols` corner of the micro-tile held in `tile` (4 columns a row) into C. */
function addPartial(c: FloatArray, ci: number, ldc: number, rows: number, cols: number): void {
  for (let i = 0; i < rows; i++) {
    const row = ci + i * ldc;
    for (let j = 0; j < cols; j++) c[row + j] += tile[i * NR + j];
  }
}
