import { SeededRandom } from '@kernelzoo/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  gemm,
  gemmPackedA,
  KC,
  kBlockDepth,
  MC,
  microRows,
  NC,
  PackedALayout,
  StridedMatrix,
  setMicroRows,
} from './gemm.js';

/** Relative tolerance against a double-precision triple loop. */
const RTOL = 1e-5;

function randomArray(rng: SeededRandom, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

function naive(
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  aRs: number,
  aCs: number,
  b: Float32Array,
  bRs: number,
  bCs: number,
): { c: Float64Array; scale: Float64Array } {
  const c = new Float64Array(m * n);
  // Σ|a·b| per cell, the scale that float rounding errors are proportional to.
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      let t = 0;
      for (let p = 0; p < k; p++) {
        const v = a[i * aRs + p * aCs] * b[p * bRs + j * bCs];
        s += v;
        t += Math.abs(v);
      }
      c[i * n + j] = s;
      scale[i * n + j] = t;
    }
  return { c, scale };
}

function check(m: number, n: number, k: number, ta: boolean, tb: boolean, seed: number): void {
  const rng = new SeededRandom(seed);
  const a = randomArray(rng, m * k);
  const b = randomArray(rng, k * n);
  const [aRs, aCs] = ta ? [1, m] : [k, 1];
  const [bRs, bCs] = tb ? [1, k] : [n, 1];
  const c = new Float32Array(m * n);
  gemm(m, n, k, a, 0, aRs, aCs, new StridedMatrix(b, 0, bRs, bCs), c, 0, n);
  const { c: e, scale } = naive(m, n, k, a, aRs, aCs, b, bRs, bCs);
  let worst = 0;
  for (let i = 0; i < m * n; i++) worst = Math.max(worst, Math.abs(c[i] - e[i]) / Math.max(scale[i], 1e-30));
  expect(worst).toBeLessThanOrEqual(RTOL);
}

describe('gemm', () => {
  afterEach(() => setMicroRows(0));

  const oddSizes: [number, number, number][] = [
    [1, 1, 1],
    [1, 7, 3],
    [5, 1, 9],
    [3, 5, 7],
    [4, 6, 5],
    [13, 17, 19],
    [31, 33, 29],
    [MC + 3, 37, KC + 11],
    [6, NC + 5, 3],
  ];

  it('matches a naive triple loop on odd sizes', () => {
    let seed = 1;
    for (const [m, n, k] of oddSizes) check(m, n, k, false, false, seed++);
  });

  // Each micro-tile on every shape, partial row panels, partial column panels and K blocks
  // included, whichever the automatic choice would pick.
  for (const rows of [2, 3] as const)
    it(`matches a naive triple loop with ${rows}-row micro-tiles forced`, () => {
      setMicroRows(rows);
      let seed = 50;
      for (const [m, n, k] of oddSizes) check(m, n, k, false, false, seed++);
      check(MC + 3, NC + 5, KC + 11, true, false, seed++);
    });

  // An A written once in the packed layout (as the Winograd filter transform does) gives what
  // gemm gives when it packs A itself: every row panel and K block placed right, and whatever the
  // padding rows hold stays out of C.
  for (const rows of [0, 2, 3] as const)
    it(`takes A pre-packed by PackedALayout (${rows ? `${rows}-row tiles forced` : 'tiles as picked'})`, () => {
      setMicroRows(rows);
      let seed = 70;
      for (const [m, n, k] of [
        [1, 3, 2],
        [4, 9, 5],
        [7, 6, KC + 9],
        [MC + 5, 11, 2 * KC + 1],
      ] as const) {
        const rng = new SeededRandom(seed++);
        const a = randomArray(rng, m * k);
        const b = randomArray(rng, k * n);
        const layout = new PackedALayout(m, k);
        const off = 3;
        const packed = new Float64Array(off + layout.size).fill(Number.NaN);
        for (let i = 0; i < layout.rows; i++)
          for (let p = 0; p < k; p++)
            packed[off + layout.index(i, p)] = i < m ? a[i * k + p] : Number.POSITIVE_INFINITY;
        // Every slot written (no NaN left), and the padding rows' Inf reaches no output.
        expect(
          packed.subarray(off).every((v) => !Number.isNaN(v)),
          'every packed slot written',
        ).toBe(true);
        const got = new Float32Array(m * n);
        gemmPackedA(m, n, k, packed, off, new StridedMatrix(b, 0, n, 1), got, 0, n);
        const want = new Float32Array(m * n);
        gemm(m, n, k, a, 0, k, 1, new StridedMatrix(b, 0, n, 1), want, 0, n);
        expect([...got]).toEqual([...want]);
      }
    });

  it('cuts K into the fewest blocks of at most KC, as even as they go', () => {
    // Hand-worked: 257 = 129 + 128, 288 = 144 + 144, 576 = 3 × 192, 1152 = 4 × 231 + 228.
    expect([1, 255, 256, 257, 288, 576, 1152].map(kBlockDepth)).toEqual([1, 255, 256, 129, 144, 192, 231]);
    for (let k = 1; k <= 4 * KC + 7; k++) {
      const depth = kBlockDepth(k);
      const blocks = Math.ceil(k / depth);
      expect(depth).toBeLessThanOrEqual(KC);
      expect(blocks).toBe(Math.ceil(k / KC));
      // The last block is shorter than the others by less than the number of blocks.
      expect(k - (blocks - 1) * depth).toBeGreaterThan(depth - blocks);
    }
  });

  it('picks 2-row micro-tiles only where 3-row ones pad by more than SMALL_ROWS_GAIN', () => {
    // 4 rows: 6 padded against 4 (1.5 > 1.15); 10 rows: 12 against 10 (1.2); 8 rows: 9 against 8.
    expect([1, 2, 4, 10].map(microRows)).toEqual([2, 2, 2, 2]);
    expect([3, 5, 6, 7, 8, 9, 16, 64, 120].map(microRows)).toEqual([3, 3, 3, 3, 3, 3, 3, 3, 3]);
  });

  it('reads transposed operands through strides', () => {
    let seed = 100;
    for (const [ta, tb] of [
      [true, false],
      [false, true],
      [true, true],
    ] as const)
      for (const [m, n, k] of [
        [7, 9, 11],
        [21, 6, KC + 3],
      ] as const)
        check(m, n, k, ta, tb, seed++);
  });

  it('accumulates into C at an offset with a leading dimension', () => {
    const a = new Float32Array([1, 2, 3, 4]); // [[1, 2], [3, 4]]
    const b = new Float32Array([5, 6, 7, 8]); // [[5, 6], [7, 8]]
    const c = new Float32Array(2 * 4).fill(1);
    gemm(2, 2, 2, a, 0, 2, 1, new StridedMatrix(b, 0, 2, 1), c, 1, 4);
    expect([...c]).toEqual([1, 20, 23, 1, 1, 44, 51, 1]);
  });

  it('does nothing for empty dimensions', () => {
    const c = new Float32Array(4).fill(3);
    gemm(2, 2, 0, new Float32Array(0), 0, 0, 1, new StridedMatrix(new Float32Array(0), 0, 2, 1), c, 0, 2);
    expect([...c]).toEqual([3, 3, 3, 3]);
  });
});
