import {
  adaptiveAvgPool2d,
  add,
  argmax,
  avgPool2d,
  batchNorm,
  cast,
  concat,
  div,
  flip,
  getBackend,
  matmul,
  max,
  maximum,
  maxPool2d,
  mean,
  memory,
  mul,
  neg,
  pad,
  pow,
  relu,
  resizeBilinear,
  resizeNearest,
  setBackend,
  setDebug,
  sigmoid,
  slice,
  softmax,
  square,
  sub,
  sum,
  type Tensor,
  tensor,
  tidy,
  transpose,
} from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { JsBackend, registerJsBackend } from './index.js';

/** Runs `fn` in a tidy scope and returns the result's shape, dtype and values. */
function values(fn: () => Tensor): { shape: readonly number[]; dtype: string; v: number[] } {
  const t = tidy(fn);
  const out = { shape: t.shape, dtype: t.dtype, v: [...t.dataSync()] };
  t.dispose();
  return out;
}

function close(got: number[], expected: number[], tol = 1e-6): void {
  expect(got.length).toBe(expected.length);
  got.forEach((g, i) => {
    expect(Math.abs(g - expected[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected[i])));
  });
}

const range = (n: number, start = 0): number[] => Array.from({ length: n }, (_, i) => start + i);

describe('JsBackend', () => {
  beforeAll(async () => {
    registerJsBackend();
    registerJsBackend(); // idempotent
    await setBackend('js');
    setDebug({ checkLeaks: true });
  });

  it('stores, copies on read and counts memory exactly', async () => {
    const b = new JsBackend();
    const id = b.write(new Float32Array([1, 2, 3]), [3], 'float32');
    expect(b.memory()).toEqual({ buffers: 1, bytes: 12 });
    const r = b.readSync(id);
    r[0] = 99;
    expect([...(await b.read(id))]).toEqual([1, 2, 3]);
    b.disposeData(id);
    expect(b.memory()).toEqual({ buffers: 0, bytes: 0 });
    expect(() => b.readSync(id)).toThrow(/js backend holds no buffer/);
    b.write(new Int32Array(5), [5], 'int32');
    b.dispose();
    expect(b.memory()).toEqual({ buffers: 0, bytes: 0 });
  });

  it('leaves no tensors behind', () => {
    const before = memory().numTensors;
    tidy(() => {
      add(tensor([1, 2]), tensor([3, 4]));
    });
    expect(memory().numTensors).toBe(before);
    expect(getBackend().name).toBe('js');
  });

  it('broadcasts binary ops over any rank', () => {
    const r = values(() => add(tensor(range(6), [2, 1, 3]), tensor([10, 20], [2, 1])));
    expect(r.shape).toEqual([2, 2, 3]);
    expect(r.v).toEqual([10, 11, 12, 20, 21, 22, 13, 14, 15, 23, 24, 25]);
    expect(values(() => sub(5, tensor([1, 2, 3]))).v).toEqual([4, 3, 2]);
    expect(values(() => mul(tensor([1, 2, 3, 4], [2, 2]), tensor([2, 3], [1, 2]))).v).toEqual([2, 6, 6, 12]);
    const d = values(() => div(tensor(new Int32Array([7, -7, 9])), tensor(new Int32Array([2, 2, -4]))));
    expect(d.dtype).toBe('int32');
    expect(d.v).toEqual([3, -3, -2]);
    expect(values(() => maximum(tensor([1, Number.NaN, 3]), 2)).v).toEqual([2, Number.NaN, 3]);
    expect(
      values(() => pow(tensor([2, 1, -1]), tensor([3, Number.NaN, Number.POSITIVE_INFINITY]))).v,
    ).toEqual([8, 1, 1]);
  });

  it('computes unary functions, on int32 where allowed', () => {
    expect(values(() => relu(tensor([-1, 0, 2, Number.NaN]))).v).toEqual([0, 0, 2, Number.NaN]);
    close(values(() => sigmoid(tensor([0, 2]))).v, [0.5, 1 / (1 + Math.exp(-2))]);
    const n = values(() => neg(tensor(new Int32Array([3, -4]))));
    expect(n.dtype).toBe('int32');
    expect(n.v).toEqual([-3, 4]);
    expect(values(() => square(tensor(new Int32Array([3, -4])))).v).toEqual([9, 16]);
  });

  it('multiplies matrices with transposes, batch broadcast, bias and activation', () => {
    // a = [[1, 2], [3, 4]], b = [[1, -1], [2, 0]].
    expect(values(() => matmul(tensor([1, 2, 3, 4], [2, 2]), tensor([1, -1, 2, 0], [2, 2]))).v).toEqual([
      5, -1, 11, -3,
    ]);
    const r = values(() =>
      matmul(tensor([1, 3, 2, 4], [2, 2]), tensor([1, 2, -1, 0], [2, 2]), {
        transposeA: true,
        transposeB: true,
        bias: tensor([1, 2]),
        activation: 'relu',
      }),
    );
    expect(r.v).toEqual([6, 1, 12, 0]);
    const batched = values(() => matmul(tensor(range(8), [2, 2, 2]), tensor([1, 0, 0, 1], [2, 2])));
    expect(batched.shape).toEqual([2, 2, 2]);
    expect(batched.v).toEqual(range(8));
  });

  it('normalises batches per channel', () => {
    const r = values(() =>
      batchNorm(tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]), tensor([1, 2]), tensor([4, 1]), {
        weight: tensor([2, 1]),
        bias: tensor([0, 1]),
        eps: 0,
      }),
    );
    expect(r.v).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('pools with padding, ceil mode and countIncludePad', () => {
    const x = (): Tensor => tensor(range(16, 1), [1, 1, 4, 4]);
    expect(values(() => maxPool2d(x(), 2)).v).toEqual([6, 8, 14, 16]);
    expect(values(() => maxPool2d(x(), 3, { stride: 2, padding: 1 })).v).toEqual([6, 8, 14, 16]);
    expect(values(() => maxPool2d(x(), 3, { stride: 2, ceilMode: true })).v).toEqual([11, 12, 15, 16]);
    // 3×3 windows, stride 2, padding 1: the corner window sees 4 values of 9 cells.
    close(values(() => avgPool2d(x(), 3, { stride: 2, padding: 1 })).v, [14 / 9, 30 / 9, 57 / 9, 99 / 9]);
    close(values(() => avgPool2d(x(), 3, { stride: 2, padding: 1, countIncludePad: false })).v, [
      14 / 4,
      30 / 6,
      57 / 6,
      99 / 9,
    ]);
    // Ceil mode: the last window is clipped to the input (+ padding), divisor counts the clipped size.
    close(
      values(() => avgPool2d(tensor(range(5, 1), [1, 1, 1, 5]), [1, 2], { ceilMode: true })).v,
      [1.5, 3.5, 5],
    );
    close(values(() => adaptiveAvgPool2d(tensor(range(5, 1), [1, 1, 1, 5]), [1, 3])).v, [1.5, 3, 4.5]);
    close(values(() => adaptiveAvgPool2d(x(), [1, null])).v, [7, 8, 9, 10]);
  });

  it('resizes like PyTorch', () => {
    const x = (): Tensor => tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    close(values(() => resizeBilinear(x(), [3, 3], true)).v, [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4]);
    close(
      values(() => resizeBilinear(x(), [4, 4], false)).v,
      [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4],
    );
    expect(values(() => resizeNearest(tensor([1, 2, 3], [1, 1, 1, 3]), [1, 5])).v).toEqual([1, 1, 2, 2, 3]);
  });

  it('reduces over any set of axes', () => {
    const x = (): Tensor => tensor(range(24), [2, 3, 4]);
    const s = values(() => sum(x(), [0, 2]));
    expect(s.shape).toEqual([3]);
    expect(s.v).toEqual([6 + 54, 22 + 70, 38 + 86]);
    expect(values(() => max(x(), 1)).v).toEqual([8, 9, 10, 11, 20, 21, 22, 23]);
    close(values(() => mean(x(), [1])).v, [4, 5, 6, 7, 16, 17, 18, 19]);
    const m = values(() => mean(tensor(new Int32Array([1, 2]))));
    expect(m.dtype).toBe('float32');
    expect(m.v).toEqual([1.5]);
    expect(values(() => max(tensor([1, Number.NaN, 3]))).v).toEqual([Number.NaN]);
  });

  it('computes softmax and argmax along any axis', () => {
    const r = values(() => softmax(tensor([0, 1000, 0, 1000], [2, 2]), 0));
    close(r.v, [0.5, 0.5, 0.5, 0.5]);
    const e = Math.exp(1);
    close(values(() => softmax(tensor([0, 1]))).v, [1 / (1 + e), e / (1 + e)]);
    const a = values(() => argmax(tensor([1, 5, 5, 0, 7, 2], [2, 3]), 1));
    expect(a.dtype).toBe('int32');
    expect(a.v).toEqual([1, 1]);
    expect(values(() => argmax(tensor([1, 5, 5, 0, 7, 2], [2, 3]), 0)).v).toEqual([0, 1, 0]);
  });

  it('moves data: concat, slice, transpose, flip, pad, cast', () => {
    const c = values(() => concat([tensor(range(4), [2, 2]), tensor([9, 8], [2, 1])], 1));
    expect(c.shape).toEqual([2, 3]);
    expect(c.v).toEqual([0, 1, 9, 2, 3, 8]);
    expect(values(() => slice(tensor(range(24), [2, 3, 4]), [1, 1, 1], [1, 2, 2])).v).toEqual([
      17, 18, 21, 22,
    ]);
    const t = values(() => transpose(tensor(range(6), [1, 2, 3]), [2, 0, 1]));
    expect(t.shape).toEqual([3, 1, 2]);
    expect(t.v).toEqual([0, 3, 1, 4, 2, 5]);
    const m = () => tensor(range(6), [2, 3]);
    expect(values(() => flip(m(), [1])).v).toEqual([2, 1, 0, 5, 4, 3]);
    expect(values(() => flip(m(), [0])).v).toEqual([3, 4, 5, 0, 1, 2]);
    expect(values(() => flip(m(), [-1, 0])).v).toEqual([5, 4, 3, 2, 1, 0]);
    const f = values(() => flip(tensor([4, -5, 6], [3], 'int32'), []));
    expect([f.dtype, ...f.v]).toEqual(['int32', 4, -5, 6]);
    expect(
      values(() =>
        pad(
          tensor([1, 2], [1, 2]),
          [
            [1, 0],
            [0, 1],
          ],
          -1,
        ),
      ).v,
    ).toEqual([-1, -1, -1, 1, 2, -1]);
    const i = values(() => cast(tensor([1.7, -1.7, Number.NaN]), 'int32'));
    expect(i.dtype).toBe('int32');
    expect(i.v).toEqual([1, -1, 0]);
  });
});
