import { describeConformance } from '@kernelzoo/conformance/vitest';
import { getBackend, setBackend } from '@kernelzoo/core';
import { expect, it } from 'vitest';
import type { GpujsBackend } from './index.js';
import { registerGpujsBackend } from './index.js';

async function setup(): Promise<void> {
  registerGpujsBackend();
  await setBackend('gpujs');
  const mode = (getBackend() as GpujsBackend).mode;
  if (mode !== 'webgl2') throw new Error(`the browser suite must exercise WebGL2, but gpujs chose ${mode}`);
}

it('chooses gpu.js WebGL2 mode in Chromium', async () => {
  await setup();
  expect((getBackend() as GpujsBackend).mode).toBe('webgl2');
});

describeConformance({ name: 'gpujs', setup });
