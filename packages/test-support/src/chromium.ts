/**
 * How the repository runs Chromium: Debian's binary, headless and offline, WebGL2 through
 * SwiftShader, pages served cross-origin isolated. One copy for the browser tests
 * (`vitest.browser.ts`) and the benchmarks that drive Chromium themselves.
 *
 * @module
 */

/** Where CI and developers' machines have Debian's Chromium (override with CHROMIUM_PATH). */
export const CHROMIUM_PATH: string = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for a headless, offline, root-run Chromium with WebGL2 through SwiftShader (a software GPU). */
export const CHROMIUM_ARGS: string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--enable-unsafe-swiftshader',
  '--use-angle=swiftshader',
];

/**
 * Response headers that make a page cross-origin isolated, so it has `SharedArrayBuffer` and
 * backend-wasm can run its worker threads.
 */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};
