/*
 * Everything but the codec: the same in the Node and the browser entry.
 */

export {
  DECODABLE_FORMATS,
  DEFAULT_MAX_PIXELS,
  type DecodeOptions,
  type EncodeOptions,
} from './codec.js';
export { VisionError } from './errors.js';
export { checkImage, type RgbImage } from './image.js';
export { IMAGENET_1K_LABELS } from './imagenet-1k.js';
export { classify, type Prediction, softmaxRow, topK } from './postprocess.js';
export {
  classificationArray,
  classificationCrop,
  classificationInput,
  type InputArray,
  normalizeToChw,
  scaleSize,
} from './preprocess.js';
export {
  centerCrop,
  crop,
  type Interpolation,
  resize,
  resizeShorterSide,
  shorterSideSize,
} from './resize.js';
