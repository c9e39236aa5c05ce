import { JsBackend } from '@kernelzoo/backend-js';
import { WasmBackend } from '@kernelzoo/backend-wasm';
import {
  adaptiveAvgPool2d,
  avgPool2d,
  binary,
  concat,
  conv2d,
  flip,
  matmul,
  maxPool2d,
  mean,
  nn,
  pad,
  randomNormal,
  reshape,
  resizeBilinear,
  resizeNearest,
  type Shape,
  slice,
  softmax,
  type Tensor,
  transpose,
} from '@kernelzoo/core';
import { hrnetPose } from '@kernelzoo/hrnet';
import { sknet50 } from '@kernelzoo/sknet';
import { spnet50 } from '@kernelzoo/spnet';
import { describe, expect, it } from 'vitest';
import { REPLAY_TOLERANCE, relativeDifference } from './difference.js';
import { type RecordedNetwork, recordFunction, recordNetwork } from './record.js';
import { tfjsRunner } from './tfjs.js';

// TF.js's resizes also interpolate with another formula; the bounds are the same for both
// replays (see difference.ts).
const SMALL_TOL = REPLAY_TOLERANCE.graph;
const NETWORK_TOL = REPLAY_TOLERANCE.network;

/** Seeded normal weights of the given shapes (the same on every call: the recorder runs `f` twice). */
const weightsOf = (shapes: readonly Shape[]) =>
  shapes.map((shape, i) => randomNormal(shape, 0, 0.5, { seed: 101 + i }));

/** Runs a recorded network on tfjs `backend` and returns the scaled difference from ours. */
async function compare(rec: RecordedNetwork, backend: 'wasm' | 'cpu'): Promise<number> {
  const runner = await tfjsRunner(rec.graph, backend);
  try {
    expect(runner.name).toBe(`tfjs-${backend}`);
    return relativeDifference(rec.output, await runner.run(rec.input));
  } finally {
    await runner.dispose();
  }
}

interface SmallCase {
  readonly name: string;
  readonly input: Shape;
  /** Weight shapes, made with seeded normals. */
  readonly weights: readonly Shape[];
  readonly f: (x: Tensor, w: Tensor[]) => Tensor;
}

const SMALL: readonly SmallCase[] = [
  {
    name: 'grouped conv (2 groups, 2 in-channels each), dilation 2, asymmetric padding, relu',
    input: [1, 4, 9, 8],
    weights: [[6, 2, 3, 3], [6]],
    f: (x, [w, b]) =>
      conv2d(x, w!, { bias: b!, dilation: 2, padding: [1, 2, 0, 3], groups: 2, activation: 'relu' }),
  },
  {
    name: 'grouped conv at stride 2 and dilation 2, then stride 3 and dilation 2',
    input: [1, 4, 13, 12],
    weights: [[8, 2, 3, 3], [8], [4, 4, 3, 3]],
    f: (x, [w1, b1, w2]) => {
      const y = conv2d(x, w1!, { bias: b1!, stride: 2, dilation: 2, padding: 2, groups: 2 });
      return conv2d(y, w2!, { stride: 3, dilation: 2, padding: [2, 1, 3, 2], groups: 2 });
    },
  },
  {
    name: 'depthwise conv (multiplier 2), dilation [2, 3], asymmetric padding, sigmoid',
    input: [1, 3, 8, 9],
    weights: [[6, 1, 3, 3], [6]],
    f: (x, [w, b]) =>
      conv2d(x, w!, { bias: b!, dilation: [2, 3], padding: [0, 2, 3, 1], groups: 3, activation: 'sigmoid' }),
  },
  {
    name: 'depthwise conv at stride 2 and dilation 2, symmetric padding',
    input: [1, 4, 11, 10],
    weights: [[4, 1, 3, 3]],
    f: (x, [w]) => conv2d(x, w!, { stride: 2, dilation: 2, padding: 2, groups: 4 }),
  },
  ...(
    [
      [9, 11],
      [2, 3],
      [5, 1],
      [1, 7],
    ] as const
  ).map(
    (size): SmallCase => ({
      name: `adaptive average pool 5×7 → ${size.join('×')}`,
      input: [1, 3, 5, 7],
      weights: [[4, 3, 1, 1]],
      f: (x, [w]) => adaptiveAvgPool2d(conv2d(x, w!), size),
    }),
  ),
  ...([true, false] as const).flatMap((alignCorners) =>
    (
      [
        [8, 13],
        [3, 4],
      ] as const
    ).map(
      (size): SmallCase => ({
        name: `bilinear 5×7 → ${size.join('×')}, align_corners=${alignCorners}`,
        input: [1, 3, 5, 7],
        weights: [[4, 3, 1, 1]],
        f: (x, [w]) => resizeBilinear(conv2d(x, w!), size, alignCorners),
      }),
    ),
  ),
  // 6 → 74 rows and 30 → 22 columns are ratios where TF.js's resizeNearestNeighbor (floating
  // point) picks a row or column one below PyTorch's rule (on wasm and on cpu respectively).
  ...(
    [
      [74, 22],
      [12, 60],
      [37, 37],
    ] as const
  ).map(
    (size): SmallCase => ({
      name: `nearest 6×30 → ${size.join('×')}`,
      input: [1, 3, 6, 30],
      weights: [[4, 3, 1, 1]],
      f: (x, [w]) => resizeNearest(conv2d(x, w!), size),
    }),
  ),
  {
    name: 'reduce mean over [2, 3], reshape, matmul with bias',
    input: [1, 3, 5, 6],
    weights: [[8, 3, 3, 3], [5, 4], [5]],
    f: (x, [w, lw, lb]) => {
      const pooled = mean(conv2d(x, w!, { padding: 1 }), [2, 3]);
      return matmul(reshape(pooled, [2, 4]), lw!, { bias: lb!, transposeB: true });
    },
  },
  {
    name: 'matmul of two computed values, the second transposed, with bias and relu',
    input: [1, 3, 4, 5],
    weights: [[4, 3, 1, 1], [6, 3, 1, 1], [6]],
    f: (x, [w1, w2, bias]) => {
      const a = reshape(conv2d(x, w1!), [4, 20]);
      const b = reshape(conv2d(x, w2!), [6, 20]);
      return matmul(a, b, { bias: bias!, transposeB: true, activation: 'relu' });
    },
  },
  {
    name: 'broadcasting mul [1,C,H,W] · [1,C,1,1], add [1,C,H,1] + [1,C,1,W] and a constant [C,1,1]',
    input: [1, 3, 6, 5],
    weights: [
      [4, 3, 1, 1],
      [4, 1, 1],
    ],
    f: (x, [w, c]) => {
      const y = conv2d(x, w!);
      const gate = adaptiveAvgPool2d(y, 1);
      const strips = binary('add', adaptiveAvgPool2d(y, [null, 1]), adaptiveAvgPool2d(y, [1, null]));
      return binary('add', binary('mul', binary('mul', y, gate), strips), c!);
    },
  },
  {
    name: 'softmax over axis 1 of [1,C,H,W] and of [1,2,C]',
    input: [1, 3, 4, 5],
    weights: [[6, 3, 1, 1]],
    f: (x, [w]) => {
      const y = softmax(conv2d(x, w!), 1);
      const z = softmax(reshape(mean(y, [2, 3]), [1, 2, 3]), 1);
      return binary('mul', y, reshape(z, [1, 6, 1, 1]));
    },
  },
  {
    name: 'slice along channels',
    input: [1, 3, 4, 5],
    weights: [[6, 3, 1, 1]],
    f: (x, [w]) => slice(conv2d(x, w!), [0, 2, 1, 0], [1, 3, 3, 5]),
  },
  {
    name: 'concat along channels',
    input: [1, 3, 4, 5],
    weights: [
      [2, 3, 1, 1],
      [5, 3, 3, 3],
    ],
    f: (x, [w1, w2]) => concat([conv2d(x, w1!), conv2d(x, w2!, { padding: 1 })], 1),
  },
  {
    name: 'transpose, flip and pad of an NHWC value',
    input: [1, 3, 4, 5],
    weights: [[4, 3, 1, 1]],
    f: (x, [w]) =>
      pad(
        flip(transpose(conv2d(x, w!), [0, 3, 1, 2]), [1, 3]),
        [
          [0, 0],
          [1, 0],
          [0, 2],
          [3, 1],
        ],
        0.5,
      ),
  },
  {
    name: 'max pool (ceil mode) and average pool with and without counting the padding',
    input: [1, 3, 8, 7],
    weights: [[4, 3, 1, 1]],
    f: (x, [w]) => {
      const y = conv2d(x, w!);
      const a = maxPool2d(y, 3, { stride: 2, padding: 1, ceilMode: true });
      const b = avgPool2d(y, 3, { stride: 2, padding: 1, ceilMode: true });
      const c = avgPool2d(y, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false });
      return concat([a, b, c], 1);
    },
  },
];

describe('tfjsRunner: small graphs recorded over backend-js', () => {
  for (const c of SMALL)
    it(c.name, async () => {
      const rec = await recordFunction((x) => c.f(x, weightsOf(c.weights)), c.input, new JsBackend());
      for (const backend of ['cpu', 'wasm'] as const)
        expect(await compare(rec, backend), backend).toBeLessThanOrEqual(SMALL_TOL);
    });
});

describe('tfjsRunner: what TF.js cannot express', () => {
  it('rejects a dilated max pool, naming the kernel', async () => {
    const rec = await recordFunction((x) => maxPool2d(x, 2, { dilation: 2 }), [1, 2, 6, 6], new JsBackend());
    await expect(tfjsRunner(rec.graph, 'cpu')).rejects.toThrow(/pool2d max with dilation/);
  });
});

describe('tfjsRunner: whole networks recorded over backend-wasm', () => {
  const networks: readonly [string, () => nn.AnyModule, readonly ('wasm' | 'cpu')[]][] = [
    ['SKNet-50', () => sknet50(), ['wasm', 'cpu']],
    ['HRNet-W32 pose', () => hrnetPose({ width: 32 }), ['wasm', 'cpu']],
    ['SPNet-50 (150 classes)', () => spnet50(150), ['wasm', 'cpu']],
  ];
  for (const [name, build, backends] of networks)
    it(`${name} at [1, 3, 64, 64] on ${backends.map((b) => `tfjs-${b}`).join(' and ')}`, async () => {
      nn.manualSeed(0);
      const rec = await recordNetwork(build, [1, 3, 64, 64], await WasmBackend.create({ threads: 1 }));
      for (const backend of backends)
        expect(await compare(rec, backend), backend).toBeLessThanOrEqual(NETWORK_TOL);
    }, 60_000);
});
