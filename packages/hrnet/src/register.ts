/**
 * Registers HRNet's networks in core's model registry when the package is imported. Listed in
 * the package's `sideEffects` (with the index that imports it), so bundlers keep it.
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
import { type ClsHighResolutionNet, hrnet_w18_cls, hrnet_w32_cls, hrnet_w48_cls } from './cls.js';
import { hrnet_w32_pose, hrnet_w48_pose, type PoseHighResolutionNet } from './pose.js';
import { hrnet_w48_seg, type SegHighResolutionNet } from './seg.js';

/**
 * HRNet pose's test-time input (`lib/dataset/JointsDataset.py`, `tools/test.py`): the person
 * box (centre, scale with pixel_std 200, ×1.25, aspect ratio fixed to the input) warped to the
 * input size with `cv2.warpAffine` (INTER_LINEAR), RGB / 255, ImageNet mean and std.
 */
const POSE: Preprocessing = {
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
  scale: 1,
  resize: 'box-warp',
  interpolation: 'bilinear',
};

/** timm's eval transform for `hrnet_w*` (`ms_in1k`): shorter side to 224 / 0.875 = 256, bilinear, centre crop 224. */
const CLS: Preprocessing = {
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
  scale: 1,
  resize: 'shorter-side',
  interpolation: 'bilinear',
  cropPct: 0.875,
};

/**
 * HRNet-seg's Cityscapes test (`lib/datasets/cityscapes.py`): the long side at the base size
 * 2048 (Cityscapes frames already are 1024×2048), RGB / 255, ImageNet mean and std, the whole
 * image through the network (`@kernelzoo/vision`'s `segmentWholeImage`).
 */
const SEG: Preprocessing = {
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
  scale: 1,
  resize: 'long-side',
  interpolation: 'bilinear',
};

/**
 * The convention of the HRNet repositories' "GFLOPs" (`get_model_summary` in
 * `lib/utils/utils.py` / `modelsummary.py`): multiply-adds of the convolutions and Linear layers
 * divided by 2^30 (1024³) — core's `summary(...).totalMultiplyAdds / 2 ** 30`.
 */
export const HRNET_GFLOPS_CONVENTION = 'multiply-adds of convolutions and Linear layers ÷ 2^30';

const POSE_SOURCE = 'leoxiaobin/deep-high-resolution-net.pytorch lib/models/pose_hrnet.py';

function pose(
  id: string,
  width: 32 | 48,
  input: readonly [number, number],
  parameters: number,
  gflops: number,
  ap: string,
): ModelEntry<PoseHighResolutionNet> {
  return {
    id,
    package: '@kernelzoo/hrnet',
    description: `Pose HRNet-W${width} for COCO (17 keypoints) at ${input[0]}×${input[1]}; COCO val2017 AP ${ap} with flip test`,
    task: 'pose',
    inputSize: input,
    numClasses: 17,
    labels: 'coco-17-keypoints',
    preprocessing: POSE,
    reference: {
      parameters,
      parametersSource: 'computed',
      gflops,
      gflopsConvention: `${HRNET_GFLOPS_CONVENTION}, at ${input[0]}×${input[1]} (deep-high-resolution-net.pytorch README)`,
      source: POSE_SOURCE,
    },
    build: width === 32 ? () => hrnet_w32_pose() : () => hrnet_w48_pose(),
  };
}

/** The pose entries (the 384×288 ids are the same networks as the 256×192 ones, with their own checkpoints). */
export const HRNET_POSE_MODELS: readonly ModelEntry<PoseHighResolutionNet>[] = [
  pose('hrnet_w32_pose', 32, [256, 192], 28_536_113, 7.1, '0.744'),
  pose('hrnet_w48_pose', 48, [256, 192], 63_595_745, 14.6, '0.751'),
  pose('hrnet_w32_pose_384x288', 32, [384, 288], 28_536_113, 16.0, '0.758'),
  pose('hrnet_w48_pose_384x288', 48, [384, 288], 63_595_745, 32.9, '0.763'),
];

const CLS_SOURCE = 'HRNet/HRNet-Image-Classification lib/models/cls_hrnet.py (timm hrnet.py: same keys)';

function cls(
  id: string,
  width: number,
  build: () => ClsHighResolutionNet,
  parameters: number,
  gflops: number,
  top1: string,
): ModelEntry<ClsHighResolutionNet> {
  return {
    id,
    package: '@kernelzoo/hrnet',
    description: `HRNet-W${width}-C for ImageNet-1k (timm hrnet_w${width}.ms_in1k, ${top1} % top-1)`,
    task: 'classification',
    inputSize: [224, 224],
    numClasses: 1000,
    labels: 'imagenet-1k',
    preprocessing: CLS,
    reference: {
      parameters,
      parametersSource: 'computed',
      gflops,
      gflopsConvention: `${HRNET_GFLOPS_CONVENTION}, at 224×224 (HRNet-Image-Classification README)`,
      source: CLS_SOURCE,
    },
    build,
  };
}

/** The classification entries. */
export const HRNET_CLS_MODELS: readonly ModelEntry<ClsHighResolutionNet>[] = [
  cls('hrnet_w18_cls', 18, () => hrnet_w18_cls(), 21_299_004, 3.99, '76.77'),
  cls('hrnet_w32_cls', 32, () => hrnet_w32_cls(), 41_232_680, 8.31, '78.45'),
  cls('hrnet_w48_cls', 48, () => hrnet_w48_cls(), 77_469_864, 16.1, '79.33'),
];

/** The segmentation entries. */
export const HRNET_SEG_MODELS: readonly ModelEntry<SegHighResolutionNet>[] = [
  {
    id: 'hrnet_w48_seg',
    package: '@kernelzoo/hrnet',
    description: 'HRNetV2-W48 for Cityscapes (19 classes), whole 1024×2048 frames; 80.9 mIoU on val',
    task: 'segmentation',
    inputSize: [1024, 2048],
    numClasses: 19,
    labels: 'cityscapes-19',
    preprocessing: SEG,
    reference: {
      parameters: 65_859_379,
      parametersSource: 'computed',
      gflops: 'computed',
      source:
        'HRNet/HRNet-Semantic-Segmentation lib/models/seg_hrnet.py (checkpoint keys carry a model. prefix)',
    },
    build: () => hrnet_w48_seg(),
  },
];

/** Every entry this package registers. */
export const HRNET_MODELS: readonly ModelEntry[] = [
  ...HRNET_POSE_MODELS,
  ...HRNET_CLS_MODELS,
  ...HRNET_SEG_MODELS,
];

for (const e of HRNET_MODELS) registerModel(e);
