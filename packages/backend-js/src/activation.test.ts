import { describe, expect, it } from 'vitest';
import { bitsOf, reluBits } from './kernels/activation.js';

describe('reluBits (ReLU on float32 bits, without a branch per value)', () => {
  it('gives what v > 0 || isNaN(v) ? v : 0 gives, special values included', () => {
    const negativeNaN = new Float32Array(new Int32Array([0xffc00001 | 0]).buffer)[0]!;
    const values = [
      -0,
      0,
      Number.NEGATIVE_INFINITY,
      Number.POSITIVE_INFINITY,
      Number.NaN,
      negativeNaN,
      1.401298464324817e-45, // the smallest denormal
      -1.401298464324817e-45,
      3.4028234663852886e38, // the largest float32
      -3.4028234663852886e38,
      1,
      -1,
      0.5,
      -2.5,
    ];
    const out = Float32Array.from(values);
    reluBits(bitsOf(out), 0, out.length);
    const want = Float32Array.from(values, (v) => (v > 0 || Number.isNaN(v) ? v : 0));
    for (let i = 0; i < values.length; i++)
      expect(Object.is(out[i], want[i]), `${values[i]} → ${out[i]}`).toBe(true);
    // −0, −∞ and the negative denormal became +0, not −0.
    expect(Object.is(out[0], 0) && Object.is(out[2], 0) && Object.is(out[7], 0)).toBe(true);
  });

  it('touches only the range given, on a view that starts inside its buffer', () => {
    const buffer = new Float32Array([-1, -2, -3, -4, -5, -6]);
    const view = buffer.subarray(1, 5);
    reluBits(bitsOf(view), 1, 3);
    expect([...buffer]).toEqual([-1, -2, 0, 0, -5, -6]);
  });

  it('agrees with the branch on a million random values', () => {
    const n = 1 << 20;
    let seed = 7;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      out[i] = (seed / 2 ** 32 - 0.5) * 2 ** ((seed % 60) - 30);
    }
    const want = out.map((v) => (v > 0 || Number.isNaN(v) ? v : 0));
    reluBits(bitsOf(out), 0, n);
    let bad = 0;
    for (let i = 0; i < n; i++) if (!Object.is(out[i], want[i])) bad++;
    expect(bad).toBe(0);
  });
});
