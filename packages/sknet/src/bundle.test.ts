import { fileURLToPath } from 'node:url';
import { bundleAndRun as bundle } from '@kernelzoo/test-support';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Bundles one entry of src/test-support/bundle with Vite (every dependency inlined, tree-shaken) and runs it. */
const bundleAndRun = (entry: string): Promise<unknown> => bundle(ROOT, entry);

// @kernelzoo/resnet's index registers its own ids; the networks here are built on its ResNet.
const RESNET_IDS = ['resnet50', 'resnet101', 'resnet152', 'resnext50_32x4d'];
const SKNET_IDS = ['sknet50', 'sknet101', 'skresnet18', 'skresnet34', 'skresnet50'];

describe('registration survives bundling (sideEffects lists dist/register.js and dist/index.js)', () => {
  it('a bare import of the package registers its ids', async () => {
    const ids = (await bundleAndRun('sknet-only')) as string[];
    expect(ids.filter((id) => !RESNET_IDS.includes(id))).toEqual(SKNET_IDS);
  }, 60_000);

  it('a named import registers them too', async () => {
    const got = (await bundleAndRun('named-import')) as { ids: string[]; unit: string };
    expect(got.unit).toBe('function');
    expect(got.ids.filter((id) => !RESNET_IDS.includes(id))).toEqual(SKNET_IDS);
  }, 60_000);
});
