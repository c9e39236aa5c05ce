/**
 * conv2d and matmul cases.
 *
 * @module
 */
import { type Activation, conv2d, linear, matmul } from '@kernelzoo/core';
import { CaseRandom, type HostTensor } from '../host.js';
import { tfjs } from '../oracle/index.js';
import type { Case } from '../runner.js';

interface ConvConfig {
  n: number;
  cin: number;
  cout: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  stride: [number, number];
  dilation: [number, number];
  padding: [number, number, number, number];
  groups: number;
  bias: boolean;
  activation: Activation;
}

function describeConv(c: ConvConfig): string {
  return `x [${c.n}, ${c.cin}, ${c.h}, ${c.w}] w [${c.cout}, ${c.cin / c.groups}, ${c.kh}, ${c.kw}] stride ${c.stride.join('×')} dilation ${c.dilation.join('×')} pad [${c.padding.join(', ')}] groups ${c.groups}${c.bias ? ' +bias' : ''}${c.activation !== 'linear' ? ` +${c.activation}` : ''}`;
}

function convCase(c: ConvConfig, seed: number, label = ''): Case {
  const name = `conv2d ${label}${describeConv(c)}`;
  return {
    name,
    needs: ['conv2d'],
    run(ctx) {
      const r = new CaseRandom(seed);
      const x = r.floats([c.n, c.cin, c.h, c.w]);
      const w = r.floats([c.cout, c.cin / c.groups, c.kh, c.kw]);
      const b = c.bias ? r.floats([c.cout]) : null;
      const expected = tfjs.conv2d(x, w, {
        stride: c.stride,
        padding: c.padding,
        dilation: c.dilation,
        groups: c.groups,
        bias: b,
        activation: c.activation,
      });
      const y = conv2d(ctx.t(x), ctx.t(w), {
        bias: b ? ctx.t(b) : null,
        stride: c.stride,
        dilation: c.dilation,
        padding: c.padding,
        groups: c.groups,
        activation: c.activation,
      });
      ctx.check(y, expected, name);
    },
  };
}

function randomConv(r: CaseRandom): ConvConfig {
  const kind = r.pick(['plain', 'plain', 'grouped', 'depthwise', 'depthwise-multiplier']);
  let cin: number;
  let cout: number;
  let groups: number;
  if (kind === 'plain') {
    groups = 1;
    cin = r.int(1, 5);
    cout = r.int(1, 5);
  } else if (kind === 'grouped') {
    groups = r.int(2, 3);
    cin = groups * r.int(1, 3);
    cout = groups * r.int(1, 3);
  } else {
    groups = r.int(2, 6);
    cin = groups;
    cout = kind === 'depthwise' ? groups : groups * 2;
  }
  const kh = r.int(1, 3);
  const kw = r.pick([kh, r.int(1, 4)]);
  const stride: [number, number] = [r.int(1, 3), r.int(1, 3)];
  const dilation: [number, number] = r.chance(0.5) ? [1, 1] : [r.int(1, 3), r.int(1, 3)];
  const padding: [number, number, number, number] = r.chance(0.4)
    ? [r.int(0, 2), r.int(0, 2), r.int(0, 2), r.int(0, 2)]
    : (() => {
        const p = r.int(0, 2);
        const q = r.int(0, 2);
        return [p, p, q, q] as [number, number, number, number];
      })();
  const effH = dilation[0] * (kh - 1) + 1;
  const effW = dilation[1] * (kw - 1) + 1;
  const h = Math.max(1, effH - padding[0] - padding[1]) + r.int(0, 5);
  const w = Math.max(1, effW - padding[2] - padding[3]) + r.int(0, 5);
  return {
    n: r.int(1, 2),
    cin,
    cout,
    h,
    w,
    kh,
    kw,
    stride,
    dilation,
    padding,
    groups,
    bias: r.chance(0.6),
    activation: r.pick<Activation>(['linear', 'linear', 'relu', 'sigmoid']),
  };
}

const base: ConvConfig = {
  n: 1,
  cin: 3,
  cout: 4,
  h: 5,
  w: 5,
  kh: 3,
  kw: 3,
  stride: [1, 1],
  dilation: [1, 1],
  padding: [1, 1, 1, 1],
  groups: 1,
  bias: true,
  activation: 'linear',
};

/** conv2d: randomised configurations plus chosen edge cases. */
export function convCases(): Case[] {
  const r = new CaseRandom(1001);
  const cases: Case[] = [];
  for (let i = 0; i < 36; i++) cases.push(convCase(randomConv(r), 2000 + i, `random #${i} `));
  const edge: [string, Partial<ConvConfig>][] = [
    ['1×1 spatial, 1×1 kernel ', { h: 1, w: 1, kh: 1, kw: 1, padding: [0, 0, 0, 0] }],
    ['1×1 spatial, 3×3 kernel, padding 1 ', { h: 1, w: 1 }],
    ['batch 3 ', { n: 3, cin: 2, cout: 3 }],
    ['1 channel in and out ', { cin: 1, cout: 1, bias: false }],
    ['kernel equal to padded input ', { h: 3, w: 3, kh: 5, kw: 5, padding: [1, 1, 1, 1] }],
    ['asymmetric padding ', { padding: [0, 2, 1, 0], h: 6, w: 4 }],
    ['rectangular kernel 1×3 ', { kh: 1, kw: 3, padding: [0, 0, 1, 1] }],
    ['rectangular kernel 3×1, stride 2×1 ', { kh: 3, kw: 1, padding: [1, 1, 0, 0], stride: [2, 1], h: 7 }],
    ['stride 3 beyond the kernel ', { kh: 1, kw: 1, stride: [3, 3], padding: [0, 0, 0, 0], h: 7, w: 8 }],
    ['stride 2 with dilation 2 ', { stride: [2, 2], dilation: [2, 2], padding: [2, 2, 2, 2], h: 9, w: 8 }],
    [
      'stride 3 with dilation 3, no padding ',
      { stride: [3, 3], dilation: [3, 3], padding: [0, 0, 0, 0], h: 9, w: 10 },
    ],
    ['dilation 2 (ASPP style) ', { dilation: [2, 2], padding: [2, 2, 2, 2], h: 6, w: 7 }],
    [
      'depthwise, stride 2, relu ',
      { cin: 6, cout: 6, groups: 6, stride: [2, 2], activation: 'relu', h: 7, w: 7 },
    ],
    ['depthwise multiplier 2, sigmoid ', { cin: 4, cout: 8, groups: 4, activation: 'sigmoid' }],
    ['groups 32 (SKNet / ResNeXt cardinality) ', { cin: 32, cout: 32, groups: 32, h: 4, w: 4 }],
    [
      'groups 32, 2 channels per group, stride 2 ',
      { cin: 64, cout: 64, groups: 32, stride: [2, 2], h: 5, w: 5, activation: 'relu' },
    ],
    [
      'groups 32, 4 in / 2 out per group, dilation 2 ',
      { cin: 128, cout: 64, groups: 32, dilation: [2, 2], padding: [2, 2, 2, 2], h: 3, w: 3, n: 1 },
    ],
    ['deeper reduction (72 terms) ', { cin: 8, cout: 6, h: 7, w: 6, n: 2 }],
    ['no bias, relu ', { bias: false, activation: 'relu' }],
    ['bias + sigmoid, stride 2, odd size ', { activation: 'sigmoid', stride: [2, 2], h: 9, w: 7 }],
  ];
  edge.forEach(([label, over], i) => {
    cases.push(convCase({ ...base, ...over }, 3000 + i, label));
  });
  return cases;
}

function matmulCase(
  label: string,
  aShape: number[],
  bShape: number[],
  opts: { transposeA?: boolean; transposeB?: boolean; bias?: number; activation?: Activation },
  seed: number,
): Case {
  const name = `matmul ${label} a [${aShape}] b [${bShape}]${opts.transposeA ? ' ᵀa' : ''}${opts.transposeB ? ' ᵀb' : ''}${opts.bias ? ' +bias' : ''}${opts.activation ? ` +${opts.activation}` : ''}`;
  return {
    name,
    needs: ['matmul'],
    run(ctx) {
      const r = new CaseRandom(seed);
      const a = r.floats(aShape);
      const b = r.floats(bShape);
      const bias = opts.bias ? r.floats([opts.bias]) : null;
      const expected = tfjs.matmul(a, b, { ...opts, bias });
      const y = matmul(ctx.t(a), ctx.t(b), {
        transposeA: opts.transposeA,
        transposeB: opts.transposeB,
        bias: bias ? ctx.t(bias) : null,
        activation: opts.activation,
      });
      ctx.check(y, expected, name);
    },
  };
}

/** matmul and linear: transposes, batches, broadcasting, fused bias and activation. */
export function matmulCases(): Case[] {
  const cs: Case[] = [
    matmulCase('2-D', [3, 4], [4, 5], {}, 1),
    matmulCase('1×1×1', [1, 1], [1, 1], {}, 2),
    matmulCase('vector-like', [1, 7], [7, 1], {}, 3),
    matmulCase('ᵀa', [4, 3], [4, 5], { transposeA: true }, 4),
    matmulCase('ᵀb', [3, 4], [5, 4], { transposeB: true }, 5),
    matmulCase('ᵀa ᵀb', [4, 3], [5, 4], { transposeA: true, transposeB: true }, 6),
    matmulCase('odd sizes past GEMM blocks', [37, 70], [70, 33], {}, 7),
    matmulCase('odd sizes ᵀb (Linear)', [17, 65], [23, 65], { transposeB: true, bias: 23 }, 8),
    matmulCase('batched', [3, 4, 5], [3, 5, 2], {}, 9),
    matmulCase('batched, a broadcasts', [1, 4, 5], [3, 5, 2], {}, 10),
    matmulCase('batched, b broadcasts', [3, 4, 5], [1, 5, 2], { transposeA: false }, 11),
    matmulCase('rank 2 × rank 3', [4, 5], [2, 5, 3], {}, 12),
    matmulCase('rank 3 × rank 2, ᵀb', [2, 4, 5], [3, 5], { transposeB: true }, 13),
    matmulCase('batched ᵀa ᵀb', [2, 5, 4], [2, 3, 5], { transposeA: true, transposeB: true }, 14),
    matmulCase('bias + relu', [6, 7], [7, 5], { bias: 5, activation: 'relu' }, 15),
    matmulCase('bias + sigmoid, batched', [2, 3, 4], [2, 4, 6], { bias: 6, activation: 'sigmoid' }, 16),
    matmulCase('relu without bias', [5, 3], [3, 4], { activation: 'relu' }, 17),
  ];
  cs.push({
    name: 'linear over rank-3 input (leading dims kept), PyTorch [out, in] weights',
    needs: ['matmul'],
    run(ctx) {
      const r = new CaseRandom(18);
      const x = r.floats([2, 3, 5]);
      const w = r.floats([4, 5]);
      const b = r.floats([4]);
      const flat = { shape: [6, 5], dtype: 'float32' as const, values: x.values };
      const e = tfjs.matmul(flat, w, { transposeB: true, bias: b });
      const expected: HostTensor = { ...e, shape: [2, 3, 4] };
      ctx.check(linear(ctx.t(x), ctx.t(w), ctx.t(b)), expected, 'linear [2, 3, 5] · [4, 5]ᵀ + b');
    },
  });
  cs.push({
    name: 'linear over rank-1 input',
    needs: ['matmul'],
    run(ctx) {
      const r = new CaseRandom(19);
      const x = r.floats([5]);
      const w = r.floats([3, 5]);
      const e = tfjs.matmul({ ...x, shape: [1, 5] }, w, { transposeB: true });
      ctx.check(linear(ctx.t(x), ctx.t(w)), { ...e, shape: [3] }, 'linear [5] · [3, 5]ᵀ');
    },
  });
  return cs;
}
