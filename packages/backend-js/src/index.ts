/**
 * `@kernelzoo/backend-js`: the pure TypeScript reference backend of kernelzoo.
 *
 * ```ts
 * import { registerJsBackend } from '@kernelzoo/backend-js';
 * import { setBackend } from '@kernelzoo/core';
 * registerJsBackend();
 * await setBackend('js');
 * ```
 *
 * @packageDocumentation
 */
import { registerBackend, registeredBackends } from '@kernelzoo/core';
import { JsBackend } from './backend.js';

export { JsBackend } from './backend.js';

let registered = false;

/**
 * Registers the js backend with core under the name `js` (at `priority`; higher is tried
 * first by `ready()`). Calling it again does nothing. Afterwards `await setBackend('js')`.
 */
export function registerJsBackend(priority = 1): void {
  if (registered || registeredBackends().includes('js')) {
    registered = true;
    return;
  }
  registerBackend('js', () => new JsBackend(), priority);
  registered = true;
}
