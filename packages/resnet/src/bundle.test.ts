import { fileURLToPath } from 'node:url';
import { bundleAndRun as bundle } from '@kernelzoo/test-support';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Bundles one entry of src/test-support/bundle with Vite (every dependency inlined, tree-shaken) and runs it. */
const bundleAndRun = (entry: string): Promise<unknown> => bundle(ROOT, entry);

describe('registration survives bundling (sideEffects lists dist/register.js)', () => {
  it('a bare import of the package registers its ids', async () => {
    expect(await bundleAndRun('resnet-only')).toEqual([
      'resnet50',
      'resnet101',
      'resnet152',
      'resnext50_32x4d',
    ]);
  }, 60_000);

  it('a named import registers them too', async () => {
    expect(await bundleAndRun('named-import')).toEqual({
      ids: ['resnet50', 'resnet101', 'resnet152', 'resnext50_32x4d'],
      block: 'function',
    });
  }, 60_000);

  it('a program that imports no paper package lists no ids', async () => {
    expect(await bundleAndRun('core-only')).toEqual([]);
  }, 60_000);
});

describe('registered entries', () => {
  it("build networks with the reference's parameter counts", async () => {
    const { nn, setBackend } = await import('@kernelzoo/core');
    const { registerJsBackend } = await import('@kernelzoo/backend-js');
    const { RESNET_MODELS } = await import('./register.js');
    registerJsBackend();
    await setBackend('js'); // BatchNorm's num_batches_tracked is real even without init
    for (const e of RESNET_MODELS) {
      const net = nn.withoutInit(() => e.build()); // parameters are placeholders: no memory
      expect(net.numParameters(), e.id).toBe(e.reference.parameters);
      net.dispose();
    }
  });
});
