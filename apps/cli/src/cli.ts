import { parseArgs } from 'node:util';
import {
  type ConformanceProgress,
  type ConformanceReport,
  formatConformanceReport,
  GAPS_GROUP,
  runConformance,
} from '@kernelzoo/conformance';
import {
  getBackend,
  memory,
  nn,
  randomNormal,
  registeredBackends,
  setBackend,
  summary,
} from '@kernelzoo/core';
import { SKConv } from '@kernelzoo/sknet';

/**
 * The backend packages the CLI looks for. A package counts as installed when it can be
 * imported and exports a `register…Backend` function. `warmup` and `runs` are the defaults for
 * `seed`: plain JS needs tens of seconds per run of the seed example, so it gets a single run
 * and no warm-up (the JIT warms up within the first convolution anyway). gpu.js without a GPU
 * (see {@link gpuUnavailable}) is skipped unless asked for by name.
 */
export const BACKEND_PACKAGES = [
  { pkg: '@kernelzoo/backend-js', warmup: 0, runs: 1 },
  { pkg: '@kernelzoo/backend-wasm', warmup: 1, runs: 3 },
  { pkg: '@kernelzoo/backend-gpujs', warmup: 1, runs: 3 },
] as const;

/** A backend found by {@link discoverBackends}. */
export interface FoundBackend {
  name: string;
  pkg: string;
  warmup: number;
  runs: number;
}

/** The names each `register…Backend` function added when first called (a second call adds none). */
const namesByRegister = new WeakMap<object, string[]>();

/**
 * Imports every installed backend package, registers it and returns the names it added (the
 * same names on later calls in one process).
 */
export async function discoverBackends(
  packages: readonly { pkg: string; warmup: number; runs: number }[] = BACKEND_PACKAGES,
  load: (pkg: string) => Promise<Record<string, unknown>> = (pkg) => import(pkg),
): Promise<FoundBackend[]> {
  const found: FoundBackend[] = [];
  for (const p of packages) {
    let mod: Record<string, unknown>;
    try {
      mod = await load(p.pkg);
    } catch {
      continue; // not installed
    }
    for (const [key, fn] of Object.entries(mod)) {
      if (!/^register\w*Backend$/.test(key) || typeof fn !== 'function') continue;
      let names = namesByRegister.get(fn);
      if (names === undefined) {
        const before = new Set(registeredBackends());
        fn();
        names = registeredBackends().filter((name) => !before.has(name));
        namesByRegister.set(fn, names);
      }
      for (const name of names) found.push({ name, pkg: p.pkg, warmup: p.warmup, runs: p.runs });
    }
  }
  return found;
}

/**
 * Why the active backend should not run `command` by default, or null. gpu.js in Node
 * without headless-gl runs its kernels in a CPU emulation (`webasm`/`cpu` mode): correct, but
 * for `seed` ~82 G multiply-adds take tens of minutes there, and for `conformance` the
 * emulation's results say nothing of the GPU's precision (it takes only seconds, though).
 */
export function gpuUnavailable(backend: unknown, command: 'seed' | 'conformance' = 'seed'): string | null {
  const mode = (backend as { mode?: unknown }).mode;
  if (typeof mode !== 'string' || !['webasm', 'cpu'].includes(mode)) return null;
  const name = (backend as { name?: string }).name ?? 'gpujs';
  const why =
    command === 'seed'
      ? `the seed example would take tens of minutes; time it anyway with --backend ${name} --batch 1`
      : `the suite would check that emulation, not the GPU's kernels; check it anyway (a few seconds) with --backend ${name}`;
  return `gpu.js has no GPU here (mode '${mode}', a CPU emulation): ${why}`;
}

/** The seed example's SKConv: features 256, M = 2, G = 1, r = 2 (d = 128), input 24×24. */
export const SEED = { features: 256, M: 2, G: 1, r: 2, size: 24 } as const;

export const HELP = `kernelzoo — run kernelzoo's networks from the command line

usage:
  kernelzoo seed [--batch N] [--runs N] [--warmup N] [--backend NAME]
      Runs the seed example, SKConv(features ${SEED.features}, M ${SEED.M}, G ${SEED.G}, r ${SEED.r}) in eval mode
      on a seeded random [batch, ${SEED.features}, ${SEED.size}, ${SEED.size}] input, on every installed backend
      (@kernelzoo/backend-js, -wasm, -gpujs), and prints backend, output shape and the median
      time of the runs. Progress goes to stderr. gpu.js without a GPU (Node without headless-gl)
      is skipped unless named with --backend.
        --batch N    batch size (default 32; ~82 G multiply-adds at 32)
        --runs N     timed runs per backend (default: 1 on js, 3 elsewhere)
        --warmup N   untimed runs first (default: 0 on js — a run takes tens of seconds there — 1 elsewhere)
        --backend X  only this backend (e.g. js)
  kernelzoo summary [--batch N]
      Prints layers, output shapes, parameters and multiply-adds of that SKConv for a
      [batch, ${SEED.features}, ${SEED.size}, ${SEED.size}] input (default batch 1), without running kernels.
  kernelzoo conformance [--backend NAME] [--filter TEXT] [--json]
      Runs the conformance suite (@kernelzoo/conformance) on every installed backend: every
      kernel against the oracles, leak checks, engine and nn behaviour. Prints the kernel ×
      backend table (pass, gap [n] with the reasons below it, FAIL, - when not run) with the
      largest |a−e| seen, then each failing case; exits 1 if any case failed. Progress goes to
      stderr. gpu.js without a GPU is skipped unless named with --backend.
        --backend X  only this backend (js, wasm, gpujs)
        --filter T   only the cases whose group or name contains T (case-insensitive)
        --json       print the reports as JSON instead of the table
  kernelzoo --help
`;

/** A parsed command line. */
export type Command =
  | { command: 'help' }
  | { command: 'seed'; batch: number; runs?: number; warmup?: number; backend?: string }
  | { command: 'summary'; batch: number }
  | { command: 'conformance'; backend?: string; filter?: string; json: boolean };

function positiveInt(flag: string, v: string | undefined, fallback: number | undefined, min = 1) {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${flag} must be an integer ≥ ${min}, got '${v}'`);
  return n;
}

/** A command-line mistake: the message is printed with the help. */
export class UsageError extends Error {}

/** Parses `argv` (without node and the script). Throws {@link UsageError}. */
export function parseCommand(argv: readonly string[]): Command {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) return { command: 'help' };
  if (positionals.length > 1) throw new UsageError(`unexpected arguments: ${positionals.slice(1).join(' ')}`);
  const [cmd] = positionals;
  const only = (flags: readonly (keyof typeof OPTIONS)[], where: string) => {
    for (const f of flags)
      if (values[f] !== undefined) throw new UsageError(`--${f} applies to ${where} only`);
  };
  if (cmd !== 'conformance') only(['filter', 'json'], "'conformance'");
  if (cmd === 'seed')
    return {
      command: 'seed',
      batch: positiveInt('batch', values.batch, 32)!,
      runs: positiveInt('runs', values.runs, undefined),
      warmup: positiveInt('warmup', values.warmup, undefined, 0),
      backend: values.backend,
    };
  if (cmd === 'summary') {
    only(['runs', 'warmup'], "'seed'");
    only(['backend'], "'seed' and 'conformance'");
    return { command: 'summary', batch: positiveInt('batch', values.batch, 1)! };
  }
  if (cmd === 'conformance') {
    only(['runs', 'warmup'], "'seed'");
    only(['batch'], "'seed' and 'summary'");
    if (values.filter === '') throw new UsageError('--filter needs a non-empty text');
    return {
      command: 'conformance',
      backend: values.backend,
      filter: values.filter,
      json: values.json ?? false,
    };
  }
  throw new UsageError(`unknown command '${cmd}'`);
}

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  batch: { type: 'string' },
  runs: { type: 'string' },
  warmup: { type: 'string' },
  backend: { type: 'string' },
  filter: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Formats rows as an aligned text table (first column left-aligned, the rest right-aligned). */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One backend's result of the seed example. */
export interface SeedResult {
  backend: string;
  outputShape: readonly number[];
  timesMs: number[];
  meanAbs: number;
}

/** Runs the seed example on the active backend; `log` receives progress lines. */
export async function runSeed(
  backend: string,
  batch: number,
  warmup: number,
  runs: number,
  log: (line: string) => void,
): Promise<SeedResult> {
  nn.manualSeed(0);
  const sk = new SKConv({ features: SEED.features, M: SEED.M, G: SEED.G, r: SEED.r }).eval();
  const x = randomNormal([batch, SEED.features, SEED.size, SEED.size], 0, 1, { seed: 42 });
  const timesMs: number[] = [];
  let outputShape: readonly number[] = [];
  let meanAbs = 0;
  try {
    for (let i = 0; i < warmup + runs; i++) {
      const label = i < warmup ? `warm-up ${i + 1}/${warmup}` : `run ${i - warmup + 1}/${runs}`;
      log(`[${backend}] ${label} …`);
      const t0 = performance.now();
      const y = sk.call(x);
      const values = await y.data(); // waits for lazy backends too
      const ms = performance.now() - t0;
      outputShape = y.shape;
      y.dispose();
      let s = 0;
      for (let j = 0; j < values.length; j++) s += Math.abs(values[j]);
      meanAbs = s / values.length;
      log(`[${backend}] ${label}: ${ms.toFixed(0)} ms`);
      if (i >= warmup) timesMs.push(ms);
    }
  } finally {
    x.dispose();
    sk.dispose();
  }
  return { backend, outputShape, timesMs, meanAbs };
}

/** One backend's outcome of the `conformance` command. */
export interface ConformanceOutcome {
  /** The backend's registered name. */
  backend: string;
  /** Its report, when the suite ran. */
  report?: ConformanceReport;
  /** Why it was not run (gpu.js without a GPU). */
  skipped?: string;
  /** Why the suite could not start on it (its setup failed). */
  error?: string;
}

/**
 * The `conformance` command on backends found by {@link discoverBackends}: runs the suite on
 * each (gpu.js in CPU emulation skipped unless it was named), prints the kernel × backend table
 * (or JSON) to `out` and progress to `err`; returns 1 if any case failed or a backend could not
 * start, else 0.
 */
export async function conformance(
  cmd: { backend?: string; filter?: string; json: boolean },
  backends: readonly FoundBackend[],
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<number> {
  const outcomes: ConformanceOutcome[] = [];
  for (const b of backends) {
    try {
      await setBackend(b.name);
      const skip = cmd.backend ? null : gpuUnavailable(getBackend(), 'conformance');
      if (skip) {
        err(`[${b.name}] skipped: ${skip}\n`);
        outcomes.push({ backend: b.name, skipped: skip });
        continue;
      }
    } catch (e) {
      err(`[${b.name}] failed: ${(e as Error).message}\n`);
      outcomes.push({ backend: b.name, error: (e as Error).message });
      continue;
    }
    err(`[${b.name}] conformance${cmd.filter ? ` (cases matching '${cmd.filter}')` : ''} …\n`);
    const progress = (e: ConformanceProgress) => {
      if (e.kind === 'case' && e.result.status === 'fail')
        err(`[${b.name}] FAIL ${e.result.group} › ${e.result.name}\n`);
      if (e.kind !== 'group') return;
      const n = { pass: 0, fail: 0, gap: 0 };
      let ms = 0;
      for (const r of e.results) {
        n[r.status]++;
        ms += r.ms;
      }
      err(`[${b.name}] ${e.group}: ${n.pass} pass, ${n.fail} fail, ${n.gap} gap (${ms.toFixed(0)} ms)\n`);
    };
    try {
      // discoverBackends registered it; the suite's setup has nothing left to do
      const report = await runConformance(
        { name: b.name, setup: async () => undefined },
        { filter: cmd.filter, onProgress: progress },
      );
      outcomes.push({ backend: b.name, report });
    } catch (e) {
      err(`[${b.name}] failed: ${(e as Error).message}\n`);
      outcomes.push({ backend: b.name, error: (e as Error).message });
    }
  }
  const reports = outcomes.flatMap((o) => (o.report ? [o.report] : []));
  const ok = outcomes.every((o) => o.error === undefined && (o.report?.ok ?? true));
  if (cmd.json)
    out(
      `${JSON.stringify({ ok, backends: outcomes }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`,
    );
  else {
    if (reports.length > 0) out(`${formatConformanceReport(reports)}\n`);
    for (const o of outcomes)
      if (!o.report) out(`${o.backend}: ${o.skipped ? `skipped — ${o.skipped}` : `failed — ${o.error}`}\n`);
  }
  if (
    cmd.filter &&
    reports.length > 0 &&
    reports.every((r) => r.cases.every((c) => c.group === GAPS_GROUP))
  ) {
    err(`kernelzoo: no case matches --filter '${cmd.filter}'\n`);
    return 1;
  }
  return ok ? 0 : 1;
}

/** Runs a parsed command; returns the exit code. */
export async function main(
  argv: readonly string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  let cmd: Command;
  try {
    cmd = parseCommand(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`kernelzoo: ${e.message}\n\n${HELP}`);
    return 2;
  }
  if (cmd.command === 'help') {
    out(HELP);
    return 0;
  }
  let backends = await discoverBackends();
  const named = cmd.command === 'summary' ? undefined : cmd.backend;
  if (named) backends = backends.filter((b) => b.name === named);
  if (backends.length === 0) {
    err(
      named
        ? `kernelzoo: backend '${named}' is not installed\n`
        : 'kernelzoo: no backend package is installed (e.g. @kernelzoo/backend-js)\n',
    );
    return 1;
  }
  if (cmd.command === 'conformance') return conformance(cmd, backends, out, err);
  if (cmd.command === 'summary') {
    await setBackend(backends[0].name);
    nn.manualSeed(0);
    const sk = new SKConv({ features: SEED.features, M: SEED.M, G: SEED.G, r: SEED.r });
    out(`SKConv(features ${SEED.features}, M ${SEED.M}, G ${SEED.G}, r ${SEED.r}), d = ${sk.d}\n`);
    out(`${summary(sk, [cmd.batch, SEED.features, SEED.size, SEED.size]).toString()}\n`);
    sk.dispose();
    return 0;
  }
  const shape = `[${cmd.batch}, ${SEED.features}, ${SEED.size}, ${SEED.size}]`;
  err(`seed: SKConv(features ${SEED.features}, M ${SEED.M}, G ${SEED.G}, r ${SEED.r}) on ${shape}\n`);
  const rows: string[][] = [];
  for (const b of backends) {
    const warmup = cmd.warmup ?? b.warmup;
    const runs = cmd.runs ?? b.runs;
    try {
      await setBackend(b.name);
      const skip = cmd.backend ? null : gpuUnavailable(getBackend());
      if (skip) {
        err(`[${b.name}] skipped: ${skip}\n`);
        rows.push([b.name, 'skipped', '-', '-', '-', '-']);
        continue;
      }
      const r = await runSeed(b.name, cmd.batch, warmup, runs, (l) => err(`${l}\n`));
      rows.push([
        r.backend,
        `[${r.outputShape.join(', ')}]`,
        String(warmup),
        String(runs),
        median(r.timesMs).toFixed(1),
        r.meanAbs.toPrecision(6),
      ]);
    } catch (e) {
      err(`[${b.name}] failed: ${(e as Error).message}\n`);
      rows.push([b.name, 'failed', String(warmup), String(runs), '-', '-']);
    }
  }
  out(`${formatTable(['backend', 'output shape', 'warm-up', 'runs', 'median ms', 'mean |V|'], rows)}\n`);
  const leaked = memory().numTensors;
  if (leaked !== 0) err(`note: ${leaked} tensors still live\n`);
  return rows.some((r) => r[1] === 'failed') ? 1 : 0;
}
