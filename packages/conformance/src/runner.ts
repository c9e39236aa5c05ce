/**
 * The case model: a case names the kernels it needs and runs; its tensors are the context's
 * (made with `ctx.t`, checked with `ctx.check`, or handed over with `ctx.own`) and are freed
 * after it. No `tidy` hides what an op leaks: after every case the live tensors, the engine's
 * buffers, the backend's buffers and — where the backend reports it — its raw heap bytes must
 * be back at their baseline.
 *
 * @module
 */
import { KernelzooError, memory, type Tensor, tensor, tidy } from '@kernelzoo/core';
import { type AccumulationReport, expectAccumulated } from './bounds.js';
import { expectClose, expectShape, MismatchError } from './compare.js';
import type { ConformanceEnv } from './env.js';
import type { HostTensor } from './host.js';
import type { Accumulated } from './oracle/accumulate.js';
import type { Precision, Tolerance, TolerancePreset } from './tolerances.js';

/** What a case gets to build inputs and check outputs. */
export interface CaseContext {
  /** The backend's precision (a tolerance per preset, and the accumulation bound). */
  readonly precision: Precision;
  /** The backend's registered name. */
  readonly backend: string;
  /** A core tensor holding a host tensor's values; the context frees it after the case. */
  t(h: HostTensor): Tensor;
  /**
   * Checks a core tensor against the expected host tensor: shape, dtype, then values — int32
   * exactly, float32 within the case's preset (or `preset`). The context frees `actual` after
   * the case.
   */
  check(actual: Tensor, expected: HostTensor, what: string, preset?: TolerancePreset): void;
  /**
   * Checks a long sum of products against the float64 loop oracle with the accumulation
   * bound (see `expectAccumulated`). The context frees `actual` after the case.
   */
  checkAccumulated(actual: Tensor, expected: Accumulated, what: string): AccumulationReport;
  /** Hands a tensor the case made to the context, which frees it after the case. */
  own<T extends Tensor>(t: T): T;
}

/** One conformance case. */
export interface Case {
  /** The test title. */
  readonly name: string;
  /**
   * The kernels the case exercises, as `kernel` or `kernel:variant`; if any is a declared
   * gap, the case must throw instead.
   */
  readonly needs: readonly string[];
  /** Runs the case. Synchronous cases run inside `tidy`; async ones must dispose what they make. */
  readonly run: (ctx: CaseContext) => void | Promise<void>;
  /** Whether `run` is asynchronous. */
  readonly async?: boolean;
  /** The tolerance preset of its checks (default: derived from `needs`, see `presetFor`). */
  readonly preset?: TolerancePreset;
  /**
   * Whether the work is large enough that a threaded backend must split it over every worker
   * (checked where the environment reports work per worker).
   */
  readonly splits?: boolean;
}

const EXACT: Tolerance = { rtol: 0, atol: 0 };

/** The context of one backend: tensors it hands out are freed by {@link CaseContext} users' runner. */
export interface RunnerContext extends CaseContext {
  /** Sets the preset of the case about to run. @internal */
  usePreset(preset: TolerancePreset): void;
  /** Frees every tensor the last case made through the context or handed to it. @internal */
  release(): void;
}

/** Makes the context for a backend. */
export function makeContext(backend: string, precision: Precision): RunnerContext {
  const owned = new Set<Tensor>();
  let preset: TolerancePreset = 'elementwise';
  const own = <T extends Tensor>(t: T): T => {
    owned.add(t);
    return t;
  };
  return {
    precision,
    backend,
    t: (h) => own(tensor(h.values, h.shape, h.dtype)),
    own,
    check(actual, expected, what, p) {
      own(actual);
      expectShape(actual.shape, expected.shape, what);
      if (actual.dtype !== expected.dtype)
        throw new MismatchError(`${what}: expected dtype ${expected.dtype}, got ${actual.dtype}`);
      const tol = expected.dtype === 'int32' ? EXACT : precision[p ?? preset];
      expectClose(actual.dataSync(), expected.values, tol, what, expected.shape);
    },
    checkAccumulated(actual, expected, what) {
      own(actual);
      expectShape(actual.shape, expected.shape, what);
      return expectAccumulated(actual.dataSync(), expected, precision.accumulation, what);
    },
    usePreset(p) {
      preset = p;
    },
    release() {
      for (const t of owned) t.dispose();
      owned.clear();
    },
  };
}

const EXACT_NEEDS = new Set([
  'concat',
  'slice',
  'transpose',
  'flip',
  'pad',
  'cast',
  'argmax',
  'reduce:max',
  'pool2d:max',
  'resizeNearest',
  'unary:neg',
  'unary:abs',
  'unary:relu',
  'binary:maximum',
  'binary:minimum',
]);
const TRANSCENDENTAL_NEEDS = new Set([
  'unary:exp',
  'unary:log',
  'unary:sqrt',
  'unary:rsqrt',
  'unary:reciprocal',
  'unary:sigmoid',
  'unary:tanh',
  'binary:div',
  'binary:pow',
  'softmax',
]);

/**
 * The preset a case is judged by unless it names one: `transcendental` if it needs an
 * approximated function, `exact` if it only moves or selects values (layout, max, argmax,
 * nearest resize, sign and max/min), else `elementwise`.
 */
export function presetFor(c: Pick<Case, 'needs' | 'preset'>): TolerancePreset {
  if (c.preset) return c.preset;
  if (c.needs.some((n) => TRANSCENDENTAL_NEEDS.has(n))) return 'transcendental';
  if (c.needs.length > 0 && c.needs.every((n) => EXACT_NEEDS.has(n))) return 'exact';
  return 'elementwise';
}

/** The declared gap (key and reason) that applies to a case, if any. */
export function gapOf(env: ConformanceEnv, needs: readonly string[]): { key: string; reason: string } | null {
  const gaps = env.gaps ?? {};
  for (const need of needs) {
    const kernel = need.split(':')[0];
    if (gaps[need] !== undefined) return { key: need, reason: gaps[need] };
    if (gaps[kernel] !== undefined) return { key: kernel, reason: gaps[kernel] };
  }
  return null;
}

interface Counts {
  tensors: number;
  buffers: number;
  backendBuffers: number;
  heapBytes: number | null;
}

function counts(env: ConformanceEnv): Counts {
  const m = memory();
  return {
    tensors: m.numTensors,
    buffers: m.numDataBuffers,
    backendBuffers: m.backends[env.name]?.buffers ?? 0,
    heapBytes: env.heapBytes ? env.heapBytes() : null,
  };
}

/**
 * Runs a case with no `tidy` around it, so a tensor an op leaks stays live and fails the
 * count; the context frees what the case made through it. A case expected to throw (a gap)
 * runs inside `tidy`, since its tensors cannot be handed over before the throw.
 */
async function execute(c: Case, ctx: RunnerContext, expectThrow: boolean): Promise<void> {
  ctx.usePreset(presetFor(c));
  try {
    if (c.async) await c.run(ctx);
    else if (expectThrow)
      tidy(() => {
        c.run(ctx);
      });
    else c.run(ctx);
  } finally {
    ctx.release();
  }
}

/**
 * Runs one case for `env`: normally, or — when it needs a declared gap — asserting that it
 * throws a `KernelzooError` naming the kernel. Either way the live tensors, engine buffers
 * and the backend's buffers must be back at their baseline afterwards.
 */
export async function runCase(env: ConformanceEnv, c: Case, ctx: RunnerContext): Promise<void> {
  const before = counts(env);
  const jobsBefore = env.workerJobs?.() ?? null;
  const gap = gapOf(env, c.needs);
  if (gap === null) await execute(c, ctx, false);
  else {
    let thrown: unknown = null;
    try {
      await execute(c, ctx, true);
    } catch (e) {
      thrown = e;
    }
    const kernel = gap.key.split(':')[0];
    if (thrown === null)
      throw new Error(
        `'${gap.key}' is declared a gap of ${env.name} (${gap.reason}) but this case passed: remove the gap`,
      );
    if (!(thrown instanceof KernelzooError) || !thrown.message.includes(kernel))
      throw new Error(
        `'${gap.key}' is declared a gap of ${env.name}: expected a KernelzooError naming '${kernel}', got ${
          thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown)
        }`,
      );
  }
  const after = counts(env);
  if (
    after.tensors !== before.tensors ||
    after.buffers !== before.buffers ||
    after.backendBuffers !== before.backendBuffers ||
    after.heapBytes !== before.heapBytes
  )
    throw new Error(
      `leak: live tensors ${before.tensors} → ${after.tensors}, engine buffers ${before.buffers} → ${after.buffers}, ${env.name} buffers ${before.backendBuffers} → ${after.backendBuffers}${
        before.heapBytes === null ? '' : `, heap bytes in use ${before.heapBytes} → ${after.heapBytes}`
      }`,
    );
  if (c.splits && gap === null && jobsBefore !== null) {
    const jobsAfter = env.workerJobs!();
    const idle = jobsAfter.map((n, i) => n - (jobsBefore[i] ?? 0)).flatMap((d, i) => (d > 0 ? [] : [i]));
    if (idle.length > 0)
      throw new Error(
        `threads: worker(s) ${idle.join(', ')} of ${jobsAfter.length} did no work on a case large enough to split (jobs per worker ${jobsBefore} → ${jobsAfter})`,
      );
  }
}
