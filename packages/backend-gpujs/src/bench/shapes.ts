/**
 * The timing loop of `pnpm bench kernels`, shared by the Node runner and the browser page. The
 * rows come from `@kernelzoo/conformance`'s `KERNEL_BENCH_ROWS` (the same rows as every other
 * backend's table); the Node runner turns them into plain {@link BenchJob}s, so the page bundle
 * needs nothing but core and this backend.
 *
 * @module
 */
import * as core from '@kernelzoo/core';

/** One benchmarked call, ready to run: a convolution or a plain matrix product. */
export type BenchJob =
  | {
      /** A convolution. */
      readonly kind: 'conv';
      /** Row label. */
      readonly name: string;
      /** Input `[1, C, H, W]`. */
      readonly x: readonly number[];
      /** Weight `[O, C / groups, kH, kW]`. */
      readonly w: readonly number[];
      /** Convolution options. */
      readonly options: core.Conv2dOptions;
      /** Multiply-adds per call. */
      readonly macs: number;
    }
  | {
      /** A matrix product `[m, k] · [k, n]`. */
      readonly kind: 'gemm';
      /** Row label. */
      readonly name: string;
      /** `[m, k]`. */
      readonly a: readonly number[];
      /** `[k, n]`. */
      readonly b: readonly number[];
      /** Multiply-adds per call. */
      readonly macs: number;
    };

/** One measured row. */
export interface BenchResult {
  /** Row label. */
  readonly name: string;
  /** Median milliseconds per call, including the readback of the output. */
  readonly ms: number;
  /** Giga multiply-adds per second at that median. */
  readonly gmacs: number;
}

/** Times every job on the active backend (one warm-up call compiles, then `reps` timed calls). */
export function runJobs(
  jobs: readonly BenchJob[],
  reps: number,
  now: () => number,
  report?: (r: BenchResult) => void,
): BenchResult[] {
  const rows: BenchResult[] = [];
  const r = new core.SeededRandom(7);
  const fill = (shape: readonly number[]) =>
    core.tensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r.uniform(-1, 1)),
      [...shape],
    );
  for (const job of jobs) {
    const [p, q] = job.kind === 'conv' ? [fill(job.x), fill(job.w)] : [fill(job.a), fill(job.b)];
    const call = () =>
      core.tidy(() => {
        (job.kind === 'conv' ? core.conv2d(p, q, job.options) : core.matmul(p, q)).dataSync();
      });
    call();
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = now();
      call();
      times.push(now() - t0);
    }
    p.dispose();
    q.dispose();
    times.sort((a, b) => a - b);
    const ms = times[Math.floor(times.length / 2)];
    const row = { name: job.name, ms, gmacs: job.macs / (ms * 1e6) };
    report?.(row);
    rows.push(row);
  }
  return rows;
}
