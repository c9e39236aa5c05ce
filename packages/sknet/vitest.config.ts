import { defineConfig } from 'vitest/config';
import { browserProjects } from '../../vitest.browser.ts';

export default defineConfig({ test: { projects: browserProjects() } });
