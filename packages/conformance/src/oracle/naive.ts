/**
 * Naive oracles: plain loops in float64, written from PyTorch's documented rules, for what
 * TensorFlow.js has no equivalent of (PyTorch pooling divisors, padding and ceil mode;
 * adaptive average pooling; PyTorch's resize rules; truncating integer division). Each is
 * written for clarity, not speed, and computes its own output shape from the arguments, so
 * core's shape logic is checked too.
 *
 * @module
 */
import { sizeFromShape } from '@kernelzoo/core';
import type { HostTensor } from '../host.js';

/** Options of {@link pool2d}, PyTorch `F.max_pool2d` / `F.avg_pool2d` semantics. */
export interface NaivePoolOptions {
  /** `[kH, kW]`. */
  readonly kernel: readonly [number, number];
  /** `[sH, sW]`. */
  readonly stride: readonly [number, number];
  /** `[top, bottom, left, right]` implicit padding. */
  readonly padding: readonly [number, number, number, number];
  /** `[dH, dW]` (max only). */
  readonly dilation: readonly [number, number];
  /** Ceil instead of floor for the output size. */
  readonly ceilMode: boolean;
  /** Average only: padded positions count in the divisor. */
  readonly countIncludePad: boolean;
}

/**
 * How many pooling windows PyTorch places along one axis, found by placing them one by one
 * as its documentation describes (no closed formula shared with core): window `i` covers
 * `[i·s − p0, i·s − p0 + d·(k−1) + 1)` of the input. In floor mode a window is placed while it
 * lies inside the padded input `[−p0, in + p1)`; in ceil mode, when those windows leave the
 * end of the padded input uncovered, one more window runs past it — if it starts inside the
 * input or the leading padding (before `in`).
 */
export function poolOutLength(
  inLen: number,
  k: number,
  s: number,
  p0: number,
  p1: number,
  d: number,
  ceil: boolean,
): number {
  const extent = d * (k - 1) + 1;
  let count = 0;
  let covered = -p0;
  for (let start = -p0; ; start += s) {
    if (start + extent <= inLen + p1) {
      count++;
      covered = start + extent;
      continue;
    }
    if (ceil && covered < inLen + p1 && start < inLen) count++;
    return count;
  }
}

/**
 * Max or average pooling of NCHW `x`. Max ignores padded positions (−∞ padding). Average
 * sums the real elements of the window; its divisor is, with `countIncludePad`, the window
 * clipped to the padded extent `[−padTop, inH + padBottom)` (so a ceil-mode window running
 * past the padding counts only up to it), otherwise the number of real elements.
 */
export function pool2d(x: HostTensor, type: 'max' | 'avg', o: NaivePoolOptions): HostTensor {
  const [n, c, h, w] = x.shape;
  const [kh, kw] = o.kernel;
  const [sh, sw] = o.stride;
  const [pt, pb, pl, pr] = o.padding;
  const [dh, dw] = type === 'max' ? o.dilation : [1, 1];
  const oh = poolOutLength(h, kh, sh, pt, pb, dh, o.ceilMode);
  const ow = poolOutLength(w, kw, sw, pl, pr, dw, o.ceilMode);
  const out = new Float32Array(n * c * oh * ow);
  let q = 0;
  for (let b = 0; b < n * c; b++) {
    const base = b * h * w;
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        const y0 = oy * sh - pt;
        const x0 = ox * sw - pl;
        if (type === 'max') {
          let m = Number.NEGATIVE_INFINITY;
          for (let ky = 0; ky < kh; ky++) {
            const y = y0 + ky * dh;
            if (y < 0 || y >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const xx = x0 + kx * dw;
              if (xx < 0 || xx >= w) continue;
              const v = x.values[base + y * w + xx];
              if (v > m || Number.isNaN(v)) m = v;
            }
          }
          out[q++] = m;
        } else {
          const y1 = Math.min(y0 + kh, h + pb);
          const x1 = Math.min(x0 + kw, w + pr);
          const padded = (y1 - y0) * (x1 - x0);
          const ya = Math.max(y0, 0);
          const yb = Math.min(y1, h);
          const xa = Math.max(x0, 0);
          const xb = Math.min(x1, w);
          let s = 0;
          for (let y = ya; y < yb; y++) for (let xx = xa; xx < xb; xx++) s += x.values[base + y * w + xx];
          const real = Math.max(0, yb - ya) * Math.max(0, xb - xa);
          out[q++] = s / (o.countIncludePad ? padded : real);
        }
      }
  }
  return { shape: [n, c, oh, ow], dtype: 'float32', values: out };
}

/**
 * PyTorch's adaptive average pooling: output cell `i` of `out` averages input indices
 * `floor(i·in/out)` to `ceil((i+1)·in/out) − 1` (integer arithmetic), per axis. A `null`
 * size keeps the input's length.
 */
export function adaptiveAvgPool2d(x: HostTensor, size: readonly [number | null, number | null]): HostTensor {
  const [n, c, h, w] = x.shape;
  const oh = size[0] ?? h;
  const ow = size[1] ?? w;
  const out = new Float32Array(n * c * oh * ow);
  let q = 0;
  for (let b = 0; b < n * c; b++)
    for (let i = 0; i < oh; i++) {
      const ya = Math.floor((i * h) / oh);
      const yb = Math.ceil(((i + 1) * h) / oh);
      for (let j = 0; j < ow; j++) {
        const xa = Math.floor((j * w) / ow);
        const xb = Math.ceil(((j + 1) * w) / ow);
        let s = 0;
        for (let y = ya; y < yb; y++) for (let xx = xa; xx < xb; xx++) s += x.values[b * h * w + y * w + xx];
        out[q++] = s / ((yb - ya) * (xb - xa));
      }
    }
  return { shape: [n, c, oh, ow], dtype: 'float32', values: out };
}

/** PyTorch's bilinear source coordinate of output index `dst`. */
function bilinearSource(dst: number, inLen: number, outLen: number, alignCorners: boolean): number {
  if (alignCorners) return outLen > 1 ? (dst * (inLen - 1)) / (outLen - 1) : 0;
  return Math.max(0, ((dst + 0.5) * inLen) / outLen - 0.5);
}

/**
 * Bilinear resize of NCHW `x` to `[outH, outW]`, PyTorch `F.interpolate(mode='bilinear')`:
 * with `alignCorners`, source = dst·(in−1)/(out−1) (0 when out is 1); otherwise source =
 * max(0, (dst+0.5)·in/out − 0.5); the lower neighbour is floor(source), the upper one is
 * clamped to the last index.
 */
export function resizeBilinear(
  x: HostTensor,
  size: readonly [number, number],
  alignCorners: boolean,
): HostTensor {
  const [n, c, h, w] = x.shape;
  const [oh, ow] = size;
  const out = new Float32Array(n * c * oh * ow);
  let q = 0;
  for (let b = 0; b < n * c; b++)
    for (let i = 0; i < oh; i++) {
      const sy = bilinearSource(i, h, oh, alignCorners);
      const y0 = Math.min(Math.floor(sy), h - 1);
      const y1 = Math.min(y0 + 1, h - 1);
      const ly = sy - y0;
      for (let j = 0; j < ow; j++) {
        const sx = bilinearSource(j, w, ow, alignCorners);
        const x0 = Math.min(Math.floor(sx), w - 1);
        const x1 = Math.min(x0 + 1, w - 1);
        const lx = sx - x0;
        const at = (y: number, xx: number) => x.values[b * h * w + y * w + xx];
        out[q++] =
          (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) +
          ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
      }
    }
  return { shape: [n, c, oh, ow], dtype: 'float32', values: out };
}

/**
 * Nearest resize of NCHW `x` to `[outH, outW]`, PyTorch `mode='nearest'`: source =
 * min(floor(dst·in/out), in−1), computed exactly in integers.
 */
export function resizeNearest(x: HostTensor, size: readonly [number, number]): HostTensor {
  const [n, c, h, w] = x.shape;
  const [oh, ow] = size;
  const out = new Float32Array(n * c * oh * ow);
  let q = 0;
  for (let b = 0; b < n * c; b++)
    for (let i = 0; i < oh; i++) {
      const y = Math.min(Math.floor((i * h) / oh), h - 1);
      for (let j = 0; j < ow; j++) {
        const xx = Math.min(Math.floor((j * w) / ow), w - 1);
        out[q++] = x.values[b * h * w + y * w + xx];
      }
    }
  return { shape: [n, c, oh, ow], dtype: 'float32', values: out };
}

/** NumPy broadcasting of two shapes (throws when they do not broadcast). */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`shapes [${a}] and [${b}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/**
 * An elementwise function of two tensors with NumPy broadcasting, in float64 then stored in
 * the inputs' dtype (int32 results are truncated toward zero, as integer division is).
 */
export function binary(a: HostTensor, b: HostTensor, f: (x: number, y: number) => number): HostTensor {
  const shape = broadcastShape(a.shape, b.shape);
  const r = shape.length;
  const size = sizeFromShape(shape);
  const out = a.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
  const stridesFor = (s: readonly number[]) => {
    const st = new Array<number>(r).fill(0);
    let acc = 1;
    for (let i = s.length - 1; i >= 0; i--) {
      st[r - s.length + i] = s[i] === 1 ? 0 : acc;
      acc *= s[i];
    }
    return st;
  };
  const sa = stridesFor(a.shape);
  const sb = stridesFor(b.shape);
  const idx = new Array<number>(r).fill(0);
  for (let q = 0; q < size; q++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < r; d++) {
      ia += idx[d] * sa[d];
      ib += idx[d] * sb[d];
    }
    const v = f(a.values[ia], b.values[ib]);
    out[q] = a.dtype === 'int32' ? Math.trunc(v) : v;
    for (let d = r - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return { shape, dtype: a.dtype, values: out };
}
