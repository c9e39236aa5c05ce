import { describeConformance } from '@kernelzoo/conformance/vitest';
import { getBackend, getBackendName, setBackend } from '@kernelzoo/core';
import { expect, it } from 'vitest';
import { getThreads, registerWasmBackend, setThreads, WasmBackend } from './index.js';

let backend: WasmBackend | null = null;

async function setup(): Promise<void> {
  registerWasmBackend({ threads: 1 });
  await setBackend('wasm');
  await setThreads(1);
  backend = getBackend() as WasmBackend;
}

function active(): WasmBackend {
  if (backend === null) throw new Error('the wasm backend is not set up');
  return backend;
}

// Raw heap bytes (buffers, packed weights, per-call scratch; not the kept GEMM arena) must
// return to their baseline after every case.
describeConformance({ name: 'wasm', setup, heapBytes: () => active().heapBytesInUse() });

it('sets up the wasm backend (1 thread) for the conformance suite', async () => {
  await setup();
  expect(getBackendName()).toBe('wasm');
  expect(getThreads()).toBe(1);
  expect(active()).toBeInstanceOf(WasmBackend);
});
