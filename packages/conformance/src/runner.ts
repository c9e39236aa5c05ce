/**
 * The case model: a case names the kernels it needs, runs synchronously inside `tidy` (or
 * asynchronously, disposing what it makes), and is checked for leaked tensors and buffers.
 *
 * @module
 */
import { KernelzooError, memory, type Tensor, tensor, tidy } from '@kernelzoo/core';
import { expectClose, expectShape, MismatchError } from './compare.js';
import type { ConformanceEnv } from './env.js';
import type { HostTensor } from './host.js';
import type { Tolerance } from './tolerances.js';

/** What a case gets to build inputs and check outputs. */
export interface CaseContext {
  /** The backend's tolerance. */
  readonly tol: Tolerance;
  /** The backend's registered name. */
  readonly backend: string;
  /** A core tensor holding a host tensor's values. */
  t(h: HostTensor): Tensor;
  /**
   * Checks a core tensor against the expected host tensor: shape, dtype, then values
   * (float32 within tolerance, int32 exactly).
   */
  check(actual: Tensor, expected: HostTensor, what: string): void;
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
}

const EXACT: Tolerance = { rtol: 0, atol: 0 };

/** Makes the context for a backend. */
export function makeContext(backend: string, tol: Tolerance): CaseContext {
  return {
    tol,
    backend,
    t: (h) => tensor(h.values, h.shape, h.dtype),
    check(actual, expected, what) {
      expectShape(actual.shape, expected.shape, what);
      if (actual.dtype !== expected.dtype)
        throw new MismatchError(`${what}: expected dtype ${expected.dtype}, got ${actual.dtype}`);
      expectClose(
        actual.dataSync(),
        expected.values,
        expected.dtype === 'int32' ? EXACT : tol,
        what,
        expected.shape,
      );
    },
  };
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
}

function counts(backend: string): Counts {
  const m = memory();
  return {
    tensors: m.numTensors,
    buffers: m.numDataBuffers,
    backendBuffers: m.backends[backend]?.buffers ?? 0,
  };
}

async function execute(c: Case, ctx: CaseContext): Promise<void> {
  if (c.async) await c.run(ctx);
  else
    tidy(() => {
      c.run(ctx);
    });
}

/**
 * Runs one case for `env`: normally, or — when it needs a declared gap — asserting that it
 * throws a `KernelzooError` naming the kernel. Either way the live tensors, engine buffers
 * and the backend's buffers must be back at their baseline afterwards.
 */
export async function runCase(env: ConformanceEnv, c: Case, ctx: CaseContext): Promise<void> {
  const before = counts(env.name);
  const gap = gapOf(env, c.needs);
  if (gap === null) await execute(c, ctx);
  else {
    let thrown: unknown = null;
    try {
      await execute(c, ctx);
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
  const after = counts(env.name);
  if (
    after.tensors !== before.tensors ||
    after.buffers !== before.buffers ||
    after.backendBuffers !== before.backendBuffers
  )
    throw new Error(
      `leak: live tensors ${before.tensors} → ${after.tensors}, engine buffers ${before.buffers} → ${after.buffers}, ${env.name} buffers ${before.backendBuffers} → ${after.backendBuffers}`,
    );
}
