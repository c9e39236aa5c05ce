/**
 * Shared vitest settings for running a package's tests in headless Chromium (Debian's
 * `/usr/bin/chromium`, driven by Playwright; nothing is downloaded). The page is served with
 * COOP/COEP headers so it is cross-origin isolated and `SharedArrayBuffer` (threads) works.
 *
 * Use in a package's `vitest.config.ts`:
 *
 *   import { defineConfig } from 'vitest/config';
 *   import { browserProjects } from '../../vitest.browser';
 *   export default defineConfig({ test: { projects: browserProjects() } });
 *
 * Files named `*.browser.test.ts` run in Chromium; every other `*.test.ts` runs in Node.
 */
import { existsSync } from 'node:fs';
import { playwright } from '@vitest/browser-playwright';
import type { TestProjectInlineConfiguration } from 'vitest/config';
import { CHROMIUM_ARGS, CHROMIUM_PATH, ISOLATION_HEADERS } from './packages/test-support/src/chromium.ts';

/** The node project and the Chromium project for a package's tests. */
export function browserProjects(options: { browserTimeout?: number } = {}): TestProjectInlineConfiguration[] {
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(
      `browser tests need Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`,
    );
  return [
    {
      extends: true,
      test: {
        name: 'node',
        include: ['src/**/*.test.ts'],
        exclude: ['src/**/*.browser.test.ts'],
      },
    },
    {
      extends: true,
      server: { headers: ISOLATION_HEADERS },
      test: {
        name: 'chromium',
        include: ['src/**/*.browser.test.ts'],
        testTimeout: options.browserTimeout ?? 120_000,
        browser: {
          enabled: true,
          headless: true,
          screenshotFailures: false,
          provider: playwright({
            launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
          }),
          instances: [{ browser: 'chromium' }],
        },
      },
    },
  ];
}
