import type { nn } from '@kernelzoo/core';

/** One sample's feature map in float64: `c × h × w`, row-major. */
export interface Map3 {
  c: number;
  h: number;
  w: number;
  v: Float64Array;
}

const at = (m: Map3, c: number, i: number, j: number) => m.v[(c * m.h + i) * m.w + j];
const make = (c: number, h: number, w: number): Map3 => ({ c, h, w, v: new Float64Array(c * h * w) });

/** Sample `n` of an NCHW tensor. */
export function sample(t: { shape: readonly number[]; dataSync(): ArrayLike<number> }, n: number): Map3 {
  const [, c, h, w] = t.shape;
  const size = c * h * w;
  return { c, h, w, v: Float64Array.from(Array.from(t.dataSync()).slice(n * size, (n + 1) * size)) };
}

/** Convolution without bias, stride 1, zero padding `[ph, pw]`. */
export function conv(
  x: Map3,
  weight: ArrayLike<number>,
  out: number,
  kh: number,
  kw: number,
  ph: number,
  pw: number,
) {
  const y = make(out, x.h + 2 * ph - kh + 1, x.w + 2 * pw - kw + 1);
  for (let o = 0; o < out; o++)
    for (let i = 0; i < y.h; i++)
      for (let j = 0; j < y.w; j++) {
        let s = 0;
        for (let c = 0; c < x.c; c++)
          for (let a = 0; a < kh; a++)
            for (let b = 0; b < kw; b++) {
              const ii = i + a - ph;
              const jj = j + b - pw;
              if (ii >= 0 && ii < x.h && jj >= 0 && jj < x.w)
                s += weight[((o * x.c + c) * kh + a) * kw + b] * at(x, c, ii, jj);
            }
        y.v[(o * y.h + i) * y.w + j] = s;
      }
  return y;
}

/** Inference BatchNorm with the tensors of `dict` under `prefix` (eps 1e-5). */
export function bn(x: Map3, dict: Map<string, { dataSync(): ArrayLike<number> }>, prefix: string): Map3 {
  const g = dict.get(`${prefix}.weight`)!.dataSync();
  const b = dict.get(`${prefix}.bias`)!.dataSync();
  const m = dict.get(`${prefix}.running_mean`)!.dataSync();
  const v = dict.get(`${prefix}.running_var`)!.dataSync();
  const y = make(x.c, x.h, x.w);
  const hw = x.h * x.w;
  for (let c = 0; c < x.c; c++)
    for (let k = 0; k < hw; k++)
      y.v[c * hw + k] = ((x.v[c * hw + k] - m[c]) / Math.sqrt(v[c] + 1e-5)) * g[c] + b[c];
  return y;
}

/** Elementwise map. */
export function map(x: Map3, f: (v: number) => number): Map3 {
  return { ...x, v: x.v.map(f) };
}

/** Elementwise sum of same-shaped maps. */
export function sum(...xs: Map3[]): Map3 {
  const y = make(xs[0].c, xs[0].h, xs[0].w);
  for (const x of xs) for (let k = 0; k < y.v.length; k++) y.v[k] += x.v[k];
  return y;
}

/** PyTorch's adaptive average pooling bins: start ⌊i·H/o⌋, end ⌈(i+1)·H/o⌉. */
export function adaptivePool(x: Map3, oh: number, ow: number): Map3 {
  const y = make(x.c, oh, ow);
  for (let c = 0; c < x.c; c++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        const [h0, h1] = [Math.floor((i * x.h) / oh), Math.ceil(((i + 1) * x.h) / oh)];
        const [w0, w1] = [Math.floor((j * x.w) / ow), Math.ceil(((j + 1) * x.w) / ow)];
        let s = 0;
        for (let a = h0; a < h1; a++) for (let b = w0; b < w1; b++) s += at(x, c, a, b);
        y.v[(c * oh + i) * ow + j] = s / ((h1 - h0) * (w1 - w0));
      }
  return y;
}

/** Bilinear resize with `align_corners=True`: source coordinate `i · (in − 1) / (out − 1)`. */
export function resizeAligned(x: Map3, oh: number, ow: number): Map3 {
  const y = make(x.c, oh, ow);
  const coord = (i: number, n: number, o: number) => (o > 1 ? (i * (n - 1)) / (o - 1) : 0);
  for (let c = 0; c < x.c; c++)
    for (let i = 0; i < oh; i++) {
      const sy = coord(i, x.h, oh);
      const y0 = Math.floor(sy);
      const y1 = Math.min(y0 + 1, x.h - 1);
      const fy = sy - y0;
      for (let j = 0; j < ow; j++) {
        const sx = coord(j, x.w, ow);
        const x0 = Math.floor(sx);
        const x1 = Math.min(x0 + 1, x.w - 1);
        const fx = sx - x0;
        const top = at(x, c, y0, x0) * (1 - fx) + at(x, c, y0, x1) * fx;
        const bottom = at(x, c, y1, x0) * (1 - fx) + at(x, c, y1, x1) * fx;
        y.v[(c * oh + i) * ow + j] = top * (1 - fy) + bottom * fy;
      }
    }
  return y;
}

/** Channel concatenation. */
export function concatChannels(a: Map3, b: Map3): Map3 {
  const y = make(a.c + b.c, a.h, a.w);
  y.v.set(a.v, 0);
  y.v.set(b.v, a.v.length);
  return y;
}

const relu = (x: Map3) => map(x, (v) => Math.max(0, v));

/**
 * models.md §2.1's mixed pooling module for one sample, in float64 from the module's state dict:
 * an oracle written apart from the module (no core kernels).
 */
export function stripPoolingReference(
  module: nn.Module,
  x: Map3,
  poolSize: [number, number] = [20, 12],
): Map3 {
  const sd = module.stateDict();
  const ic = x.c / 4;
  const w = (name: string) => sd.get(`${name}.0.weight`)!.dataSync();
  const cb = (t: Map3, name: string, out: number, kh: number, kw: number, ph: number, pw: number) =>
    bn(conv(t, w(name), out, kh, kw, ph, pw), sd, `${name}.1`);
  const up = (t: Map3) => resizeAligned(t, x.h, x.w);
  const x1 = relu(cb(x, 'conv1_1', ic, 1, 1, 0, 0));
  const x2 = relu(cb(x, 'conv1_2', ic, 1, 1, 0, 0));
  const a = cb(x1, 'conv2_0', ic, 3, 3, 1, 1);
  const b = up(cb(adaptivePool(x1, poolSize[0], poolSize[0]), 'conv2_1', ic, 3, 3, 1, 1));
  const c = up(cb(adaptivePool(x1, poolSize[1], poolSize[1]), 'conv2_2', ic, 3, 3, 1, 1));
  const d = up(cb(adaptivePool(x2, 1, x.w), 'conv2_3', ic, 1, 3, 0, 1));
  const e = up(cb(adaptivePool(x2, x.h, 1), 'conv2_4', ic, 3, 1, 1, 0));
  const short = relu(cb(relu(sum(a, b, c)), 'conv2_5', ic, 3, 3, 1, 1));
  const long = relu(cb(relu(sum(e, d)), 'conv2_6', ic, 3, 3, 1, 1));
  const out = cb(concatChannels(short, long), 'conv3', x.c, 1, 1, 0, 0);
  return relu(sum(x, out));
}
