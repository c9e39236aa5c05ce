/**
 * `@kernelzoo/conformance`: the one test suite every kernelzoo backend must pass, with the
 * oracles it compares against and the per-backend tolerances.
 *
 * A backend package runs it from a vitest file through the `@kernelzoo/conformance/vitest`
 * entry (the only one that imports vitest):
 *
 * ```ts
 * import { describeConformance } from '@kernelzoo/conformance/vitest';
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
 * or without a test framework, from any script, with {@link runConformance}, which returns a
 * report (per case, and per kernel with the largest error seen) that
 * {@link formatConformanceReport} renders as the op × backend table:
 *
 * ```ts
 * import { formatConformanceReport, runConformance } from '@kernelzoo/conformance';
 * const report = await runConformance({ name: 'js', setup: async () => registerJsBackend() });
 * const table = formatConformanceReport(report); // a string; nothing is printed
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
export { type MaxDifference, maxDifference, randomizeBatchNorms } from './module-helpers.js';
export * as oracle from './oracle/index.js';
export {
  type CaseResult,
  type CaseStatus,
  type ConformanceOptions,
  type ConformanceProgress,
  type ConformanceReport,
  type FormatReportOptions,
  formatConformanceReport,
  formatError,
  GAPS_GROUP,
  type KernelStatus,
  type KernelSummary,
  runConformance,
  type StatusCounts,
  summarizeKernels,
  validateGaps,
} from './run.js';
export type { Case, CaseContext } from './runner.js';
export {
  type AccumulationTolerance,
  DEFAULT_PRECISION,
  PRECISIONS,
  type Precision,
  precisionFor,
  referenceParityBound,
  type Tolerance,
  type TolerancePreset,
  toleranceFor,
} from './tolerances.js';
