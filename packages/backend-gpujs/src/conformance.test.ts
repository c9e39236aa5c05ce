import { describeConformance } from '@kernelzoo/conformance/vitest';
import { getBackend, setBackend } from '@kernelzoo/core';
import { expect, it } from 'vitest';
import type { GpujsBackend } from './index.js';
import { registerGpujsBackend } from './index.js';

// Node has no headless-gl here, so the suite must run on gpu.js's WebAssembly mode: a setup
// that lands on another mode (gpu.js's cpu fallback) fails every case instead of testing it.
async function setup(): Promise<void> {
  registerGpujsBackend();
  await setBackend('gpujs');
  const mode = (getBackend() as GpujsBackend).mode;
  if (mode !== 'webasm')
    throw new Error(`the Node suite must exercise gpu.js webasm mode, but gpujs chose ${mode}`);
}

it('chooses gpu.js webasm mode in Node', async () => {
  await setup();
  const b = getBackend() as GpujsBackend;
  expect(b.name).toBe('gpujs');
  expect(b.mode).toBe('webasm');
});

describeConformance({ name: 'gpujs', setup });
