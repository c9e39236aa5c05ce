import { type Conv2dInfo, conv2dInfo } from '@kernelzoo/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WasmBackend } from './backend.js';
import { chunkSize, setWinogradMode, useWinograd, winogradCalls } from './kernels/winograd.js';
import { floats, rng, upload } from './test-util.js';

// Numerics of the Winograd path are checked against the float64 oracle by the conv2d cases of
// kernels.test.ts, every eligible one sent through it. Here: when it is taken, non-finite
// values, and the weights it reads.

describe('wasm Winograd F(2×2, 3×3): when it is taken', () => {
  const info = (c: number, h: number, w: number, cout = c, opts = {}): Conv2dInfo =>
    conv2dInfo([1, c, h, w], [cout, c, 3, 3], { padding: 1, ...opts });

  it("takes HRNet-W32's 3×3 stride-1 convolutions on its 64×48, 32×24 and 16×12 maps", () => {
    expect(useWinograd(info(32, 64, 48), 'relu')).toBe(true);
    expect(useWinograd(info(64, 32, 24), 'linear')).toBe(true);
    expect(useWinograd(info(256, 64, 48, 32), 'relu')).toBe(true);
    expect(useWinograd(info(128, 16, 12), 'relu')).toBe(true);
  });

  it('leaves small maps, few channels, strides, dilations, groups and sigmoid to the other paths', () => {
    expect(useWinograd(info(256, 8, 6), 'relu')).toBe(false); // 48 pixels
    expect(useWinograd(info(8, 64, 48, 32), 'relu')).toBe(false); // 8 input channels
    expect(useWinograd(info(32, 64, 48, 8), 'relu')).toBe(false); // 8 output channels
    expect(useWinograd(info(32, 64, 48, 32, { stride: 2 }), 'relu')).toBe(false);
    expect(useWinograd(info(32, 64, 48, 32, { dilation: 2, padding: 2 }), 'relu')).toBe(false);
    expect(useWinograd(conv2dInfo([1, 32, 64, 48], [32, 16, 3, 3], { padding: 1, groups: 2 }), 'relu')).toBe(
      false,
    );
    expect(useWinograd(info(32, 64, 48), 'sigmoid')).toBe(false);
    expect(useWinograd(conv2dInfo([1, 32, 64, 48], [32, 32, 5, 5], { padding: 2 }), 'relu')).toBe(false);
    // Tiles under 3/4 filled: 2 output columns are 1 tile, in a grid 2 tiles wide.
    expect(useWinograd(info(32, 128, 2), 'relu')).toBe(false);
    expect(useWinograd(info(32, 32, 10), 'relu')).toBe(true);
  });

  it('sizes chunks of tiles so that threads get equal shares', () => {
    // One thread: as many tiles as fit (a multiple of 8), or all of them.
    expect(chunkSize(768, 1, 80, 1)).toBe(80);
    expect(chunkSize(12, 1, 200, 1)).toBe(16);
    // Two threads: 768 tiles in 12 chunks of 64 (6 each) rather than 10 of 80 (400 against
    // 368 tiles); 48 tiles in 6 chunks of 8 rather than 3 of 16 (one thread would take two).
    expect(chunkSize(768, 1, 80, 2)).toBe(64);
    expect(chunkSize(48, 1, 16, 2)).toBe(8);
    // Two batch items split evenly whatever the chunk: the largest chunk that fits.
    expect(chunkSize(48, 2, 16, 2)).toBe(16);
  });

  it('follows the test hook', () => {
    try {
      setWinogradMode('never');
      expect(useWinograd(info(32, 64, 48), 'relu')).toBe(false);
      setWinogradMode('always');
      expect(useWinograd(info(3, 5, 6, 4), 'relu')).toBe(true);
    } finally {
      setWinogradMode('auto');
    }
  });
});

describe('wasm Winograd F(2×2, 3×3) on data', () => {
  let b: WasmBackend;
  beforeAll(async () => {
    b = await WasmBackend.create({ threads: 1 });
  });
  afterAll(() => {
    setWinogradMode('auto');
    b.dispose();
  });
  const shape = [1, 16, 10, 12];
  const at = conv2dInfo(shape, [16, 16, 3, 3], { padding: 1 });
  const run = (x: Float32Array, w: Float32Array, mode: 'always' | 'never') => {
    setWinogradMode(mode);
    const xi = upload(b, { shape, dtype: 'float32', values: x });
    const wi = upload(b, { shape: [16, 16, 3, 3], dtype: 'float32', values: w });
    const calls = winogradCalls();
    const y = b.conv2d(xi, wi, null, at, 'relu');
    const out = { values: b.readSync(y.dataId) as Float32Array, winograd: winogradCalls() - calls };
    const weights = b.readSync(wi.dataId);
    for (const t of [y, xi, wi]) b.disposeData(t.dataId);
    return { ...out, weights };
  };

  it('reads the weights from the packed cache and leaves them exact', () => {
    const r = rng(11);
    const x = floats(r, shape).values as Float32Array;
    const w = floats(r, [16, 16, 3, 3]).values as Float32Array;
    const got = run(x, w, 'always');
    expect(got.winograd).toBe(1);
    expect(got.weights).toEqual(w);
    expect(b.memory().buffers).toBe(0);
  });

  // The transforms would spread one Inf or NaN over its whole tile (Inf − Inf): such calls
  // take the GEMM, whose results they must equal bit for bit.
  for (const [what, where, value] of [
    ['an Inf in the input', 'x', Number.POSITIVE_INFINITY],
    ['a NaN in the input', 'x', Number.NaN],
    ['an Inf in the weights', 'w', Number.NEGATIVE_INFINITY],
    ['a NaN in the weights', 'w', Number.NaN],
  ] as const) {
    it(`gives the GEMM's results exactly for ${what}`, () => {
      const r = rng(12);
      const x = floats(r, shape).values as Float32Array;
      const w = floats(r, [16, 16, 3, 3]).values as Float32Array;
      if (where === 'x') x[5 * 12 + 7] = value;
      else w[3 * 144 + 4] = value;
      const winograd = run(x, w, 'always');
      const gemm = run(x, w, 'never');
      expect(winograd.winograd).toBe(0);
      expect(Array.from(winograd.values)).toEqual(Array.from(gemm.values));
      expect(winograd.values.some((v) => !Number.isFinite(v))).toBe(true);
    });
  }
});
