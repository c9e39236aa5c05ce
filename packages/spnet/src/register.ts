/**
 * Registers SPNet's networks in core's model registry when the package is imported. Listed in
 * the package's `sideEffects`, so bundlers keep it.
 *
 * @module
 */
import {
  IMAGENET_MEAN,
  IMAGENET_STD,
  type ModelEntry,
  type Preprocessing,
  registerModel,
} from '@kernelzoo/core';
import { type SPNet, spnet50, spnet101 } from './spnet.js';

/**
 * SPNet's test-time pre-processing (`tool/test.py`): RGB in 0–255 normalised with ImageNet's
 * mean and std scaled by 255; the long side resized (bilinear, cv2 INTER_LINEAR) to the base
 * size ({@link SPNET_BASE_SIZE}), then sliding windows of the crop size (the entry's
 * `inputSize`).
 */
const PREPROCESSING: Preprocessing = {
  mean: [IMAGENET_MEAN[0] * 255, IMAGENET_MEAN[1] * 255, IMAGENET_MEAN[2] * 255],
  std: [IMAGENET_STD[0] * 255, IMAGENET_STD[1] * 255, IMAGENET_STD[2] * 255],
  scale: 255,
  resize: 'long-side',
  interpolation: 'bilinear',
};

/**
 * The long side an image is resized to before sliding windows, per id (`base_size` in the
 * test configs): 512 for ADE20K, 2048 for Cityscapes.
 */
export const SPNET_BASE_SIZE: Readonly<Record<string, number>> = {
  spnet50_ade20k: 512,
  spnet101_ade20k: 512,
  spnet101_cityscapes: 2048,
};

const SOURCE = 'Andrew-Qibin/SPNet models/spnet.py';

function entry(
  id: string,
  description: string,
  crop: number,
  numClasses: number,
  labels: string,
  build: () => SPNet,
  parameters: number,
): ModelEntry<SPNet> {
  return {
    id,
    package: '@kernelzoo/spnet',
    description,
    task: 'segmentation',
    inputSize: [crop, crop],
    numClasses,
    labels,
    preprocessing: PREPROCESSING,
    reference: { parameters, parametersSource: 'computed', gflops: 'computed', source: SOURCE },
    build,
  };
}

/**
 * The entries this package registers: the inference networks (no auxiliary head; a training
 * checkpoint's `auxlayer.*` keys are dropped on load and reported). Parameter counts are
 * computed from the reference's modules (SPNet publishes none), without the auxiliary head
 * (with it: 47,838,124, 66,830,252 and 66,729,382).
 */
export const SPNET_MODELS: readonly ModelEntry<SPNet>[] = [
  entry(
    'spnet50_ade20k',
    'SPNet-50 (strip pooling, dilated ResNet-50) for ADE20K, 150 classes; base size 512, crop 480',
    480,
    150,
    'ade20k-150',
    () => spnet50(150),
    45_439_766,
  ),
  entry(
    'spnet101_ade20k',
    'SPNet-101 (strip pooling, dilated ResNet-101) for ADE20K, 150 classes; base size 512, crop 480',
    480,
    150,
    'ade20k-150',
    () => spnet101(150),
    64_431_894,
  ),
  entry(
    'spnet101_cityscapes',
    'SPNet-101 (strip pooling, dilated ResNet-101) for Cityscapes, 19 classes; base size 2048, crop 768',
    768,
    19,
    'cityscapes-19',
    () => spnet101(19),
    64_364_691,
  ),
];

for (const e of SPNET_MODELS) registerModel(e);
