import { describe, expect, it } from 'vitest';
import { expectClose } from '../compare.js';
import { CaseRandom, host } from '../host.js';
import { naive, tfjs } from './index.js';

const tol = { rtol: 1e-6, atol: 1e-6 };

describe('oracles agree where both apply', () => {
  it('naive pooling equals tfjs pooling (floor mode; max with padding, avg excluding padding)', () => {
    const r = new CaseRandom(11);
    for (let i = 0; i < 40; i++) {
      const kernel: [number, number] = [r.int(1, 4), r.int(1, 4)];
      const stride: [number, number] = [r.int(1, 3), r.int(1, 3)];
      const p = (k: number) => r.int(0, Math.floor(k / 2));
      const padding: [number, number, number, number] = [
        p(kernel[0]),
        p(kernel[0]),
        p(kernel[1]),
        p(kernel[1]),
      ];
      const x = r.floats([1, 2, kernel[0] + r.int(0, 5), kernel[1] + r.int(0, 5)]);
      for (const type of ['max', 'avg'] as const) {
        const e = tfjs.pool2d(x, type, kernel, stride, padding);
        const n = naive.pool2d(x, type, {
          kernel,
          stride,
          padding,
          dilation: [1, 1],
          ceilMode: false,
          countIncludePad: false,
        });
        expect(n.shape).toEqual(e.shape);
        expectClose(n.values, e.values, tol, `${type} pool #${i}`, e.shape);
      }
    }
  });

  it('naive bilinear equals tfjs bilinear, both align_corners settings', () => {
    const r = new CaseRandom(12);
    for (let i = 0; i < 30; i++) {
      const x = r.floats([1, 2, r.int(1, 6), r.int(1, 6)]);
      const size: [number, number] = [r.int(1, 9), r.int(1, 9)];
      for (const ac of [false, true]) {
        const e = tfjs.resizeBilinear(x, size, ac);
        expectClose(
          naive.resizeBilinear(x, size, ac).values,
          e.values,
          tol,
          `bilinear #${i} ac ${ac}`,
          e.shape,
        );
      }
    }
  });

  it('adaptive average pooling with divisible sizes equals tfjs average pooling', () => {
    const x = new CaseRandom(13).floats([1, 3, 6, 8]);
    const e = tfjs.pool2d(x, 'avg', [3, 2], [3, 2], [0, 0, 0, 0]);
    expectClose(naive.adaptiveAvgPool2d(x, [2, 4]).values, e.values, tol, 'adaptive 2×4', e.shape);
  });

  it('hand-derived values: PyTorch avg pool divisors and nearest floor rule', () => {
    const x = host([1, 2, 3, 4], [1, 1, 2, 2]);
    const o = {
      kernel: [3, 3] as [number, number],
      stride: [1, 1] as [number, number],
      padding: [1, 1, 1, 1] as [number, number, number, number],
      dilation: [1, 1] as [number, number],
      ceilMode: false,
    };
    expect(Array.from(naive.pool2d(x, 'avg', { ...o, countIncludePad: true }).values)).toEqual(
      [10 / 9, 10 / 9, 10 / 9, 10 / 9].map(Math.fround),
    );
    expect(Array.from(naive.pool2d(x, 'avg', { ...o, countIncludePad: false }).values)).toEqual([
      2.5, 2.5, 2.5, 2.5,
    ]);
    expect(Array.from(naive.resizeNearest(host([0, 1, 2, 3, 4], [1, 1, 1, 5]), [1, 3]).values)).toEqual([
      0, 1, 3,
    ]);
    expect(
      Array.from(naive.binary(host([-7], [1]), host([2], [1]), (a, b) => Math.trunc(a / b)).values),
    ).toEqual([-3]);
  });

  it('tfjs flip reverses the given axes (hand-computed values)', () => {
    const x = host([0, 1, 2, 3, 4, 5], [2, 3]);
    expect([...tfjs.flip(x, [1]).values]).toEqual([2, 1, 0, 5, 4, 3]);
    expect([...tfjs.flip(x, [0]).values]).toEqual([3, 4, 5, 0, 1, 2]);
    expect([...tfjs.flip(x, [0, 1]).values]).toEqual([5, 4, 3, 2, 1, 0]);
    expect([...tfjs.flip(x, []).values]).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
