#!/usr/bin/env node
// Proves @kernelzoo/conformance works from the registry alone: packs @kernelzoo/core,
// @kernelzoo/backend-js and @kernelzoo/conformance as they would be published (`pnpm pack`
// rewrites `workspace:^` to version ranges), installs the three tarballs with npm into a fresh
// project outside the workspace (npm fetches tfjs from the npm registry; the `@kernelzoo/*`
// ranges resolve to the tarballs, which `overrides` pins as well), then checks there that
//   - vitest was not installed (an optional peer) and the main entry loads without it,
//   - `runConformance` passes for backend-js on a filtered set of cases (tfjs oracles included),
//   - the `./vitest` entry asks for vitest (and only it) when vitest is missing,
//   - the packed type declarations of both entries resolve and type-check (the workspace's tsc).
//
// Usage: pnpm --filter @kernelzoo/conformance run check:pack [-- --keep] [-- --filter TEXT]
// Needs the npm registry. Builds the three packages first (turbo, cached when up to date).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const keep = args.includes('--keep');
const filterAt = args.indexOf('--filter');
const filter = filterAt >= 0 ? args[filterAt + 1] : 'conv2d';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const packages = ['core', 'backend-js', 'conformance'];
const t0 = performance.now();
const say = (line) =>
  process.stderr.write(`check:pack [${((performance.now() - t0) / 1000).toFixed(1)} s] ${line}\n`);
const run = (cmd, argv, cwd, opts = {}) =>
  execFileSync(cmd, argv, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });

class CheckFailure extends Error {}
function fail(message) {
  throw new CheckFailure(message);
}

const dir = mkdtempSync(join(tmpdir(), 'kernelzoo-pack-'));
try {
  say('building @kernelzoo/core, backend-js, conformance (turbo)');
  run(
    'pnpm',
    [
      'exec',
      'turbo',
      'run',
      'build',
      '--filter=@kernelzoo/backend-js',
      '--filter=@kernelzoo/conformance',
      '--output-logs=errors-only',
    ],
    root,
    { env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } },
  );

  say(`packing into ${dir}`);
  const tarballs = {};
  for (const p of packages) {
    const before = new Set(readdirSync(dir));
    run('pnpm', ['pack', '--pack-destination', dir], join(root, 'packages', p));
    const made = readdirSync(dir).filter((f) => f.endsWith('.tgz') && !before.has(f));
    if (made.length !== 1) fail(`pnpm pack in packages/${p} made ${made.length} tarballs`);
    const name = JSON.parse(readFileSync(join(root, 'packages', p, 'package.json'), 'utf8')).name;
    tarballs[name] = `file:./${made[0]}`;
  }

  const project = {
    name: 'kernelzoo-pack-check',
    private: true,
    type: 'module',
    dependencies: { ...tarballs },
    overrides: { ...tarballs },
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(project, null, 2)}\n`);
  say('npm install (the three tarballs; tfjs from the npm registry)');
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], dir);

  const nm = join(dir, 'node_modules');
  for (const name of Object.keys(tarballs))
    if (!existsSync(join(nm, name, 'package.json'))) fail(`${name} is not installed`);
  for (const dep of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu'])
    if (!existsSync(join(nm, dep, 'package.json'))) fail(`${dep} was not installed as a dependency`);
  if (existsSync(join(nm, 'vitest'))) fail('vitest was installed, but it is an optional peer');
  const packed = JSON.parse(readFileSync(join(nm, '@kernelzoo/conformance/package.json'), 'utf8'));
  if (JSON.stringify(packed).includes('workspace:'))
    fail('the packed package.json still has workspace: ranges');

  writeFileSync(
    join(dir, 'check.mjs'),
    `import { registerJsBackend } from '@kernelzoo/backend-js';
import { formatConformanceReport, runConformance } from '@kernelzoo/conformance';

const report = await runConformance(
  { name: 'js', setup: async () => registerJsBackend() },
  { filter: process.argv[2] },
);
process.stdout.write(formatConformanceReport(report) + '\\n');
const ran = report.cases.filter((c) => c.group !== 'environment').length;
if (!report.ok || ran === 0) {
  process.stderr.write('conformance: ' + (ran === 0 ? 'no case ran' : 'failures') + '\\n');
  process.exit(1);
}
`,
  );
  say(`runConformance on backend-js, cases matching '${filter}'`);
  let table;
  try {
    table = run(process.execPath, ['check.mjs', filter], dir);
  } catch (e) {
    fail(`the conformance run failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  process.stdout.write(`${table}`);

  say("importing '@kernelzoo/conformance/vitest' without vitest");
  let vitestEntry = 'loaded';
  try {
    run(
      process.execPath,
      ['--input-type=module', '-e', "await import('@kernelzoo/conformance/vitest')"],
      dir,
    );
  } catch (e) {
    vitestEntry = `${e.stderr ?? ''}`;
  }
  if (vitestEntry === 'loaded') fail('the ./vitest entry loaded although vitest is not installed');
  if (!/Cannot find package 'vitest'/.test(vitestEntry))
    fail(`the ./vitest entry failed for another reason than vitest missing:\n${vitestEntry}`);

  say('type-checking both entries from the packed declarations');
  writeFileSync(
    join(dir, 'types.ts'),
    `import { type ConformanceReport, type KernelSummary, runConformance } from '@kernelzoo/conformance';
import type { describeConformance } from '@kernelzoo/conformance/vitest';
import { registerJsBackend } from '@kernelzoo/backend-js';

export async function check(): Promise<readonly KernelSummary[]> {
  const report: ConformanceReport = await runConformance({ name: 'js', setup: async () => registerJsBackend() });
  return report.kernels;
}
export type Describe = typeof describeConformance;
`,
  );
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2022', 'DOM'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
      },
      files: ['types.ts'],
    }),
  );
  try {
    run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], dir);
  } catch (e) {
    fail(`tsc on the packed declarations:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  say('passed');
} catch (e) {
  process.exitCode = 1;
  if (!(e instanceof CheckFailure)) throw e;
  process.stderr.write(`check:pack: FAILED — ${e.message}\n`);
} finally {
  if (keep) say(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
