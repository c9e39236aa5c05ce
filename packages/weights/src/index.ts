/**
 * `@kernelzoo/weights`: safetensors read/write, PyTorch checkpoint import (the zip format of
 * PyTorch ≥ 1.6 and the legacy format before it) through a restricted unpickler, and
 * state-dict mapping (`state_dict`/`model` wrappers, `module.` prefixes).
 *
 * @packageDocumentation
 */
export { Budget, DEFAULT_MAX_BYTES } from './budget.js';
export { WeightsError, type WeightsErrorLocation } from './errors.js';
export {
  detectFormat,
  type LoadsStateDict,
  type LoadWeightsOptions,
  loadRawWeights,
  loadWeights,
  loadWeightsSync,
  parseWeights,
  type ReadWeightsOptions,
  readFileBytes,
  readSafetensorsFile,
  readWeights,
  type WeightsFormat,
  type WeightsSource,
} from './load.js';
export { type LoadedModel, type LoadModelOptions, loadModel, type ModelSource } from './model.js';
export {
  isGlobal,
  MAX_PICKLE_OBJECTS,
  type PyGlobal,
  type UnpickleOptions,
  type UnpickleResult,
  unpickle,
} from './pickle.js';
export {
  fromTensors,
  type RawDType,
  type RawStateDict,
  type RawTensor,
  SOURCE_DTYPE_BYTES,
  type SourceDType,
  toTensors,
} from './raw.js';
export {
  isSafetensors,
  MAX_SAFETENSORS_HEADER_BYTES,
  readSafetensors,
  type SafetensorsContents,
  type WriteSafetensorsOptions,
  writeSafetensors,
} from './safetensors.js';
export {
  extractStateDict,
  type StateDictOptions,
  type WeightsProgress,
  WRAPPER_KEYS,
  WRAPPER_PREFIXES,
} from './state-dict.js';
export {
  ALLOWED_GLOBALS,
  isLegacyTorch,
  isTensorRef,
  readTensorRef,
  readTorchLegacy,
  readTorchZip,
  type StorageRef,
  type StorageView,
  type TensorRef,
} from './torch.js';
export { isZip, ZipArchive, type ZipEntry } from './zip.js';
