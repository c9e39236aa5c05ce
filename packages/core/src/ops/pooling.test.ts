import { describe, expect, it } from 'vitest';
import { traceShapes } from '../engine.js';
import { zeros } from './creation.js';
import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from './pooling.js';

/** The output shape of `f` on a shape-only input (no backend needed). */
function shapeOf(
  inShape: number[],
  f: (x: ReturnType<typeof zeros>) => { shape: readonly number[] },
): readonly number[] {
  return traceShapes(
    () => f(zeros(inShape)).shape,
    () => undefined,
  );
}

// Expected sizes hand-derived from PyTorch's rule: out = ⌊ or ⌈(in + 2p − d(k−1) − 1)/s⌉ + 1,
// and under ceil mode the last window must start inside the input or the leading padding.
describe('pooling output sizes', () => {
  it('floor and ceil mode', () => {
    expect(shapeOf([1, 64, 112, 112], (x) => maxPool2d(x, 3, { stride: 2, padding: 1 }))).toEqual([
      1, 64, 56, 56,
    ]);
    expect(shapeOf([1, 64, 112, 112], (x) => maxPool2d(x, 3, { stride: 2, ceilMode: true }))).toEqual([
      1, 64, 56, 56,
    ]);
    expect(shapeOf([1, 8, 7, 7], (x) => avgPool2d(x, 2, { ceilMode: true, countIncludePad: false }))).toEqual(
      [1, 8, 4, 4],
    );
    expect(shapeOf([1, 8, 7, 7], (x) => avgPool2d(x, 2))).toEqual([1, 8, 3, 3]);
    // ⌈(5 + 2 − 1 − 1)/2⌉ + 1 = 4, but window 4 would start at 6 − 1 = 5 ≥ in: dropped → 3.
    expect(shapeOf([1, 1, 5, 5], (x) => maxPool2d(x, 2, { stride: 2, padding: 1, ceilMode: true }))).toEqual([
      1, 1, 3, 3,
    ]);
  });

  it('adaptive sizes including strips', () => {
    expect(shapeOf([2, 4, 9, 7], (x) => adaptiveAvgPool2d(x, [1, null]))).toEqual([2, 4, 1, 7]);
    expect(shapeOf([2, 4, 9, 7], (x) => adaptiveAvgPool2d(x, [null, 1]))).toEqual([2, 4, 9, 1]);
    expect(shapeOf([2, 4, 9, 7], (x) => adaptiveAvgPool2d(x, 20))).toEqual([2, 4, 20, 20]);
  });

  it('rejects bad arguments by name', () => {
    expect(() => shapeOf([1, 1, 5, 5], (x) => maxPool2d(x, 3, { padding: 2 }))).toThrow(
      /maxPool2d: argument 'padding' must be at most half the kernel size/,
    );
    expect(() => shapeOf([1, 5, 5], (x) => maxPool2d(x, 2))).toThrow(
      /maxPool2d: argument 'x' must be rank 4/,
    );
    expect(() => shapeOf([1, 1, 5, 5], (x) => adaptiveAvgPool2d(x, [0, 1]))).toThrow(/argument 'outputSize'/);
  });
});
