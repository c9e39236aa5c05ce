import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { browserProjects } from '../../vitest.browser.ts';

export default defineConfig({
  // examples/ import the package by name, as a user would: the sources here, so the ids are
  // registered once.
  resolve: { alias: { '@kernelzoo/spnet': fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: { projects: browserProjects({ browserTimeout: 300_000 }) },
});
