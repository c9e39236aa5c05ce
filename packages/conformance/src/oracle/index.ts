/**
 * Oracles: independent computations of every kernel on plain {@link HostTensor}s.
 * `tfjs.*` run TensorFlow.js's CPU backend with layout conversion (NCHW↔NHWC, OIHW→HWIO);
 * `naive.*` are plain loops written from PyTorch's documented rules where tfjs has no
 * equivalent.
 *
 * @module
 */
export * as naive from './naive.js';
export * as tfjs from './tfjs.js';
