/**
 * `@kernelzoo/backend-gpujs`: the gpu.js backend of kernelzoo — WebGL2 in the browser with
 * results kept on the GPU between ops, gpu.js's WebAssembly or CPU modes in Node.
 *
 * ```ts
 * import { registerGpujsBackend } from '@kernelzoo/backend-gpujs';
 * import { getBackend, setBackend } from '@kernelzoo/core';
 * registerGpujsBackend();
 * await setBackend('gpujs');
 * ```
 *
 * @packageDocumentation
 */
import { registerBackend, registeredBackends } from '@kernelzoo/core';
import { GpujsBackend, type GpujsBackendOptions } from './backend.js';

export { GpujsBackend, type GpujsBackendOptions } from './backend.js';
export type { GpujsMode } from './runtime.js';

/**
 * Registers the gpujs backend with core under the name `gpujs` (at `priority`; higher is tried
 * first by `ready()`). Calling it again does nothing. Afterwards `await setBackend('gpujs')`;
 * the active backend's `mode` says which gpu.js mode was chosen. If no mode works, setting the
 * backend fails with a `BackendError` saying why for each mode.
 */
export function registerGpujsBackend(options: GpujsBackendOptions = {}, priority = 1): void {
  if (registeredBackends().includes('gpujs')) return;
  registerBackend('gpujs', () => new GpujsBackend(options), priority);
}
