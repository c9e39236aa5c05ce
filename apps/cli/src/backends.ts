/**
 * The backends the CLI finds installed, and choosing one (with its thread count).
 *
 * @module
 */
import { getBackend, registeredBackends, setBackend } from '@kernelzoo/core';
import { UsageError } from './util.js';

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

/** Whether `e` says that `pkg` itself is not installed (not that something inside it failed). */
export function isNotInstalled(e: unknown, pkg: string): boolean {
  const err = e as { code?: string; message?: string };
  return (
    (err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND') &&
    typeof err.message === 'string' &&
    err.message.includes(`'${pkg}'`)
  );
}

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
    } catch (e) {
      if (isNotInstalled(e, p.pkg) || /cannot find package/i.test((e as Error).message)) continue;
      throw e;
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
export function gpuUnavailable(
  backend: unknown,
  command: 'seed' | 'conformance' | 'bench' = 'seed',
): string | null {
  const mode = (backend as { mode?: unknown }).mode;
  if (typeof mode !== 'string' || !['webasm', 'cpu'].includes(mode)) return null;
  const name = (backend as { name?: string }).name ?? 'gpujs';
  const why =
    command === 'seed'
      ? `the seed example would take tens of minutes; time it anyway with --backend ${name} --batch 1`
      : command === 'bench'
        ? `its times would be the emulation's; time it anyway with --backends ${name}`
        : `the suite would check that emulation, not the GPU's kernels; check it anyway (a few seconds) with --backend ${name}`;
  return `gpu.js has no GPU here (mode '${mode}', a CPU emulation): ${why}`;
}

/** One line describing the active backend: wasm's build and threads, gpu.js's mode. */
export function describeBackend(): { name: string; detail: string; threads: number } {
  const b = getBackend() as unknown as {
    name: string;
    variant?: string;
    mode?: string;
    getThreads?: () => number;
  };
  const threads = typeof b.getThreads === 'function' ? b.getThreads() : 1;
  const parts: string[] = [];
  if (b.variant) parts.push(b.variant);
  if (typeof b.getThreads === 'function') parts.push(`${threads} thread${threads === 1 ? '' : 's'}`);
  if (b.mode)
    parts.push(`mode ${b.mode}${['webasm', 'cpu'].includes(b.mode) ? ' (CPU emulation, no GPU)' : ''}`);
  return { name: b.name, detail: parts.join(', '), threads };
}

/** The backend a command uses when none is named: wasm, else js, else the first found. */
export function defaultBackend(found: readonly FoundBackend[]): string {
  const names = found.map((b) => b.name);
  return names.includes('wasm') ? 'wasm' : names.includes('js') ? 'js' : names[0];
}

/**
 * Checks a backend name and thread count against what is installed (usage errors name what
 * would work), then makes it the active backend. Returns its description.
 */
export async function useBackend(
  found: readonly FoundBackend[],
  name: string | undefined,
  threads: number | undefined,
): Promise<{ name: string; detail: string; threads: number }> {
  if (found.length === 0)
    throw new UsageError('no backend package is installed (install @kernelzoo/backend-wasm or -js)');
  const chosen = name ?? defaultBackend(found);
  if (!found.some((b) => b.name === chosen))
    throw new UsageError(
      `unknown backend '${chosen}' (installed here: ${found.map((b) => b.name).join(', ')})`,
    );
  if (threads !== undefined && chosen !== 'wasm')
    throw new UsageError(`--threads applies to the wasm backend only, not '${chosen}'`);
  if (chosen === 'wasm' && threads !== undefined) {
    const wasm = (await import('@kernelzoo/backend-wasm')) as {
      setThreads: (n: number) => Promise<number>;
    };
    await wasm.setThreads(threads);
    await setBackend(chosen);
    await wasm.setThreads(threads);
  } else await setBackend(chosen);
  return describeBackend();
}
