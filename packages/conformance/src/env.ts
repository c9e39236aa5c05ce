/**
 * What a backend package hands to the suite.
 *
 * @module
 */
import type { Tolerance } from './tolerances.js';

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
  /** Overrides the backend's entry in `TOLERANCES`. */
  readonly tolerance?: Tolerance;
  /** Kernels (or `kernel:variant`s) the backend does not support, each with the reason. */
  readonly gaps?: Readonly<Record<string, string>>;
}
