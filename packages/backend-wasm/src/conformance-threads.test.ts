import { describeConformance } from '@kernelzoo/conformance/vitest';
import { getBackendName, setBackend } from '@kernelzoo/core';
import { expect, it } from 'vitest';
import { setParallelThreshold } from './context.js';
import { getThreads, registerWasmBackend, setThreads, wasmFeatures } from './index.js';

async function setup(): Promise<void> {
  registerWasmBackend({ threads: 2 });
  await setBackend('wasm');
  await setThreads(2);
  // Every kernel through the worker pool, however small.
  setParallelThreshold(0);
}

describeConformance({ name: 'wasm', setup });

it('sets up the wasm backend with 2 threads for the conformance suite', async () => {
  await setup();
  expect(getBackendName()).toBe('wasm');
  expect(wasmFeatures().threads).toBe(true);
  expect(getThreads()).toBe(2);
});
