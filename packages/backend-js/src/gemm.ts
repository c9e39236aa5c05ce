/**
 * The one matrix-multiply routine of the js backend, used by both `matmul` and `conv2d`.
 *
 * It follows the classic blocked layout: the K dimension is cut into blocks of at most
 * {@link KC}, as even as they go ({@link kBlockDepth}),
 * B is packed per (K-block × N-block) into column panels {@link NR} wide, A is packed per
 * (M-block × K-block) into row panels {@link MR} (or, for a few rows, {@link MR_SMALL}) tall,
 * and a 3×2 (2×2) register-blocked micro-kernel multiplies one A panel by one B panel with its
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

/**
 * Rows of the usual micro-tile. 3 × 2 keeps its 6 accumulators and 5 loaded values in V8's 15
 * allocatable xmm registers with room to spare, so TurboFan computing every product of a step
 * before adding any of them costs no spills, and the accumulators stay in their registers from
 * one step to the next. The 3 × 4 and 4 × 4 tiles of earlier versions load fewer values per
 * multiply-add on paper but spill and shuffle registers on every step (docs/benchmarks.md,
 * "backend-js: the 3 × 2 micro-kernel").
 */
export const MR = 3;
/** Rows of the small micro-tile, for products that 3-row panels would pad by more than {@link SMALL_ROWS_GAIN}. */
export const MR_SMALL = 2;
/**
 * How much faster the 3 × 2 micro-tile runs than the 2 × 2 one on a product both fill (1.13–1.21×
 * here, `node scripts/profile/js-gemm-rate.mjs`): the GEMM takes 2-row panels when 3-row panels
 * would pad the rows by more than that (4 rows, as in SKNet's grouped convolutions, pad to 6 rows
 * or to 4).
 */
export const SMALL_ROWS_GAIN = 1.15;
/** Columns of a micro-tile: the width of B's packed panels. */
export const NR = 2;
/** log2 of {@link NR}, for packers that place column `j` at panel `j >> NR_SHIFT`, lane `j & (NR − 1)`. */
export const NR_SHIFT = 1;
/** The deepest K block (packed panels of A and B are at most this long). */
export const KC = 256;
/** Rows of A packed at once (rounded down to a multiple of the micro-tile's rows: 126 or 128). */
export const MC = 128;
/** Columns of B packed at once (a multiple of {@link NR}). */
export const NC = 1024;

/** The element arrays the GEMM reads and writes: tensor data, or double-precision scratch. */
export type FloatArray = Float32Array | Float64Array;

/**
 * The packing buffers, shared by every call (the backend is single-threaded): the largest A
 * block ({@link MC} × {@link KC}, 256 KiB) and B block ({@link KC} × {@link NC}, 2 MiB). Their
 * sizes are powers of two and they are module constants, so the micro-kernels index them as
 * `PACK_A[i & A_MASK]`: V8 then embeds the buffers' addresses and drops the overflow checks on
 * the index arithmetic, which leaves the loop few enough general registers that its indices
 * are not spilled. Packed indices are always in range, so the masks never change one.
 */
const PACK_A = new Float64Array(MC * KC);
const PACK_B = new Float64Array(KC * NC);
/** Index masks of {@link PACK_A} and {@link PACK_B}, written as literals in the micro-kernels. */
const A_MASK = 0x7fff;
const B_MASK = 0x3ffff;
if (PACK_A.length !== A_MASK + 1 || PACK_B.length !== B_MASK + 1)
  throw new Error('backend-js gemm: the packing buffers must be MC·KC = 2^15 and KC·NC = 2^18 doubles');
const tile = new Float64Array(MR * NR);

/** 0: {@link microRows} picks; 2 or 3: every product uses that micro-tile (see {@link setMicroRows}). */
let forcedRows = 0;

/**
 * Makes every product use the 2-row or 3-row micro-tile (0 restores the automatic choice), so
 * tests run both kernels on the same shapes and profile scripts can compare their rates.
 */
export function setMicroRows(rows: 0 | 2 | 3): void {
  forcedRows = rows;
}

/** The micro-tile rows for an `m`-row product: {@link MR} unless {@link MR_SMALL} pads far less. */
export function microRows(m: number): number {
  if (forcedRows !== 0) return forcedRows;
  const padded3 = Math.ceil(m / MR) * MR;
  const padded2 = Math.ceil(m / MR_SMALL) * MR_SMALL;
  return padded3 <= SMALL_ROWS_GAIN * padded2 ? MR : MR_SMALL;
}

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
  blocked(m, n, k, b, c, cOff, ldc, (ic, pc, mc, kc, mr) =>
    packPanelsA(a, aOff + ic * aRs + pc * aCs, aRs, aCs, mc, kc, PACK_A, mr),
  );
}

/**
 * The depth of a `k`-deep product's K blocks: `k` cut into ⌈k / {@link KC}⌉ blocks as even as
 * they go, the last one shorter by less than a block count (576 → 192 + 192 + 192, not
 * 256 + 256 + 64; 288 → 144 + 144). Every K block updates each tile of C once and packs its
 * part of B, and a short one does so for few multiply-adds: HRNet-W32's 64 → 64 stride-2 stem
 * convolution (K 576) ran 1.12× slower with blocks of {@link KC} and a short tail
 * (docs/benchmarks.md, "Ninth round").
 */
export function kBlockDepth(k: number): number {
  return Math.ceil(k / Math.ceil(k / KC));
}

/**
 * Where each element of an `m × k` A lies in the GEMM's packed layout, for a caller that
 * produces A itself and can write it packed once (the Winograd filter transform) instead of the
 * GEMM packing it on every call ({@link gemmPackedA}). K blocks of {@link kBlockDepth} follow one another;
 * in each, A's rows, padded to whole panels of {@link microRows} rows, are row panels of
 * `mr × kc` values, depth-major within a panel. Padded rows may hold anything: the micro-kernel
 * computes their rows of C, and nothing writes them back.
 */
export class PackedALayout {
  /** Rows of a panel: {@link microRows} of `m`. */
  readonly mr: number;
  /** `m` rounded up to whole panels. */
  readonly rows: number;
  /** Doubles the packed matrix takes: `rows × k`. */
  readonly size: number;
  /** Depth of its K blocks: {@link kBlockDepth} of `k`. */
  readonly kBlock: number;
  constructor(
    readonly m: number,
    readonly k: number,
  ) {
    this.mr = microRows(m);
    this.rows = Math.ceil(m / this.mr) * this.mr;
    this.size = this.rows * k;
    this.kBlock = kBlockDepth(k);
  }

  /** Index of element `(i, p)`, for `0 ≤ i < rows` (rows from `m` on are the padding) and `0 ≤ p < k`. */
  index(i: number, p: number): number {
    const mr = this.mr;
    const k0 = p - (p % this.kBlock);
    const kc = Math.min(this.kBlock, this.k - k0);
    const r = i % mr;
    return k0 * this.rows + (i - r) * kc + (p - k0) * mr + r;
  }
}

/**
 * `C += A · B` like {@link gemm}, for an A already in the packed layout of
 * `new PackedALayout(m, k)` at `a[aOff ..]`: each block is copied into the packing buffer whole
 * instead of gathered.
 */
export function gemmPackedA(
  m: number,
  n: number,
  k: number,
  a: Float64Array,
  aOff: number,
  b: PanelSource,
  c: FloatArray,
  cOff: number,
  ldc: number,
): void {
  if (m <= 0 || n <= 0 || k <= 0) return;
  const { rows } = new PackedALayout(m, k);
  blocked(m, n, k, b, c, cOff, ldc, (ic, pc, mc, kc, mr) => {
    const from = aOff + pc * rows + ic * kc;
    PACK_A.set(a.subarray(from, from + Math.ceil(mc / mr) * mr * kc));
  });
}

/**
 * The blocked loop nest both entries share: B packed per (N block, K block), A per (M block,
 * K block) by `packA` (rows `ic ..` of depth `pc ..`, into {@link PACK_A} as `mr`-row panels),
 * then the macro-kernel.
 */
function blocked(
  m: number,
  n: number,
  k: number,
  b: PanelSource,
  c: FloatArray,
  cOff: number,
  ldc: number,
  packA: (ic: number, pc: number, mc: number, kc: number, mr: number) => void,
): void {
  const mr = microRows(m);
  const mcBlock = Math.floor(MC / mr) * mr;
  const kBlock = kBlockDepth(k);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += kBlock) {
      const kc = Math.min(kBlock, k - pc);
      b.packPanels(pc, kc, jc, nc, PACK_B);
      for (let ic = 0; ic < m; ic += mcBlock) {
        const mc = Math.min(mcBlock, m - ic);
        packA(ic, pc, mc, kc, mr);
        macroKernel(mc, nc, kc, c, cOff + ic * ldc + jc, ldc, mr);
      }
    }
  }
}

/**
 * Packs an `mc × kc` block of A into row panels `mr` (3 or 2) tall: panel `r`, depth `p`, row
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
    if (rows === 3) {
      for (let p = 0, s = base; p < kc; p++, d += 3, s += cs) {
        dst[d] = a[s];
        dst[d + 1] = a[s + rs];
        dst[d + 2] = a[s + 2 * rs];
      }
    } else if (rows === 2 && mr === 2) {
      for (let p = 0, s = base; p < kc; p++, d += 2, s += cs) {
        dst[d] = a[s];
        dst[d + 1] = a[s + rs];
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
    const base = off + jr * cs;
    if (nc - jr >= 2) {
      for (let p = 0, s = base; p < kc; p++, d += 2, s += rs) {
        dst[d] = b[s];
        dst[d + 1] = b[s + cs];
      }
    } else {
      for (let p = 0, s = base; p < kc; p++, d += 2, s += rs) {
        dst[d] = b[s];
        dst[d + 1] = 0;
      }
    }
  }
}

/** Multiplies the packed `mc × kc` A block (`mr`-row panels) by the packed `kc × nc` B block into C. */
function macroKernel(
  mc: number,
  nc: number,
  kc: number,
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
      if (mr === 3) micro3x2(kc, aBase, bBase);
      else micro2x2(kc, aBase, bBase);
      addTile(c, cOff + ir * ldc + jr, ldc, rows, cols);
    }
  }
}

/** One 3×2 tile of `Apanel · Bpanel` over depth `kc` (A in 3-row panels at `ai`, B at `bi`) into `tile`. */
function micro3x2(kc: number, ai: number, bi: number): void {
  let c00 = 0;
  let c01 = 0;
  let c10 = 0;
  let c11 = 0;
  let c20 = 0;
  let c21 = 0;
  // Literal masks and steps, not A_MASK/B_MASK/MR/NR: V8 does not fold the constants here.
  for (let p = 0; p < kc; p++) {
    const b0 = PACK_B[bi & 0x3ffff];
    const b1 = PACK_B[(bi + 1) & 0x3ffff];
    const a0 = PACK_A[ai & 0x7fff];
    const a1 = PACK_A[(ai + 1) & 0x7fff];
    const a2 = PACK_A[(ai + 2) & 0x7fff];
    c00 += a0 * b0;
    c01 += a0 * b1;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c20 += a2 * b0;
    c21 += a2 * b1;
    ai = (ai + 3) | 0;
    bi = (bi + 2) | 0;
  }
  tile[0] = c00;
  tile[1] = c01;
  tile[2] = c10;
  tile[3] = c11;
  tile[4] = c20;
  tile[5] = c21;
}

/** One 2×2 tile of `Apanel · Bpanel` over depth `kc` (A in 2-row panels at `ai`, B at `bi`) into `tile`. */
function micro2x2(kc: number, ai: number, bi: number): void {
  let c00 = 0;
  let c01 = 0;
  let c10 = 0;
  let c11 = 0;
  for (let p = 0; p < kc; p++) {
    const b0 = PACK_B[bi & 0x3ffff];
    const b1 = PACK_B[(bi + 1) & 0x3ffff];
    const a0 = PACK_A[ai & 0x7fff];
    const a1 = PACK_A[(ai + 1) & 0x7fff];
    c00 += a0 * b0;
    c01 += a0 * b1;
    c10 += a1 * b0;
    c11 += a1 * b1;
    ai = (ai + 2) | 0;
    bi = (bi + 2) | 0;
  }
  tile[0] = c00;
  tile[1] = c01;
  tile[2] = c10;
  tile[3] = c11;
}

/** Adds the `rows × cols` corner of the micro-tile held in `tile` ({@link NR} columns a row) into C. */
function addTile(c: FloatArray, ci: number, ldc: number, rows: number, cols: number): void {
  if (cols === 2) {
    for (let i = 0, t = 0; i < rows; i++, t += 2, ci += ldc) {
      c[ci] += tile[t];
      c[ci + 1] += tile[t + 1];
    }
  } else for (let i = 0; i < rows; i++) c[ci + i * ldc] += tile[i * NR];
}
