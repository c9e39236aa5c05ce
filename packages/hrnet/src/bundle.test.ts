import { fileURLToPath } from 'node:url';
import { bundleAndRun } from '@kernelzoo/test-support';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

// A bundler that tree-shakes keeps the registration only because package.json's sideEffects
// lists dist/register.js and dist/index.js: a program importing one unrelated function still
// finds every id in the registry.
it('registration survives bundling: a named import of hrnetConfig registers the eight ids', async () => {
  const got = await bundleAndRun(ROOT, 'named-import');
  expect(got).toEqual({
    ids: [
      'hrnet_w32_pose',
      'hrnet_w48_pose',
      'hrnet_w32_pose_384x288',
      'hrnet_w48_pose_384x288',
      'hrnet_w18_cls',
      'hrnet_w32_cls',
      'hrnet_w48_cls',
      'hrnet_w48_seg',
    ],
    stages: 3,
  });
}, 60_000);
