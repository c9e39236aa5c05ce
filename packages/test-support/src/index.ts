/**
 * Helpers the repository's own tests share (a private package, never published): the
 * reference implementations' state-dict key lists kept in `shared/reference/keys/` beside the
 * repository clone, and bundling a test entry with Vite to run the bundle. The ONNX writer of the
 * benchmarks is its own entry, `@kernelzoo/test-support/onnx` (it needs no Vite).
 *
 * @packageDocumentation
 */
export { bundleAndRun } from './bundle.js';
export { REFERENCE_KEYS_DIR, type ReferenceKeyOptions, referenceKeys } from './reference-keys.js';
