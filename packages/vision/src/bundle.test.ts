import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));

describe('the browser entry', () => {
  it('is what the `browser` export condition selects', () => {
    expect(pkg.exports['.'].browser).toBe('./dist/browser.js');
    expect(Object.keys(pkg.exports['.'])[0]).toBe('types');
  });

  // One Vite build of the browser entry serves both checks below.
  it('bundles for browsers without sharp, @napi-rs/canvas or Node built-ins, drawing on OffscreenCanvas', async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'kz-vision-bundle-'));
    await build({
      root: ROOT,
      logLevel: 'silent',
      configFile: false,
      build: {
        lib: { entry: join(ROOT, 'src/browser.ts'), formats: ['es'], fileName: 'vision' },
        outDir,
        emptyOutDir: true,
        minify: false,
        rollupOptions: { external: [/^@kernelzoo\//] },
      },
    });
    const code = await readFile(join(outDir, 'vision.js'), 'utf8');
    expect(code).toContain('createImageBitmap');
    expect(code).not.toMatch(/\bsharp\b|node:/);
    expect(code).toContain('new OffscreenCanvas(width, height)');
    // (its name may appear in doc comments; no import of it may)
    expect(code).not.toMatch(/(from|import\()\s*["']@napi-rs\/canvas/);
  }, 60_000);
});
