/**
 * `pnpm bench` in apps/peers: whole networks side by side on this machine — kernelzoo (wasm on
 * 1 and 2 threads, js) against TensorFlow.js (wasm, cpu) and ONNX Runtime Web (wasm, 1 and 2
 * threads) running the same forward: the network is recorded kernel by kernel on kernelzoo
 * (eval mode, BatchNorm folded, seeded weights) and that graph is replayed in each peer. Each
 * row runs in its own process (ONNX Runtime fixes its thread count per process). Prints a
 * Markdown table of medians, the ratios, and each peer's largest difference from kernelzoo's
 * output (relative to its largest magnitude), which shows they computed the same thing.
 *
 * Usage: node dist/networks.js [--models id,…] [--columns col,…] [--runs N] [--size HxW]
 *   models: registry ids (default hrnet_w32_pose,sknet50,spnet50_ade20k at their registered
 *   sizes; SPNet at 512×512, the size). columns: wasm-1T, wasm-2T, js, tfjs-wasm,
 *   tfjs-cpu, ort-1T, ort-2T (default all, where js and tfjs-cpu are skipped for segmentation
 *   networks, minutes per forward; named in --columns they run).
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { registerWasmBackend, setThreads, WasmBackend } from '@kernelzoo/backend-wasm';
import { getModel, nn, randomNormal, setBackend, type Tensor } from '@kernelzoo/core';
import '@kernelzoo/hrnet';
import '@kernelzoo/sknet';
import '@kernelzoo/spnet';
import { relativeDifference } from './difference.js';
import { recordNetwork } from './record.js';
import type { Runner } from './runner.js';

/** The columns, in table order. */
export const COLUMNS = ['wasm-1T', 'wasm-2T', 'js', 'tfjs-wasm', 'tfjs-cpu', 'ort-1T', 'ort-2T'] as const;
/** One column: a kernelzoo backend and thread count, or a peer. */
export type Column = (typeof COLUMNS)[number];

const DEFAULT_MODELS = ['hrnet_w32_pose', 'sknet50', 'spnet50_ade20k'];
/** Input sizes other than the registered one (the SPNet target is at 512²). */
const SIZES: Record<string, [number, number]> = { spnet50_ade20k: [512, 512] };
/** Columns too slow for whole segmentation networks at full size. */
const SLOW = new Set<Column>(['js', 'tfjs-cpu']);

/** One row's measurement, printed by a worker as JSON. */
interface Row {
  readonly model: string;
  readonly column: Column;
  readonly times: number[];
  /** max |peer − kernelzoo| / max |kernelzoo| (null for kernelzoo's own columns). */
  readonly diff: number | null;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function time(run: () => Promise<unknown>, runs: number): Promise<number[]> {
  await run(); // warm-up: folds weights, creates kernels, sizes arenas
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return times;
}

function inputShape(model: string): number[] {
  const [h, w] = (arg('size')?.split('x').map(Number) as [number, number] | undefined) ??
    SIZES[model] ?? [...getModel(model).inputSize];
  return [1, 3, h, w];
}

/** One row, in this process. */
async function worker(model: string, column: Column, runs: number): Promise<Row> {
  const entry = getModel(model);
  const shape = inputShape(model);
  const build = () => {
    nn.manualSeed(0);
    return entry.build();
  };
  if (column === 'wasm-1T' || column === 'wasm-2T' || column === 'js') {
    if (column === 'js') {
      registerJsBackend();
      await setBackend('js');
    } else {
      registerWasmBackend({ threads: 2 });
      await setBackend('wasm');
      await setThreads(column === 'wasm-1T' ? 1 : 2);
    }
    const net = build().eval();
    const x = randomNormal(shape, 0, 1, { seed: 1 });
    const times = await time(async () => {
      const y = net.call(x) as Tensor | Tensor[];
      const first = Array.isArray(y) ? y[0]! : y;
      await first.data();
      for (const t of Array.isArray(y) ? y : [y]) t.dispose();
    }, runs);
    return { model, column, times, diff: null };
  }
  const recorded = await recordNetwork(build, shape, await WasmBackend.create({ threads: 1 }));
  // The peers are imported only by their own rows: with TF.js imported, backend-js's forward ran
  // 5–15 % slower in the same process (docs/benchmarks.md, "backend-js: the 3 × 2 micro-kernel").
  let runner: Runner;
  if (column === 'tfjs-wasm' || column === 'tfjs-cpu') {
    const { tfjsRunner } = await import('./tfjs.js');
    runner = await tfjsRunner(recorded.graph, column === 'tfjs-wasm' ? 'wasm' : 'cpu');
  } else {
    const { ortRunner } = await import('./onnx.js');
    runner = await ortRunner(recorded.graph, column === 'ort-1T' ? 1 : 2);
  }
  let out: Float32Array = new Float32Array(0);
  const times = await time(async () => {
    out = await runner.run(recorded.input);
  }, runs);
  await runner.dispose();
  return { model, column, times, diff: relativeDifference(recorded.output, out) };
}

function runWorker(model: string, column: Column, runs: number): Promise<Row> {
  return new Promise((resolve, reject) => {
    const script = fileURLToPath(import.meta.url);
    const args = [script, '--worker', model, column, '--runs', String(runs)];
    const size = arg('size');
    if (size) args.push('--size', size);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${model} on ${column} exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as Row);
    });
  });
}

function table(rows: readonly Row[], models: readonly string[], columns: readonly Column[]): string {
  const get = (m: string, c: Column) => rows.find((r) => r.model === m && r.column === c);
  const ms = (m: string, c: Column) => {
    const r = get(m, c);
    return r ? median(r.times) : null;
  };
  const ratio = (m: string, peer: Column, ours: Column) => {
    const p = ms(m, peer);
    const o = ms(m, ours);
    return p !== null && o !== null ? `${(p / o).toFixed(2)}×` : '—';
  };
  const header = [
    'model',
    'input',
    ...columns.map((c) => `${c} ms`),
    'tfjs-wasm / wasm-1T',
    'ort-1T / wasm-1T',
    'ort-2T / wasm-2T',
    'tfjs-cpu / js',
    'largest difference (peers)',
  ];
  const lines = models.map((m) => {
    const diffs = rows
      .filter((r) => r.model === m && r.diff !== null)
      .map((r) => `${r.column} ${r.diff!.toExponential(1)}`);
    return [
      m,
      inputShape(m).slice(1).join('×'),
      ...columns.map((c) => {
        const v = ms(m, c);
        return v === null ? '—' : v.toFixed(1);
      }),
      ratio(m, 'tfjs-wasm', 'wasm-1T'),
      ratio(m, 'ort-1T', 'wasm-1T'),
      ratio(m, 'ort-2T', 'wasm-2T'),
      ratio(m, 'tfjs-cpu', 'js'),
      diffs.join(', ') || '—',
    ];
  });
  const row = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [row(header), row(header.map(() => '---')), ...lines.map(row)].join('\n');
}

async function main(): Promise<void> {
  const runs = Number(arg('runs') ?? 5);
  if (process.argv.includes('--worker')) {
    const i = process.argv.indexOf('--worker');
    const row = await worker(process.argv[i + 1]!, process.argv[i + 2] as Column, runs);
    process.stdout.write(`${JSON.stringify(row)}\n`);
    process.exit(0);
  }
  const models = arg('models')?.split(',') ?? DEFAULT_MODELS;
  const named = arg('columns')?.split(',') as Column[] | undefined;
  const columns = named ?? [...COLUMNS];
  for (const c of columns)
    if (!COLUMNS.includes(c)) throw new Error(`unknown column '${c}' (${COLUMNS.join(', ')})`);
  for (const m of models) getModel(m); // unknown ids fail before any work
  const load = loadavg()[0]!;
  const rows: Row[] = [];
  for (const m of models)
    for (const c of columns) {
      if (!named && SLOW.has(c) && getModel(m).task === 'segmentation') continue;
      const row = await runWorker(m, c, runs);
      rows.push(row);
      process.stderr.write(`${m} ${c}: median ${median(row.times).toFixed(1)} ms\n`);
    }
  process.stdout.write(
    `Networks on ${cpus()[0]?.model ?? 'this CPU'} (${cpus().length} cores), Node ${process.versions.node}, ` +
      `load average ${load.toFixed(2)} at the start; median of ${runs} runs after one warm-up, batch 1, seeded weights.\n\n`,
  );
  process.stdout.write(`${table(rows, models, columns)}\n`);
}

try {
  await main();
} catch (e) {
  process.stderr.write(`networks bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
