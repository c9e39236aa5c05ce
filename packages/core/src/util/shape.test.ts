import { describe, expect, it } from 'vitest';
import { broadcastShapes, broadcastStrides, sizeFromShape, stridesOf } from './shape.js';

describe('shape utilities', () => {
  it('sizes and strides', () => {
    expect(sizeFromShape([])).toBe(1);
    expect(sizeFromShape([2, 0, 3])).toBe(0);
    expect(stridesOf([2, 3, 4])).toEqual([12, 4, 1]);
  });

  it('broadcasts like NumPy', () => {
    expect(broadcastShapes([2, 1, 4], [3, 1])).toEqual([2, 3, 4]);
    expect(broadcastShapes([], [5])).toEqual([5]);
    expect(broadcastShapes([2, 3], [4, 3])).toBeNull();
    expect(broadcastStrides([3, 1], [2, 3, 4])).toEqual([0, 1, 0]);
  });
});
