import {
  type Activation,
  type Conv2dInfo,
  conv2d,
  conv2dInfo,
  SeededRandom,
  setBackend,
  setDebug,
  sizeFromShape,
  tensor,
  tidy,
} from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerJsBackend } from './index.js';
import { useWinograd } from './kernels/winograd.js';

/** Tolerance: |got − expected| ≤ RTOL · Σ|x·w| + ATOL (the scale float rounding grows with). */
const RTOL = 1e-5;
const ATOL = 1e-6;

/** Direct convolution in double precision, straight from the definition. */
function naiveConv(
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  p: Conv2dInfo,
  activation: Activation,
): { out: Float64Array; scale: Float64Array } {
  const cg = p.inChannels / p.groups;
  const mg = p.outChannels / p.groups;
  const out = new Float64Array(p.batch * p.outChannels * p.outHeight * p.outWidth);
  const scale = new Float64Array(out.length);
  let o = 0;
  for (let n = 0; n < p.batch; n++)
    for (let oc = 0; oc < p.outChannels; oc++) {
      const g = Math.floor(oc / mg);
      for (let oy = 0; oy < p.outHeight; oy++)
        for (let ox = 0; ox < p.outWidth; ox++, o++) {
          let s = bias ? bias[oc] : 0;
          let t = Math.abs(s);
          for (let c = 0; c < cg; c++)
            for (let ky = 0; ky < p.kernelHeight; ky++)
              for (let kx = 0; kx < p.kernelWidth; kx++) {
                const iy = oy * p.strideHeight - p.padTop + ky * p.dilationHeight;
                const ix = ox * p.strideWidth - p.padLeft + kx * p.dilationWidth;
                if (iy < 0 || iy >= p.inHeight || ix < 0 || ix >= p.inWidth) continue;
                const xv = x[((n * p.inChannels + g * cg + c) * p.inHeight + iy) * p.inWidth + ix];
                const wv = w[((oc * cg + c) * p.kernelHeight + ky) * p.kernelWidth + kx];
                s += xv * wv;
                t += Math.abs(xv * wv);
              }
          if (activation === 'relu') s = Math.max(s, 0);
          if (activation === 'sigmoid') s = 1 / (1 + Math.exp(-s));
          out[o] = s;
          scale[o] = t;
        }
    }
  return { out, scale };
}

function random(rng: SeededRandom, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

interface Case {
  x: [number, number, number, number];
  w: [number, number, number, number];
  stride: readonly [number, number];
  dilation: readonly [number, number];
  padding: readonly [number, number, number, number];
  groups: number;
  bias: boolean;
  activation: Activation;
}

function runCase(c: Case, seed: number): void {
  const rng = new SeededRandom(seed);
  const xv = random(rng, sizeFromShape(c.x));
  const wv = random(rng, sizeFromShape(c.w));
  const bv = c.bias ? random(rng, c.w[0]) : null;
  const info = conv2dInfo(c.x, c.w, {
    stride: c.stride,
    dilation: c.dilation,
    padding: c.padding,
    groups: c.groups,
  });
  const got = tidy(() =>
    conv2d(tensor(xv, c.x), tensor(wv, c.w), {
      bias: bv ? tensor(bv) : null,
      stride: c.stride,
      dilation: c.dilation,
      padding: c.padding,
      groups: c.groups,
      activation: c.activation,
    }),
  );
  expect(got.shape).toEqual([c.x[0], c.w[0], info.outHeight, info.outWidth]);
  const y = got.dataSync();
  got.dispose();
  const { out, scale } = naiveConv(xv, wv, bv, info, c.activation);
  for (let i = 0; i < out.length; i++) {
    const err = Math.abs(y[i] - out[i]);
    if (!(err <= RTOL * scale[i] + ATOL))
      throw new Error(`${JSON.stringify(c)}: element ${i} got ${y[i]}, expected ${out[i]}`);
  }
}

describe('conv2d', () => {
  beforeAll(async () => {
    registerJsBackend();
    await setBackend('js');
    setDebug({ checkLeaks: true });
  });

  it('matches a naive direct convolution over random configurations', () => {
    const rng = new SeededRandom(7);
    const acts: Activation[] = ['linear', 'relu', 'sigmoid'];
    for (let t = 0; t < 120; t++) {
      const kind = t % 4; // 0: groups 1, 1: groups 2, 2: depthwise (multiplier 1 or 2), 3: groups 32
      const groups = kind === 0 ? 1 : kind === 1 ? 2 : kind === 2 ? rng.int(2, 5) : 32;
      const cg = kind === 2 ? 1 : kind === 3 ? rng.int(1, 2) : rng.int(1, 4);
      const mg = kind === 2 ? rng.int(1, 2) : kind === 3 ? rng.int(1, 2) : rng.int(1, 5);
      const kh = rng.int(1, 3);
      const kw = rng.int(1, 3);
      const dilation: [number, number] = [rng.int(1, 3), rng.int(1, 3)];
      const padding: [number, number, number, number] = [
        rng.int(0, 2),
        rng.int(0, 2),
        rng.int(0, 2),
        rng.int(0, 2),
      ];
      const effH = dilation[0] * (kh - 1) + 1;
      const effW = dilation[1] * (kw - 1) + 1;
      const h = Math.max(1, rng.int(1, 9), effH - padding[0] - padding[1]);
      const w = Math.max(1, rng.int(1, 9), effW - padding[2] - padding[3]);
      runCase(
        {
          x: [rng.int(1, 3), cg * groups, h, w],
          w: [mg * groups, cg, kh, kw],
          stride: [rng.int(1, 3), rng.int(1, 3)],
          dilation,
          padding,
          groups,
          bias: rng.next() < 0.6,
          activation: acts[rng.int(0, 2)],
        },
        1000 + t,
      );
    }
  });

  it('handles 1×1 convolutions, 1×1 spatial inputs and batches', () => {
    const base = { stride: [1, 1], dilation: [1, 1], padding: [0, 0, 0, 0], bias: true } as const;
    const cases: Case[] = [
      { ...base, x: [3, 5, 4, 6], w: [7, 5, 1, 1], groups: 1, activation: 'relu', padding: [0, 0, 0, 0] },
      { ...base, x: [2, 8, 4, 3], w: [6, 4, 1, 1], groups: 2, activation: 'linear', padding: [0, 0, 0, 0] },
      {
        ...base,
        x: [2, 5, 5, 5],
        w: [3, 5, 1, 1],
        groups: 1,
        activation: 'linear',
        stride: [2, 2],
        padding: [0, 0, 0, 0],
      },
      { ...base, x: [2, 4, 1, 1], w: [3, 4, 1, 1], groups: 1, activation: 'sigmoid', padding: [0, 0, 0, 0] },
      { ...base, x: [2, 4, 1, 1], w: [3, 4, 3, 3], groups: 1, activation: 'linear', padding: [1, 1, 1, 1] },
      { ...base, x: [1, 6, 1, 1], w: [6, 1, 3, 3], groups: 6, activation: 'relu', padding: [1, 1, 1, 1] },
      { ...base, x: [1, 3, 5, 4], w: [4, 3, 1, 1], groups: 1, activation: 'linear', padding: [1, 0, 2, 1] },
    ];
    cases.forEach((c, i) => {
      runCase(c, 50 + i);
    });
  });

  it('covers several GEMM column and depth blocks', () => {
    // H·W = 120·120 spans several column blocks of the GEMM.
    runCase(
      {
        x: [1, 16, 120, 120],
        w: [4, 16, 3, 3],
        stride: [1, 1],
        dilation: [1, 1],
        padding: [1, 1, 1, 1],
        groups: 1,
        bias: false,
        activation: 'linear',
      },
      3,
    );
    // K = 40·3·3 = 360 spans two depth blocks; im2col rows start mid-channel in the second.
    runCase(
      {
        x: [2, 80, 7, 9],
        w: [6, 40, 3, 3],
        stride: [2, 1],
        dilation: [2, 1],
        padding: [1, 2, 0, 1],
        groups: 2,
        bias: true,
        activation: 'linear',
      },
      4,
    );
  });

  it('gives hand-derived values', () => {
    // 3×3 input 1..9, 2×2 kernel of ones, padding 1 on top/left only, bias 0.5.
    const y = tidy(() =>
      conv2d(tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]), tensor([1, 1, 1, 1], [1, 1, 2, 2]), {
        padding: [1, 0, 1, 0],
        bias: tensor([0.5]),
      }),
    );
    expect(y.shape).toEqual([1, 1, 3, 3]);
    expect([...y.dataSync()]).toEqual([1.5, 3.5, 5.5, 5.5, 12.5, 16.5, 11.5, 24.5, 28.5]);
    y.dispose();
    // Depthwise with stride 2: each channel its own weight.
    const z = tidy(() =>
      conv2d(
        tensor([1, 2, 3, 4, 10, 20, 30, 40], [1, 2, 2, 2]),
        tensor([1, 0, 0, 1, 0, 1, 1, 0], [2, 1, 2, 2]),
        { groups: 2, stride: 2 },
      ),
    );
    expect([...z.dataSync()]).toEqual([5, 50]);
    z.dispose();
  });
});

describe('conv2d by Winograd F(4×4, 3×3), and F(4, 3) for 1×3 and 3×1', () => {
  beforeAll(async () => {
    registerJsBackend();
    await setBackend('js');
  });

  /** A 3×3 stride-1 case with cg input and mg output channels per group. */
  function wino(
    x: Case['x'],
    mg: number,
    groups: number,
    padding: Case['padding'],
    extra: Partial<Case> = {},
  ): Case {
    return {
      x,
      w: [mg * groups, x[1] / groups, 3, 3],
      stride: [1, 1],
      dilation: [1, 1],
      padding,
      groups,
      bias: false,
      activation: 'linear',
      ...extra,
    };
  }

  function infoOf(c: Case): Conv2dInfo {
    return conv2dInfo(c.x, c.w, {
      stride: c.stride,
      dilation: c.dilation,
      padding: c.padding,
      groups: c.groups,
    });
  }

  /** A 1×3 (`long` = 'w') or 3×1 (`long` = 'h') stride-1 case. */
  function strip(
    long: 'h' | 'w',
    x: Case['x'],
    mg: number,
    groups: number,
    padding: Case['padding'],
    extra: Partial<Case> = {},
  ): Case {
    const c = wino(x, mg, groups, padding, extra);
    return { ...c, w: [c.w[0], c.w[1], long === 'h' ? 3 : 1, long === 'w' ? 3 : 1] };
  }

  it('is chosen only for 3×3, 1×3 and 3×1 stride-1 convolutions with enough channels and tiles', () => {
    const base = wino([1, 16, 8, 8], 16, 1, [1, 1, 1, 1]);
    expect(useWinograd(infoOf(base))).toBe(true);
    expect(useWinograd(infoOf(wino([1, 15, 8, 8], 16, 1, [1, 1, 1, 1])))).toBe(false); // 15 inputs
    expect(useWinograd(infoOf(wino([1, 16, 8, 8], 15, 1, [1, 1, 1, 1])))).toBe(false); // 15 outputs
    expect(useWinograd(infoOf(wino([1, 32, 8, 8], 16, 2, [1, 1, 1, 1])))).toBe(true); // 16 per group
    expect(useWinograd(infoOf(wino([1, 32, 8, 8], 8, 4, [1, 1, 1, 1])))).toBe(false); // 8 per group
    expect(useWinograd(infoOf(wino([1, 16, 4, 4], 16, 1, [1, 1, 1, 1])))).toBe(false); // one tile
    expect(useWinograd(infoOf(wino([1, 16, 6, 6], 16, 1, [1, 1, 1, 1])))).toBe(true); // 2 × 2 tiles, 56 % filled
    expect(useWinograd(infoOf(wino([1, 16, 5, 5], 16, 1, [1, 1, 1, 1])))).toBe(false); // 2 × 2 tiles, 39 % filled
    expect(useWinograd(infoOf({ ...base, stride: [2, 1] }))).toBe(false);
    expect(useWinograd(infoOf({ ...base, w: [16, 16, 3, 1] }))).toBe(true);
    expect(useWinograd(infoOf({ ...base, w: [16, 16, 1, 3] }))).toBe(true);
    expect(useWinograd(infoOf({ ...base, w: [16, 16, 1, 1] }))).toBe(false);
    expect(useWinograd(infoOf({ ...base, w: [16, 16, 2, 3] }))).toBe(false);
    expect(useWinograd(infoOf({ ...base, w: [16, 16, 3, 5] }))).toBe(false);
    expect(useWinograd(infoOf({ ...strip('w', [1, 16, 8, 8], 16, 1, [0, 0, 1, 1]), stride: [1, 2] }))).toBe(
      false,
    );
    // A strip's tiles are 1 × 4 (or 4 × 1): 2 rows of one 4-wide tile are too few, 1 row of 5 tiles is not.
    expect(useWinograd(infoOf(strip('w', [1, 16, 2, 4], 16, 1, [0, 0, 1, 1])))).toBe(false);
    expect(useWinograd(infoOf(strip('w', [1, 16, 1, 20], 16, 1, [0, 0, 1, 1])))).toBe(true);
    expect(useWinograd(infoOf(strip('h', [1, 16, 20, 1], 16, 1, [1, 1, 0, 0])))).toBe(true);
    expect(useWinograd(infoOf(strip('h', [1, 16, 21, 1], 16, 1, [1, 1, 0, 0])))).toBe(true); // 6 tiles, 88 % filled
    expect(useWinograd(infoOf(strip('h', [1, 16, 1, 8], 16, 1, [1, 1, 0, 0])))).toBe(false); // 8 tiles, 25 % filled
    // Dilation: the phases (outputs ≡ (p, q) mod d) share the GEMMs; their tiles must be filled.
    expect(useWinograd(infoOf(wino([1, 16, 8, 8], 16, 1, [2, 2, 2, 2], { dilation: [2, 2] })))).toBe(true); // 4 full tiles
    expect(useWinograd(infoOf(wino([1, 16, 8, 8], 16, 1, [4, 4, 4, 4], { dilation: [4, 4] })))).toBe(false); // 16 tiles, 25 % filled
  });

  /**
   * The transforms and products are double precision, so the result is the exact convolution
   * rounded once to float32: |got − exact| ≤ 2⁻²⁴·|exact| plus 1e-12 of Σ|x·w| for the double
   * arithmetic. A wrong coefficient in any transform is off by O(Σ|x·w|).
   */
  function expectWithinRounding(c: Case, seed: number): void {
    expect(useWinograd(infoOf(c))).toBe(true);
    const rng = new SeededRandom(seed);
    const xv = random(rng, sizeFromShape(c.x));
    const wv = random(rng, sizeFromShape(c.w));
    const y = tidy(() =>
      conv2d(tensor(xv, c.x), tensor(wv, c.w), {
        padding: c.padding,
        groups: c.groups,
        dilation: c.dilation,
      }),
    ).dataSync();
    const { out, scale } = naiveConv(xv, wv, null, infoOf(c), 'linear');
    expect(y.length).toBe(out.length);
    const outside: string[] = [];
    for (let i = 0; i < out.length; i++) {
      const bound = 2 ** -24 * Math.abs(out[i]) + 1e-12 * scale[i];
      if (!(Math.abs(y[i] - out[i]) <= bound)) outside.push(`element ${i}: got ${y[i]}, expected ${out[i]}`);
    }
    expect(outside.slice(0, 3), JSON.stringify(c)).toEqual([]);
  }

  it('equals the float64 convolution rounded to float32: partial tiles, paddings, groups, batches', () => {
    expectWithinRounding(wino([1, 16, 9, 11], 16, 1, [1, 1, 1, 1]), 1); // 3 × 3 tiles, the last partial
    expectWithinRounding(wino([2, 20, 13, 10], 17, 1, [0, 0, 0, 0]), 2); // no padding, output 11 × 8
    expectWithinRounding(wino([1, 16, 7, 10], 18, 1, [2, 0, 1, 2]), 3); // asymmetric padding
    expectWithinRounding(wino([2, 48, 12, 8], 16, 3, [1, 1, 1, 1]), 4); // 3 groups of 16
  });

  it('equals it across several blocks of tiles, and of output channels', () => {
    // 512 channels: a block holds 56 tiles; the 40 × 40 output has 100, so two blocks.
    expectWithinRounding(wino([1, 512, 40, 40], 16, 1, [1, 1, 1, 1]), 5);
    // 1024 inputs: 111 output channels' transformed filters (with 2 rows of panel padding) fill 32 MiB, so 120 run as 111 + 9.
    expectWithinRounding(wino([1, 1024, 8, 8], 120, 1, [1, 1, 1, 1]), 8);
  });

  it('equals it on dilated convolutions, phase by phase', () => {
    // 16 phases of one tile each in one GEMM; 64 phases (3 × 3 or 4 × 4 outputs) over two blocks of tiles.
    expectWithinRounding(wino([1, 16, 16, 16], 16, 1, [4, 4, 4, 4], { dilation: [4, 4] }), 12);
    expectWithinRounding(wino([1, 512, 30, 30], 16, 1, [8, 8, 8, 8], { dilation: [8, 8] }), 13);
    expectWithinRounding(wino([1, 16, 17, 19], 16, 1, [2, 2, 2, 2], { dilation: [2, 2] }), 9); // 4 phases, odd sizes
    expectWithinRounding(wino([2, 32, 21, 26], 16, 2, [4, 4, 4, 4], { dilation: [4, 4] }), 10); // 16 phases, groups
    expectWithinRounding(wino([1, 16, 12, 30], 17, 1, [1, 0, 3, 2], { dilation: [1, 3] }), 11); // mixed, asymmetric
  });

  it('equals it on 1×3 and 3×1 strips: partial tiles, paddings, dilations, groups, batches, blocks', () => {
    expectWithinRounding(strip('w', [1, 16, 5, 11], 16, 1, [0, 0, 1, 1]), 21); // 3 tiles a row, the last partial
    expectWithinRounding(strip('h', [1, 16, 11, 5], 16, 1, [1, 1, 0, 0]), 22);
    expectWithinRounding(strip('w', [2, 20, 6, 13], 17, 1, [1, 2, 0, 2]), 23); // height padding too, asymmetric
    expectWithinRounding(strip('h', [2, 20, 13, 6], 17, 1, [0, 2, 2, 1]), 24);
    expectWithinRounding(strip('w', [1, 48, 7, 9], 16, 3, [0, 0, 1, 1]), 25); // 3 groups of 16
    // Dilation along the strip: phases; along the 1-tap axis it reads nothing and makes none.
    expectWithinRounding(strip('w', [1, 16, 6, 30], 16, 1, [0, 0, 3, 3], { dilation: [1, 3] }), 26);
    expectWithinRounding(strip('h', [1, 16, 30, 6], 18, 1, [4, 4, 0, 0], { dilation: [4, 5] }), 27);
    // 512 channels: 341 tiles a block, so the 64 × 24 output's 384 tiles (1 × 4) take two.
    expectWithinRounding(strip('w', [1, 512, 64, 24], 16, 1, [0, 0, 1, 1]), 28);
    expectWithinRounding(strip('h', [1, 512, 24, 64], 16, 1, [1, 1, 0, 0]), 29);
  });

  it('keeps the Inf and NaN outputs of the direct convolution (non-finite data takes the im2col path)', () => {
    const c = wino([1, 16, 12, 12], 16, 1, [1, 1, 1, 1]);
    expect(useWinograd(infoOf(c))).toBe(true);
    const rng = new SeededRandom(14);
    const xv = random(rng, sizeFromShape(c.x));
    const wv = random(rng, sizeFromShape(c.w));
    xv[5 * 12 + 5] = Number.POSITIVE_INFINITY; // channel 0, pixel (5, 5)
    xv[3 * 144 + 11 * 12 + 0] = Number.NaN; // channel 3, pixel (11, 0)
    const y = tidy(() => conv2d(tensor(xv, c.x), tensor(wv, c.w), { padding: c.padding })).dataSync();
    const { out } = naiveConv(xv, wv, null, infoOf(c), 'linear');
    let nonFinite = 0;
    for (let i = 0; i < out.length; i++) {
      if (Number.isFinite(out[i])) expect(Math.abs(y[i] - out[i])).toBeLessThan(1e-4);
      else {
        nonFinite++;
        expect(y[i]).toBe(out[i]); // the same Inf, or NaN
      }
    }
    // Each bad pixel reaches the 3 × 3 (or 2 × 2 at the border) outputs around it, in every channel.
    expect(nonFinite).toBe(16 * (9 + 4));
    // An infinite weight: its output channel is ±Inf wherever the centre tap reads the input
    // (everywhere here), every other channel stays finite.
    xv.set(random(rng, xv.length));
    wv[(2 * 16 + 0) * 9 + 4] = Number.NEGATIVE_INFINITY;
    const z = tidy(() => conv2d(tensor(xv, c.x), tensor(wv, c.w), { padding: c.padding })).dataSync();
    const ref = naiveConv(xv, wv, null, infoOf(c), 'linear').out;
    for (let i = 0; i < ref.length; i++) {
      expect(Number.isFinite(ref[i])).toBe(Math.floor(i / 144) !== 2);
      if (Number.isFinite(ref[i])) expect(Math.abs(z[i] - ref[i])).toBeLessThan(1e-4);
      else expect(z[i]).toBe(ref[i]);
    }
  });

  it('adds the bias and applies the activation after the transforms', () => {
    runCase(wino([1, 16, 9, 9], 16, 1, [1, 1, 1, 1], { bias: true, activation: 'relu' }), 6);
    runCase(wino([2, 32, 6, 7], 16, 2, [1, 1, 1, 1], { bias: true, activation: 'sigmoid' }), 7);
    runCase(strip('w', [1, 16, 4, 16], 16, 1, [0, 0, 1, 1], { bias: true, activation: 'relu' }), 30);
  });
});
