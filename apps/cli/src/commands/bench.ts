/**
 * `kernelzoo bench`: registered networks × backends (× wasm thread counts) → time per image,
 * throughput, effective GFLOP/s and memory, each row measured in its own child process (the
 * registry issue's definition of memory: the child's peak RSS, plus the engine's live bytes and,
 * on wasm, the heap's high-water mark), with an optional per-kernel profile from the runtime
 * trace.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  dispose,
  getBackend,
  listModels,
  memory,
  nn,
  randomNormal,
  setBackend,
  startKernelTrace,
  summary,
  type Tensor,
  type TensorContainer,
} from '@kernelzoo/core';
import { discoverBackends, gpuUnavailable, useBackend } from '../backends.js';
import { discoverModels, findModel } from '../models.js';
import { createProgress } from '../progress.js';
import { CliError, formatTable, type Io, mad, median, toJson, UsageError } from '../util.js';

/** Options shared by `bench` and its per-row child. */
export interface BenchOptions {
  runs: number;
  warmup: number;
  size?: [number, number];
  batch: number;
  profile?: boolean;
}

/** One row of the bench. */
export interface BenchRow {
  model: string;
  backend: string;
  threads: number;
  input: number[];
  runs: number;
  warmup: number;
  times_ms: number[];
  median_ms: number;
  mad_ms: number;
  min_ms: number;
  max_ms: number;
  images_per_s: number;
  /** Multiply-adds of one forward at `input` (from `summary`). */
  macs: number;
  /** 2 × multiply-adds per second, in 10⁹. */
  gflops_per_s: number;
  /** Peak resident set size of the row's process (build, weights, runs), MiB. */
  peak_rss_mib: number;
  /** Bytes the engine holds after the runs (the weights and the input), MiB. */
  live_mib: number;
  /** wasm only: the WebAssembly memory's size, which only grows: its high-water mark, MiB. */
  wasm_heap_mib: number | null;
  backend_detail: string;
  profile?: { kernel: string; calls: number; ms: number }[];
  /**
   * With `--profile`, the traced forward's memory: the backend's bytes before it (weights and
   * input) and the most it held just after any kernel call, MiB.
   */
  profile_memory?: { held_mib: number; peak_mib: number };
}

const MIB = 2 ** 20;

/** The hidden `bench-worker` command: one row, measured in this process; prints the row as JSON. */
export async function benchWorker(
  opts: BenchOptions & { model: string; backend: string; threads?: number },
  io: Io,
): Promise<number> {
  const entry = await findModel(opts.model);
  const backend = await useBackend(await discoverBackends(), opts.backend, opts.threads);
  const [h, w] = opts.size ?? entry.inputSize;
  const shape = [opts.batch, 3, h, w];
  nn.manualSeed(0);
  const model = entry.build().eval();
  const macs = summary(model, shape).totalMultiplyAdds;
  const x = randomNormal(shape, 0, 1, { seed: 1 });
  const forward = async () => {
    const y = model.call(x) as TensorContainer;
    const first = (Array.isArray(y) ? y[0] : y) as Tensor;
    await first.data(); // waits for lazy backends too
    dispose(y);
  };
  const times: number[] = [];
  for (let i = 0; i < opts.warmup + opts.runs; i++) {
    const t0 = performance.now();
    await forward();
    const ms = performance.now() - t0;
    if (i >= opts.warmup) times.push(ms);
    io.err(`@progress ${i + 1}\n`);
  }
  let profile: BenchRow['profile'];
  let profileMemory: BenchRow['profile_memory'];
  if (opts.profile) {
    const held = memory().backends[backend.name]?.bytes ?? memory().numBytes;
    const trace = startKernelTrace();
    await forward();
    trace.stop();
    profile = trace.byKernel().map((s) => ({ kernel: s.kernel, calls: s.calls, ms: s.ms }));
    profileMemory = { held_mib: held / MIB, peak_mib: trace.peakBackendBytes / MIB };
    io.err(`@progress ${opts.warmup + opts.runs + 1}\n`);
  }
  const heap = (getBackend() as unknown as { heapStats?: () => { memoryBytes: number } }).heapStats?.();
  const live = memory().numBytes;
  x.dispose();
  model.dispose();
  const med = median(times);
  const row: BenchRow = {
    model: opts.model,
    backend: backend.name,
    threads: backend.threads,
    input: shape,
    runs: opts.runs,
    warmup: opts.warmup,
    times_ms: times,
    median_ms: med,
    mad_ms: mad(times),
    min_ms: Math.min(...times),
    max_ms: Math.max(...times),
    images_per_s: (opts.batch * 1000) / med,
    macs,
    gflops_per_s: (2 * macs) / (med * 1e6),
    peak_rss_mib: (process.resourceUsage().maxRSS * 1024) / MIB,
    live_mib: live / MIB,
    wasm_heap_mib: heap ? heap.memoryBytes / MIB : null,
    backend_detail: backend.detail,
    ...(profile ? { profile } : {}),
    ...(profileMemory ? { profile_memory: profileMemory } : {}),
  };
  io.out(JSON.stringify(row));
  return 0;
}

/** Runs one row in a child process; `tick` hears each finished forward. */
function runChild(args: string[], tick: () => void): Promise<BenchRow | { error: string }> {
  const main = fileURLToPath(new URL('../main.js', import.meta.url));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, 'bench-worker', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KERNELZOO_NO_PROGRESS: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      for (const _ of d.matchAll(/^@progress \d+$/gm)) tick();
    });
    child.on('error', (e) => resolve({ error: e.message }));
    child.on('close', (code, signal) => {
      if (code === 0) {
        try {
          resolve(JSON.parse(out) as BenchRow);
          return;
        } catch {}
      }
      const lines = err
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.startsWith('@progress'))
        .map((l) => l.replace(/^kernelzoo( bench-worker)?: /, ''));
      resolve({
        error:
          lines[lines.length - 1] ?? (signal ? `killed by ${signal} (out of memory?)` : `exit code ${code}`),
      });
    });
  });
}

/** `kernelzoo bench`. */
export async function benchCommand(
  opts: BenchOptions & { models?: string[]; backends?: string[]; threads?: number[]; json?: boolean },
  io: Io,
): Promise<number> {
  await discoverModels();
  const models = opts.models ?? listModels().map((e) => e.id);
  for (const m of models) await findModel(m); // usage error for an unknown id, before any work
  const found = await discoverBackends();
  if (found.length === 0) throw new UsageError('no backend package is installed');
  for (const b of opts.backends ?? [])
    if (!found.some((f) => f.name === b))
      throw new UsageError(`unknown backend '${b}' (installed here: ${found.map((f) => f.name).join(', ')})`);
  if (opts.threads && !(opts.backends ?? found.map((f) => f.name)).includes('wasm'))
    throw new UsageError('--threads applies to the wasm backend, which this bench does not run');
  const skipped: { backend: string; reason: string }[] = [];
  let backends = opts.backends ?? found.map((f) => f.name);
  if (!opts.backends) {
    const keep: string[] = [];
    for (const b of backends) {
      let why: string | null = null;
      try {
        await setBackend(b);
        why = gpuUnavailable(getBackend(), 'bench');
      } catch (e) {
        why = `cannot start: ${(e as Error).message}`;
      }
      if (why) skipped.push({ backend: b, reason: why });
      else keep.push(b);
    }
    backends = keep;
  }
  const plan: { model: string; backend: string; threads?: number }[] = [];
  for (const model of models)
    for (const backend of backends)
      for (const threads of backend === 'wasm' && opts.threads ? opts.threads : [undefined])
        plan.push({ model, backend, threads });
  const perRow = opts.warmup + opts.runs + (opts.profile ? 1 : 0);
  const progress = createProgress(io, !opts.json);
  progress.start(plan.length * perRow, 'bench');
  let done = 0;
  const rows: (BenchRow | (Record<string, unknown> & { error: string }))[] = [];
  for (const p of plan) {
    progress.update(done, `bench ${p.model} on ${p.backend}${p.threads ? ` ×${p.threads}` : ''}`);
    const args = [
      '--model',
      p.model,
      '--backend',
      p.backend,
      '--runs',
      String(opts.runs),
      '--warmup',
      String(opts.warmup),
      '--batch',
      String(opts.batch),
      ...(p.threads ? ['--threads', String(p.threads)] : []),
      ...(opts.size ? ['--size', opts.size.join(',')] : []),
      ...(opts.profile ? ['--profile'] : []),
    ];
    const start = done;
    const r = await runChild(args, () => progress.update(++done));
    done = start + perRow;
    progress.update(done);
    rows.push('error' in r ? { model: p.model, backend: p.backend, threads: p.threads ?? null, ...r } : r);
  }
  progress.stop();
  const failed = rows.filter((r) => 'error' in r);
  if (opts.json) {
    io.out(toJson(rows));
    for (const s of skipped) io.err(`kernelzoo bench: skipped ${s.backend}: ${s.reason}\n`);
    return failed.length ? 1 : 0;
  }
  const ok = rows.filter((r): r is BenchRow => !('error' in r));
  const f = (n: number, d = 1) => n.toFixed(d);
  io.out(
    `${formatTable(
      [
        'model',
        'backend',
        'threads',
        'input',
        'median ms',
        '± MAD',
        'img/s',
        'GFLOP/s',
        'peak RSS MiB',
        'live MiB',
        'wasm heap MiB',
      ],
      ok.map((r) => [
        r.model,
        r.backend,
        String(r.threads),
        r.input.slice(1).join('×') + (r.input[0] > 1 ? ` ×${r.input[0]}` : ''),
        f(r.median_ms),
        f(r.mad_ms),
        f(r.images_per_s, 2),
        f(r.gflops_per_s, 2),
        f(r.peak_rss_mib, 0),
        f(r.live_mib, 0),
        r.wasm_heap_mib === null ? '-' : f(r.wasm_heap_mib, 0),
      ]),
      'llrlrrrrrrr',
    )}\n`,
  );
  io.out(
    [
      `${opts.runs} timed runs after ${opts.warmup} warm-up per row, seeded weights, each row in its own process.`,
      '± MAD: median absolute deviation. GFLOP/s: 2 × multiply-adds (from summary) / median time.',
      "peak RSS: the row process's maximum resident set (build, weights, runs). live: engine bytes held",
      'after the runs (weights, input). wasm heap: the WebAssembly memory size, its high-water mark.\n',
    ].join('\n'),
  );
  if (opts.profile)
    for (const r of ok) {
      const prof = r.profile ?? [];
      const total = prof.reduce((s, k) => s + k.ms, 0);
      const mem = r.profile_memory;
      io.out(
        `\nprofile: ${r.model} on ${r.backend} (${r.threads} thread${r.threads === 1 ? '' : 's'}), one traced forward, ${f(total)} ms in kernels${
          mem
            ? `; the backend held ${f(mem.held_mib, 0)} MiB before it (weights, input) and at most ${f(mem.peak_mib, 0)} MiB after any kernel (activations up to ${f(mem.peak_mib - mem.held_mib, 0)} MiB)`
            : ''
        }\n`,
      );
      io.out(
        `${formatTable(
          ['kernel', 'calls', 'ms', 'share'],
          prof.map((k) => [k.kernel, String(k.calls), f(k.ms, 2), `${f((100 * k.ms) / (total || 1))} %`]),
        )}\n`,
      );
    }
  for (const s of skipped) io.out(`skipped ${s.backend}: ${s.reason}\n`);
  for (const r of failed)
    io.out(`FAILED ${r.model} on ${r.backend}${r.threads ? ` ×${r.threads}` : ''}: ${r.error}\n`);
  if (failed.length)
    throw new CliError(`${failed.length} of ${rows.length} bench rows failed (listed above)`);
  return 0;
}
