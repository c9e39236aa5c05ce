/**
 * Registers the torchvision ImageNet classifiers this package builds in core's model
 * registry, when the package is imported. Listed in the package's `sideEffects`, so bundlers
 * keep it.
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
import { resnet50, resnet101, resnet152, resnext50_32x4d } from './models.js';

/** torchvision's ImageNet eval transform: resize the shorter side to 256, centre crop 224. */
const IMAGENET: Preprocessing = {
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
  scale: 1,
  resize: 'shorter-side',
  interpolation: 'bilinear',
  cropPct: 0.875,
};

const SOURCE = 'torchvision/models/resnet.py, IMAGENET1K_V1 weights';
const CONVENTION = 'multiply-adds at 224×224 (torchvision reports them as "GFLOPS")';

function entry(
  id: string,
  description: string,
  build: () => ReturnType<typeof resnet50>,
  parameters: number,
  gflops: number,
): ModelEntry {
  return {
    id,
    package: '@kernelzoo/resnet',
    description,
    task: 'classification',
    inputSize: [224, 224],
    numClasses: 1000,
    labels: 'imagenet-1k',
    preprocessing: IMAGENET,
    reference: {
      parameters,
      parametersSource: 'published',
      gflops,
      gflopsConvention: CONVENTION,
      source: SOURCE,
    },
    build,
  };
}

/** The entries this package registers. */
export const RESNET_MODELS: readonly ModelEntry[] = [
  entry('resnet50', 'ResNet-50 (torchvision)', () => resnet50(), 25_557_032, 4.09),
  entry('resnet101', 'ResNet-101 (torchvision)', () => resnet101(), 44_549_160, 7.8),
  entry('resnet152', 'ResNet-152 (torchvision)', () => resnet152(), 60_192_808, 11.51),
  entry('resnext50_32x4d', 'ResNeXt-50 32×4d (torchvision)', () => resnext50_32x4d(), 25_028_904, 4.23),
];

for (const e of RESNET_MODELS) registerModel(e);
