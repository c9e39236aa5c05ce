import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../errors.js';
import { conv2dInfo } from './conv.js';

// Output sizes hand-derived from PyTorch's formula
// floor((in + padBefore + padAfter − dilation·(k − 1) − 1) / stride) + 1.
describe('conv2dInfo', () => {
  it('derives output sizes', () => {
    const a = conv2dInfo([1, 3, 224, 224], [64, 3, 7, 7], { stride: 2, padding: 3 });
    expect([a.outHeight, a.outWidth]).toEqual([112, 112]);
    const b = conv2dInfo([2, 128, 56, 56], [128, 4, 3, 3], { padding: 2, dilation: 2, groups: 32 });
    expect([b.outHeight, b.outWidth, b.groups]).toEqual([56, 56, 32]);
    const c = conv2dInfo([1, 8, 7, 5], [8, 8, 3, 1], { padding: [1, 0], stride: [2, 3] });
    expect([c.outHeight, c.outWidth, c.padTop, c.padBottom, c.padLeft, c.padRight]).toEqual([
      4, 2, 1, 1, 0, 0,
    ]);
    const d = conv2dInfo([1, 1, 5, 5], [1, 1, 2, 2], { padding: [0, 1, 1, 0] });
    expect([d.outHeight, d.outWidth]).toEqual([5, 5]);
  });

  it('names the argument that is wrong', () => {
    expect(() => conv2dInfo([1, 6, 8, 8], [4, 3, 3, 3], { groups: 4 })).toThrow(/conv2d: argument 'groups'/);
    expect(() => conv2dInfo([1, 6, 8, 8], [4, 2, 3, 3], { groups: 2 })).toThrow(
      /argument 'weight'.*shape \[outChannels, 3/,
    );
    expect(() => conv2dInfo([1, 1, 2, 2], [1, 1, 3, 3])).toThrow(ArgumentError);
    expect(() => conv2dInfo([1, 1, 8, 8], [1, 1, 3, 3], { stride: 0 })).toThrow(
      /argument 'stride' must be an integer ≥ 1/,
    );
    expect(() => conv2dInfo([1, 1, 8, 8], [1, 1, 3, 3], { padding: [1, 2, 3] as never })).toThrow(
      /argument 'padding'/,
    );
  });
});
