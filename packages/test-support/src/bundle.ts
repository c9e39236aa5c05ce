import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';

/**
 * Bundles `<packageRoot>/src/test-support/bundle/<entry>.ts` with Vite as a user's build would
 * (every dependency inlined and tree-shaken, so a package whose `sideEffects` forgot its
 * registration loses it), runs the bundle with this Node, and returns what it printed, parsed
 * as JSON.
 * @param packageRoot - the package's folder (its `src/test-support/bundle/` holds the entries).
 * @param entry - the entry's file name without `.ts`.
 */
export async function bundleAndRun(packageRoot: string, entry: string): Promise<unknown> {
  const outDir = await mkdtemp(join(tmpdir(), 'kz-bundle-'));
  await build({
    root: packageRoot,
    logLevel: 'silent',
    configFile: false,
    ssr: { noExternal: true },
    build: {
      ssr: join(packageRoot, 'src/test-support/bundle', `${entry}.ts`),
      outDir,
      emptyOutDir: true,
      minify: false,
      rollupOptions: { output: { entryFileNames: 'main.mjs' } },
    },
  });
  return JSON.parse(execFileSync(process.execPath, [join(outDir, 'main.mjs')], { encoding: 'utf8' }));
}
