/**
 * Long sums: convolutions and matrix products with K (products per output) in the hundreds
 * to thousands — K not a multiple of any block size, grouped convolutions with many channels
 * per group, and shapes large enough that a threaded backend must split them over every
 * worker — checked against the float64 loop oracle with the accumulation bound
 * (`|a − e| ≤ c·ε·Σ|terms|` per element, and the mean signed relative error and mean offset
 * over the output), which catches a dropped row, a wrong group offset or a small scale error
 * that a per-element tolerance on small K lets through.
 *
 * @module
 */
import { type Activation, conv2d, linear, matmul } from '@kernelzoo/core';
import { CaseRandom } from '../host.js';
import { accumulate } from '../oracle/index.js';
import type { Case } from '../runner.js';

interface LargeConv {
  label: string;
  x: [number, number, number, number];
  cout: number;
  k: [number, number];
  stride?: [number, number];
  padding?: [number, number];
  dilation?: [number, number];
  groups?: number;
  bias?: boolean;
  activation?: Activation;
  splits?: boolean;
}

function relu(v: Float64Array): Float64Array {
  return v.map((e) => Math.max(e, 0));
}

function largeConvCase(c: LargeConv, seed: number): Case {
  const groups = c.groups ?? 1;
  const stride = c.stride ?? [1, 1];
  const padding = c.padding ?? [0, 0];
  const dilation = c.dilation ?? [1, 1];
  const cpg = c.x[1] / groups;
  const name = `conv2d ${c.label}: x [${c.x}] w [${c.cout}, ${cpg}, ${c.k}] stride ${stride.join('×')} dilation ${dilation.join('×')} pad ${padding.join('×')} groups ${groups}${c.bias ? ' +bias' : ''}${c.activation ? ` +${c.activation}` : ''} (K = ${cpg * c.k[0] * c.k[1]})`;
  return {
    name,
    needs: ['conv2d'],
    splits: c.splits,
    run(ctx) {
      const r = new CaseRandom(seed);
      const x = r.floats(c.x);
      const w = r.floats([c.cout, cpg, ...c.k]);
      const b = c.bias ? r.floats([c.cout]) : null;
      const exact = accumulate.convolve(x, w, { stride, padding, dilation, groups, bias: b });
      const expected = c.activation === 'relu' ? { ...exact, values: relu(exact.values) } : exact;
      const y = conv2d(ctx.t(x), ctx.t(w), {
        bias: b ? ctx.t(b) : null,
        stride,
        padding,
        dilation,
        groups,
        activation: c.activation,
      });
      ctx.checkAccumulated(y, expected, name);
    },
  };
}

interface LargeMatmul {
  label: string;
  m: number;
  k: number;
  n: number;
  transposeB?: boolean;
  bias?: boolean;
  linear?: boolean;
  splits?: boolean;
}

function largeMatmulCase(c: LargeMatmul, seed: number): Case {
  const op = c.linear ? 'linear' : 'matmul';
  const bShape = c.transposeB || c.linear ? [c.n, c.k] : [c.k, c.n];
  const name = `${op} ${c.label}: a [${c.m}, ${c.k}] b [${bShape}]${c.transposeB ? ' ᵀb' : ''}${c.bias ? ' +bias' : ''} (K = ${c.k})`;
  return {
    name,
    needs: ['matmul'],
    splits: c.splits,
    run(ctx) {
      const r = new CaseRandom(seed);
      const a = r.floats([c.m, c.k]);
      const b = r.floats(bShape);
      const bias = c.bias ? r.floats([c.n]) : null;
      const expected = accumulate.multiply(a, b, Boolean(c.transposeB || c.linear), bias);
      const y = c.linear
        ? linear(ctx.t(a), ctx.t(b), bias ? ctx.t(bias) : null)
        : matmul(ctx.t(a), ctx.t(b), { transposeB: c.transposeB, bias: bias ? ctx.t(bias) : null });
      ctx.checkAccumulated(y, expected, name);
    },
  };
}

/** conv2d and matmul with long sums, against the float64 loop oracle. */
export function largeCases(): Case[] {
  const convs: LargeConv[] = [
    { label: 'HRNet/SKNet-deep 3×3', x: [1, 512, 6, 6], cout: 16, k: [3, 3], padding: [1, 1] },
    { label: '1×1, K prime', x: [1, 1021, 9, 7], cout: 24, k: [1, 1], bias: true },
    {
      label: 'stride 2, dilation 2, odd sizes',
      x: [2, 67, 13, 11],
      cout: 37,
      k: [3, 3],
      stride: [2, 2],
      dilation: [2, 2],
      padding: [2, 2],
      bias: true,
      activation: 'relu',
    },
    {
      label: '4 groups of 64 channels',
      x: [1, 256, 8, 8],
      cout: 128,
      k: [3, 3],
      padding: [1, 1],
      groups: 4,
      bias: true,
    },
    { label: '2 groups of 300 channels', x: [1, 600, 5, 5], cout: 50, k: [3, 3], groups: 2 },
    {
      label: '32 groups of 8 channels (ResNeXt)',
      x: [1, 256, 14, 14],
      cout: 256,
      k: [3, 3],
      padding: [1, 1],
      groups: 32,
      splits: true,
    },
    {
      label: 'split over threads, 3×3',
      x: [1, 64, 24, 24],
      cout: 96,
      k: [3, 3],
      padding: [1, 1],
      bias: true,
      splits: true,
    },
    { label: 'split over threads, 1×1', x: [1, 256, 28, 28], cout: 64, k: [1, 1], splits: true },
  ];
  const matmuls: LargeMatmul[] = [
    { label: 'K prime', m: 67, k: 1531, n: 45 },
    { label: 'Linear head', m: 9, k: 2048, n: 250, bias: true, linear: true },
    { label: 'ᵀb, K 1000', m: 31, k: 1000, n: 70, transposeB: true },
    { label: 'split over threads', m: 256, k: 513, n: 260, bias: true, splits: true },
  ];
  return [
    ...convs.map((c, i) => largeConvCase(c, 7100 + i)),
    ...matmuls.map((c, i) => largeMatmulCase(c, 7200 + i)),
  ];
}
