/**
 * Helpers the repository's own tests share (a private package, never published): the
 * reference implementations' state-dict key lists kept in `shared/reference/keys/` beside the
 * repository clone, and bundling a test entry with Vite to run the bundle.
 *
 * @packageDocumentation
 */
export { bundleAndRun } from './bundle.js';
export * from './onnx.js';
export { REFERENCE_KEYS_DIR, type ReferenceKeyOptions, referenceKeys } from './reference-keys.js';
