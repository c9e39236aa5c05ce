/**
 * Adaptive average pooling and bilinear resizing with `align_corners=True` at the sizes SPNet's
 * mixed pooling module meets (odd maps pooled to 20 and 12 bins, maps upsampled back to odd
 * sizes), held to values derived by hand rather than to an oracle implementation:
 *
 * - adaptive pooling: the bins are written out below as literal `[start, end)` tables (PyTorch's
 *   rule start = ⌊i·H/out⌋, end = ⌈(i+1)·H/out⌉, worked through once by hand: 13 → 20 overlaps
 *   neighbouring bins, 7 → 20 repeats single rows); the inputs are separable polynomials, so a
 *   bin's mean is a product of one-dimensional means, summed in float64;
 * - bilinear with `align_corners=True`: output i samples source coordinate i·(in−1)/(out−1) (0
 *   when out = 1); the inputs are bilinear polynomials, which bilinear interpolation reproduces
 *   exactly, so the expected value is the polynomial at that coordinate.
 */
import { adaptiveAvgPool2d, resizeBilinear } from '@kernelzoo/core';
import { type HostTensor, host } from '../host.js';
import type { Case } from '../runner.js';

/** `[start, end)` bins of PyTorch's adaptive pooling, by (input size, output size), by hand. */
const BINS: Record<string, readonly (readonly [number, number])[]> = {
  '13>20': [
    [0, 1],
    [0, 2],
    [1, 2],
    [1, 3],
    [2, 4],
    [3, 4],
    [3, 5],
    [4, 6],
    [5, 6],
    [5, 7],
    [6, 8],
    [7, 8],
    [7, 9],
    [8, 10],
    [9, 10],
    [9, 11],
    [10, 12],
    [11, 12],
    [11, 13],
    [12, 13],
  ],
  '13>12': [
    [0, 2],
    [1, 3],
    [2, 4],
    [3, 5],
    [4, 6],
    [5, 7],
    [6, 8],
    [7, 9],
    [8, 10],
    [9, 11],
    [10, 12],
    [11, 13],
  ],
  '7>20': [
    [0, 1],
    [0, 1],
    [0, 2],
    [1, 2],
    [1, 2],
    [1, 3],
    [2, 3],
    [2, 3],
    [2, 4],
    [3, 4],
    [3, 4],
    [3, 5],
    [4, 5],
    [4, 5],
    [4, 6],
    [5, 6],
    [5, 6],
    [5, 7],
    [6, 7],
    [6, 7],
  ],
  '7>12': [
    [0, 1],
    [0, 2],
    [1, 2],
    [1, 3],
    [2, 3],
    [2, 4],
    [3, 5],
    [4, 5],
    [4, 6],
    [5, 6],
    [5, 7],
    [6, 7],
  ],
  '13>1': [[0, 13]],
  '7>1': [[0, 7]],
};

/** The literal table, or one row per bin when the size is kept (`null`). */
function bins(size: number, out: number): readonly (readonly [number, number])[] {
  if (size === out) return Array.from({ length: size }, (_, i) => [i, i + 1] as const);
  const table = BINS[`${size}>${out}`];
  if (!table) throw new Error(`hand-derived bins: no table for ${size} → ${out}`);
  return table;
}

/** Per channel: f(h) and g(w), the input being f(h)·g(w) (channel 0) or f(h) + g(w) (channel 1). */
const F = (h: number) => 0.25 * h * h - h + 1;
const G = (w: number) => 2 - 0.5 * w + 0.125 * w * w;

function mean(fn: (v: number) => number, [s, e]: readonly [number, number]): number {
  let sum = 0;
  for (let v = s; v < e; v++) sum += fn(v);
  return sum / (e - s);
}

/** `[1, 2, h, w]`: channel 0 is F(h)·G(w), channel 1 is F(h) + G(w). */
function separableInput(h: number, w: number): HostTensor {
  const out = new Float32Array(2 * h * w);
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++) {
      out[i * w + j] = F(i) * G(j);
      out[h * w + i * w + j] = F(i) + G(j);
    }
  return host(out, [1, 2, h, w]);
}

function pooledExpected(h: number, w: number, oh: number, ow: number): HostTensor {
  const hb = bins(h, oh);
  const wb = bins(w, ow);
  const out = new Float64Array(2 * oh * ow);
  for (let i = 0; i < oh; i++)
    for (let j = 0; j < ow; j++) {
      out[i * ow + j] = mean(F, hb[i]) * mean(G, wb[j]);
      out[oh * ow + i * ow + j] = mean(F, hb[i]) + mean(G, wb[j]);
    }
  return host(out, [1, 2, oh, ow]);
}

/** Channel 0: 1 + 2h + 3w + h·w; channel 1: (h − 1)(w + 2)/2 — both bilinear in (h, w). */
const P0 = (h: number, w: number) => 1 + 2 * h + 3 * w + h * w;
const P1 = (h: number, w: number) => ((h - 1) * (w + 2)) / 2;

function bilinearInput(h: number, w: number): HostTensor {
  const out = new Float32Array(2 * h * w);
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++) {
      out[i * w + j] = P0(i, j);
      out[h * w + i * w + j] = P1(i, j);
    }
  return host(out, [1, 2, h, w]);
}

const source = (i: number, size: number, out: number) => (out === 1 ? 0 : (i * (size - 1)) / (out - 1));

function alignedExpected(h: number, w: number, oh: number, ow: number): HostTensor {
  const out = new Float64Array(2 * oh * ow);
  for (let i = 0; i < oh; i++)
    for (let j = 0; j < ow; j++) {
      const [sh, sw] = [source(i, h, oh), source(j, w, ow)];
      out[i * ow + j] = P0(sh, sw);
      out[oh * ow + i * ow + j] = P1(sh, sw);
    }
  return host(out, [1, 2, oh, ow]);
}

/** The hand-derived adaptive pooling and `align_corners=True` bilinear cases. */
export function handDerivedCases(): Case[] {
  const pools: [number, number, number | null, number | null][] = [
    [13, 7, 20, 12],
    [13, 7, 12, 20],
    [13, 7, 20, 20],
    [13, 7, 12, 12],
    [13, 7, 1, null],
    [13, 7, null, 1],
  ];
  const cs: Case[] = pools.map(([h, w, oh, ow]) => ({
    name: `adaptiveAvgPool2d 13×7 to [${oh}, ${ow}] against hand-derived bins (PyTorch's rule, sizes that do not divide)`,
    needs: ['adaptiveAvgPool2d'],
    run(ctx) {
      const want = pooledExpected(h, w, oh ?? h, ow ?? w);
      ctx.check(adaptiveAvgPool2d(ctx.t(separableInput(h, w)), [oh, ow]), want, `13×7 → [${oh}, ${ow}]`);
    },
  }));
  const resizes: [number, number, number, number][] = [
    [13, 17, 97, 129],
    [20, 20, 13, 17],
    [12, 12, 13, 7],
    [1, 17, 13, 17],
    [13, 1, 13, 17],
    [3, 5, 7, 9],
    [5, 3, 1, 4],
  ];
  for (const [h, w, oh, ow] of resizes)
    cs.push({
      name: `resizeBilinear align_corners=True ${h}×${w} to ${oh}×${ow} against the bilinear polynomial at i·(in−1)/(out−1)`,
      needs: ['resizeBilinear:alignCorners'],
      run(ctx) {
        ctx.check(
          resizeBilinear(ctx.t(bilinearInput(h, w)), [oh, ow], true),
          alignedExpected(h, w, oh, ow),
          `${h}×${w} → ${oh}×${ow}`,
        );
      },
    });
  return cs;
}
