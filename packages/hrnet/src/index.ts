/**
 * `@kernelzoo/hrnet`: HRNet (Sun et al., _Deep High-Resolution Representation Learning_,
 * CVPR 2019, arXiv 1902.09212) — the multi-resolution {@link HighResolutionModule}, the
 * transitions and stages of one configurable {@link HighResolutionNet} definition
 * ({@link hrnetConfig}), and its three task networks with the reference checkpoints' keys:
 * pose ({@link PoseHighResolutionNet}, `leoxiaobin/deep-high-resolution-net.pytorch`),
 * classification ({@link ClsHighResolutionNet}, `HRNet/HRNet-Image-Classification` and timm)
 * and HRNetV2 segmentation ({@link SegHighResolutionNet}, `HRNet/HRNet-Semantic-Segmentation`).
 *
 * Importing the package registers `hrnet_w32_pose`, `hrnet_w48_pose`, `hrnet_w32_pose_384x288`,
 * `hrnet_w48_pose_384x288`, `hrnet_w18_cls`, `hrnet_w32_cls`, `hrnet_w48_cls` and
 * `hrnet_w48_seg` in core's model registry ({@link HRNET_MODELS}).
 *
 * @packageDocumentation
 */
import './register.js';

export {
  ClsHighResolutionNet,
  HEAD_CHANNELS,
  type HRNetClsOptions,
  type HRNetClsVariantOptions,
  hrnet_w18_cls,
  hrnet_w30_cls,
  hrnet_w32_cls,
  hrnet_w40_cls,
  hrnet_w44_cls,
  hrnet_w48_cls,
  hrnet_w64_cls,
  hrnetCls,
} from './cls.js';
export {
  type BlockKind,
  expansionOf,
  type FuseUpsampling,
  HighResolutionModule,
  type HighResolutionModuleOptions,
  ModuleSlots,
} from './hr-module.js';
export {
  HighResolutionNet,
  type HRNetConfig,
  type HRNetConfigOptions,
  HRStage,
  hrnetConfig,
  type Stage1Config,
  type StageConfig,
  Transition,
} from './network.js';
export {
  type HRNetPoseOptions,
  hrnet_w32_pose,
  hrnet_w48_pose,
  hrnetPose,
  PoseHighResolutionNet,
} from './pose.js';
export {
  HRNET_CLS_MODELS,
  HRNET_GFLOPS_CONVENTION,
  HRNET_MODELS,
  HRNET_POSE_MODELS,
  HRNET_SEG_MODELS,
} from './register.js';
export { type HRNetSegOptions, hrnet_w48_seg, hrnetSeg, SegHighResolutionNet } from './seg.js';
