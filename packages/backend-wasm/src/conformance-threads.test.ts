import { describeConformance } from '@kernelzoo/conformance/vitest';
import { getBackend, getBackendName, setBackend } from '@kernelzoo/core';
import { expect, it } from 'vitest';
import { setParallelThreshold } from './context.js';
import { getThreads, registerWasmBackend, setThreads, type WasmBackend, wasmFeatures } from './index.js';
import { setStealing } from './pool.js';

let backend: WasmBackend | null = null;

async function setup(): Promise<void> {
  registerWasmBackend({ threads: 2 });
  await setBackend('wasm');
  await setThreads(2);
  // Every kernel through the worker pool, however small; one share per thread, so that the
  // `splits` cases show the work split (with stealing, a late worker's share runs here).
  setParallelThreshold(0);
  setStealing(false);
  backend = getBackend() as WasmBackend;
}

function active(): WasmBackend {
  if (backend === null) throw new Error('the wasm backend is not set up');
  return backend;
}

// Raw heap bytes back at their baseline after every case; on the cases marked `splits`, both
// threads (the calling thread, entry 0, and the worker, entry 1) must run a job.
describeConformance({
  name: 'wasm',
  setup,
  heapBytes: () => active().heapBytesInUse(),
  workerJobs: () => active().workerJobs(),
});

it('sets up the wasm backend with 2 threads for the conformance suite', async () => {
  await setup();
  expect(getBackendName()).toBe('wasm');
  expect(wasmFeatures().threads).toBe(true);
  expect(getThreads()).toBe(2);
  expect(active().workerJobs()).toHaveLength(2);
});
