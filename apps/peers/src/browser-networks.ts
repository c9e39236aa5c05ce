/**
 * `pnpm bench:browser` in apps/peers: whole-network forward times in headless Chromium
 * (Debian's `/usr/bin/chromium` or `CHROMIUM_PATH`, driven by playwright-core; nothing is
 * downloaded) — kernelzoo's wasm backend on 1 and 2 threads, its gpu.js backend over WebGL2 and
 * its pure-JavaScript backend (V8's code for the js GEMM is Chromium's, not Node's).
 *
 * `browser/page.js` is bundled with Vite into a temp folder with an index.html, served from a
 * local `node:http` server with COOP/COEP headers (cross-origin isolation, so the wasm backend
 * gets `SharedArrayBuffer` and its Web Workers), and each (model, backend, threads) row runs in
 * a fresh browser context (its own renderer process, so one network's memory does not carry to
 * the next): one warm-up forward, then `--runs` timed forwards. Progress goes to stderr, a
 * Markdown table to stdout.
 *
 * Usage: node dist/browser-networks.js [--models id,…] [--rows wasm-1T,wasm-2T,gpujs,js] [--runs N]
 *   [--size HxW] [--gpujs-size HxW] [--timeout S] [--quick]
 *   models: registry ids (default hrnet_w32_pose,sknet50,spnet50_ade20k; wasm and js rows at
 *   the registered size, SPNet at 512×512). gpujs rows run at --gpujs-size (default 64×64): in
 *   headless Chromium WebGL2 is SwiftShader, a software GPU, about 100× slower than wasm.
 *   --size sets every row's size (gpujs's too, unless --gpujs-size is given). --quick: 1 run
 *   at 64×64 everywhere, a smoke test. --timeout: seconds per row (default 1800).
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getModel } from '@kernelzoo/core';
import '@kernelzoo/hrnet';
import '@kernelzoo/sknet';
import '@kernelzoo/spnet';
import { CHROMIUM_ARGS, CHROMIUM_PATH, ISOLATION_HEADERS } from '@kernelzoo/test-support/chromium';
import { type Browser, chromium } from 'playwright-core';
import { build } from 'vite';
import type { PageParams, PageResult } from './browser/page.js';

/** The rows, in table order. */
export const ROWS = ['wasm-1T', 'wasm-2T', 'gpujs', 'js'] as const;
type RowName = (typeof ROWS)[number];

const DEFAULT_MODELS = ['hrnet_w32_pose', 'sknet50', 'spnet50_ade20k'];
/** Input sizes other than the registered one, for the wasm and js rows (the SPNet target is at 512²). */
const SIZES: Record<string, [number, number]> = { spnet50_ade20k: [512, 512] };
const DEFAULT_GPUJS_SIZE: [number, number] = [64, 64];

/** The repository's isolation headers, and the resource policy for what this server sends. */
const HEADERS = { ...ISOLATION_HEADERS, 'Cross-Origin-Resource-Policy': 'same-origin' };

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.map': 'application/json',
};

class UsageError extends Error {}

/** The registered input size of `id` (a usage error for an unknown id, before any work). */
function registered(id: string): [number, number] {
  try {
    const [h, w] = getModel(id).inputSize;
    return [h, w];
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new UsageError(`--${name} needs a value`);
  return v;
}

function parseSize(s: string | undefined, what: string): [number, number] | undefined {
  if (s === undefined) return undefined;
  const m = s.match(/^(\d+)[x×](\d+)$/);
  if (!m) throw new UsageError(`${what} must be HxW, e.g. 64x64 (got '${s}')`);
  return [Number(m[1]), Number(m[2])];
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mad = (xs: readonly number[]) => {
  const m = median(xs);
  return median(xs.map((x) => Math.abs(x - m)));
};
const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

/** Bundles the page with Vite into a temp folder next to an index.html that loads it. */
async function bundlePage(): Promise<string> {
  const entry = fileURLToPath(new URL('./browser/page.js', import.meta.url));
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build the package first (pnpm build)`);
  const outDir = await mkdtemp(join(tmpdir(), 'kz-browser-bench-'));
  await build({
    root: fileURLToPath(new URL('..', import.meta.url)),
    logLevel: 'warn',
    configFile: false,
    publicDir: false,
    build: {
      outDir,
      emptyOutDir: true,
      target: 'esnext',
      minify: false,
      modulePreload: false,
      reportCompressedSize: false,
      chunkSizeWarningLimit: 100_000,
      rollupOptions: { input: entry, output: { entryFileNames: 'page.js', format: 'es' } },
    },
  });
  await writeFile(
    join(outDir, 'index.html'),
    '<!doctype html>\n<html><head><meta charset="utf-8"><title>kernelzoo bench</title></head>\n' +
      '<body><script type="module" src="./page.js"></script></body></html>\n',
  );
  return outDir;
}

/** Serves `root` on 127.0.0.1 with the cross-origin isolation headers. */
async function serve(root: string): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path === '/' ? 'index.html' : path));
    if (!file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, {
        ...HEADERS,
        'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
        'Cache-Control': 'no-store',
      });
      res.end(body);
    } catch {
      res.writeHead(404, HEADERS).end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('the server has no port');
  return { server, url: `http://127.0.0.1:${addr.port}/` };
}

interface Job {
  readonly model: string;
  readonly row: RowName;
  readonly params: PageParams;
}

type Outcome = { job: Job; result: PageResult } | { job: Job; error: string };

/** Runs one row in a fresh context (a fresh renderer process) and closes it. */
async function runRow(browser: Browser, url: string, job: Job, timeoutMs: number): Promise<Outcome> {
  const context = await browser.newContext();
  const logs: string[] = [];
  try {
    const page = await context.newPage();
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') logs.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('crash', () => logs.push('the page crashed (out of memory?)'));
    await page.goto(url);
    await page.waitForFunction(() => typeof window.kzBench === 'function', null, { timeout: 60_000 });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs / 1000} s`)), timeoutMs);
    });
    try {
      const result = await Promise.race([page.evaluate((p) => window.kzBench(p), job.params), timeout]);
      return { job, result };
    } finally {
      clearTimeout(timer);
    }
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
    const extra = logs.length ? ` [${logs.slice(-2).join('; ')}]` : '';
    return { job, error: `${msg}${extra}` };
  } finally {
    await context.close().catch(() => {});
  }
}

async function main(): Promise<number> {
  const quick = process.argv.includes('--quick');
  const models = arg('models')?.split(',').filter(Boolean) ?? DEFAULT_MODELS;
  const rows = (arg('rows')?.split(',').filter(Boolean) ?? [...ROWS]) as RowName[];
  for (const r of rows)
    if (!ROWS.includes(r)) throw new UsageError(`unknown row '${r}' (rows: ${ROWS.join(', ')})`);
  const runs = Number(arg('runs') ?? (quick ? 1 : 3));
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError('--runs must be a positive integer');
  const size = parseSize(arg('size'), '--size') ?? (quick ? ([64, 64] as [number, number]) : undefined);
  const gpujsSize = parseSize(arg('gpujs-size'), '--gpujs-size') ?? size ?? DEFAULT_GPUJS_SIZE;
  const timeoutMs = Number(arg('timeout') ?? 1800) * 1000;

  const jobs: Job[] = [];
  for (const model of models)
    for (const row of rows) {
      const s = row === 'gpujs' ? gpujsSize : (size ?? SIZES[model] ?? registered(model));
      if (model.startsWith('hrnet') && (s[0] % 32 !== 0 || s[1] % 32 !== 0))
        throw new UsageError(`${model} needs an input divisible by 32 (got ${s[0]}×${s[1]})`);
      const threads = row === 'wasm-2T' ? 2 : 1;
      jobs.push({
        model,
        row,
        params: {
          model,
          backend: row.startsWith('wasm') ? 'wasm' : (row as 'gpujs' | 'js'),
          threads,
          size: s,
          runs,
        },
      });
    }

  const executablePath = CHROMIUM_PATH;
  if (!existsSync(executablePath))
    throw new UsageError(
      `Chromium is missing at ${executablePath}: install Debian's (apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium binary`,
    );

  const load0 = loadavg();
  process.stderr.write('bundling the page with Vite …\n');
  const root = await bundlePage();
  const { server, url } = await serve(root);
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  const outcomes: Outcome[] = [];
  try {
    process.stderr.write(`Chromium ${browser.version()}, page at ${url}\n`);
    for (const [i, job] of jobs.entries()) {
      const s = `${job.params.size![0]}×${job.params.size![1]}`;
      process.stderr.write(`[${i + 1}/${jobs.length}] ${job.model} ${job.row} at ${s} …\n`);
      const t0 = performance.now();
      const o = await runRow(browser, url, job, timeoutMs);
      outcomes.push(o);
      const took = ((performance.now() - t0) / 1000).toFixed(1);
      if ('error' in o) process.stderr.write(`  failed after ${took} s: ${o.error}\n`);
      else
        process.stderr.write(
          `  median ${fmt(median(o.result.times))} ms (warm-up ${fmt(o.result.warmupMs)} ms, ` +
            `${o.result.threads} thread${o.result.threads === 1 ? '' : 's'}` +
            `${o.result.workerJobs ? `, jobs per thread ${o.result.workerJobs.join('/')}` : ''}); row took ${took} s\n`,
        );
    }
    const load1 = loadavg();
    const ok = outcomes.filter((o): o is { job: Job; result: PageResult } => 'result' in o);
    const lines = [
      '| model | input | backend | threads | median ms (± MAD) | warm-up ms | runs |',
      '| --- | --- | --- | ---: | ---: | ---: | ---: |',
    ];
    for (const o of outcomes) {
      if ('error' in o) {
        const [h, w] = o.job.params.size!;
        const t = o.job.params.backend === 'wasm' ? `${o.job.params.threads}` : '—';
        lines.push(
          `| ${o.job.model} | ${h}×${w} | ${o.job.params.backend} | ${t} | failed: ${o.error.replaceAll('|', '\\|')} | | |`,
        );
        continue;
      }
      const r = o.result;
      const t =
        r.backend !== 'wasm'
          ? '—'
          : r.threads === o.job.params.threads
            ? `${r.threads}`
            : `${r.threads} (asked ${o.job.params.threads})`;
      lines.push(
        `| ${r.model} | ${r.input[2]}×${r.input[3]} | ${r.backend === 'gpujs' ? 'gpujs (WebGL2)' : r.backend} | ${t} | ` +
          `${fmt(median(r.times))} ± ${fmt(mad(r.times))} | ${fmt(r.warmupMs)} | ${r.times.length} |`,
      );
    }
    const isolated = [...new Set(ok.map((o) => o.result.crossOriginIsolated))];
    const renderer = ok.find((o) => o.result.webglRenderer !== null)?.result.webglRenderer ?? null;
    const twoT = ok.filter((o) => o.job.row === 'wasm-2T');
    const jobsNote = twoT.length
      ? ` wasm-2T jobs per thread during the timed runs (page thread / worker): ${twoT
          .map((o) => `${o.result.model} ${o.result.workerJobs?.join('/') ?? '?'}`)
          .join(', ')}.`
      : '';
    const threadsNote = ok.find((o) => o.result.detail && o.result.backend === 'wasm')?.result.detail;
    const sw = renderer !== null && /swiftshader/i.test(renderer);
    lines.push(
      '',
      `Chromium ${browser.version()} headless (${executablePath}); crossOriginIsolated: ${isolated.join('/') || '?'}` +
        `${threadsNote ? ` (wasm threads unavailable: ${threadsNote})` : ''}.${jobsNote} ` +
        `WebGL2 renderer: ${renderer ?? 'none'}${sw ? ' — SwiftShader is a software GPU (the GPU is emulated on the CPU), so the gpujs rows measure no hardware GPU and run at a reduced input' : ''}. ` +
        `Seeded weights (nn.manualSeed(0)), input randomNormal seed 1, batch 1; one warm-up forward, then the timed runs, each row in a fresh browser context. ` +
        `${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); load average ${load0.map((l) => l.toFixed(2)).join(' ')} before, ${load1.map((l) => l.toFixed(2)).join(' ')} after.`,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await browser.close().catch(() => {});
    server.close();
    await rm(root, { recursive: true, force: true }).catch(() => {});
  }
  return outcomes.some((o) => 'error' in o) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench:browser: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
