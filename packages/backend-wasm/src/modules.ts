/**
 * The compiled kernels modules, one per build (SIMD128 or relaxed SIMD, private or shared
 * memory), compiled once per process; and the default thread count.
 *
 * @module
 */
import { decodeBase64, wasmFeatures } from './features.js';
import { WASM_RELAXED, WASM_RELAXED_THREADS, WASM_SIMD, WASM_SIMD_THREADS } from './generated/wasm.js';

const modules: (WebAssembly.Module | null)[] = [null, null, null, null];

function slot(shared: boolean, relaxed: boolean): number {
  return (shared ? 1 : 0) + (relaxed ? 2 : 0);
}

function bytesOf(shared: boolean, relaxed: boolean): Uint8Array<ArrayBuffer> {
  const b64 = relaxed
    ? shared
      ? WASM_RELAXED_THREADS
      : WASM_RELAXED
    : shared
      ? WASM_SIMD_THREADS
      : WASM_SIMD;
  return decodeBase64(b64) as Uint8Array<ArrayBuffer>;
}

/** The build's module if it has been compiled, else null. */
export function compiled(shared: boolean, relaxed: boolean): WebAssembly.Module | null {
  return modules[slot(shared, relaxed)];
}

/** Compiles the build synchronously and keeps it. */
export function compileSync(shared: boolean, relaxed: boolean): WebAssembly.Module {
  const m = new WebAssembly.Module(bytesOf(shared, relaxed));
  modules[slot(shared, relaxed)] = m;
  return m;
}

/** Compiles the build asynchronously and keeps it. */
export async function compileAsync(shared: boolean, relaxed: boolean): Promise<void> {
  modules[slot(shared, relaxed)] = await WebAssembly.compile(bytesOf(shared, relaxed));
}

/** The logical processors of this machine (Node: `os.availableParallelism`). */
export async function defaultThreads(): Promise<number> {
  const f = wasmFeatures();
  if (!f.threads) return 1;
  const g = globalThis as { process?: { versions?: { node?: string } }; window?: unknown };
  if (g.process?.versions?.node !== undefined && g.window === undefined) {
    try {
      const spec = 'node:os';
      const os = (await import(/* @vite-ignore */ spec)) as typeof import('node:os');
      return os.availableParallelism?.() ?? os.cpus().length;
    } catch {
      return 1;
    }
  }
  return f.hardwareConcurrency;
}
