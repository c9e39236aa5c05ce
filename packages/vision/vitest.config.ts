import { defineConfig } from 'vitest/config';
import { browserProjects } from '../../vitest.browser.ts';

// Image decoding and drawing tests take a few seconds under load; 30 s keeps a busy CI machine
// from failing them on time alone (no test asserts on time).
export default defineConfig({ test: { testTimeout: 30_000, projects: browserProjects() } });
