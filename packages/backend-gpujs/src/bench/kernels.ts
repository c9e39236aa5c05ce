/**
 * `pnpm bench kernels` for gpujs: times the shared rows (`KERNEL_BENCH_ROWS` of
 * `@kernelzoo/conformance`, the wasm table's rows) on the Node mode gpu.js gives here, then in
 * headless Chromium (WebGL2 on whatever GL it has, SwiftShader in CI), and prints one markdown
 * table. `--node-only` / `--browser-only` pick one side; `--reps N` (default 1);
 * `--only=<substring>` keeps the rows whose name contains it.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  benchRowMacs,
  benchRowPadding,
  KERNEL_BENCH_ROWS,
  type KernelBenchRow,
} from '@kernelzoo/conformance';
import { getBackend, setBackend } from '@kernelzoo/core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '@kernelzoo/test-support/chromium';
import type { GpujsBackend } from '../backend.js';
import { registerGpujsBackend } from '../index.js';
import { type BenchJob, type BenchResult, runJobs } from './shapes.js';

const args = process.argv.slice(2);
const repsAt = args.indexOf('--reps');
const reps = repsAt >= 0 ? Number(args[repsAt + 1]) : 1;
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..', '..');

/** The job of one shared bench row. */
function jobOf(row: KernelBenchRow): BenchJob {
  const macs = benchRowMacs(row);
  if (row.kind === 'gemm')
    return { kind: 'gemm', name: row.name, a: [row.m, row.k], b: [row.k, row.n], macs };
  return {
    kind: 'conv',
    name: row.name,
    x: [1, row.cin, row.h, row.w],
    w: [row.cout, row.cin / row.groups, row.kh, row.kw],
    options: {
      stride: row.stride,
      dilation: row.dilation,
      groups: row.groups,
      padding: benchRowPadding(row),
    },
    macs,
  };
}

const JOBS = KERNEL_BENCH_ROWS.filter((r) => only === undefined || r.name.includes(only)).map(jobOf);

/** Progress on stderr, so a long browser run shows where it is. */
function progress(env: string): (r: BenchResult) => void {
  return (r) => process.stderr.write(`${env}: ${r.name} ${r.ms.toFixed(1)} ms\n`);
}

const CHROMIUM = CHROMIUM_PATH;

async function node(): Promise<{ mode: string; rows: BenchResult[] }> {
  registerGpujsBackend();
  await setBackend('gpujs');
  const mode = (getBackend() as GpujsBackend).mode;
  return { mode, rows: runJobs(JOBS, reps, () => performance.now(), progress('node')) };
}

async function bundle(): Promise<string> {
  const { build } = await import('vite');
  const outDir = join(pkg, 'dist', 'bench-browser');
  await build({
    configFile: false,
    logLevel: 'silent',
    root: pkg,
    build: {
      outDir,
      emptyOutDir: true,
      minify: false,
      lib: { entry: join(here, 'browser-entry.js'), formats: ['es'], fileName: () => 'bench.js' },
    },
  });
  return join(outDir, 'bench.js');
}

async function browser(): Promise<{ mode: string; rows: BenchResult[] }> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);
  const script = await readFile(await bundle(), 'utf8');
  const server = createServer((req, res) => {
    if (req.url === '/bench.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(script);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><script type="module" src="/bench.js"></script>');
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;
  const { chromium } = await import('playwright-core');
  const b = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  try {
    const page = await b.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => 'kzBench' in globalThis);
    // One row per page call, so each gets its own evaluate (no single multi-minute call).
    let mode = '';
    const rows: BenchResult[] = [];
    for (const job of JOBS) {
      const r = await page.evaluate(
        ([j, n]) =>
          (
            globalThis as unknown as {
              kzBench: (jobs: BenchJob[], r: number) => Promise<{ mode: string; rows: BenchResult[] }>;
            }
          ).kzBench([j], n),
        [job, reps] as [BenchJob, number],
      );
      mode = r.mode;
      progress('chromium')(r.rows[0]);
      rows.push(r.rows[0]);
    }
    return { mode, rows };
  } finally {
    await b.close();
    server.close();
  }
}

function table(runs: { env: string; mode: string; rows: BenchResult[] }[]): string {
  const head = `| shape | ${runs.map((r) => `${r.env} (${r.mode}) ms | GMAC/s`).join(' | ')} |`;
  const sep = `|---|${runs.map(() => '---:|---:').join('|')}|`;
  const names = runs[0]?.rows.map((r) => r.name) ?? [];
  const lines = names.map(
    (n) =>
      `| ${n} | ${runs
        .map((r) => {
          const row = r.rows.find((x) => x.name === n)!;
          return `${row.ms.toFixed(1)} | ${row.gmacs.toFixed(3)}`;
        })
        .join(' | ')} |`,
  );
  return [head, sep, ...lines].join('\n');
}

const runs: { env: string; mode: string; rows: BenchResult[] }[] = [];
if (!args.includes('--browser-only')) runs.push({ env: 'gpujs Node', ...(await node()) });
if (!args.includes('--node-only')) runs.push({ env: 'gpujs Chromium', ...(await browser()) });
console.log(`gpujs kernels (conv2d / matmul, batch 1, median of ${reps}, including readback)\n`);
console.log(table(runs));
