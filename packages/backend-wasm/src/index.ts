/**
 * `@kernelzoo/backend-wasm`: the WebAssembly backend of kernelzoo — AssemblyScript kernels with
 * SIMD128, and a worker pool over shared memory where threads are available.
 *
 * ```ts
 * import { registerWasmBackend, setThreads } from '@kernelzoo/backend-wasm';
 * import { setBackend } from '@kernelzoo/core';
 * registerWasmBackend();
 * await setBackend('wasm');
 * await setThreads(2);
 * ```
 *
 * The `.wasm` bytes are embedded in the package, so nothing is fetched or located at runtime,
 * in Node or in a bundled browser app. Threads need `SharedArrayBuffer`: in a browser the page
 * must be cross-origin isolated (COOP `same-origin` + COEP `require-corp`); elsewhere the
 * backend runs single-threaded.
 *
 * @packageDocumentation
 */
import { getBackend, registerBackend, registeredBackends } from '@kernelzoo/core';
import { WasmBackend, type WasmBackendOptions } from './backend.js';

export { WasmOutOfMemoryError } from './allocator.js';
export { WasmBackend, type WasmBackendOptions, type WasmHeapStats } from './backend.js';
export { assertWasmSupport, WasmFeatureError, type WasmFeatures, wasmFeatures } from './features.js';

/** Options of {@link registerWasmBackend}. */
export interface RegisterWasmOptions extends WasmBackendOptions {
  /** Registry priority (higher is tried first by `ready()`); default 2. */
  readonly priority?: number;
}

let registered = false;
let instance: WasmBackend | null = null;
let pendingThreads: number | null = null;

/**
 * Registers the wasm backend with core under the name `wasm`. Calling it again does nothing.
 * Afterwards `await setBackend('wasm')`.
 */
export function registerWasmBackend(options: RegisterWasmOptions = {}): void {
  if (registered || registeredBackends().includes('wasm')) {
    registered = true;
    return;
  }
  registerBackend(
    'wasm',
    async () => {
      const threads = pendingThreads ?? options.threads;
      instance = await WasmBackend.create({ ...options, threads });
      return instance;
    },
    options.priority ?? 2,
  );
  registered = true;
}

function current(): WasmBackend | null {
  if (instance !== null) return instance;
  try {
    const b = getBackend();
    return b instanceof WasmBackend ? b : null;
  } catch {
    return null;
  }
}

/**
 * Sets the number of threads the registered wasm backend runs kernels on (resolving once the
 * workers have started) and returns the number in effect: 1 where shared memory is missing.
 * Called before the backend starts, it sets the count it will start with.
 */
export async function setThreads(n: number): Promise<number> {
  const b = current();
  if (b === null) {
    pendingThreads = Math.max(1, Math.floor(n));
    return pendingThreads;
  }
  return b.setThreads(n);
}

/** The number of threads the wasm backend runs kernels on (its start-up count before it starts). */
export function getThreads(): number {
  const b = current();
  if (b === null) return pendingThreads ?? 1;
  return b.getThreads();
}
