import { ArgumentError, checkInt, describeValue, nn, type Tensor } from '@kernelzoo/core';
import { HighResolutionNet, type HRNetConfig, hrnetConfig } from './network.js';

/** Options of {@link hrnetPose}. */
export interface HRNetPoseOptions {
  /** Width W (32 or 48 published). */
  readonly width: number;
  /** Keypoints (heatmaps). Default 17 (COCO). */
  readonly numJoints?: number;
  /** Kernel of `final_layer` (`FINAL_CONV_KERNEL`): 1 (default, every published config) or 3. */
  readonly finalConvKernel?: 1 | 3;
}

/**
 * Pose HRNet (`PoseHighResolutionNet` of `leoxiaobin/deep-high-resolution-net.pytorch`,
 * `lib/models/pose_hrnet.py`): the {@link HighResolutionNet} backbone whose last module
 * outputs only the highest-resolution branch (keys `stage4.<last>.fuse_layers.0.*` only), then
 * `final_layer`, a convolution with bias to one heatmap per keypoint. `[N, 3, H, W]` →
 * `[N, joints, H/4, W/4]`; H and W must be divisible by 32 (the nearest fuse upsampling).
 */
export class PoseHighResolutionNet extends HighResolutionNet {
  /** Keypoints. */
  readonly numJoints: number;
  /** Convolution (with bias) from branch 0 to the heatmaps. */
  readonly final_layer: nn.Conv2d;

  /**
   * @param config - the backbone definition (`multiScaleOutput` false, nearest fuse, as
   *   {@link hrnetPose} makes it).
   * @param numJoints - heatmaps. Default 17.
   * @param finalConvKernel - 1 (default) or 3 (padding 1).
   */
  constructor(config: HRNetConfig, numJoints = 17, finalConvKernel: 1 | 3 = 1) {
    super(config);
    const op = 'PoseHighResolutionNet';
    this.numJoints = checkInt(op, 'numJoints', numJoints, 1);
    if (finalConvKernel !== 1 && finalConvKernel !== 3)
      throw new ArgumentError(op, 'finalConvKernel', '1 or 3', describeValue(finalConvKernel));
    this.final_layer = this.registerModule(
      'final_layer',
      new nn.Conv2d(this.outChannels[0], numJoints, finalConvKernel, {
        padding: finalConvKernel === 3 ? 1 : 0,
        bias: true,
      }),
    );
  }

  /** `[N, 3, H, W]` → heatmaps `[N, joints, H/4, W/4]`. */
  protected forward(x: Tensor): Tensor {
    return this.final_layer.call(this.features(x)[0]);
  }
}

/**
 * Pose HRNet of width W (the COCO yamls `experiments/coco/hrnet/w{32,48}_*.yaml`): stages
 * 1/4/3 modules, 4 BasicBlocks per branch, the last module single-scale, nearest fuse
 * upsampling, 17 heatmaps.
 * @param options - width, numJoints, finalConvKernel.
 */
export function hrnetPose(options: HRNetPoseOptions): PoseHighResolutionNet {
  return new PoseHighResolutionNet(
    hrnetConfig(options.width, { multiScaleOutput: false, fuse: { mode: 'nearest' } }),
    options.numJoints ?? 17,
    options.finalConvKernel ?? 1,
  );
}

/** `pose_hrnet_w32` (COCO, 17 keypoints): 28,536,113 parameters. One network for 256×192 and 384×288. */
export function hrnet_w32_pose(options: Omit<HRNetPoseOptions, 'width'> = {}): PoseHighResolutionNet {
  return hrnetPose({ ...options, width: 32 });
}

/** `pose_hrnet_w48` (COCO, 17 keypoints): 63,595,745 parameters. One network for 256×192 and 384×288. */
export function hrnet_w48_pose(options: Omit<HRNetPoseOptions, 'width'> = {}): PoseHighResolutionNet {
  return hrnetPose({ ...options, width: 48 });
}
