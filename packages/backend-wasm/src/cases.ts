/**
 * Differential kernel cases: each runs one kernel on the backend under test and on the js
 * reference backend and compares (see `compare`). Shared by the Node and Chromium tests.
 *
 * @module
 */
import type { Activation, Backend, Conv2dInfo, MatMulInfo, Pool2dInfo, ResizeInfo } from '@kernelzoo/core';
import { compare, floats, type Host, ints, rng } from './test-util.js';

/** One case. */
export interface KernelCase {
  /** The test title. */
  name: string;
  /** Runs and compares; throws on a mismatch. */
  run(b: Backend): void;
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
      compare(b, [x, w, bias], (be, [xi, wi, bi]) => be.conv2d(xi!, wi!, bi, info, c.act), name);
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
      compare(be, [a, b, bi], (x, [ai, bb, bs]) => x.matmul(ai!, bb!, bs, info, act), name);
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

function unaryCases(): KernelCase[] {
  const ops = [
    'neg',
    'abs',
    'exp',
    'log',
    'sqrt',
    'rsqrt',
    'square',
    'reciprocal',
    'relu',
    'sigmoid',
    'tanh',
  ] as const;
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
        compare(b, [x], (be, [xi]) => be.unary(op, xi!), `unary ${op}`);
      },
    });
  });
  for (const op of ['neg', 'abs', 'square', 'relu'] as const)
    out.push({
      name: `unary ${op} int32`,
      run(b) {
        const x = ints(rng(300), [41]);
        compare(b, [x], (be, [xi]) => be.unary(op, xi!), `unary ${op} int32`);
      },
    });
  return out;
}

function binaryCases(): KernelCase[] {
  const ops = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow'] as const;
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
          compare(b, [x, y], (be, [xi, yi]) => be.binary(op, xi!, yi!, os), `binary ${op}`);
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
        compare(b, [x, y], (be, [xi, yi]) => be.binary(op, xi!, yi!, [3, 7]), `binary ${op} int32`);
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
      for (const op of ops) compare(b, [x, y], (be, [xi, yi]) => be.binary(op, xi!, yi!, [xa.length]), op);
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
      compare(b, [x, m, v, s, o], (be, [a, c, d, e, f]) => be.batchNorm(a!, c!, d!, e, f, 1e-5), 'bn');
      compare(b, [x, m, v, null, null], (be, [a, c, d]) => be.batchNorm(a!, c!, d!, null, null, 1e-3), 'bn');
      compare(
        b,
        [
          floats(r, [3, 4]),
          m.values.length === 5 ? floats(r, [4]) : m,
          floats(r, [4]).values.map(Math.abs) && {
            shape: [4],
            dtype: 'float32',
            values: Float32Array.of(0.5, 1, 2, 3),
          },
          null,
          null,
        ],
        (be, [a, c, d]) => be.batchNorm(a!, c!, d!, null, null, 1e-5),
        'bn 2-D',
      );
    },
  });
  const pools: [Partial<Pool2dInfo>, 'max' | 'avg'][] = [
    [{}, 'max'],
    [{}, 'avg'],
    [{ countIncludePad: false }, 'avg'],
    [{ dilationHeight: 2, dilationWidth: 2, outHeight: 3, outWidth: 4 }, 'max'],
    [{ padBottom: 2, padRight: 2, outHeight: 5, outWidth: 5 }, 'avg'],
    [{ padBottom: 2, padRight: 2, outHeight: 5, outWidth: 5, countIncludePad: false }, 'avg'],
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
        compare(b, [x], (be, [xi]) => be.pool2d(xi!, type, info), `pool ${i}`);
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
        compare(b, [x], (be, [xi]) => be.adaptiveAvgPool2d(xi!, info), 'adaptive');
        compare(b, [x], (be, [xi]) => be.resizeBilinear(xi!, info, false), 'bilinear');
        compare(b, [x], (be, [xi]) => be.resizeBilinear(xi!, info, true), 'bilinear align');
        compare(b, [x], (be, [xi]) => be.resizeNearest(xi!, info), 'nearest');
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
          compare(b, [x], (be, [t]) => be.reduce(op, t!, axes), `${op}`);
          compare(b, [xi], (be, [t]) => be.reduce(op, t!, axes), `${op} int`);
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
        compare(b, [x], (be, [t]) => be.softmax(t!, a), `softmax ${a}`);
        compare(b, [x], (be, [t]) => be.argmax(t!, a), `argmax ${a}`);
        compare(b, [xi], (be, [t]) => be.argmax(t!, a), `argmax int ${a}`);
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
      compare(b, [a, c], (be, [p, q]) => be.concat([p!, q!], 1, [2, 8, 4]), 'concat 1');
      compare(b, [a, a], (be, [p, q]) => be.concat([p!, q!], 2, [2, 3, 8]), 'concat 2');
      compare(b, [a, a, a], (be, [p, q, s]) => be.concat([p!, q!, s!], 0, [6, 3, 4]), 'concat 0');
      compare(b, [a], (be, [p]) => be.slice(p!, [1, 1, 1], [1, 2, 3]), 'slice');
      compare(b, [ai], (be, [p]) => be.slice(p!, [0, 2, 0], [2, 1, 4]), 'slice int');
      compare(b, [a], (be, [p]) => be.transpose(p!, [2, 0, 1]), 'transpose');
      compare(b, [ai], (be, [p]) => be.transpose(p!, [1, 0, 2]), 'transpose int');
      compare(b, [floats(r, [2, 3, 4, 5])], (be, [p]) => be.transpose(p!, [0, 2, 3, 1]), 'transpose 4-D');
      compare(
        b,
        [a],
        (be, [p]) =>
          be.pad(
            p!,
            [
              [0, 1],
              [2, 0],
              [1, 1],
            ],
            0.5,
          ),
        'pad',
      );
      compare(
        b,
        [ai],
        (be, [p]) =>
          be.pad(
            p!,
            [
              [1, 1],
              [0, 0],
              [0, 3],
            ],
            -2,
          ),
        'pad int',
      );
      const big: Host = {
        shape: [6],
        dtype: 'float32',
        values: Float32Array.of(1.7, -1.7, 3e9, -3e9, Number.NaN, 0.2),
      };
      compare(b, [big], (be, [p]) => be.cast(p!, 'int32'), 'cast f2i');
      compare(b, [ai], (be, [p]) => be.cast(p!, 'float32'), 'cast i2f');
      compare(b, [a], (be, [p]) => be.cast(p!, 'float32'), 'cast same');
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
      compare(b, [floats(r, shape)], (be, [p]) => be.flip(p!, axes), 'flip');
      compare(b, [ints(r, shape)], (be, [p]) => be.flip(p!, axes), 'flip int32');
    },
  }));
}

/** Every differential case. */
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
