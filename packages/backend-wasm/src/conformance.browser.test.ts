import { describeConformance } from '@kernelzoo/conformance/vitest';
import { getBackendName, setBackend } from '@kernelzoo/core';
import { expect, it } from 'vitest';
import { setParallelThreshold } from './context.js';
import { getThreads, registerWasmBackend, setThreads, wasmFeatures } from './index.js';

// Chromium, cross-origin isolated (COOP/COEP from vitest.browser.ts), so threads run here too.
async function setup(): Promise<void> {
  registerWasmBackend({ threads: 2 });
  await setBackend('wasm');
  await setThreads(2);
  // Every kernel through the worker pool, however small.
  setParallelThreshold(0);
}

describeConformance({ name: 'wasm', setup });

it('sets up the wasm backend with 2 threads in Chromium', async () => {
  await setup();
  expect(getBackendName()).toBe('wasm');
  expect(globalThis.crossOriginIsolated).toBe(true);
  expect(wasmFeatures().threads).toBe(true);
  expect(getThreads()).toBe(2);
});
