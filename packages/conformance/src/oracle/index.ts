/**
 * Oracles: independent computations of every kernel on plain {@link HostTensor}s.
 * `tfjs.*` run TensorFlow.js's CPU backend with layout conversion (NCHW↔NHWC, OIHW→HWIO);
 * `naive.*` are plain loops written from PyTorch's documented rules where tfjs has no
 * equivalent; `accumulate.*` are float64 loops for long sums of products that also return
 * each output's `Σ|terms|`, the scale of the accumulation bound.
 *
 * @module
 */

export * as accumulate from './accumulate.js';
export * as naive from './naive.js';
export * as tfjs from './tfjs.js';
