/**
 * Registers this package's networks in core's model registry when the package is imported.
 * Listed in the package's `sideEffects` (with the index that imports it), so bundlers keep it.
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
import type { ResNet } from '@kernelzoo/resnet';
import { sknet50, sknet101, skresnet18, skresnet34, skresnet50 } from './models.js';

/** timm's eval transform for these models: shorter side to 224 / 0.875 = 256, bicubic, centre crop 224. */
const TIMM_IMAGENET: Preprocessing = {
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
  scale: 1,
  resize: 'shorter-side',
  interpolation: 'bicubic',
  cropPct: 0.875,
};

const PAPER_GFLOPS = '10⁹ multiply-adds at 224×224 (implus/SKNet README, Table 2)';

function entry(
  id: string,
  description: string,
  build: () => ResNet,
  reference: ModelEntry['reference'],
): ModelEntry<ResNet> {
  return {
    id,
    package: '@kernelzoo/sknet',
    description,
    task: 'classification',
    inputSize: [224, 224],
    numClasses: 1000,
    labels: 'imagenet-1k',
    preprocessing: TIMM_IMAGENET,
    reference,
    build,
  };
}

/** The entries this package registers. */
export const SKNET_MODELS: readonly ModelEntry<ResNet>[] = [
  entry(
    'sknet50',
    "SKNet-50 (timm's skresnext50_32x4d; weights skresnext50_32x4d.ra_in1k, timm's own training, 80.17 % top-1)",
    () => sknet50(),
    {
      parameters: 27_479_784,
      parametersSource: 'published',
      gflops: 4.47,
      gflopsConvention: PAPER_GFLOPS,
      source: 'timm/models/sknet.py (skresnext50_32x4d)',
    },
  ),
  entry('sknet101', 'SKNet-101 (3-4-23-3, d = max(C/16, 32)); no PyTorch weights exist', () => sknet101(), {
    parameters: 48_736_040,
    parametersSource: 'computed',
    gflops: 8.46,
    gflopsConvention: PAPER_GFLOPS,
    source: "timm/models/sknet.py's SelectiveKernelBottleneck at implus/SKNet's sknet101 depth",
  }),
  entry('skresnet18', 'SK-ResNet-18 (timm; weights skresnet18.ra_in1k)', () => skresnet18(), {
    parameters: 11_958_056,
    parametersSource: 'published',
    gflops: 'computed',
    source: 'timm/models/sknet.py (skresnet18)',
  }),
  entry('skresnet34', 'SK-ResNet-34 (timm; weights skresnet34.ra_in1k)', () => skresnet34(), {
    parameters: 22_282_376,
    parametersSource: 'published',
    gflops: 'computed',
    source: 'timm/models/sknet.py (skresnet34)',
  }),
  entry('skresnet50', 'SK-ResNet-50 (timm; no published weights)', () => skresnet50(), {
    parameters: 25_803_160,
    parametersSource: 'computed',
    gflops: 'computed',
    source: 'timm/models/sknet.py (skresnet50)',
  }),
];

for (const e of SKNET_MODELS) registerModel(e);
