/**
 * Kernel cases: each runs one kernel of the wasm backend on host inputs and judges the output
 * against an oracle of `@kernelzoo/conformance` — conv2d and matmul against the float64 loop
 * oracles (`oracle.accumulate.*`) with the wasm accumulation bound, every other kernel against
 * TensorFlow.js (`oracle.tfjs.*`) or the naive loops (`oracle.naive.*`) with the preset the
 * conformance suite uses for it. Shared by the Node and Chromium tests.
 *
 * @module
 */
import { type HostTensor, oracle, type TolerancePreset } from '@kernelzoo/conformance';
import {
  type Activation,
  BINARY_OPS,
  type BinaryOp,
  type Conv2dInfo,
  type MatMulInfo,
  type Pool2dInfo,
  type ResizeInfo,
  type TensorInfo,
  UNARY_OPS,
  type UnaryOp,
} from '@kernelzoo/core';
import type { WasmBackend } from './backend.js';
import {
  type Accumulated,
  check,
  checkAccumulated,
  floats,
  type Host,
  ints,
  type KernelCall,
  matrix,
  padSpatial,
  rng,
  stack,
  transposed,
} from './test-util.js';

const { accumulate, naive, tfjs } = oracle;

/** One case. */
export interface KernelCase {
  /** The test title. */
  name: string;
  /** Runs and checks; throws on a mismatch. */
  run(b: WasmBackend): void;
}

interface Conv {
  n: number;
  cin: number;
  cout: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  pad: [number, number, number, number];
  groups: number;
  bias: boolean;
  act: Activation;
}

function convInfo(c: Conv): Conv2dInfo {
  const [pt, pb, pl, pr] = c.pad;
  return {
    batch: c.n,
    inChannels: c.cin,
    inHeight: c.h,
    inWidth: c.w,
    outChannels: c.cout,
    outHeight: Math.floor((c.h + pt + pb - c.dh * (c.kh - 1) - 1) / c.sh) + 1,
    outWidth: Math.floor((c.w + pl + pr - c.dw * (c.kw - 1) - 1) / c.sw) + 1,
    kernelHeight: c.kh,
    kernelWidth: c.kw,
    strideHeight: c.sh,
    strideWidth: c.sw,
    dilationHeight: c.dh,
    dilationWidth: c.dw,
    padTop: pt,
    padBottom: pb,
    padLeft: pl,
    padRight: pr,
    groups: c.groups,
  };
}

/**
 * The float64 oracle of a convolution: the input zero-padded on the host (padding may differ
 * per side), then `accumulate.convolve` without padding.
 */
function convOracle(c: Conv, x: Host, w: Host, bias: Host | null): Accumulated {
  return accumulate.convolve(padSpatial(x, c.pad), w, {
    stride: [c.sh, c.sw],
    padding: [0, 0],
    dilation: [c.dh, c.dw],
    groups: c.groups,
    bias,
  });
}

function convCase(c: Conv, seed: number): KernelCase {
  const name = `conv2d x[${c.n},${c.cin},${c.h},${c.w}] k${c.kh}×${c.kw} s${c.sh}×${c.sw} d${c.dh}×${c.dw} p[${c.pad}] g${c.groups} -> ${c.cout}${c.bias ? ' +bias' : ''} ${c.act}`;
  return {
    name,
    run(b) {
      const r = rng(seed);
      const x = floats(r, [c.n, c.cin, c.h, c.w]);
      const w = floats(r, [c.cout, c.cin / c.groups, c.kh, c.kw]);
      const bias = c.bias ? floats(r, [c.cout]) : null;
      const info = convInfo(c);
      checkAccumulated(
        b,
        [x, w, bias],
        (be, [xi, wi, bi]) => be.conv2d(xi!, wi!, bi, info, c.act),
        convOracle(c, x, w, bias),
        c.act,
        name,
      );
    },
  };
}

const BASE: Conv = {
  n: 1,
  cin: 3,
  cout: 4,
  h: 5,
  w: 6,
  kh: 3,
  kw: 3,
  sh: 1,
  sw: 1,
  dh: 1,
  dw: 1,
  pad: [1, 1, 1, 1],
  groups: 1,
  bias: true,
  act: 'linear',
};

function convCases(): KernelCase[] {
  const cs: Partial<Conv>[] = [
    {},
    { act: 'relu' },
    { act: 'sigmoid', bias: false },
    { kh: 1, kw: 1, pad: [0, 0, 0, 0], cin: 16, cout: 13, h: 7, w: 9 },
    { kh: 1, kw: 1, pad: [0, 0, 0, 0], sh: 2, sw: 2, cin: 8, cout: 8, h: 7, w: 9 },
    { cin: 32, cout: 40, h: 17, w: 19, act: 'relu' },
    { cin: 300, cout: 7, h: 4, w: 5 },
    { cin: 20, cout: 20, h: 24, w: 24, groups: 4 },
    { cin: 64, cout: 64, h: 9, w: 9, groups: 32, act: 'relu' },
    { cin: 64, cout: 64, h: 10, w: 9, groups: 32, sh: 2, sw: 2 },
    { cin: 128, cout: 64, h: 5, w: 5, groups: 32, dh: 2, dw: 2, pad: [2, 2, 2, 2] },
    { cin: 6, cout: 6, groups: 6, sh: 2, sw: 2, h: 7, w: 7, act: 'relu' },
    { cin: 4, cout: 8, groups: 4, h: 11, w: 13, act: 'sigmoid' },
    { cin: 8, cout: 8, groups: 8, h: 12, w: 15, dh: 2, dw: 3, pad: [2, 2, 3, 3] },
    { kh: 1, kw: 3, pad: [0, 0, 1, 1], cin: 24, cout: 16, h: 9, w: 17 },
    { kh: 3, kw: 1, pad: [1, 1, 0, 0], cin: 24, cout: 16, h: 17, w: 9, sh: 2 },
    { n: 3, cin: 5, cout: 7, h: 6, w: 10 },
    { kh: 7, kw: 7, sh: 2, sw: 2, pad: [3, 3, 3, 3], cin: 3, cout: 16, h: 23, w: 21, act: 'relu' },
    { dh: 2, dw: 2, pad: [2, 2, 2, 2], cin: 12, cout: 10, h: 13, w: 11 },
    { sh: 3, sw: 3, dh: 3, dw: 3, pad: [0, 0, 0, 0], h: 13, w: 14 },
    { pad: [0, 2, 1, 0], h: 6, w: 4 },
    { h: 1, w: 1 },
    { h: 3, w: 3, kh: 5, kw: 5, pad: [1, 1, 1, 1] },
    { cin: 1, cout: 1, bias: false, h: 30, w: 33 },
    { cin: 40, cout: 70, h: 20, w: 37, kh: 3, kw: 3 },
    // HRNet-like: several pixel tiles per row and several chunks (strided, batched, dilated).
    { n: 2, cin: 24, cout: 32, h: 26, w: 35, sh: 2, sw: 2, act: 'relu' },
    { cin: 32, cout: 32, h: 16, w: 40, dh: 2, dw: 2, pad: [2, 2, 2, 2], act: 'relu' },
    { cin: 16, cout: 64, h: 31, w: 17, sh: 2, sw: 1, pad: [1, 0, 1, 2], act: 'sigmoid' },
    // Winograd-eligible (3×3, stride 1, ≥ 16 channels each side): batches, output channels
    // not a multiple of 5, two K blocks (260 input channels), asymmetric and no padding, odd
    // sizes and tile rows not a multiple of 4 tiles.
    { n: 2, cin: 16, cout: 21, h: 13, w: 30, act: 'relu' },
    { cin: 260, cout: 16, h: 9, w: 8, bias: false },
    { cin: 24, cout: 18, h: 11, w: 7, pad: [0, 2, 1, 0] },
    { cin: 16, cout: 17, h: 6, w: 50, pad: [0, 0, 0, 0], act: 'relu' },
    { cin: 20, cout: 24, h: 16, w: 12, act: 'relu' }, // 6 tiles a row: groups across tile rows
  ];
  const out = cs.map((o, i) => convCase({ ...BASE, ...o }, 100 + i));
  // Random configurations.
  const r = rng(7);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  for (let i = 0; i < 24; i++) {
    const groups = pick([1, 1, 2, 3, 4]);
    const cin = groups * pick([1, 2, 3, 5]);
    const cout = groups * pick([1, 2, 4, 7]);
    const kh = pick([1, 2, 3, 5]);
    const kw = pick([1, 2, 3]);
    const dh = pick([1, 1, 2]);
    const dw = pick([1, 1, 3]);
    const h = kh * dh + pick([0, 1, 4, 9]);
    const w = kw * dw + pick([0, 2, 5, 12]);
    out.push(
      convCase(
        {
          n: pick([1, 2]),
          cin,
          cout,
          h,
          w,
          kh,
          kw,
          sh: pick([1, 2, 3]),
          sw: pick([1, 2]),
          dh,
          dw,
          pad: [pick([0, 1, 2]), pick([0, 1]), pick([0, 1, 2]), pick([0, 2])],
          groups,
          bias: r() < 0.5,
          act: pick(['linear', 'relu', 'sigmoid'] as Activation[]),
        },
        1000 + i,
      ),
    );
  }
  return out;
}

function matmulCase(
  aShape: number[],
  bShape: number[],
  tA: boolean,
  tB: boolean,
  bias: boolean,
  act: Activation,
  seed: number,
): KernelCase {
  const name = `matmul a[${aShape}] b[${bShape}]${tA ? ' ᵀa' : ''}${tB ? ' ᵀb' : ''}${bias ? ' +bias' : ''} ${act}`;
  return {
    name,
    run(be) {
      const r = rng(seed);
      const a = floats(r, aShape);
      const b = floats(r, bShape);
      const a3 = aShape.length === 3 ? aShape : [1, ...aShape];
      const b3 = bShape.length === 3 ? bShape : [1, ...bShape];
      const m = tA ? a3[2] : a3[1];
      const k = tA ? a3[1] : a3[2];
      const n = tB ? b3[1] : b3[2];
      const batch = Math.max(a3[0], b3[0]);
      const outShape = aShape.length === 2 && bShape.length === 2 ? [m, n] : [batch, m, n];
      const info: MatMulInfo = {
        batch,
        aBatch: a3[0],
        bBatch: b3[0],
        m,
        n,
        k,
        transposeA: tA,
        transposeB: tB,
        outShape,
      };
      const bi = bias ? floats(r, [n]) : null;
      // The float64 oracle per batch (a batch of 1 broadcasts), ᵀa transposed on the host.
      const parts: Accumulated[] = [];
      for (let i = 0; i < batch; i++) {
        const ia = a3[0] === 1 ? 0 : i;
        const ib = b3[0] === 1 ? 0 : i;
        const ai = tA ? transposed(a.values, ia * m * k, k, m) : matrix(a.values, ia * m * k, m, k);
        const bm = tB ? matrix(b.values, ib * n * k, n, k) : matrix(b.values, ib * k * n, k, n);
        parts.push(accumulate.multiply(ai, bm, tB, bi));
      }
      checkAccumulated(
        be,
        [a, b, bi],
        (x, [ai, bb, bs]) => x.matmul(ai!, bb!, bs, info, act),
        stack(parts, outShape),
        act,
        name,
      );
    },
  };
}

function matmulCases(): KernelCase[] {
  return [
    matmulCase([3, 4], [4, 5], false, false, false, 'linear', 1),
    matmulCase([1, 1], [1, 1], false, false, false, 'linear', 2),
    matmulCase([4, 3], [4, 5], true, false, false, 'linear', 3),
    matmulCase([3, 4], [5, 4], false, true, true, 'relu', 4),
    matmulCase([4, 3], [5, 4], true, true, false, 'sigmoid', 5),
    matmulCase([37, 300], [300, 133], false, false, true, 'relu', 6),
    matmulCase([17, 65], [23, 65], false, true, true, 'linear', 7),
    matmulCase([3, 4, 5], [3, 5, 9], false, false, false, 'linear', 8),
    matmulCase([1, 4, 5], [3, 5, 2], false, false, true, 'linear', 9),
    matmulCase([3, 4, 5], [1, 5, 2], false, false, false, 'relu', 10),
    matmulCase([2, 5, 4], [2, 3, 5], true, true, false, 'linear', 11),
    matmulCase([64, 600], [600, 70], false, false, false, 'linear', 12),
    matmulCase([2, 0], [0, 3], false, false, true, 'relu', 13),
  ];
}

/** The preset the conformance suite judges a unary function by. */
function unaryPreset(op: UnaryOp): TolerancePreset {
  if (op === 'neg' || op === 'abs' || op === 'relu') return 'exact';
  if (op === 'square') return 'elementwise';
  return 'transcendental';
}

/** The preset the conformance suite judges a binary function by. */
function binaryPreset(op: BinaryOp): TolerancePreset {
  if (op === 'maximum' || op === 'minimum') return 'exact';
  if (op === 'div' || op === 'pow') return 'transcendental';
  return 'elementwise';
}

/**
 * C's (and PyTorch's) `pow`, where JavaScript's `Math.pow` (and so tfjs) differs: `1^y` is 1
 * for every y (NaN included) and `(−1)^±Inf` is 1; everything else is `Math.pow`.
 */
function powC(x: number, y: number): number {
  if (x === 1 || (x === -1 && (y === Number.POSITIVE_INFINITY || y === Number.NEGATIVE_INFINITY))) return 1;
  return x ** y;
}

/**
 * PyTorch's argmax along `axis` (the naive oracles have none): a NaN counts as the maximum
 * (the first NaN wins), otherwise the first index of the maximum. tfjs skips NaN instead.
 */
function argmaxNaN(x: Host, axis: number): HostTensor {
  const shape = x.shape;
  const len = shape[axis];
  const inner = shape.slice(axis + 1).reduce((p, q) => p * q, 1);
  const outer = shape.slice(0, axis).reduce((p, q) => p * q, 1);
  const out = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      let best = 0;
      let max = x.values[o * len * inner + i];
      for (let j = 1; j < len && !Number.isNaN(max); j++) {
        const v = x.values[(o * len + j) * inner + i];
        if (v > max || Number.isNaN(v)) {
          max = v;
          best = j;
        }
      }
      out[o * inner + i] = best;
    }
  return { shape: shape.filter((_, d) => d !== axis), dtype: 'int32', values: out };
}

/** int32 unary functions, exactly. */
function intUnary(op: UnaryOp, v: number): number {
  if (op === 'neg') return -v;
  if (op === 'abs') return Math.abs(v);
  if (op === 'square') return v * v;
  return Math.max(v, 0);
}

/** int32 binary functions, in float64 (the naive oracle truncates toward zero). */
const INT_BINARY: Record<BinaryOp, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  maximum: Math.max,
  minimum: Math.min,
  pow: Math.pow,
};

function intHost(values: ArrayLike<number>, shape: number[]): Host {
  return { shape, dtype: 'int32', values: Int32Array.from(values) };
}

function unaryCases(): KernelCase[] {
  const ops = UNARY_OPS;
  const out: KernelCase[] = [];
  ops.forEach((op, i) => {
    out.push({
      name: `unary ${op} float32`,
      run(b) {
        const r = rng(200 + i);
        const x = floats(r, [3, 37]);
        const v = x.values as Float32Array;
        v[0] = Number.NaN;
        v[1] = Number.POSITIVE_INFINITY;
        v[2] = Number.NEGATIVE_INFINITY;
        v[3] = 0;
        v[4] = -0;
        if (op === 'log' || op === 'sqrt' || op === 'rsqrt')
          for (let j = 5; j < v.length; j++) v[j] = Math.abs(v[j]) + 0.01;
        check(b, [x], (be, [xi]) => be.unary(op, xi!), tfjs.unary(op, x), unaryPreset(op), `unary ${op}`);
      },
    });
  });
  for (const op of ['neg', 'abs', 'square', 'relu'] as const)
    out.push({
      name: `unary ${op} int32`,
      run(b) {
        const x = ints(rng(300), [41]);
        const expected = intHost(
          Array.from(x.values, (e) => intUnary(op, e)),
          [41],
        );
        check(b, [x], (be, [xi]) => be.unary(op, xi!), expected, 'exact', `unary ${op} int32`);
      },
    });
  return out;
}

function binaryCases(): KernelCase[] {
  const ops = BINARY_OPS;
  const shapes: [number[], number[], number[]][] = [
    [
      [2, 3, 17],
      [2, 3, 17],
      [2, 3, 17],
    ],
    [[2, 3, 17], [17], [2, 3, 17]],
    [
      [2, 3, 17],
      [3, 1],
      [2, 3, 17],
    ],
    [
      [2, 1, 5],
      [1, 4, 1],
      [2, 4, 5],
    ],
    [[], [4, 6], [4, 6]],
    [[4, 6], [], [4, 6]],
    [[], [], []],
    [
      [1, 64, 1, 1],
      [2, 64, 9, 9],
      [2, 64, 9, 9],
    ],
  ];
  const out: KernelCase[] = [];
  ops.forEach((op, i) => {
    shapes.forEach(([as, bs, os], j) => {
      out.push({
        name: `binary ${op} float32 [${as}] [${bs}]`,
        run(b) {
          const r = rng(400 + i * 10 + j);
          const x = floats(r, as);
          const y = floats(r, bs);
          if (op === 'pow')
            for (let q = 0; q < x.values.length; q++) x.values[q] = Math.abs(x.values[q]) + 0.1;
          check(
            b,
            [x, y],
            (be, [xi, yi]) => be.binary(op, xi!, yi!, os),
            tfjs.binary(op, x, y),
            binaryPreset(op),
            `binary ${op}`,
          );
        },
      });
    });
    out.push({
      name: `binary ${op} int32`,
      run(b) {
        const r = rng(500 + i);
        const x = ints(r, [3, 7]);
        const y = ints(r, [7]);
        if (op === 'pow') for (let q = 0; q < y.values.length; q++) y.values[q] = Math.abs(y.values[q]) % 4;
        check(
          b,
          [x, y],
          (be, [xi, yi]) => be.binary(op, xi!, yi!, [3, 7]),
          naive.binary(x, y, INT_BINARY[op]),
          'exact',
          `binary ${op} int32`,
        );
      },
    });
  });
  out.push({
    name: 'binary special values (NaN, ±Inf, ±0, pow edge cases)',
    run(b) {
      const sv = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, 1, -1, 2.5, -2.5];
      const xa: number[] = [];
      const ya: number[] = [];
      for (const p of sv)
        for (const q of sv) {
          xa.push(p);
          ya.push(q);
        }
      const x: Host = { shape: [xa.length], dtype: 'float32', values: Float32Array.from(xa) };
      const y: Host = { shape: [ya.length], dtype: 'float32', values: Float32Array.from(ya) };
      // pow on these pairs follows C/PyTorch, which tfjs (Math.pow) does not: the naive oracle.
      for (const op of ops)
        check(
          b,
          [x, y],
          (be, [xi, yi]) => be.binary(op, xi!, yi!, [xa.length]),
          op === 'pow' ? naive.binary(x, y, powC) : tfjs.binary(op, x, y),
          binaryPreset(op),
          op,
        );
    },
  });
  return out;
}

function miscCases(): KernelCase[] {
  const out: KernelCase[] = [];
  out.push({
    name: 'batchNorm with and without scale/offset',
    run(b) {
      const r = rng(600);
      const x = floats(r, [2, 5, 3, 7]);
      const m = floats(r, [5]);
      const v = floats(r, [5]);
      for (let i = 0; i < 5; i++) v.values[i] = Math.abs(v.values[i]);
      const s = floats(r, [5]);
      const o = floats(r, [5]);
      const bn = (be: WasmBackend, [a, c, d, e, f]: (TensorInfo | null)[], eps: number) =>
        be.batchNorm(a!, c!, d!, e, f, eps);
      check(
        b,
        [x, m, v, s, o],
        (be, xs) => bn(be, xs, 1e-5),
        tfjs.batchNorm(x, m, v, s, o, 1e-5),
        'elementwise',
        'bn',
      );
      check(
        b,
        [x, m, v, null, null],
        (be, xs) => bn(be, xs, 1e-3),
        tfjs.batchNorm(x, m, v, null, null, 1e-3),
        'elementwise',
        'bn',
      );
      const x2 = floats(r, [3, 4]);
      const m2 = floats(r, [4]);
      const v2: Host = { shape: [4], dtype: 'float32', values: Float32Array.of(0.5, 1, 2, 3) };
      check(
        b,
        [x2, m2, v2, null, null],
        (be, xs) => bn(be, xs, 1e-5),
        tfjs.batchNorm(x2, m2, v2, null, null, 1e-5),
        'elementwise',
        'bn 2-D',
      );
    },
  });
  const pools: [Partial<Pool2dInfo>, 'max' | 'avg'][] = [
    [{}, 'max'],
    [{}, 'avg'],
    [{ countIncludePad: false }, 'avg'],
    // Output sizes are PyTorch's (floor mode) for these arguments, as the oracle computes them.
    [{ dilationHeight: 2, dilationWidth: 2, outHeight: 4, outWidth: 4 }, 'max'],
    // The last row and column of windows reach into the bottom and right padding.
    [{ padBottom: 2, padRight: 2, outHeight: 5, outWidth: 6 }, 'avg'],
    [{ padBottom: 2, padRight: 2, outHeight: 5, outWidth: 6, countIncludePad: false }, 'avg'],
  ];
  pools.forEach(([over, type], i) => {
    const info: Pool2dInfo = {
      batch: 2,
      channels: 3,
      inHeight: 9,
      inWidth: 10,
      outHeight: 5,
      outWidth: 5,
      kernelHeight: 3,
      kernelWidth: 3,
      strideHeight: 2,
      strideWidth: 2,
      dilationHeight: 1,
      dilationWidth: 1,
      padTop: 1,
      padBottom: 1,
      padLeft: 1,
      padRight: 1,
      countIncludePad: true,
      ...over,
    };
    out.push({
      name: `pool2d ${type} #${i}`,
      run(b) {
        const x = floats(rng(700 + i), [2, 3, 9, 10]);
        x.values[5] = Number.NaN;
        const expected = naive.pool2d(x, type, {
          kernel: [info.kernelHeight, info.kernelWidth],
          stride: [info.strideHeight, info.strideWidth],
          padding: [info.padTop, info.padBottom, info.padLeft, info.padRight],
          dilation: [info.dilationHeight, info.dilationWidth],
          ceilMode: false,
          countIncludePad: info.countIncludePad,
        });
        const preset = type === 'max' ? 'exact' : 'elementwise';
        check(b, [x], (be, [xi]) => be.pool2d(xi!, type, info), expected, preset, `pool ${i}`);
      },
    });
  });
  const sizes: [number, number, number, number][] = [
    [9, 10, 3, 4],
    [7, 7, 1, 1],
    [5, 6, 10, 13],
    [1, 1, 4, 3],
    [8, 8, 8, 8],
  ];
  sizes.forEach(([ih, iw, oh, ow], i) => {
    const info: ResizeInfo = {
      batch: 2,
      channels: 3,
      inHeight: ih,
      inWidth: iw,
      outHeight: oh,
      outWidth: ow,
    };
    out.push({
      name: `adaptiveAvgPool2d / resize ${ih}×${iw} → ${oh}×${ow}`,
      run(b) {
        const x = floats(rng(800 + i), [2, 3, ih, iw]);
        const size: [number, number] = [oh, ow];
        check(
          b,
          [x],
          (be, [xi]) => be.adaptiveAvgPool2d(xi!, info),
          naive.adaptiveAvgPool2d(x, size),
          'elementwise',
          'adaptive',
        );
        check(
          b,
          [x],
          (be, [xi]) => be.resizeBilinear(xi!, info, false),
          tfjs.resizeBilinear(x, size, false),
          'elementwise',
          'bilinear',
        );
        check(
          b,
          [x],
          (be, [xi]) => be.resizeBilinear(xi!, info, true),
          tfjs.resizeBilinear(x, size, true),
          'elementwise',
          'bilinear align',
        );
        check(
          b,
          [x],
          (be, [xi]) => be.resizeNearest(xi!, info),
          naive.resizeNearest(x, size),
          'exact',
          'nearest',
        );
      },
    });
  });
  const reduces: [number[], number[]][] = [
    [[4, 5, 6], [0]],
    [[4, 5, 6], [1]],
    [[4, 5, 6], [2]],
    [
      [4, 5, 6],
      [0, 2],
    ],
    [
      [4, 5, 6],
      [0, 1, 2],
    ],
    [
      [2, 3, 4, 5],
      [2, 3],
    ],
    [[7], [0]],
  ];
  reduces.forEach(([shape, axes], i) => {
    out.push({
      name: `reduce [${shape}] over [${axes}]`,
      run(b) {
        const r = rng(900 + i);
        const x = floats(r, shape);
        const xi = ints(r, shape);
        for (const op of ['sum', 'mean', 'max'] as const) {
          const preset = op === 'max' ? 'exact' : 'elementwise';
          check(b, [x], (be, [t]) => be.reduce(op, t!, axes), tfjs.reduce(op, x, axes), preset, `${op}`);
          check(
            b,
            [xi],
            (be, [t]) => be.reduce(op, t!, axes),
            tfjs.reduce(op, xi, axes),
            preset,
            `${op} int`,
          );
        }
      },
    });
  });
  out.push({
    name: 'softmax and argmax along each axis',
    run(b) {
      const r = rng(1000);
      const x = floats(r, [3, 4, 5]);
      x.values[7] = Number.NaN;
      const xi = ints(r, [3, 4, 5]);
      for (let a = 0; a < 3; a++) {
        check(b, [x], (be, [t]) => be.softmax(t!, a), tfjs.softmax(x, a), 'transcendental', `softmax ${a}`);
        check(b, [x], (be, [t]) => be.argmax(t!, a), argmaxNaN(x, a), 'exact', `argmax ${a}`);
        check(b, [xi], (be, [t]) => be.argmax(t!, a), tfjs.argmax(xi, a), 'exact', `argmax int ${a}`);
      }
    },
  });
  out.push({
    name: 'concat, slice, transpose, pad, cast',
    run(b) {
      const r = rng(1100);
      const a = floats(r, [2, 3, 4]);
      const c = floats(r, [2, 5, 4]);
      const ai = ints(r, [2, 3, 4]);
      const exact = (inputs: (Host | null)[], k: KernelCall, e: HostTensor, what: string) =>
        check(b, inputs, k, e, 'exact', what);
      exact([a, c], (be, [p, q]) => be.concat([p!, q!], 1, [2, 8, 4]), tfjs.concat([a, c], 1), 'concat 1');
      exact([a, a], (be, [p, q]) => be.concat([p!, q!], 2, [2, 3, 8]), tfjs.concat([a, a], 2), 'concat 2');
      exact(
        [a, a, a],
        (be, [p, q, s]) => be.concat([p!, q!, s!], 0, [6, 3, 4]),
        tfjs.concat([a, a, a], 0),
        'concat 0',
      );
      exact(
        [a],
        (be, [p]) => be.slice(p!, [1, 1, 1], [1, 2, 3]),
        tfjs.slice(a, [1, 1, 1], [1, 2, 3]),
        'slice',
      );
      exact(
        [ai],
        (be, [p]) => be.slice(p!, [0, 2, 0], [2, 1, 4]),
        tfjs.slice(ai, [0, 2, 0], [2, 1, 4]),
        'slice int',
      );
      exact([a], (be, [p]) => be.transpose(p!, [2, 0, 1]), tfjs.transpose(a, [2, 0, 1]), 'transpose');
      exact([ai], (be, [p]) => be.transpose(p!, [1, 0, 2]), tfjs.transpose(ai, [1, 0, 2]), 'transpose int');
      const a4 = floats(r, [2, 3, 4, 5]);
      exact(
        [a4],
        (be, [p]) => be.transpose(p!, [0, 2, 3, 1]),
        tfjs.transpose(a4, [0, 2, 3, 1]),
        'transpose 4-D',
      );
      const pads: [number, number][] = [
        [0, 1],
        [2, 0],
        [1, 1],
      ];
      exact([a], (be, [p]) => be.pad(p!, pads, 0.5), tfjs.pad(a, pads, 0.5), 'pad');
      const padsInt: [number, number][] = [
        [1, 1],
        [0, 0],
        [0, 3],
      ];
      exact([ai], (be, [p]) => be.pad(p!, padsInt, -2), tfjs.pad(ai, padsInt, -2), 'pad int');
      const big: Host = {
        shape: [6],
        dtype: 'float32',
        values: Float32Array.of(1.7, -1.7, 3e9, -3e9, Number.NaN, 0.2),
      };
      exact([big], (be, [p]) => be.cast(p!, 'int32'), tfjs.cast(big, 'int32'), 'cast f2i');
      exact([ai], (be, [p]) => be.cast(p!, 'float32'), tfjs.cast(ai, 'float32'), 'cast i2f');
      exact([a], (be, [p]) => be.cast(p!, 'float32'), a, 'cast same');
    },
  });
  return out;
}

/**
 * flip on every kind of axis set: reversed innermost runs of every length modulo 8 (the SIMD
 * copy's 8-, 4- and 1-element steps), outer axes (whole rows), size-1 axes, int32, empty axes,
 * an empty tensor and an HRNet heatmap flipped left to right.
 */
function flipCases(): KernelCase[] {
  const configs: [number[], number[]][] = [
    [[17], [0]],
    [[3], [0]],
    [[2, 4], [1]],
    [[2, 3, 4], [0]],
    [[2, 3, 4], [1]],
    [[2, 3, 4], [2]],
    [
      [2, 3, 4],
      [0, 2],
    ],
    [
      [2, 3, 4],
      [0, 1, 2],
    ],
    [[2, 3, 4], []],
    [[4, 1, 3], [1]],
    [
      [2, 3, 5, 7],
      [1, 3],
    ],
    [
      [2, 3, 5, 9],
      [2, 3],
    ],
    [[3, 11, 13], [2]],
    [[2, 0, 3], [2]],
    [[1, 17, 64, 48], [3]],
    [[1, 17, 64, 48], [2]],
  ];
  return configs.map(([shape, axes], i) => ({
    name: `flip [${shape}] axes [${axes}]`,
    run(b) {
      const r = rng(1200 + i);
      const f = floats(r, shape);
      const n = ints(r, shape);
      check(b, [f], (be, [p]) => be.flip(p!, axes), tfjs.flip(f, axes), 'exact', 'flip');
      check(b, [n], (be, [p]) => be.flip(p!, axes), tfjs.flip(n, axes), 'exact', 'flip int32');
    },
  }));
}

/** Every kernel case. */
export function kernelCases(): KernelCase[] {
  return [
    ...convCases(),
    ...matmulCases(),
    ...unaryCases(),
    ...binaryCases(),
    ...miscCases(),
    ...flipCases(),
  ];
}
