import { JsBackend } from '@kernelzoo/backend-js';
import { WasmBackend } from '@kernelzoo/backend-wasm';
import {
  adaptiveAvgPool2d,
  add,
  argmax,
  avgPool2d,
  cast,
  concat,
  conv2d,
  div,
  flip,
  linear,
  matmul,
  max,
  maximum,
  maxPool2d,
  mean,
  minimum,
  mul,
  nn,
  pad,
  pow,
  randomNormal,
  reshape,
  resizeBilinear,
  resizeNearest,
  type Shape,
  slice,
  softmax,
  sub,
  sum,
  type Tensor,
  transpose,
  UNARY_OPS,
  type UnaryOp,
  unary,
} from '@kernelzoo/core';
import { hrnetPose } from '@kernelzoo/hrnet';
import { sknet50 } from '@kernelzoo/sknet';
import { spnet50 } from '@kernelzoo/spnet';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPLAY_TOLERANCE, relativeDifference } from './difference.js';
import type { KernelGraph } from './graph.js';
import { graphToOnnx, ortRunner } from './onnx.js';
import { type RecordedNetwork, recordFunction, recordNetwork } from './record.js';

// ORT may also fuse; the bounds are the same for both replays (see difference.ts).
const SMALL = REPLAY_TOLERANCE.graph;
const NETWORK = REPLAY_TOLERANCE.network;

/** ORT's output for the recorded graph on the recorded input. */
async function onOrt(graph: KernelGraph, input: Float32Array): Promise<Float32Array> {
  const runner = await ortRunner(graph, 1);
  try {
    return await runner.run(input);
  } finally {
    await runner.dispose();
  }
}

/** max |ORT − ours| / max |ours| for a recording. */
async function compare(recorded: RecordedNetwork): Promise<number> {
  return relativeDifference(recorded.output, await onOrt(recorded.graph, recorded.input));
}

/** Records `f` over backend-js and expects ORT to agree within the small graphs' tolerance. */
async function agrees(shape: Shape, f: (x: Tensor) => Tensor): Promise<void> {
  expect(await compare(await recordFunction(f, shape, new JsBackend()))).toBeLessThanOrEqual(SMALL);
}

const w = (shape: Shape, seed: number) => randomNormal(shape, 0, 0.5, { seed });

describe('graphToOnnx on small graphs (ORT against backend-js)', () => {
  it('grouped convolution with dilation, stride and asymmetric padding, relu and sigmoid epilogues', async () => {
    await agrees([1, 4, 9, 11], (x) => {
      const y = conv2d(x, w([6, 2, 3, 3], 2), {
        groups: 2,
        dilation: [2, 1],
        stride: [1, 2],
        padding: [1, 2, 0, 1],
        bias: w([6], 3),
        activation: 'relu',
      });
      return conv2d(y, w([3, 6, 2, 3], 4), { padding: [0, 1, 2, 0], activation: 'sigmoid' });
    });
  });

  it('adaptive average pooling to bins larger than the input (8×8 → 20×20)', async () => {
    await agrees([1, 3, 8, 8], (x) => adaptiveAvgPool2d(x, [20, 20]));
  });

  it('adaptive average pooling to bins smaller than the input, and to strips H×1 and 1×W', async () => {
    await agrees([1, 3, 13, 11], (x) => adaptiveAvgPool2d(x, [5, 3]));
    await agrees([1, 3, 13, 11], (x) => adaptiveAvgPool2d(x, [13, 1]));
    await agrees([1, 3, 13, 11], (x) => adaptiveAvgPool2d(x, [1, 11]));
    await agrees([1, 3, 6, 5], (x) => adaptiveAvgPool2d(x, [1, 1]));
  });

  it('bilinear resize with align_corners true and false at non-integer ratios', async () => {
    for (const align of [true, false]) {
      await agrees([1, 2, 7, 5], (x) => resizeBilinear(x, [12, 9], align));
      await agrees([1, 2, 13, 11], (x) => resizeBilinear(x, [5, 4], align));
      await agrees([1, 2, 7, 5], (x) => resizeBilinear(x, [1, 9], align));
    }
  });

  it('nearest resize at non-integer ratios (up and down) and ×2 / ×3', async () => {
    await agrees([1, 2, 5, 7], (x) => resizeNearest(x, [8, 11]));
    await agrees([1, 2, 6, 9], (x) => resizeNearest(x, [4, 6]));
    // Ratios where ONNX Runtime's Resize (dst / float32 scale) floors to the row below PyTorch's.
    await agrees([1, 2, 14, 20], (x) => resizeNearest(x, [4, 12]));
    await agrees([1, 2, 5, 7], (x) => resizeNearest(x, [10, 21])); // ×2, ×3
  });

  it('a mean over [2, 3], reshaped and broadcast back (squeeze-excitation style)', async () => {
    await agrees([1, 6, 5, 7], (x) => mul(x, reshape(mean(x, [2, 3]), [1, 6, 1, 1])));
  });

  it('sum and max reductions, concatenated', async () => {
    await agrees([2, 3, 4, 5], (x) => concat([sum(x, [1, 3]), max(x, [1, 3]), mean(x, [1, 3])], 1));
  });

  it('softmax over axis 1, then argmax over it', async () => {
    await agrees([2, 5, 3, 4], (x) => softmax(x, 1));
    await agrees([2, 5, 3, 4], (x) => argmax(x, 1));
  });

  it('slice, concat, transpose, flip, pad and cast', async () => {
    await agrees([1, 4, 6, 7], (x) => {
      const a = slice(x, [0, 1, 2, 0], [1, 2, 3, 7]);
      const b = slice(x, [0, 0, 0, 3], [1, 1, 3, 4]);
      const joined = concat(
        [
          a,
          pad(
            b,
            [
              [0, 0],
              [0, 0],
              [0, 0],
              [1, 2],
            ],
            0.5,
          ),
        ],
        1,
      );
      return flip(transpose(cast(cast(mul(joined, 3), 'int32'), 'float32'), [0, 1, 3, 2]), [1, 3]);
    });
  });

  it('matmul with bias (Linear), batched matmuls with transposes', async () => {
    await agrees([3, 10], (x) => linear(x, w([7, 10], 5), w([7], 6), 'relu'));
    await agrees([2, 4, 6], (x) => matmul(x, w([2, 5, 6], 8), { transposeB: true, bias: w([5], 9) }));
    await agrees([2, 6, 4], (x) => matmul(x, w([1, 6, 5], 10), { transposeA: true }));
  });

  it('max and average pooling: padding, ceil mode, count_include_pad', async () => {
    await agrees([1, 3, 9, 10], (x) => maxPool2d(x, 3, { stride: 2, padding: 1 }));
    await agrees([1, 3, 9, 10], (x) => maxPool2d(x, 2, { stride: 2, ceilMode: true }));
    await agrees([1, 3, 9, 10], (x) => avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }));
    await agrees([1, 3, 9, 10], (x) =>
      avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
    );
  });

  it('every unary and binary op, binaries broadcasting', async () => {
    await agrees([2, 3, 4], (x) => {
      // Every op; those with a restricted domain on positive values.
      const pos = add(unary('abs', x), 0.5);
      const parts = UNARY_OPS.map((op) => unary(op, op === 'exp' || op === 'neg' || op === 'relu' ? x : pos));
      return concat(parts, 0);
    });
    await agrees([2, 3, 4], (x) => {
      const b = w([3, 1], 11);
      const pos = add(unary('abs', x), 0.5);
      return concat(
        [
          add(x, b),
          sub(b, x),
          mul(x, b),
          div(x, add(unary('abs', b), 1)),
          maximum(x, b),
          minimum(x, b),
          pow(pos, b),
        ],
        0,
      );
    });
  });

  it('throws naming the kernel for what ONNX cannot express', () => {
    const graph: KernelGraph = {
      values: [
        { shape: [2], dtype: 'float32', data: null },
        { shape: [2], dtype: 'float32', data: null },
      ],
      nodes: [{ kernel: 'unary', args: ['erf' as UnaryOp, 0], output: 1 }],
      input: 0,
      output: 1,
    };
    expect(() => graphToOnnx(graph)).toThrow(/kernel unary, op 'erf'/);
  });
});

describe('graphToOnnx on whole networks (ORT against backend-wasm, reduced sizes)', () => {
  let wasm: WasmBackend;
  beforeAll(async () => {
    wasm = await WasmBackend.create({ threads: 1 });
  });

  const network = (name: string, build: () => nn.AnyModule) =>
    it(`${name} at [1, 3, 64, 64]`, async () => {
      nn.manualSeed(0);
      const recorded = await recordNetwork(build, [1, 3, 64, 64], wasm);
      expect(await compare(recorded)).toBeLessThanOrEqual(NETWORK);
    }, 60_000);

  network('SKNet-50', () => sknet50());
  network('HRNet-W32 pose', () => hrnetPose({ width: 32 }));
  network('SPNet-50 (150 classes)', () => spnet50(150));
});
