/**
 * The shapes of `pnpm bench kernels`, stated once so every backend's table has the same rows
 * under the same names: the convolutions that dominate HRNet-W32, SKNet-50 and SPNet, plus two
 * plain GEMMs.
 *
 * Every convolution is batch 1, NCHW input `[1, cin, h, w]`, OIHW weight
 * `[cout, cin / groups, kh, kw]`, and "same" padding: `dilation · (k − 1) / 2` on each side of
 * each axis (see {@link benchRowPadding}). "64×48×32" in a name is H×W×C of the input.
 *
 * @module
 */

/** A benchmarked convolution (batch 1, NCHW, "same" padding). */
export interface ConvBenchRow {
  /** Discriminates convolution rows from GEMM rows. */
  readonly kind: 'conv';
  /** The row's label, identical in every backend's table. */
  readonly name: string;
  /** Input height. */
  readonly h: number;
  /** Input width. */
  readonly w: number;
  /** Input channels. */
  readonly cin: number;
  /** Output channels. */
  readonly cout: number;
  /** Kernel height. */
  readonly kh: number;
  /** Kernel width. */
  readonly kw: number;
  /** Stride, both axes. */
  readonly stride: number;
  /** Dilation, both axes. */
  readonly dilation: number;
  /** Channel groups (divides `cin` and `cout`). */
  readonly groups: number;
}

/** A benchmarked plain matrix product `[m, k] · [k, n]`. */
export interface GemmBenchRow {
  /** Discriminates GEMM rows from convolution rows. */
  readonly kind: 'gemm';
  /** The row's label, identical in every backend's table. */
  readonly name: string;
  /** Rows of the output. */
  readonly m: number;
  /** Columns of the output. */
  readonly n: number;
  /** The shared dimension. */
  readonly k: number;
}

/** One row of the kernels benchmark. */
export type KernelBenchRow = ConvBenchRow | GemmBenchRow;

function conv(
  name: string,
  h: number,
  w: number,
  cin: number,
  cout: number,
  kh: number,
  kw: number,
  o: { stride?: number; dilation?: number; groups?: number } = {},
): ConvBenchRow {
  return Object.freeze({
    kind: 'conv',
    name,
    h,
    w,
    cin,
    cout,
    kh,
    kw,
    stride: o.stride ?? 1,
    dilation: o.dilation ?? 1,
    groups: o.groups ?? 1,
  });
}

function gemm(name: string, m: number, n: number, k: number): GemmBenchRow {
  return Object.freeze({ kind: 'gemm', name, m, n, k });
}

/** The rows of `pnpm bench kernels`, in table order. */
export const KERNEL_BENCH_ROWS: readonly KernelBenchRow[] = Object.freeze([
  conv('HRNet-W32 3×3 64×48×32', 64, 48, 32, 32, 3, 3),
  conv('HRNet-W32 3×3 32×24×64', 32, 24, 64, 64, 3, 3),
  conv('HRNet-W32 stem 3×3/2 128×96×64', 128, 96, 64, 64, 3, 3, { stride: 2 }),
  conv('SKNet-50 3×3 G=32 56×56×128', 56, 56, 128, 128, 3, 3, { groups: 32 }),
  conv('SKNet-50 3×3 G=32 d=2 56×56×128', 56, 56, 128, 128, 3, 3, { groups: 32, dilation: 2 }),
  conv('SKNet-50 3×3 G=32 14×14×512', 14, 14, 512, 512, 3, 3, { groups: 32 }),
  conv('SKNet-50 1×1 56×56×256→128', 56, 56, 256, 128, 1, 1),
  conv('SKNet-50 1×1 14×14×512→1024', 14, 14, 512, 1024, 1, 1),
  conv('SPNet 1×3 64×64×512', 64, 64, 512, 512, 1, 3),
  conv('SPNet 3×1 64×64×512', 64, 64, 512, 512, 3, 1),
  conv('SPNet 1×1 64×64×512', 64, 64, 512, 512, 1, 1),
  gemm('GEMM 512³', 512, 512, 512),
  gemm('GEMM 1024³', 1024, 1024, 1024),
]);

/** A convolution row's "same" padding `[vertical, horizontal]`: `dilation · (k − 1) / 2` per side. */
export function benchRowPadding(row: ConvBenchRow): [number, number] {
  return [(row.dilation * (row.kh - 1)) / 2, (row.dilation * (row.kw - 1)) / 2];
}

/** A convolution row's output `[height, width]`. */
export function benchRowOutput(row: ConvBenchRow): [number, number] {
  const [ph, pw] = benchRowPadding(row);
  const out = (size: number, k: number, pad: number) =>
    Math.floor((size + 2 * pad - row.dilation * (k - 1) - 1) / row.stride) + 1;
  return [out(row.h, row.kh, ph), out(row.w, row.kw, pw)];
}

/** Multiply-adds of one row (a GFLOP count is twice this). */
export function benchRowMacs(row: KernelBenchRow): number {
  if (row.kind === 'gemm') return row.m * row.n * row.k;
  const [oh, ow] = benchRowOutput(row);
  return oh * ow * row.cout * (row.cin / row.groups) * row.kh * row.kw;
}
