/**
 * `@kernelzoo/conformance`: the one test suite every kernelzoo backend must pass, with the
 * oracles it compares against and the per-backend tolerances.
 *
 * A backend package runs it from a vitest file:
 *
 * ```ts
 * import { describeConformance } from '@kernelzoo/conformance';
 * import { registerJsBackend } from '@kernelzoo/backend-js';
 * import { setBackend } from '@kernelzoo/core';
 *
 * describeConformance({
 *   name: 'js',
 *   setup: async () => {
 *     registerJsBackend();
 *     await setBackend('js');
 *   },
 * });
 * ```
 *
 * @packageDocumentation
 */
export {
  benchRowMacs,
  benchRowOutput,
  benchRowPadding,
  type ConvBenchRow,
  type GemmBenchRow,
  KERNEL_BENCH_ROWS,
  type KernelBenchRow,
} from './bench-shapes.js';
export { type AccumulationReport, expectAccumulated, FLOAT32_EPSILON } from './bounds.js';
export { expectClose, expectShape, isClose, MismatchError } from './compare.js';
export { type ConformanceEnv, KERNELS, type KernelName } from './env.js';
export { CaseRandom, type HostTensor, host, hostInt } from './host.js';
export * as oracle from './oracle/index.js';
export type { Case, CaseContext } from './runner.js';
export { describeConformance } from './suite.js';
export {
  type AccumulationTolerance,
  DEFAULT_PRECISION,
  PRECISIONS,
  type Precision,
  precisionFor,
  type Tolerance,
  type TolerancePreset,
  toleranceFor,
} from './tolerances.js';
