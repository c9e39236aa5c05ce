import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('drawing in the browser entry', () => {
  it('draws on OffscreenCanvas and bundles without @napi-rs/canvas', async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'kz-vision-draw-bundle-'));
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
    expect(code).toContain('new OffscreenCanvas(width, height)');
    // (its name may appear in doc comments; no import of it may)
    expect(code).not.toMatch(/(from|import\()\s*["']@napi-rs\/canvas/);
  }, 60_000);
});
