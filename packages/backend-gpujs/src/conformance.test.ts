import { describeConformance } from '@kernelzoo/conformance/vitest';
import { getBackend, setBackend } from '@kernelzoo/core';
import { expect, it } from 'vitest';
import type { GpujsBackend } from './index.js';
import { registerGpujsBackend } from './index.js';

async function setup(): Promise<void> {
  registerGpujsBackend();
  await setBackend('gpujs');
}

describeConformance({ name: 'gpujs', setup });

it('runs the conformance suite on the best gpu.js mode Node offers', async () => {
  await setup();
  const b = getBackend() as GpujsBackend;
  expect(b.name).toBe('gpujs');
  expect(['headlessgl', 'webasm', 'cpu']).toContain(b.mode);
});
