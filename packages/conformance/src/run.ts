/**
 * `runConformance`: the suite as a plain async function — no test framework — returning a
 * report per case and a per-kernel summary; `formatConformanceReport` renders the op ×
 * backend table.
 *
 * @module
 */
import { setBackend, setDebug, type Tensor } from '@kernelzoo/core';
import type { AccumulationReport } from './bounds.js';
import { type ConformanceEnv, KERNELS, type KernelName } from './env.js';
import { type Case, gapOf, makeContext, type RunnerContext, runCase } from './runner.js';
import { conformanceGroups } from './suite.js';
import { type Precision, precisionFor } from './tolerances.js';

/** How one case ended. */
export type CaseStatus = 'pass' | 'fail' | 'gap';

/** One case's result in a {@link ConformanceReport}. */
export interface CaseResult {
  /** The group's title (`conv2d`, `engine`, …). */
  readonly group: string;
  /** The case's name. */
  readonly name: string;
  /** The kernels (or `kernel:variant`s) it needs. */
  readonly needs: readonly string[];
  /**
   * `pass`; `gap` when it needs a declared gap and threw the `KernelzooError` naming the
   * kernel that a gap requires; `fail` otherwise (a mismatch, a leak, an unexpected error, a
   * gap that did not throw, …).
   */
  readonly status: CaseStatus;
  /** For `gap`, `'<key>: <reason>'` of the declared gap; for `fail`, the error's message. */
  readonly reason?: string;
  /** For `gap`, the key of the declared gap it met (`conv2d`, `unary:tanh`, …). */
  readonly gap?: string;
  /**
   * The largest `|actual − expected|` over the values its checks compared (`ctx.check` and
   * `ctx.checkAccumulated`), or null when it compared none that way. NaN matching NaN and an
   * infinity matching itself count as 0; any other non-finite difference as `Infinity`.
   */
  readonly maxError: number | null;
  /**
   * For long-sum cases (`ctx.checkAccumulated`), the worst of their reports: the largest
   * `|a − e| / (ε·Σ|terms|)` and the mean signed relative error and mean offset of largest
   * magnitude; null otherwise.
   */
  readonly accumulation: AccumulationReport | null;
  /** Wall-clock time of the case in milliseconds. */
  readonly ms: number;
}

/** Cases counted by {@link CaseStatus}. */
export interface StatusCounts {
  /** Cases that passed. */
  readonly pass: number;
  /** Cases that failed. */
  readonly fail: number;
  /** Cases that met a declared gap and threw as they must. */
  readonly gap: number;
}

/** What happened to one kernel of the `Backend` interface over a run. */
export type KernelStatus = 'pass' | 'fail' | 'gap' | 'not run';

/** One row of the per-kernel summary of a {@link ConformanceReport}. */
export interface KernelSummary {
  /** The kernel (a method of `Backend`, see `KERNELS`). */
  readonly kernel: KernelName;
  /**
   * `fail` if any case that needs it failed; else `gap` if any case needing it ran into a
   * declared gap of this kernel (all its variants may still pass); else `pass` if any case
   * needing it passed; else `not run` (filtered out).
   */
  readonly status: KernelStatus;
  /**
   * For `gap`, the declared gaps met (`'<key>: <reason>'`, joined by `; `); for `fail`, the
   * first failing case and its message.
   */
  readonly reason?: string;
  /** Cases that need it, by status. */
  readonly cases: StatusCounts;
  /**
   * The largest `|actual − expected|` seen in the passing and failing cases that need only
   * this kernel; where no such case compared values, in those that need it among others
   * (which credit their error to every kernel they need); null if none compared values.
   */
  readonly maxError: number | null;
}

/** What {@link runConformance} returns. */
export interface ConformanceReport {
  /** The backend's name. */
  readonly backend: string;
  /** The precision its results were judged by. */
  readonly precision: Precision;
  /** Every case that ran, in order. */
  readonly cases: readonly CaseResult[];
  /** One row per kernel of `KERNELS`, in that order. */
  readonly kernels: readonly KernelSummary[];
  /** Cases by status. */
  readonly totals: StatusCounts;
  /** True when no case failed. */
  readonly ok: boolean;
  /** Wall-clock time of the whole run in milliseconds (setup included). */
  readonly ms: number;
}

/** A progress event of {@link runConformance}. */
export type ConformanceProgress =
  | {
      /** A case finished. */
      readonly kind: 'case';
      /** Its result. */
      readonly result: CaseResult;
      /** Cases finished so far, this one included. */
      readonly done: number;
      /** Cases the run will run. */
      readonly total: number;
    }
  | {
      /** A group finished. */
      readonly kind: 'group';
      /** The group's title. */
      readonly group: string;
      /** Its cases' results. */
      readonly results: readonly CaseResult[];
    };

/** Options of {@link runConformance}. */
export interface ConformanceOptions {
  /**
   * Which cases to run: a string keeps the cases whose group title or name contains it
   * (case-insensitive); a function decides per case. Default: every case.
   */
  readonly filter?: string | ((group: string, name: string) => boolean);
  /** Called after every case and every group; nothing is printed unless this prints it. */
  readonly onProgress?: (event: ConformanceProgress) => void;
}

/** The group of the check of the environment's declared gaps (always run). */
export const GAPS_GROUP = 'environment';
const GAPS_CASE = 'declares gaps only for kernels of the Backend interface, each with a reason';

/**
 * Checks the gaps an environment declares: every key names a kernel of `KERNELS` (as
 * `kernel` or `kernel:variant`) and gives a non-empty reason. Throws an `Error` naming the
 * first bad key.
 */
export function validateGaps(env: ConformanceEnv): void {
  for (const [key, reason] of Object.entries(env.gaps ?? {})) {
    const kernel = key.split(':')[0];
    if (!(KERNELS as readonly string[]).includes(kernel))
      throw new Error(`gap '${key}': '${kernel}' is not a kernel (kernels: ${KERNELS.join(', ')})`);
    if (typeof reason !== 'string' || reason.trim() === '') throw new Error(`gap '${key}' gives no reason`);
  }
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The largest |a − e|, with isClose's rules for NaN and infinities. */
function maxAbsError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    let err: number;
    if (Number.isNaN(a) || Number.isNaN(e)) err = Number.isNaN(a) && Number.isNaN(e) ? 0 : Infinity;
    else if (!Number.isFinite(a) || !Number.isFinite(e)) err = a === e ? 0 : Infinity;
    else err = Math.abs(a - e);
    if (err > worst) worst = err;
  }
  return worst;
}

/**
 * The runner's context with the largest |a − e| of every `check` / `checkAccumulated`
 * recorded (the checks themselves are the runner's, unchanged).
 */
function recordingContext(ctx: RunnerContext): {
  ctx: RunnerContext;
  take(): number | null;
  takeAccumulation(): AccumulationReport | null;
} {
  let worst: number | null = null;
  let accumulation: AccumulationReport | null = null;
  const noteAccumulation = (r: AccumulationReport) => {
    const a = accumulation;
    accumulation = {
      worstRatio: Math.max(a?.worstRatio ?? 0, r.worstRatio),
      scaleError: Math.abs(r.scaleError) > Math.abs(a?.scaleError ?? 0) ? r.scaleError : (a?.scaleError ?? 0),
      offsetError:
        Math.abs(r.offsetError) > Math.abs(a?.offsetError ?? 0) ? r.offsetError : (a?.offsetError ?? 0),
    };
  };
  const note = (actual: Tensor, expected: ArrayLike<number>) => {
    try {
      if (actual.isDisposed || actual.size !== expected.length) return;
      const err = maxAbsError(actual.dataSync(), expected);
      worst = worst === null ? err : Math.max(worst, err);
    } catch {
      // the check itself has reported what is wrong with this tensor
    }
  };
  return {
    ctx: {
      ...ctx,
      check(actual, expected, what, preset) {
        try {
          ctx.check(actual, expected, what, preset);
        } finally {
          note(actual, expected.values);
        }
      },
      checkAccumulated(actual, expected, what) {
        try {
          const report = ctx.checkAccumulated(actual, expected, what);
          noteAccumulation(report);
          return report;
        } finally {
          note(actual, expected.values);
        }
      },
    },
    take() {
      const w = worst;
      worst = null;
      return w;
    },
    takeAccumulation() {
      const a = accumulation;
      accumulation = null;
      return a;
    },
  };
}

function caseFilter(filter: ConformanceOptions['filter']): (group: string, name: string) => boolean {
  if (filter === undefined) return () => true;
  if (typeof filter === 'function') return filter;
  const needle = filter.toLowerCase();
  return (group, name) => group.toLowerCase().includes(needle) || name.toLowerCase().includes(needle);
}

const kernelOf = (need: string): string => need.split(':')[0];

/** The per-kernel summary of a run's case results. */
export function summarizeKernels(cases: readonly CaseResult[]): KernelSummary[] {
  return KERNELS.map((kernel): KernelSummary => {
    const counts = { pass: 0, fail: 0, gap: 0 };
    const gapReasons: string[] = [];
    let firstFail: CaseResult | null = null;
    let own: number | null = null;
    let shared: number | null = null;
    for (const c of cases) {
      if (!c.needs.some((n) => kernelOf(n) === kernel)) continue;
      if (c.status === 'gap') {
        // a gap case only says something about the kernel of its gap
        if (c.gap === undefined || kernelOf(c.gap) !== kernel) continue;
        counts.gap++;
        if (c.reason !== undefined && !gapReasons.includes(c.reason)) gapReasons.push(c.reason);
        continue;
      }
      counts[c.status]++;
      if (c.status === 'fail' && firstFail === null) firstFail = c;
      if (c.maxError === null) continue;
      if (c.needs.every((n) => kernelOf(n) === kernel)) own = Math.max(own ?? 0, c.maxError);
      else shared = Math.max(shared ?? 0, c.maxError);
    }
    const maxError = own ?? shared;
    const status: KernelStatus =
      counts.fail > 0 ? 'fail' : counts.gap > 0 ? 'gap' : counts.pass > 0 ? 'pass' : 'not run';
    const reason =
      status === 'fail'
        ? `${firstFail!.group} › ${firstFail!.name}: ${firstFail!.reason}`
        : status === 'gap'
          ? gapReasons.join('; ')
          : undefined;
    return { kernel, status, reason, cases: counts, maxError };
  });
}

/**
 * Runs the conformance suite on one backend configuration without a test framework and
 * returns a {@link ConformanceReport}: every case's status (pass, fail, or a declared gap that
 * threw as it must), its largest error and time, and per kernel of the `Backend` interface
 * its status and the largest error seen.
 *
 * The setup is `describeConformance`'s: `env.setup()`, `setBackend(env.name)`, the engine's
 * leak check on (`setDebug({ checkLeaks: true })`) while the cases run and reset to `{}`
 * after; each case runs as under vitest (leak and gap checks included). A failing case is
 * recorded, not thrown; a failing `setup` rejects the returned promise. Nothing is printed:
 * pass `onProgress` to follow the run.
 *
 * ```ts
 * import { formatConformanceReport, runConformance } from '@kernelzoo/conformance';
 * const report = await runConformance({ name: 'mine', setup: async () => registerMine() });
 * const table = formatConformanceReport(report); // a string: the caller decides where it goes
 * process.exitCode = report.ok ? 0 : 1;
 * ```
 */
export async function runConformance(
  env: ConformanceEnv,
  options: ConformanceOptions = {},
): Promise<ConformanceReport> {
  const t0 = performance.now();
  const keep = caseFilter(options.filter);
  const groups = conformanceGroups(env.name)
    .map(([title, cases]): [string, Case[]] => [title, cases.filter((c) => keep(title, c.name))])
    .filter(([, cases]) => cases.length > 0);
  const total = 1 + groups.reduce((n, [, cases]) => n + cases.length, 0);
  const precision = precisionFor(env.name, env.precision);
  const recorder = recordingContext(makeContext(env.name, precision));
  const results: CaseResult[] = [];
  const emit = options.onProgress ?? (() => undefined);
  const record = (r: CaseResult) => {
    results.push(r);
    emit({ kind: 'case', result: r, done: results.length, total });
    return r;
  };

  const gapStart = performance.now();
  let gapError: string | null = null;
  try {
    validateGaps(env);
  } catch (e) {
    gapError = errorMessage(e);
  }
  const gapResult = record({
    group: GAPS_GROUP,
    name: GAPS_CASE,
    needs: [],
    status: gapError === null ? 'pass' : 'fail',
    reason: gapError ?? undefined,
    maxError: null,
    accumulation: null,
    ms: performance.now() - gapStart,
  });
  emit({ kind: 'group', group: GAPS_GROUP, results: [gapResult] });

  await env.setup();
  await setBackend(env.name);
  setDebug({ checkLeaks: true });
  try {
    for (const [title, cases] of groups) {
      const groupResults: CaseResult[] = [];
      for (const c of cases) {
        const gap = gapOf(env, c.needs);
        const start = performance.now();
        recorder.take();
        let error: unknown = null;
        let failed = false;
        try {
          await runCase(env, c, recorder.ctx);
        } catch (e) {
          failed = true;
          error = e;
        }
        const ms = performance.now() - start;
        const maxError = recorder.take();
        const accumulation = recorder.takeAccumulation();
        const base = { group: title, name: c.name, needs: c.needs, maxError, accumulation, ms };
        groupResults.push(
          record(
            failed
              ? { ...base, status: 'fail', reason: errorMessage(error) }
              : gap
                ? { ...base, status: 'gap', reason: `${gap.key}: ${gap.reason}`, gap: gap.key }
                : { ...base, status: 'pass' },
          ),
        );
      }
      emit({ kind: 'group', group: title, results: groupResults });
    }
  } finally {
    setDebug({});
  }

  const totals = { pass: 0, fail: 0, gap: 0 };
  for (const r of results) totals[r.status]++;
  return {
    backend: env.name,
    precision,
    cases: results,
    kernels: summarizeKernels(results),
    totals,
    ok: totals.fail === 0,
    ms: performance.now() - t0,
  };
}

/** Options of {@link formatConformanceReport}. */
export interface FormatReportOptions {
  /** List each failing case with its message below the table (default true). */
  readonly failures?: boolean;
  /** Cut failure messages to this many characters (default 300; 0 for no limit). */
  readonly maxMessage?: number;
  /** Show every kernel, also those no report ran (default: only kernels some report ran). */
  readonly allKernels?: boolean;
}

/** A max error for the table: 3 significant digits, `0`, `inf` or `-`. */
export function formatError(e: number | null): string {
  if (e === null) return '-';
  if (e === 0) return '0';
  if (!Number.isFinite(e)) return 'inf';
  return e.toExponential(2);
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

function cut(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return n > 0 && one.length > n ? `${one.slice(0, n - 1)}…` : one;
}

/**
 * Renders reports as text: the op × backend table (per kernel and backend, `pass`, `gap [n]`,
 * `FAIL` or `-` when not run, and the largest |a − e| seen; kernels no report ran are left
 * out and named below unless `allKernels`), the gaps' reasons as numbered notes, each
 * backend's totals and time, then every failing case with its message.
 */
export function formatConformanceReport(
  reports: ConformanceReport | readonly ConformanceReport[],
  options: FormatReportOptions = {},
): string {
  const list: readonly ConformanceReport[] = Array.isArray(reports)
    ? reports
    : [reports as ConformanceReport];
  const maxMessage = options.maxMessage ?? 300;
  const notes: string[] = [];
  const noteOf = (text: string) => {
    let i = notes.indexOf(text);
    if (i < 0) i = notes.push(text) - 1;
    return i + 1;
  };
  const header = ['kernel', ...list.flatMap((r) => [r.backend, 'max |a−e|'])];
  const ran = (kernel: KernelName) =>
    list.some((r) => r.kernels.some((k) => k.kernel === kernel && k.status !== 'not run'));
  const shown = options.allKernels ? KERNELS : KERNELS.filter(ran);
  const rows = shown.map((kernel) => [
    kernel,
    ...list.flatMap((r) => {
      const k = r.kernels.find((s) => s.kernel === kernel);
      if (!k || k.status === 'not run') return ['-', '-'];
      const status =
        k.status === 'gap'
          ? `gap [${noteOf(`${r.backend} ${k.reason}`)}]`
          : k.status === 'fail'
            ? 'FAIL'
            : 'pass';
      return [status, formatError(k.maxError)];
    }),
  ]);
  const lines = table(header, rows);
  if (shown.length < KERNELS.length)
    lines.push(
      shown.length === 0
        ? '(no case exercised a kernel)'
        : `(not run: ${KERNELS.filter((k) => !ran(k)).join(', ')})`,
    );
  if (notes.length > 0) lines.push('', ...notes.map((n, i) => `[${i + 1}] gap: ${n}`));
  lines.push('');
  for (const r of list)
    lines.push(
      `${r.backend}: ${r.cases.length} case${r.cases.length === 1 ? '' : 's'} — ${r.totals.pass} pass, ${r.totals.fail} fail, ${r.totals.gap} gap (${(r.ms / 1000).toFixed(1)} s)`,
    );
  if (options.failures ?? true)
    for (const r of list) {
      const failed = r.cases.filter((c) => c.status === 'fail');
      if (failed.length === 0) continue;
      lines.push('', `failures on ${r.backend}:`);
      for (const c of failed) lines.push(`  ${c.group} › ${c.name}: ${cut(c.reason ?? '', maxMessage)}`);
    }
  return lines.join('\n');
}
