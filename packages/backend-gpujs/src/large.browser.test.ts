/**
 * The full networks' largest tensors on the real device texture limit (no artificial cap), in
 * Chromium's WebGL2: SPNet's 1×150×512×512 logits (bilinear upsampling, a broadcast add, the
 * argmax over classes), its 1×128×256×256 stem output (ReLU, batch norm) and HRNet-W48's
 * 1×64×192×144 at 384×288 (max pooling, slice and concat). Results are checked at sampled
 * positions against values computed here in plain JavaScript from the inputs; only slices of
 * the large outputs are read back.
 */
import * as core from '@kernelzoo/core';
import { beforeAll, expect, it } from 'vitest';
import { GpujsBackend } from './index.js';

let backend: GpujsBackend;

beforeAll(async () => {
  core.registerBackend('gpujs-large', () => {
    backend = new GpujsBackend();
    return backend;
  });
  await core.setBackend('gpujs-large');
  expect(backend.mode).toBe('webgl2');
});

/** Deterministic values in [-1, 1) from an index (no large host arrays to keep). */
function valueAt(i: number, seed: number): number {
  let h = Math.imul(i ^ seed, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca77);
  h ^= h >>> 13;
  return Math.fround(((h >>> 0) / 2 ** 32) * 2 - 1);
}

function filled(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = valueAt(i, seed);
  return a;
}

/** Runs `fn` inside `tidy` and returns its host values (`tidy` itself returns only tensors). */
function hostTidy<T>(fn: () => T): T {
  let result: T | undefined;
  core.tidy(() => {
    result = fn();
  });
  return result as T;
}

function close(got: number, want: number, tol = 1e-4): void {
  if (Math.abs(got - want) > tol * Math.max(1, Math.abs(want)))
    expect.fail(`got ${got}, expected ${want} (within ${tol})`);
}

/** PyTorch's bilinear resize with align_corners = true, one value, in float64. */
function bilinearAt(
  src: Float32Array,
  [c, h, w]: readonly [number, number, number],
  [oh, ow]: readonly [number, number],
  ch: number,
  oy: number,
  ox: number,
): number {
  const sy = (oy * (h - 1)) / (oh - 1);
  const sx = (ox * (w - 1)) / (ow - 1);
  const y0 = Math.min(Math.floor(sy), h - 1);
  const x0 = Math.min(Math.floor(sx), w - 1);
  const y1 = Math.min(y0 + 1, h - 1);
  const x1 = Math.min(x0 + 1, w - 1);
  const ly = sy - y0;
  const lx = sx - x0;
  const at = (y: number, x: number) => src[(ch * h + y) * w + x];
  expect(ch).toBeLessThan(c);
  return (
    (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1))
  );
}

it('holds SPNet logits 1×150×512×512: bilinear ×8 upsampling, broadcast add and the argmax over classes', () => {
  const [C, H, W, OH, OW] = [150, 64, 64, 512, 512];
  const small = filled(C * H * W, 1);
  const biasValues = filled(C, 2);
  const rows = [0, 257, 511];
  const got = hostTidy(() => {
    const x = core.tensor(small, [1, C, H, W]);
    const logits = core.resizeBilinear(x, [OH, OW], true);
    expect(logits.shape).toEqual([1, C, OH, OW]);
    const shifted = core.add(logits, core.tensor(biasValues, [1, C, 1, 1]));
    const labels = core.argmax(logits, 1);
    // One row of every class at a few heights: positions from 0 to past 2²⁵ in the flat order.
    const read = (t: core.Tensor, y: number) => core.slice(t, [0, 0, y, 0], [1, C, 1, OW]).dataSync();
    return {
      logits: rows.map((y) => read(logits, y)),
      shifted: rows.map((y) => read(shifted, y)),
      labels: rows.map((y) => core.slice(labels, [0, y, 0], [1, 1, OW]).dataSync()),
    };
  });
  const xs = [0, 1, 7, 8, 255, 256, 300, 510, 511];
  rows.forEach((y, r) => {
    for (const ch of [0, 1, 63, 64, 65, 127, 128, 149])
      for (const x of xs) {
        const want = bilinearAt(small, [C, H, W], [OH, OW], ch, y, x);
        close(got.logits[r][ch * OW + x], want);
        close(got.shifted[r][ch * OW + x], want + biasValues[ch]);
      }
    for (const x of xs) {
      const values = Array.from({ length: C }, (_, ch) => bilinearAt(small, [C, H, W], [OH, OW], ch, y, x));
      const best = Math.max(...values);
      const label = got.labels[r][x];
      expect(label).toBeGreaterThanOrEqual(0);
      expect(label).toBeLessThan(C);
      // The first maximum; a near-tie within float32 error may pick the other of the two.
      close(values[label], best, 1e-5);
    }
  });
});

it('holds SPNet stem output 1×128×256×256: ReLU and batch norm', () => {
  const [C, H, W] = [128, 256, 256];
  const n = C * H * W;
  const host = filled(n, 3);
  const mean = filled(C, 4);
  const variance = filled(C, 5).map((v) => v + 1.5);
  const gamma = filled(C, 6);
  const beta = filled(C, 7);
  const picks = [0, 1, 65535, 65536, n / 2 - 1, n / 2 + 12345, n - 65537, n - 1];
  const got = hostTidy(() => {
    const x = core.tensor(host, [1, C, H, W]);
    const r = core.relu(x);
    const bn = core.batchNorm(x, core.tensor(mean, [C]), core.tensor(variance, [C]), {
      weight: core.tensor(gamma, [C]),
      bias: core.tensor(beta, [C]),
      eps: 1e-5,
    });
    const at = (t: core.Tensor, i: number) => {
      const ch = Math.floor(i / (H * W));
      const y = Math.floor(i / W) % H;
      return core.slice(t, [0, ch, y, 0], [1, 1, 1, W]).dataSync()[i % W];
    };
    return { relu: picks.map((i) => at(r, i)), bn: picks.map((i) => at(bn, i)) };
  });
  picks.forEach((i, p) => {
    const ch = Math.floor(i / (H * W));
    close(got.relu[p], Math.max(host[i], 0));
    close(got.bn[p], ((host[i] - mean[ch]) / Math.sqrt(variance[ch] + 1e-5)) * gamma[ch] + beta[ch]);
  });
});

it('holds HRNet-W48 1×64×192×144 (384×288 input): max pooling, slice and concat', () => {
  const [C, H, W] = [64, 192, 144];
  const host = filled(C * H * W, 8);
  const at = (ch: number, y: number, x: number) =>
    y < 0 || y >= H || x < 0 || x >= W ? Number.NEGATIVE_INFINITY : host[(ch * H + y) * W + x];
  const got = hostTidy(() => {
    const x = core.tensor(host, [1, C, H, W]);
    const pooled = core.maxPool2d(x, 3, { stride: 1, padding: 1 });
    const halves = core.concat(
      [core.slice(x, [0, 32, 0, 0], [1, 32, H, W]), core.slice(x, [0, 0, 0, 0], [1, 32, H, W])],
      1,
    );
    return {
      pooled: [0, 31, 63].map((ch) => core.slice(pooled, [0, ch, 0, 0], [1, 1, H, W]).dataSync()),
      swapped: [0, 31, 32, 63].map((ch) => core.slice(halves, [0, ch, H - 1, 0], [1, 1, 1, W]).dataSync()),
    };
  });
  [0, 31, 63].forEach((ch, k) => {
    for (const y of [0, 1, 95, 190, 191])
      for (const x of [0, 1, 71, 142, 143]) {
        let m = Number.NEGATIVE_INFINITY;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) m = Math.max(m, at(ch, y + dy, x + dx));
        close(got.pooled[k][y * W + x], m);
      }
  });
  [0, 31, 32, 63].forEach((ch, k) => {
    const src = ch < 32 ? ch + 32 : ch - 32;
    for (const x of [0, 1, 100, 143]) close(got.swapped[k][x], at(src, H - 1, x));
  });
});

it('runs on the device texture limit, on which these tensors span many rows, past 2²⁴ values', () => {
  expect(backend.maxTextureSize).toBeGreaterThanOrEqual(4096);
  expect(150 * 512 * 512).toBeGreaterThan(backend.maxTextureSize * 64);
  expect(150 * 512 * 512).toBeGreaterThan(2 ** 24);
  expect(backend.memory().buffers).toBe(0);
});
