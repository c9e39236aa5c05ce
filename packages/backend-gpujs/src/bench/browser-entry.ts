/**
 * The page script of the browser bench: registers gpujs (WebGL2) and exposes a runner.
 *
 * @module
 */
import { getBackend, setBackend } from '@kernelzoo/core';
import type { GpujsBackend } from '../backend.js';
import { registerGpujsBackend } from '../index.js';
import { type BenchJob, type BenchResult, runJobs } from './shapes.js';

/** Runs bench jobs in the page; resolves to the mode and the rows. */
async function runBench(
  jobs: readonly BenchJob[],
  reps: number,
): Promise<{ mode: string; rows: BenchResult[] }> {
  registerGpujsBackend();
  await setBackend('gpujs');
  const mode = (getBackend() as GpujsBackend).mode;
  return { mode, rows: runJobs(jobs, reps, () => performance.now()) };
}

(globalThis as unknown as { kzBench: typeof runBench }).kzBench = runBench;
