import { describe, expect, it } from 'vitest';
import { referenceParityBound } from './tolerances.js';

describe('referenceParityBound', () => {
  it('is max(1e-4, 3 × float32 PyTorch’s distance) on js and wasm', () => {
    expect(referenceParityBound(0)).toBe(1e-4);
    expect(referenceParityBound(2e-5, 'wasm')).toBe(1e-4);
    expect(referenceParityBound(1e-4)).toBeCloseTo(3e-4, 15);
    expect(referenceParityBound(3.25e-4, 'js')).toBeCloseTo(9.75e-4, 15);
  });

  it('scales by gpujs’s elementwise rtol over js’s (2e-4 / 1e-5 = 20); an unknown backend is js', () => {
    expect(referenceParityBound(0, 'gpujs')).toBeCloseTo(2e-3, 15);
    expect(referenceParityBound(5e-5, 'gpujs')).toBeCloseTo(3e-3, 15);
    expect(referenceParityBound(5e-5, 'some-new-backend')).toBeCloseTo(1.5e-4, 15);
  });
});
