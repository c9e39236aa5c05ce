import { checkInt, concat, interpolate, nn, type Tensor } from '@kernelzoo/core';
import { HighResolutionNet, type HRNetConfig, hrnetConfig } from './network.js';

/** Options of {@link hrnetSeg}. */
export interface HRNetSegOptions {
  /** Width W (48 for the published Cityscapes model). */
  readonly width: number;
  /** Classes. Default 19 (Cityscapes). */
  readonly numClasses?: number;
  /**
   * `align_corners` of the bilinear resizes (fuse layers and head): the config's
   * `MODEL.ALIGN_CORNERS`. Default false (the Cityscapes W48 yaml, and the `master` branch).
   */
  readonly alignCorners?: boolean;
  /** Kernel of the classifier `last_layer.3` (`FINAL_CONV_KERNEL`): 1 (default) or 3. */
  readonly finalConvKernel?: 1 | 3;
}

/**
 * Segmentation HRNetV2 (`HighResolutionNet` of `HRNet/HRNet-Semantic-Segmentation`,
 * `lib/models/seg_hrnet.py`): the multi-scale {@link HighResolutionNet} backbone with bilinear
 * fuse upsampling to the exact size, then branches 1–3 resized bilinearly to branch 0's size,
 * concatenated (15W channels) and `last_layer` = 1×1 convolution (bias) + BatchNorm + ReLU +
 * 1×1 convolution to the classes (keys `last_layer.0`, `.1`, `.3`). `[N, 3, H, W]` → logits
 * `[N, classes, ⌈H/4⌉, ⌈W/4⌉]` (`@kernelzoo/vision`'s HRNet-seg rule upsamples them to the
 * input). The published checkpoints' keys carry a `model.` prefix (the training wrapper's),
 * which `@kernelzoo/weights`' `loadModel` removes; beside the training wrapper's loss weights
 * it is removed here (see {@link SegHighResolutionNet.loadStateDict}).
 */
export class SegHighResolutionNet extends HighResolutionNet {
  /** Classes. */
  readonly numClasses: number;
  /** `align_corners` of the bilinear resizes. */
  readonly alignCorners: boolean;
  /** 1×1 conv (bias) + BatchNorm + ReLU + 1×1 conv (bias) to the classes. */
  readonly last_layer: nn.Sequential;

  /**
   * @param config - the backbone definition (multi-scale, bilinear fuse, as {@link hrnetSeg} makes it).
   * @param numClasses - default 19.
   * @param finalConvKernel - of `last_layer.3`: 1 (default) or 3 (padding 1).
   */
  constructor(config: HRNetConfig, numClasses = 19, finalConvKernel: 1 | 3 = 1) {
    super(config);
    this.numClasses = checkInt('SegHighResolutionNet', 'numClasses', numClasses, 1);
    this.alignCorners = config.fuse.mode === 'bilinear' ? (config.fuse.alignCorners ?? false) : false;
    const c = this.outChannels.reduce((a, b) => a + b, 0);
    this.last_layer = this.registerModule(
      'last_layer',
      new nn.Sequential(
        new nn.Conv2d(c, c, 1, { bias: true }),
        new nn.BatchNorm2d(c),
        new nn.ReLU(),
        new nn.Conv2d(c, numClasses, finalConvKernel, { padding: finalConvKernel === 3 ? 1 : 0, bias: true }),
      ),
    );
  }

  /**
   * Loads a state dict, as every module does, and also a file saved by HRNet-seg's `train.py`
   * whose `model.` prefix the loader could not strip because the training wrapper's loss weights
   * (`loss.criterion.weight`) sit beside it: when every key starts with `model.` or `loss.` and
   * some with `loss.`, the `model.` keys load without their prefix (as `tools/test.py`'s
   * `k[6:]`) and the `loss.*` keys are dropped — even with `strict` — and reported in
   * `unexpected`.
   */
  override loadStateDict(
    dict: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
    options: nn.LoadStateDictOptions = {},
  ): nn.LoadStateDictResult {
    const entries = dict instanceof Map ? [...dict.entries()] : Object.entries(dict);
    const isLoss = (k: string) => k.startsWith('loss.');
    const wrapped =
      entries.some(([k]) => isLoss(k)) && entries.every(([k]) => isLoss(k) || k.startsWith('model.'));
    if (!wrapped) return super.loadStateDict(dict, options);
    const model = new Map(entries.filter(([k]) => !isLoss(k)).map(([k, t]) => [k.slice('model.'.length), t]));
    const result = super.loadStateDict(model, options);
    const dropped = entries.filter(([k]) => isLoss(k)).map(([k]) => k);
    return { missing: result.missing, unexpected: [...result.unexpected, ...dropped] };
  }

  /** `[N, 3, H, W]` → logits `[N, classes, H/4, W/4]`. */
  protected forward(x: Tensor): Tensor {
    const ys = this.features(x);
    const [, , h, w] = ys[0].shape;
    const up = ys.map((y, i) =>
      i === 0 ? y : interpolate(y, { size: [h, w], mode: 'bilinear', alignCorners: this.alignCorners }),
    );
    return this.last_layer.call(concat(up, 1));
  }
}

/**
 * HRNetV2 for segmentation of width W
 * (`experiments/cityscapes/seg_hrnet_w48_train_512x1024_*.yaml`): stages 1/4/3 modules, 4
 * BasicBlocks per branch, every module multi-scale, bilinear fuse upsampling.
 * @param options - width, numClasses, alignCorners, finalConvKernel.
 */
export function hrnetSeg(options: HRNetSegOptions): SegHighResolutionNet {
  return new SegHighResolutionNet(
    hrnetConfig(options.width, {
      multiScaleOutput: true,
      fuse: { mode: 'bilinear', alignCorners: options.alignCorners ?? false },
    }),
    options.numClasses ?? 19,
    options.finalConvKernel ?? 1,
  );
}

/** HRNetV2-W48 for Cityscapes (19 classes): 65,859,379 parameters. */
export function hrnet_w48_seg(options: Omit<HRNetSegOptions, 'width'> = {}): SegHighResolutionNet {
  return hrnetSeg({ ...options, width: 48 });
}
