import { registerJsBackend } from '@kernelzoo/backend-js';
import {
  ArgumentError,
  memory,
  randomNormal,
  randomUniform,
  setBackend,
  summary,
  type Tensor,
  tensor,
} from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { SKConv } from './index.js';

beforeAll(async () => {
  registerJsBackend();
  await setBackend('js');
});

// ---------------------------------------------------------------------------------------------
// An independent oracle: plain loops over Float32Arrays, accumulating in float64.
// ---------------------------------------------------------------------------------------------

type Shape4 = [number, number, number, number];

function convRef(
  x: Float32Array,
  [n, c, h, w]: Shape4,
  weight: Float32Array,
  bias: Float32Array,
  k: number,
  stride: number,
  pad: number,
  groups: number,
): { y: Float32Array; shape: Shape4 } {
  const ho = Math.floor((h + 2 * pad - k) / stride) + 1;
  const wo = Math.floor((w + 2 * pad - k) / stride) + 1;
  const perGroup = c / groups;
  const y = new Float32Array(n * c * ho * wo);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < c; o++) {
      const g = Math.floor(o / perGroup);
      for (let oy = 0; oy < ho; oy++)
        for (let ox = 0; ox < wo; ox++) {
          let acc = bias[o];
          for (let ci = 0; ci < perGroup; ci++)
            for (let ky = 0; ky < k; ky++)
              for (let kx = 0; kx < k; kx++) {
                const iy = oy * stride - pad + ky;
                const ix = ox * stride - pad + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                acc +=
                  x[((b * c + g * perGroup + ci) * h + iy) * w + ix] *
                  weight[((o * perGroup + ci) * k + ky) * k + kx];
              }
          y[((b * c + o) * ho + oy) * wo + ox] = acc;
        }
    }
  return { y, shape: [n, c, ho, wo] };
}

function bnReluRef(x: Float32Array, [n, c, h, w]: Shape4, p: (name: string) => Float32Array, prefix: string) {
  const [gamma, beta, mu, v] = ['weight', 'bias', 'running_mean', 'running_var'].map((s) => p(prefix + s));
  const y = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < h * w; i++) {
        const idx = (b * c + ch) * h * w + i;
        const z = ((x[idx] - mu[ch]) / Math.sqrt(v[ch] + 1e-5)) * gamma[ch] + beta[ch];
        y[idx] = Math.max(z, 0);
      }
  return y;
}

function linearRef(x: Float32Array, rows: number, weight: Float32Array, bias: Float32Array, inF: number) {
  const outF = bias.length;
  const y = new Float32Array(rows * outF);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outF; o++) {
      let acc = bias[o];
      for (let i = 0; i < inF; i++) acc += x[r * inF + i] * weight[o * inF + i];
      y[r * outF + o] = acc;
    }
  return y;
}

/** The SKConv forward of the pppLang PyTorch code, from the parameters by state-dict key. */
function skconvRef(
  x: Float32Array,
  shape: Shape4,
  p: (name: string) => Float32Array,
  o: { M: number; G: number; stride: number; d: number },
) {
  const [n, c] = shape;
  const feas: Float32Array[] = [];
  let outShape: Shape4 = shape;
  for (let i = 0; i < o.M; i++) {
    const k = 3 + 2 * i;
    const conv = convRef(x, shape, p(`convs.${i}.0.weight`), p(`convs.${i}.0.bias`), k, o.stride, 1 + i, o.G);
    outShape = conv.shape;
    feas.push(bnReluRef(conv.y, conv.shape, p, `convs.${i}.1.`));
  }
  const hw = outShape[2] * outShape[3];
  const s = new Float32Array(n * c);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++) {
      let acc = 0;
      for (const f of feas) for (let j = 0; j < hw; j++) acc += f[(b * c + ch) * hw + j];
      s[b * c + ch] = acc / hw;
    }
  const z = linearRef(s, n, p('fc.weight'), p('fc.bias'), c);
  const logits = Array.from({ length: o.M }, (_, i) =>
    linearRef(z, n, p(`fcs.${i}.weight`), p(`fcs.${i}.bias`), o.d),
  );
  const attention = new Float32Array(n * o.M * c);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++) {
      const m = Math.max(...logits.map((l) => l[b * c + ch]));
      const e = logits.map((l) => Math.exp(l[b * c + ch] - m));
      const total = e.reduce((a, v) => a + v, 0);
      e.forEach((v, i) => {
        attention[(b * o.M + i) * c + ch] = v / total;
      });
    }
  const output = new Float32Array(n * c * hw);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let j = 0; j < hw; j++) {
        let acc = 0;
        for (let i = 0; i < o.M; i++)
          acc += attention[(b * o.M + i) * c + ch] * feas[i][(b * c + ch) * hw + j];
        output[(b * c + ch) * hw + j] = acc;
      }
  return { output, attention, outShape };
}

// ---------------------------------------------------------------------------------------------

/** Fills every parameter and BN statistic with random values (variances positive). */
function randomise(sk: SKConv, seed: number): void {
  const dict = new Map<string, Tensor>();
  let s = seed;
  for (const [key, t] of sk.stateDict()) {
    if (key.endsWith('num_batches_tracked')) continue;
    const [lo, hi] = key.endsWith('running_var') ? [0.5, 1.5] : [-0.6, 0.6];
    dict.set(key, randomUniform([...t.shape], lo, hi, { seed: s++ }));
  }
  sk.loadStateDict(dict);
  for (const t of dict.values()) t.dispose();
}

function paramsOf(sk: SKConv): (name: string) => Float32Array {
  const sd = sk.stateDict();
  return (name) => {
    const t = sd.get(name);
    if (!t) throw new Error(`no key ${name}`);
    return t.dataSync() as Float32Array;
  };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const ATOL = 1e-4;

describe('SKConv', () => {
  it('has PyTorch state-dict keys, in order, with the hand-derived shapes', () => {
    const sk = new SKConv({ features: 8, M: 2, G: 2, r: 2, L: 3 }); // d = max(4, 3) = 4
    const bn = (p: string): [string, number[]][] => [
      [`${p}.weight`, [8]],
      [`${p}.bias`, [8]],
      [`${p}.running_mean`, [8]],
      [`${p}.running_var`, [8]],
      [`${p}.num_batches_tracked`, []],
    ];
    const expected: [string, number[]][] = [
      ['convs.0.0.weight', [8, 4, 3, 3]],
      ['convs.0.0.bias', [8]],
      ...bn('convs.0.1'),
      ['convs.1.0.weight', [8, 4, 5, 5]],
      ['convs.1.0.bias', [8]],
      ...bn('convs.1.1'),
      ['fc.weight', [4, 8]],
      ['fc.bias', [4]],
      ['fcs.0.weight', [8, 4]],
      ['fcs.0.bias', [8]],
      ['fcs.1.weight', [8, 4]],
      ['fcs.1.bias', [8]],
    ];
    const got = [...sk.stateDict()].map(([k, t]) => [k, [...t.shape]]);
    expect(got).toEqual(expected);
    expect(sk.d).toBe(4);
    sk.dispose();
  });

  it('uses the reference defaults M=2, G=32, r=16, stride=1, L=32', () => {
    const sk = new SKConv({ features: 64 });
    expect([sk.M, sk.G, sk.r, sk.stride, sk.L, sk.d]).toEqual([2, 32, 16, 1, 32, 32]);
    expect(sk.convs.length).toBe(2);
    expect(sk.fcs.length).toBe(2);
    sk.dispose();
  });

  const cases = [
    { M: 2, G: 2, stride: 1 },
    { M: 3, G: 2, stride: 1 },
    { M: 2, G: 4, stride: 2 },
  ];
  for (const c of cases)
    it(`matches the loop oracle (features 8, M ${c.M}, G ${c.G}, stride ${c.stride}, 2×8×7×5) within ${ATOL}`, () => {
      const sk = new SKConv({ features: 8, M: c.M, G: c.G, r: 2, stride: c.stride, L: 3 });
      randomise(sk, 100 * c.M + c.G);
      const shape: Shape4 = [2, 8, 7, 5];
      const x = randomNormal(shape, 0, 1, { seed: 7 });
      const { output, attention } = sk.forwardWithAttention(x);
      const ref = skconvRef(x.dataSync() as Float32Array, shape, paramsOf(sk), { ...c, d: sk.d });
      expect(output.shape).toEqual(ref.outShape);
      expect(attention.shape).toEqual([2, c.M, 8]);
      expect(maxAbsDiff(output.dataSync(), ref.output)).toBeLessThan(ATOL);
      expect(maxAbsDiff(attention.dataSync(), ref.attention)).toBeLessThan(ATOL);
      const plain = sk.call(x);
      expect(maxAbsDiff(plain.dataSync(), ref.output)).toBeLessThan(ATOL);
      for (const t of [x, output, attention, plain]) t.dispose();
      sk.dispose();
    });

  it('gives attention weights that sum to 1 over the branches', () => {
    const sk = new SKConv({ features: 8, M: 3, G: 2, r: 2, L: 3 });
    randomise(sk, 3);
    const x = randomNormal([2, 8, 7, 5], 0, 1, { seed: 1 });
    const { output, attention } = sk.forwardWithAttention(x);
    const a = attention.dataSync();
    for (let b = 0; b < 2; b++)
      for (let ch = 0; ch < 8; ch++) {
        let total = 0;
        for (let i = 0; i < 3; i++) {
          const v = a[(b * 3 + i) * 8 + ch];
          expect(v).toBeGreaterThanOrEqual(0);
          total += v;
        }
        expect(Math.abs(total - 1)).toBeLessThan(1e-6);
      }
    for (const t of [x, output, attention]) t.dispose();
    sk.dispose();
  });

  it('gives the same output in eval mode (BN folded, ReLU fused) within 1e-5', () => {
    const plain = new SKConv({ features: 8, M: 3, G: 2, r: 2, L: 3 });
    randomise(plain, 11);
    const fused = new SKConv({ features: 8, M: 3, G: 2, r: 2, L: 3 });
    fused.loadStateDict(plain.stateDict());
    fused.eval();
    const x = randomNormal([2, 8, 7, 5], 0, 1, { seed: 2 });
    const a = plain.forwardWithAttention(x);
    const b = fused.forwardWithAttention(x);
    expect(maxAbsDiff(a.output.dataSync(), b.output.dataSync())).toBeLessThan(1e-5);
    expect(maxAbsDiff(a.attention.dataSync(), b.attention.dataSync())).toBeLessThan(1e-5);
    for (const t of [x, a.output, a.attention, b.output, b.attention]) t.dispose();
    plain.dispose();
    fused.dispose();
  });

  it('leaks no tensors over repeated forwards, in both modes', () => {
    for (const evalMode of [false, true]) {
      const sk = new SKConv({ features: 8, M: 2, G: 2, r: 2, L: 3 });
      if (evalMode) sk.eval();
      const x = randomNormal([2, 8, 7, 5], 0, 1, { seed: 3 });
      sk.call(x).dispose(); // the first eval forward prepares (and keeps) fused weights
      const before = memory().numTensors;
      for (let i = 0; i < 4; i++) {
        sk.call(x).dispose();
        const r = sk.forwardWithAttention(x);
        r.output.dispose();
        r.attention.dispose();
      }
      expect(memory().numTensors).toBe(before);
      x.dispose();
      sk.dispose();
    }
  });

  it('summary: parameters and multiply-adds equal the hand-derived formulas', () => {
    const C = 256;
    const M = 2;
    const G = 1;
    const d = Math.max(Math.floor(C / 2), 32); // 128
    const [N, H, W] = [1, 24, 24];
    const kernels = [3, 5];
    // Per branch: conv weight C·(C/G)·k² + conv bias C + BN γ, β 2C; fc C·d + d; fcs M·(d·C + C).
    const params =
      kernels.reduce((s, k) => s + C * (C / G) * k * k + 3 * C, 0) + (C * d + d) + M * (d * C + C);
    // Convolutions N·C·H·W·(C/G)·k² per branch; fc N·C·d; fcs M·N·d·C. Nothing else counts.
    const macs = kernels.reduce((s, k) => s + N * C * H * W * (C / G) * k * k, 0) + N * C * d + M * N * d * C;
    expect(params).toBe(2_328_704);
    expect(macs).toBe(1_283_555_328);
    const sk = new SKConv({ features: C, M, G, r: 2 });
    const before = memory().numTensors;
    const s = summary(sk, [N, C, H, W]);
    expect(memory().numTensors).toBe(before);
    expect(s.totalParameters).toBe(params);
    expect(sk.numParameters()).toBe(params);
    expect(s.totalMultiplyAdds).toBe(macs);
    expect(s.rows[0].outputShapes[0]).toEqual([N, C, H, W]);
    sk.dispose();
  });

  it('refuses bad constructor arguments with ArgumentErrors', () => {
    const bad = [
      { features: 10, G: 4 }, // G does not divide features
      { features: 8, G: 2, M: 0 },
      { features: 0, G: 1 },
      { features: 8.5, G: 1 },
      { features: 8, G: 0 },
      { features: 8, G: 2, r: 0 },
      { features: 8, G: 2, r: Number.NaN },
      { features: 8, G: 2, stride: 0 },
      { features: 8, G: 2, L: 0 },
    ];
    for (const o of bad) expect(() => new SKConv(o), JSON.stringify(o)).toThrow(ArgumentError);
    expect(() => new SKConv({ features: 10, G: 4 })).toThrow(/'G' must be a divisor of features \(10\)/);
    expect(() => new SKConv(undefined as never)).toThrow(ArgumentError);
  });

  it('refuses an input with the wrong channel count or rank', () => {
    const sk = new SKConv({ features: 8, G: 2, r: 2, L: 3 });
    const x = randomNormal([1, 4, 5, 5], 0, 1);
    expect(() => sk.call(x)).toThrow(ArgumentError);
    expect(() => sk.call(x)).toThrow(
      /SKConv: argument 'x' must be shape \[N, 8, H, W\].*got shape \[1, 4, 5, 5\]/,
    );
    const flat = tensor(new Float32Array(8), [1, 8]);
    expect(() => sk.forwardWithAttention(flat)).toThrow(ArgumentError);
    expect(() => sk.call(null as never)).toThrow(ArgumentError);
    for (const t of [x, flat]) t.dispose();
    sk.dispose();
  });
});
