/**
 * `@kernelzoo/core`: tensors, ops, nn modules, the Backend interface and the engine.
 *
 * @packageDocumentation
 */
export type {
  Activation,
  Backend,
  BackendMemory,
  BinaryActivation,
  BinaryOp,
  Conv2dInfo,
  MatMulInfo,
  Pool2dInfo,
  ReduceOp,
  ResizeInfo,
  UnaryOp,
} from './backend.js';
export { BINARY_OPS, UNARY_OPS } from './backend.js';
export {
  type BackendFactory,
  type BackendMemoryInfo,
  type DebugOptions,
  dispose,
  getBackend,
  getBackendName,
  type KernelCall,
  type KernelListener,
  keep,
  type MemoryInfo,
  memory,
  ready,
  registerBackend,
  registeredBackends,
  setBackend,
  setDebug,
  type TensorContainer,
  type TraceListener,
  tidy,
  traceShapes,
} from './engine.js';
export * from './errors.js';
export * as nn from './nn/index.js';
export * from './ops/index.js';
export {
  checkAxis,
  checkDtype,
  checkInt,
  checkPadding,
  checkPair,
  checkRank,
  checkShape,
  checkTensor,
  describe as describeValue,
} from './ops/validate.js';
export {
  getModel,
  IMAGENET_MEAN,
  IMAGENET_STD,
  listModels,
  type ModelEntry,
  type Preprocessing,
  type ReferenceFacts,
  registerModel,
  type Task,
} from './registry.js';
export { type ModelSummary, type SummaryRow, summary } from './summary.js';
export { Tensor } from './tensor.js';
export { type KernelStat, KernelTrace, startKernelTrace, traceKernels } from './trace.js';
export type { DataId, DType, Shape, TensorInfo, TypedArray } from './types.js';
export { SeededRandom } from './util/random.js';
export {
  allocate,
  broadcastShapes,
  broadcastStrides,
  formatShape,
  shapesEqual,
  sizeFromShape,
  stridesOf,
} from './util/shape.js';
