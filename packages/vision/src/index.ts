/**
 * `@kernelzoo/vision`: images in and out. Decoding and encoding in Node (PNG, JPEG, WebP
 * through sharp/libvips, EXIF orientation applied or ignored, decompression bombs refused from
 * the header), timm's classification pre-processing with Pillow-exact resizing, and softmax /
 * top-k with the ImageNet-1k class names.
 *
 * @packageDocumentation
 */
export { VisionError } from './errors.js';
export { checkImage, type RgbImage } from './image.js';
export { IMAGENET_1K_LABELS } from './imagenet-1k.js';
export {
  DECODABLE_FORMATS,
  DEFAULT_MAX_PIXELS,
  type DecodeOptions,
  decodeImage,
  type EncodeOptions,
  encodeImage,
  readImage,
  writeImage,
} from './node.js';
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
