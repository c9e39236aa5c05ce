import { oracle } from '@kernelzoo/conformance';
import { type Conv2dInfo, conv2dInfo } from '@kernelzoo/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WasmBackend } from './backend.js';
import { chunkSize, setWinogradMode, useWinograd, winogradCalls } from './kernels/winograd.js';
import { useWinogradDilated } from './kernels/winograd-dilated.js';
import { checkAccumulated, floats, padSpatial, rng, upload } from './test-util.js';

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
    // Chunks run on across batch items: 256 items of 4 tiles (SPNet-50's dilation 16 phases)
    // make 32 chunks of 32; 3 items of 6 tiles, 18 tiles: one chunk of 24 on one thread, and on
    // two, 8 + 8 against 8 + 2 tiles rather than 16 against 2.
    expect(chunkSize(4, 256, 32, 2)).toBe(32);
    expect(chunkSize(6, 3, 32, 1)).toBe(24);
    expect(chunkSize(6, 3, 32, 2)).toBe(8);
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

// Dilated convolutions run as the undilated convolution of their phase images
// (winograd-dilated.ts), and convolutions with many channels take a scratch of their own.
describe('wasm Winograd: dilated convolutions by phases, and many channels', () => {
  const dilated = (c: number, h: number, w: number, d: number, cout = c, pad = d): Conv2dInfo =>
    conv2dInfo([1, c, h, w], [cout, c, 3, 3], { padding: pad, dilation: d });

  it("takes SPNet-50's dilation 2, 4, 8 and 16 convolutions on its 60×60 maps", () => {
    expect(useWinogradDilated(dilated(256, 60, 60, 2), 'relu')).toBe(true);
    expect(useWinogradDilated(dilated(512, 60, 60, 4), 'relu')).toBe(true);
    expect(useWinogradDilated(dilated(512, 60, 60, 8), 'relu')).toBe(true);
    // 16 × 16 phase images of 4 × 4 outputs, 4 tiles each: chunks run on across images.
    expect(useWinogradDilated(dilated(512, 60, 60, 16), 'relu')).toBe(true);
    expect(useWinogradDilated(dilated(256, 60, 60, 1), 'relu')).toBe(false); // not dilated
    expect(useWinogradDilated(dilated(8, 60, 60, 2, 32), 'relu')).toBe(false); // 8 input channels
    expect(useWinogradDilated(dilated(32, 60, 60, 2), 'sigmoid')).toBe(false);
    expect(
      useWinogradDilated(
        conv2dInfo([1, 32, 60, 60], [32, 32, 3, 3], { padding: 2, dilation: 2, stride: 2 }),
        'relu',
      ),
    ).toBe(false);
  });

  it('takes the head convolution of SPNet (1024 → 512 channels) with its own scratch, not beyond 4096 channels', () => {
    expect(useWinograd(conv2dInfo([1, 1024, 60, 60], [512, 1024, 3, 3], { padding: 1 }), 'relu')).toBe(true);
    expect(useWinograd(conv2dInfo([1, 4096, 16, 16], [64, 4096, 3, 3], { padding: 1 }), 'relu')).toBe(false);
  });

  it('counts the pixels of the whole batch against the least for the path', () => {
    // 8 × 6 maps: 48 pixels an image; a batch of 4 reaches 192.
    expect(useWinograd(conv2dInfo([1, 64, 8, 6], [64, 64, 3, 3], { padding: 1 }), 'relu')).toBe(false);
    expect(useWinograd(conv2dInfo([4, 64, 8, 6], [64, 64, 3, 3], { padding: 1 }), 'relu')).toBe(true);
  });

  // Against the float64 oracle with the accumulation bound, each through the path (the call count).
  const cases: [
    string,
    number[],
    number,
    [number, number],
    [number, number, number, number],
    'relu' | 'linear',
  ][] = [
    ['dilation 2, 34 × 30 (phases 17 × 15)', [1, 24, 34, 30], 20, [2, 2], [2, 2, 2, 2], 'relu'],
    [
      'dilation 3, 31 × 29, batch 2: phases of unequal sizes',
      [2, 16, 31, 29],
      16,
      [3, 3],
      [3, 3, 3, 3],
      'linear',
    ],
    ['dilations 2 × 4, asymmetric padding', [1, 16, 30, 44], 24, [2, 4], [1, 3, 4, 2], 'relu'],
    ['dilation 8 with SPNet-like phase images', [1, 16, 64, 64], 16, [8, 8], [8, 8, 8, 8], 'relu'],
    // Phase images of 4 × 4 outputs (4 tiles): every chunk spans images.
    [
      'dilation 16 on 60 × 60 (phase images of 4 tiles)',
      [1, 16, 60, 60],
      24,
      [16, 16],
      [16, 16, 16, 16],
      'relu',
    ],
    // Phase images of 6 × 3 or 5 × 3 outputs: 3 × 2 = 6 tiles, so pairs of tiles cross images at
    // every other image; batch 2.
    [
      'dilation 5 × 10, 30 × 30, batch 2 (phase images of 6 tiles)',
      [2, 16, 30, 30],
      16,
      [5, 10],
      [5, 5, 10, 10],
      'linear',
    ],
    ['many channels: own scratch (1536 + 400 channels)', [1, 1536, 8, 8], 400, [1, 1], [1, 1, 1, 1], 'relu'],
  ];
  for (const threads of [1, 2]) {
    for (const [label, shape, cout, dilation, padding, act] of cases) {
      it(`${label}, ${threads} thread(s)`, async () => {
        const b = await WasmBackend.create({ threads });
        setWinogradMode('always');
        try {
          const r = rng(900 + cout + shape[1]!);
          const x = floats(r, shape);
          const w = floats(r, [cout, shape[1]!, 3, 3]);
          const bias = floats(r, [cout]);
          const info = conv2dInfo(shape, [cout, shape[1]!, 3, 3], { dilation, padding });
          // The oracle pads symmetrically: give it the input padded explicitly.
          const expected = oracle.accumulate.convolve(padSpatial(x, padding), w, {
            stride: [1, 1],
            padding: [0, 0],
            dilation,
            groups: 1,
            bias,
          });
          const calls = winogradCalls();
          checkAccumulated(
            b,
            [x, w, bias],
            (be, [xi, wi, bi]) => be.conv2d(xi!, wi!, bi, info, act),
            expected,
            act,
            label,
          );
          expect(winogradCalls() - calls).toBe(1);
        } finally {
          setWinogradMode('auto');
          b.dispose();
        }
      });
    }
  }
});
