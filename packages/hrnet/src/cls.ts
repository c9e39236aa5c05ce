import { add, checkInt, mean, nn, type Tensor } from '@kernelzoo/core';
import { Bottleneck, projectionShortcut } from '@kernelzoo/resnet';
import { HighResolutionNet, type HRNetConfig, hrnetConfig } from './network.js';

/** Options of {@link hrnetCls}. */
export interface HRNetClsOptions {
  /** Width W (18, 30, 32, 40, 44, 48, 64 published). */
  readonly width: number;
  /** Classes. Default 1000 (ImageNet-1k). */
  readonly numClasses?: number;
  /**
   * Bias on the head's `downsamp_modules.*.0` and `final_layer.0` convolutions. Default true
   * (the official release and timm's `hrnet_w*`); false for timm's `*_ssld` weights.
   */
  readonly headConvBias?: boolean;
}

/** Planes of the classification head's Bottlenecks per branch (outputs 128, 256, 512, 1024). */
export const HEAD_CHANNELS: readonly number[] = [32, 64, 128, 256];

/**
 * Classification HRNet (`HighResolutionNet` of `HRNet/HRNet-Image-Classification`,
 * `lib/models/cls_hrnet.py`; the same keys in timm's `hrnet.py`): the multi-scale
 * {@link HighResolutionNet} backbone, then the head — `incre_modules.i.0` (one Bottleneck per
 * branch, planes 32/64/128/256, with projection), `downsamp_modules.i` (3×3 stride-2
 * convolution with bias + BatchNorm + ReLU), `y = incre_{i+1}(x_{i+1}) + downsamp_i(y)`,
 * `final_layer` (1×1 to 2048 with bias + BatchNorm + ReLU), global average pooling and the
 * `classifier` (Linear). `[N, 3, H, W]` → logits `[N, classes]`.
 */
export class ClsHighResolutionNet extends HighResolutionNet {
  /** Classes. */
  readonly numClasses: number;
  /** `incre_modules.i`: a `Sequential` of one Bottleneck per branch. */
  readonly incre_modules: nn.ModuleList<nn.Sequential>;
  /** `downsamp_modules.i`: 3×3 stride-2 convolution + BatchNorm + ReLU, i = 0 … branches − 2. */
  readonly downsamp_modules: nn.ModuleList<nn.Sequential>;
  /** 1×1 convolution to 2048 + BatchNorm + ReLU. */
  readonly final_layer: nn.Sequential;
  /** The Linear classifier, 2048 → classes. */
  readonly classifier: nn.Linear;

  /**
   * @param config - the backbone definition (multi-scale, nearest fuse, as {@link hrnetCls} makes it).
   * @param numClasses - default 1000.
   * @param headConvBias - see {@link HRNetClsOptions.headConvBias}. Default true.
   */
  constructor(config: HRNetConfig, numClasses = 1000, headConvBias = true) {
    super(config);
    this.numClasses = checkInt('ClsHighResolutionNet', 'numClasses', numClasses, 1);
    const head = HEAD_CHANNELS;
    const e = Bottleneck.expansion;
    this.incre_modules = this.registerModule(
      'incre_modules',
      new nn.ModuleList(
        this.outChannels.map(
          (c, i) =>
            new nn.Sequential(new Bottleneck(c, head[i], { downsample: projectionShortcut(c, head[i] * e) })),
        ),
      ),
    );
    this.downsamp_modules = this.registerModule(
      'downsamp_modules',
      new nn.ModuleList(
        this.outChannels
          .slice(1)
          .map(
            (_, i) =>
              new nn.Sequential(
                new nn.Conv2d(head[i] * e, head[i + 1] * e, 3, { stride: 2, padding: 1, bias: headConvBias }),
                new nn.BatchNorm2d(head[i + 1] * e),
                new nn.ReLU(),
              ),
          ),
      ),
    );
    const last = head[this.outChannels.length - 1] * e;
    this.final_layer = this.registerModule(
      'final_layer',
      new nn.Sequential(
        new nn.Conv2d(last, 2048, 1, { bias: headConvBias }),
        new nn.BatchNorm2d(2048),
        new nn.ReLU(),
      ),
    );
    this.classifier = this.registerModule('classifier', new nn.Linear(2048, numClasses));
  }

  /** `[N, 3, H, W]` → logits `[N, classes]`. */
  protected forward(x: Tensor): Tensor {
    const ys = this.features(x);
    let y = this.incre_modules.at(0).call(ys[0]);
    for (let i = 0; i < this.downsamp_modules.length; i++)
      y = add(this.incre_modules.at(i + 1).call(ys[i + 1]), this.downsamp_modules.at(i).call(y));
    y = this.final_layer.call(y);
    return this.classifier.call(mean(y, [2, 3]));
  }
}

/**
 * Classification HRNet of width W (`cls_hrnet_w*_sgd_lr5e-2_wd1e-4_bs32_x100.yaml`): stages
 * 1/4/3 modules, 4 BasicBlocks per branch, every module multi-scale, nearest fuse upsampling.
 * @param options - width, numClasses, headConvBias.
 */
export function hrnetCls(options: HRNetClsOptions): ClsHighResolutionNet {
  return new ClsHighResolutionNet(
    hrnetConfig(options.width, { multiScaleOutput: true, fuse: { mode: 'nearest' } }),
    options.numClasses ?? 1000,
    options.headConvBias ?? true,
  );
}

/** Options of the named classification constructors. */
export type HRNetClsVariantOptions = Omit<HRNetClsOptions, 'width'>;

/** HRNet-W18-C: 21,299,004 parameters. */
export const hrnet_w18_cls = (o: HRNetClsVariantOptions = {}): ClsHighResolutionNet =>
  hrnetCls({ ...o, width: 18 });
/** HRNet-W30-C: 37.7 M parameters. */
export const hrnet_w30_cls = (o: HRNetClsVariantOptions = {}): ClsHighResolutionNet =>
  hrnetCls({ ...o, width: 30 });
/** HRNet-W32-C: 41,232,680 parameters. */
export const hrnet_w32_cls = (o: HRNetClsVariantOptions = {}): ClsHighResolutionNet =>
  hrnetCls({ ...o, width: 32 });
/** HRNet-W40-C: 57.6 M parameters. */
export const hrnet_w40_cls = (o: HRNetClsVariantOptions = {}): ClsHighResolutionNet =>
  hrnetCls({ ...o, width: 40 });
/** HRNet-W44-C: 67.1 M parameters. */
export const hrnet_w44_cls = (o: HRNetClsVariantOptions = {}): ClsHighResolutionNet =>
  hrnetCls({ ...o, width: 44 });
/** HRNet-W48-C: 77,469,864 parameters. */
export const hrnet_w48_cls = (o: HRNetClsVariantOptions = {}): ClsHighResolutionNet =>
  hrnetCls({ ...o, width: 48 });
/** HRNet-W64-C: 128,059,944 parameters. */
export const hrnet_w64_cls = (o: HRNetClsVariantOptions = {}): ClsHighResolutionNet =>
  hrnetCls({ ...o, width: 64 });
