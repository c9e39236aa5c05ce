import { describeConformance } from '@kernelzoo/conformance/vitest';
import { getBackendName, setBackend } from '@kernelzoo/core';
import { expect, it } from 'vitest';
import { getThreads, registerWasmBackend, setThreads } from './index.js';

async function setup(): Promise<void> {
  registerWasmBackend({ threads: 1 });
  await setBackend('wasm');
  await setThreads(1);
}

describeConformance({ name: 'wasm', setup });

it('sets up the wasm backend (1 thread) for the conformance suite', async () => {
  await setup();
  expect(getBackendName()).toBe('wasm');
  expect(getThreads()).toBe(1);
});
