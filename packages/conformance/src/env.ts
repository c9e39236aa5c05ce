/**
 * What a backend package hands to the suite.
 *
 * @module
 */
import type { Precision } from './tolerances.js';

/** The kernels of the `Backend` interface: the keys a backend may list as gaps. */
export const KERNELS = [
  'conv2d',
  'matmul',
  'unary',
  'binary',
  'batchNorm',
  'pool2d',
  'adaptiveAvgPool2d',
  'resizeBilinear',
  'resizeNearest',
  'reduce',
  'softmax',
  'argmax',
  'concat',
  'slice',
  'transpose',
  'flip',
  'pad',
  'cast',
] as const;

/** The name of one kernel of the `Backend` interface. */
export type KernelName = (typeof KERNELS)[number];

/**
 * One backend configuration under test.
 *
 * To test tensors moving between backends, the suite registers a second instance of the
 * active backend's class, made with `new (getBackend().constructor)()`: a backend class must be
 * constructible without arguments (and synchronously).
 *
 * Gaps are keyed by kernel name (`conv2d`) or by kernel and variant (`unary:tanh`,
 * `binary:pow`, `reduce:max`, `pool2d:avg`, `resizeBilinear:alignCorners`): every case of a
 * listed gap must throw a `KernelzooError` whose message names the kernel, and a case of a
 * listed gap that passes fails the run, so the list never goes stale.
 */
export interface ConformanceEnv {
  /** The backend's registered name (also names the `describe` block), e.g. `js`. */
  readonly name: string;
  /** Registers the backend and makes it active (`registerBackend` + `await setBackend(name)`). */
  readonly setup: () => Promise<void>;
  /** Overrides the backend's entry in `PRECISIONS`. */
  readonly precision?: Precision;
  /**
   * The backend's raw heap bytes in use, scratch included (e.g. a WebAssembly allocator's);
   * when given, it must be back at its baseline after every case.
   */
  readonly heapBytes?: () => number;
  /**
   * Jobs each worker thread has run so far, one count per worker; when given, every worker
   * must have run a job during each case marked `splits`.
   */
  readonly workerJobs?: () => readonly number[];
  /** Kernels (or `kernel:variant`s) the backend does not support, each with the reason. */
  readonly gaps?: Readonly<Record<string, string>>;
}
