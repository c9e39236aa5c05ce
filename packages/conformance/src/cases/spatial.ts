/**
 * pool2d, adaptiveAvgPool2d, resizeBilinear and resizeNearest cases.
 *
 * @module
 */
import {
  adaptiveAvgPool2d,
  avgPool2d,
  interpolate,
  maxPool2d,
  nn,
  resizeBilinear,
  resizeNearest,
} from '@kernelzoo/core';
import { CaseRandom, type HostTensor } from '../host.js';
import { naive, tfjs } from '../oracle/index.js';
import type { Case } from '../runner.js';

interface PoolConfig {
  type: 'max' | 'avg';
  shape: [number, number, number, number];
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number, number, number];
  dilation: [number, number];
  ceilMode: boolean;
  countIncludePad: boolean;
}

/**
 * The pooling oracle: tfjs where its pools express the case (floor mode; max without
 * dilation; average that does not count padding), else the naive PyTorch-rule loops.
 */
export function poolOracle(x: HostTensor, c: PoolConfig): HostTensor {
  const tfjsCan =
    !c.ceilMode &&
    (c.type === 'max'
      ? c.dilation[0] === 1 && c.dilation[1] === 1
      : !c.countIncludePad || c.padding.every((p) => p === 0));
  if (tfjsCan) return tfjs.pool2d(x, c.type, c.kernel, c.stride, c.padding);
  return naive.pool2d(x, c.type, {
    kernel: c.kernel,
    stride: c.stride,
    padding: c.padding,
    dilation: c.dilation,
    ceilMode: c.ceilMode,
    countIncludePad: c.countIncludePad,
  });
}

function describePool(c: PoolConfig): string {
  return `${c.type} x [${c.shape}] k ${c.kernel.join('×')} s ${c.stride.join('×')} pad [${c.padding}]${c.type === 'max' ? ` d ${c.dilation.join('×')}` : ''}${c.ceilMode ? ' ceil' : ''}${c.type === 'avg' ? (c.countIncludePad ? ' countIncludePad' : ' excludePad') : ''}`;
}

function poolCase(c: PoolConfig, seed: number, label = ''): Case {
  const name = `pool2d ${label}${describePool(c)}`;
  return {
    name,
    needs: [`pool2d:${c.type}`],
    run(ctx) {
      const x = new CaseRandom(seed).floats(c.shape, -2, 2);
      const opts = {
        stride: c.stride,
        padding: c.padding,
        ceilMode: c.ceilMode,
        ...(c.type === 'max' ? { dilation: c.dilation } : { countIncludePad: c.countIncludePad }),
      };
      const y = c.type === 'max' ? maxPool2d(ctx.t(x), c.kernel, opts) : avgPool2d(ctx.t(x), c.kernel, opts);
      ctx.check(y, poolOracle(x, c), name);
    },
  };
}

function randomPool(r: CaseRandom): PoolConfig {
  const type = r.pick(['max', 'avg'] as const);
  const kernel: [number, number] = [r.int(1, 4), r.int(1, 4)];
  const stride: [number, number] = [r.int(1, 3), r.int(1, 3)];
  const half = (k: number) => Math.floor(k / 2);
  const padding: [number, number, number, number] = r.chance(0.5)
    ? [0, 0, 0, 0]
    : [
        r.int(0, half(kernel[0])),
        r.int(0, half(kernel[0])),
        r.int(0, half(kernel[1])),
        r.int(0, half(kernel[1])),
      ];
  const dilation: [number, number] = type === 'max' && r.chance(0.3) ? [r.int(1, 2), r.int(1, 2)] : [1, 1];
  const effH = dilation[0] * (kernel[0] - 1) + 1;
  const effW = dilation[1] * (kernel[1] - 1) + 1;
  return {
    type,
    shape: [r.int(1, 2), r.int(1, 3), effH + r.int(0, 6), effW + r.int(0, 6)],
    kernel,
    stride,
    padding,
    dilation,
    ceilMode: r.chance(0.4),
    countIncludePad: r.chance(),
  };
}

/** Max and average pooling: randomised, plus ceil mode, padding divisors, global and 1×1. */
export function poolCases(): Case[] {
  const r = new CaseRandom(4001);
  const cs: Case[] = [];
  for (let i = 0; i < 36; i++) cs.push(poolCase(randomPool(r), 4100 + i, `random #${i} `));
  const base: PoolConfig = {
    type: 'max',
    shape: [1, 2, 5, 5],
    kernel: [3, 3],
    stride: [2, 2],
    padding: [1, 1, 1, 1],
    dilation: [1, 1],
    ceilMode: false,
    countIncludePad: true,
  };
  const edge: [string, Partial<PoolConfig>][] = [
    ['ResNet stem max 3/2/1 ', { shape: [2, 3, 8, 8] }],
    [
      'max ceil mode, last window partly outside ',
      { shape: [1, 2, 6, 6], padding: [0, 0, 0, 0], ceilMode: true },
    ],
    [
      'max ceil mode, last window would start in padding (dropped) ',
      { shape: [1, 1, 5, 5], kernel: [2, 2], stride: [2, 2], padding: [1, 1, 1, 1], ceilMode: true },
    ],
    ['avg 3/1/1 countIncludePad ', { type: 'avg', stride: [1, 1] }],
    ['avg 3/1/1 exclude pad ', { type: 'avg', stride: [1, 1], countIncludePad: false }],
    [
      'avg ceil mode countIncludePad (window clipped to padded input) ',
      { type: 'avg', shape: [1, 2, 6, 7], ceilMode: true },
    ],
    [
      'avg ceil mode exclude pad ',
      { type: 'avg', shape: [1, 2, 6, 7], ceilMode: true, countIncludePad: false },
    ],
    [
      'avg ceil mode, no padding, partial last window ',
      { type: 'avg', shape: [1, 1, 5, 5], padding: [0, 0, 0, 0], kernel: [2, 2], ceilMode: true },
    ],
    [
      'avg 2/2 (ResNet-D downsample) ',
      { type: 'avg', shape: [2, 3, 6, 6], kernel: [2, 2], padding: [0, 0, 0, 0] },
    ],
    ['global max ', { shape: [2, 3, 4, 5], kernel: [4, 5], stride: [1, 1], padding: [0, 0, 0, 0] }],
    [
      'global avg ',
      { type: 'avg', shape: [2, 3, 4, 5], kernel: [4, 5], stride: [1, 1], padding: [0, 0, 0, 0] },
    ],
    [
      '1×1 input, 1×1 window ',
      { shape: [1, 3, 1, 1], kernel: [1, 1], stride: [1, 1], padding: [0, 0, 0, 0] },
    ],
    [
      '1×1 input, 3×3 window padding 1 avg exclude pad ',
      { type: 'avg', shape: [1, 3, 1, 1], stride: [1, 1], countIncludePad: false },
    ],
    [
      '1×1 input, 3×3 window padding 1 avg include pad ',
      { type: 'avg', shape: [1, 3, 1, 1], stride: [1, 1] },
    ],
    ['max dilation 2 ', { shape: [1, 2, 7, 7], dilation: [2, 2], stride: [1, 1], padding: [1, 1, 1, 1] }],
    ['strip window 1×3 ', { shape: [1, 2, 4, 6], kernel: [1, 3], stride: [1, 1], padding: [0, 0, 1, 1] }],
    [
      'asymmetric padding avg ',
      { type: 'avg', shape: [1, 2, 5, 6], kernel: [2, 3], stride: [1, 2], padding: [1, 0, 0, 1] },
    ],
  ];
  edge.forEach(([label, over], i) => {
    cs.push(poolCase({ ...base, ...over }, 4300 + i, label));
  });
  return cs;
}

/** Adaptive average pooling: global, strips, non-divisible, upsampling, via op and module. */
export function adaptiveCases(): Case[] {
  const configs: [number[], [number | null, number | null]][] = [
    [
      [2, 3, 5, 7],
      [1, 1],
    ],
    [
      [1, 2, 6, 6],
      [2, 2],
    ],
    [
      [1, 2, 7, 5],
      [3, 3],
    ],
    [
      [1, 2, 7, 5],
      [3, 2],
    ],
    [
      [2, 2, 4, 6],
      [1, null],
    ],
    [
      [2, 2, 4, 6],
      [null, 1],
    ],
    [
      [1, 2, 3, 3],
      [5, 4],
    ],
    [
      [1, 3, 1, 1],
      [1, 1],
    ],
    [
      [1, 3, 1, 1],
      [2, 3],
    ],
    [
      [1, 1, 9, 10],
      [4, 6],
    ],
    [
      [1, 2, 6, 6],
      [6, 6],
    ],
  ];
  const cs: Case[] = configs.map(([shape, size], i) => ({
    name: `adaptiveAvgPool2d x [${shape}] to [${size.map(String)}]`,
    needs: ['adaptiveAvgPool2d'],
    run(ctx) {
      const x = new CaseRandom(5000 + i).floats(shape);
      ctx.check(adaptiveAvgPool2d(ctx.t(x), size), naive.adaptiveAvgPool2d(x, size), `adaptive [${size}]`);
    },
  }));
  cs.push({
    name: 'adaptiveAvgPool2d with a single number, and nn.AdaptiveAvgPool2d strip pools',
    needs: ['adaptiveAvgPool2d'],
    run(ctx) {
      const x = new CaseRandom(5100).floats([1, 2, 5, 4]);
      ctx.check(adaptiveAvgPool2d(ctx.t(x), 2), naive.adaptiveAvgPool2d(x, [2, 2]), 'adaptive 2');
      ctx.check(
        new nn.AdaptiveAvgPool2d([1, null]).call(ctx.t(x)),
        naive.adaptiveAvgPool2d(x, [1, null]),
        'module [1, null]',
      );
      ctx.check(
        new nn.AdaptiveAvgPool2d([null, 1]).call(ctx.t(x)),
        naive.adaptiveAvgPool2d(x, [null, 1]),
        'module [null, 1]',
      );
    },
  });
  return cs;
}

const RESIZES: [number[], [number, number]][] = [
  [
    [1, 2, 4, 4],
    [8, 8],
  ],
  [
    [2, 1, 3, 5],
    [6, 10],
  ],
  [
    [1, 2, 5, 5],
    [7, 3],
  ],
  [
    [1, 2, 8, 6],
    [4, 3],
  ],
  [
    [1, 1, 7, 7],
    [3, 3],
  ],
  [
    [1, 2, 3, 4],
    [1, 1],
  ],
  [
    [1, 2, 3, 4],
    [1, 5],
  ],
  [
    [1, 2, 1, 1],
    [4, 3],
  ],
  [
    [1, 2, 1, 4],
    [3, 9],
  ],
  [
    [1, 3, 5, 6],
    [5, 6],
  ],
  [
    [1, 1, 4, 4],
    [13, 11],
  ],
];

/** Bilinear (align_corners both ways, incl. output size 1) and nearest resize, and interpolate. */
export function resizeCases(): Case[] {
  const cs: Case[] = [];
  RESIZES.forEach(([shape, size], i) => {
    for (const ac of [false, true])
      cs.push({
        name: `resizeBilinear x [${shape}] to [${size}] alignCorners ${ac}`,
        needs: [ac ? 'resizeBilinear:alignCorners' : 'resizeBilinear'],
        run(ctx) {
          const x = new CaseRandom(6000 + i).floats(shape);
          ctx.check(
            resizeBilinear(ctx.t(x), size, ac),
            tfjs.resizeBilinear(x, size, ac),
            `bilinear [${size}] ac ${ac}`,
          );
        },
      });
    cs.push({
      name: `resizeNearest x [${shape}] to [${size}]`,
      needs: ['resizeNearest'],
      run(ctx) {
        const x = new CaseRandom(6100 + i).floats(shape);
        ctx.check(resizeNearest(ctx.t(x), size), naive.resizeNearest(x, size), `nearest [${size}]`);
      },
    });
  });
  cs.push({
    name: 'interpolate / nn.Upsample by scale factor (floor of the scaled size), both modes',
    needs: ['resizeNearest', 'resizeBilinear', 'resizeBilinear:alignCorners'],
    run(ctx) {
      const x = new CaseRandom(6200).floats([1, 2, 5, 3]);
      ctx.check(interpolate(ctx.t(x), { scaleFactor: 2 }), naive.resizeNearest(x, [10, 6]), 'nearest ×2');
      ctx.check(
        interpolate(ctx.t(x), { scaleFactor: 1.5, mode: 'bilinear' }),
        tfjs.resizeBilinear(x, [7, 4], false),
        'bilinear ×1.5',
      );
      ctx.check(
        new nn.Upsample({ scaleFactor: [2, 3], mode: 'bilinear', alignCorners: true }).call(ctx.t(x)),
        tfjs.resizeBilinear(x, [10, 9], true),
        'Upsample bilinear align_corners [2, 3]',
      );
      ctx.check(
        new nn.Upsample({ size: [4, 4] }).call(ctx.t(x)),
        naive.resizeNearest(x, [4, 4]),
        'Upsample nearest size',
      );
    },
  });
  return cs;
}
