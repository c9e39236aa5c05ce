/**
 * The `pnpm bench kernels` shapes (batch 1, NCHW) and a timing loop over the active backend.
 * Shared by the Node runner and the browser page.
 *
 * @module
 */
import * as core from '@kernelzoo/core';

/** One benchmarked convolution. */
export interface BenchShape {
  /** Row label. */
  readonly name: string;
  /** Input `[1, C, H, W]`. */
  readonly x: readonly [number, number, number, number];
  /** Weight `[O, C / groups, kH, kW]`. */
  readonly w: readonly [number, number, number, number];
  /** Convolution options. */
  readonly options: core.Conv2dOptions;
}

/** The rows of the kernels table. */
export const SHAPES: readonly BenchShape[] = [
  { name: 'HRNet-W32 3×3 @ 64×48×32', x: [1, 32, 64, 48], w: [32, 32, 3, 3], options: { padding: 1 } },
  { name: 'HRNet-W32 3×3 @ 32×24×64', x: [1, 64, 32, 24], w: [64, 64, 3, 3], options: { padding: 1 } },
  {
    name: 'HRNet stem 3×3 s2 → 128×96×64',
    x: [1, 64, 256, 192],
    w: [64, 64, 3, 3],
    options: { padding: 1, stride: 2 },
  },
  {
    name: 'SKNet-50 3×3 G=32 @ 56×56×128',
    x: [1, 128, 56, 56],
    w: [128, 4, 3, 3],
    options: { padding: 1, groups: 32 },
  },
  {
    name: 'SKNet-50 3×3 G=32 @ 14×14×512',
    x: [1, 512, 14, 14],
    w: [512, 16, 3, 3],
    options: { padding: 1, groups: 32 },
  },
  { name: 'SKNet-50 1×1 256→128 @ 56×56', x: [1, 256, 56, 56], w: [128, 256, 1, 1], options: {} },
  { name: 'SKNet-50 1×1 1024→512 @ 14×14', x: [1, 1024, 14, 14], w: [512, 1024, 1, 1], options: {} },
  // SPNet's strip pooling on 512 channels at 64×64: 1×1 reduction to 128, then 1×3 / 3×1 strips.
  { name: 'SPNet 1×1 512→128 @ 64×64', x: [1, 512, 64, 64], w: [128, 512, 1, 1], options: {} },
  {
    name: 'SPNet 1×3 strip 128 @ 64×64',
    x: [1, 128, 64, 64],
    w: [128, 128, 1, 3],
    options: { padding: [0, 1] },
  },
  {
    name: 'SPNet 3×1 strip 128 @ 64×64',
    x: [1, 128, 64, 64],
    w: [128, 128, 3, 1],
    options: { padding: [1, 0] },
  },
];

/** One measured row. */
export interface BenchResult {
  /** Row label. */
  readonly name: string;
  /** Median milliseconds per call, including the readback of the output. */
  readonly ms: number;
  /** Giga multiply-adds per second at that median. */
  readonly gmacs: number;
}

/** Times every shape on the active backend (one warm-up call compiles, then `reps` timed calls). */
export function runShapes(reps: number, now: () => number, only?: (s: BenchShape) => boolean): BenchResult[] {
  const rows: BenchResult[] = [];
  const r = new core.SeededRandom(7);
  for (const s of SHAPES) {
    if (only && !only(s)) continue;
    const fill = (n: number) => Float32Array.from({ length: n }, () => r.uniform(-1, 1));
    const x = core.tensor(fill(s.x.reduce((a, b) => a * b, 1)), s.x);
    const w = core.tensor(fill(s.w.reduce((a, b) => a * b, 1)), s.w);
    const call = () =>
      core.tidy(() => {
        core.conv2d(x, w, s.options).dataSync();
      });
    call();
    const times: number[] = [];
    let macs = 0;
    core.traceShapes(
      () => core.conv2d(x, w, s.options),
      (_op, shape, m) => {
        macs = m || shape.reduce((a, b) => a * b, 1) * s.w[1] * s.w[2] * s.w[3];
      },
    );
    for (let i = 0; i < reps; i++) {
      const t0 = now();
      call();
      times.push(now() - t0);
    }
    x.dispose();
    w.dispose();
    times.sort((a, b) => a - b);
    const ms = times[Math.floor(times.length / 2)];
    rows.push({ name: s.name, ms, gmacs: macs / (ms * 1e6) });
  }
  return rows;
}
