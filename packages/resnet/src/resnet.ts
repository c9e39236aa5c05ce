import {
  ArgumentError,
  checkInt,
  checkShape,
  describeValue,
  flatten,
  nn,
  type Tensor,
  tidy,
} from '@kernelzoo/core';
import { type BlockExtensions, type BlockType, projectionShortcut } from './blocks.js';

/** How far the last stage's output is below the input resolution: 32 (classification), 16 or 8. */
export type OutputStride = 8 | 16 | 32;

/** Options of {@link ResNet}; defaults are torchvision's ResNet. */
export interface ResNetOptions {
  /** The residual block: {@link Bottleneck}, {@link BasicBlock} or any {@link BlockType}. */
  block: BlockType;
  /** Blocks per stage, four numbers ≥ 1: `[3, 4, 6, 3]` for ResNet-50. */
  layers: readonly number[];
  /**
   * Classes of the classifier (`avgpool` → flatten → `fc`); null for a backbone without one.
   * Default 1000.
   */
  numClasses?: number | null;
  /** Input channels. Default 3. */
  inChannels?: number;
  /** Each stage's `planes`; stage outputs are `planes · expansion`. Default `[64, 128, 256, 512]`. */
  planes?: readonly number[];
  /** Channel groups of every 3×3 convolution (ResNeXt cardinality; Bottleneck only). Default 1. */
  groups?: number;
  /** Channels per group at `planes = 64` (ResNeXt's `width_per_group`). Default 64. */
  baseWidth?: number;
  /**
   * PSPNet/SPNet's "deep base" (PyTorch-Encoding's `deep_base`, timm's deep stem): `conv1` is
   * `Sequential(3×3/2 in→w, BN, ReLU, 3×3 w→w, BN, ReLU, 3×3 w→2w)` (keys `conv1.0/1/3/4/6`)
   * followed by `bn1`(2w), ReLU and the max pool; the first stage then sees 2w channels.
   * Default false: `conv1` is one 7×7/2 convolution to w channels.
   */
  deepStem?: boolean;
  /** The stem's width w. Default 64 (SPNet's deep stem: 64 → 64 → 128). */
  stemWidth?: number;
  /**
   * 32 (default): strides 1, 2, 2, 2. 16: `layer4` has stride 1 and dilation 2. 8: `layer3`
   * stride 1 dilation 2 and `layer4` stride 1 dilation 4. A dilated stage's first block keeps
   * the previous dilation on its strided convolution (torchvision's `replace_stride_with_dilation`,
   * PyTorch-Encoding's dilated ResNet), so `layer3.0` has dilation 1 and, at 8, `layer4.0` 2.
   */
  outputStride?: OutputStride;
  /**
   * Multi-grid: the dilation of each block of `layer4`, one number per block, replacing the
   * stage's (absolute values, as PyTorch-Encoding: SPNet uses `[4, 8, 16]`). Only with an
   * output stride of 8 or 16. Default none.
   */
  multiGrid?: readonly number[] | null;
  /** Passed to every block: a replacement spatial convolution, a gate (see {@link BlockExtensions}). */
  extensions?: BlockExtensions;
}

/** A stage's stride and dilations, as {@link planStages} derives them from the output stride. */
export interface StagePlan {
  /** Stride of its first block. */
  readonly stride: number;
  /**
   * The stage's dilation (its first block may keep the previous one; see
   * {@link ResNetOptions.outputStride}).
   */
  readonly dilation: number;
  /** The dilation of each block's strided 3×3 convolution. */
  readonly dilations: readonly number[];
}

/** How one stage was built. */
export interface StageLayout extends StagePlan {
  /** The stage's planes. */
  readonly planes: number;
  /** Output channels (`planes · expansion`). */
  readonly channels: number;
}

/** The outputs of the four stages, `layer1` … `layer4` (c1 … c4 of segmentation heads). */
export type ResNetFeatures = [Tensor, Tensor, Tensor, Tensor];

const STAGE_NAMES = ['layer1', 'layer2', 'layer3', 'layer4'] as const;

/**
 * The strides and per-block dilations of the four stages for an output stride: what
 * {@link ResNet} builds (and reports in {@link ResNet.stages}).
 * @param layers - blocks per stage.
 * @param outputStride - 8, 16 or 32.
 * @param multiGrid - layer4's dilations, one per block, or null.
 */
export function planStages(
  layers: readonly number[],
  outputStride: OutputStride,
  multiGrid: readonly number[] | null = null,
): StagePlan[] {
  return plan('planStages', layers, outputStride, multiGrid);
}

function plan(
  op: string,
  layers: readonly number[],
  outputStride: OutputStride,
  multiGrid: readonly number[] | null,
): StagePlan[] {
  if (!Array.isArray(layers) || layers.length !== 4)
    throw new ArgumentError(op, 'layers', 'four block counts (e.g. [3, 4, 6, 3])', describeValue(layers));
  layers.forEach((n, i) => {
    checkInt(op, `layers[${i}]`, n, 1);
  });
  if (outputStride !== 8 && outputStride !== 16 && outputStride !== 32)
    throw new ArgumentError(op, 'outputStride', '8, 16 or 32', describeValue(outputStride));
  const strides = [1, 2, 2, 2];
  const dilations = [1, 1, 1, 1];
  if (outputStride <= 16) [strides[3], dilations[3]] = [1, 2];
  if (outputStride === 8) [strides[2], dilations[2], dilations[3]] = [1, 2, 4];
  if (multiGrid !== null) {
    if (outputStride === 32)
      throw new ArgumentError(op, 'multiGrid', 'used only with outputStride 8 or 16', 'outputStride 32');
    if (!Array.isArray(multiGrid) || multiGrid.length !== layers[3])
      throw new ArgumentError(
        op,
        'multiGrid',
        `one dilation per block of layer4 (${layers[3]})`,
        describeValue(multiGrid),
      );
    multiGrid.forEach((d, i) => {
      checkInt(op, `multiGrid[${i}]`, d, 1);
    });
  }
  return layers.map((n, s) => ({
    stride: strides[s],
    dilation: dilations[s],
    dilations:
      s === 3 && multiGrid
        ? [...multiGrid]
        : Array.from({ length: n }, (_, b) => (b === 0 && s > 0 ? dilations[s - 1] : dilations[s])),
  }));
}

/**
 * torchvision's ResNet (and ResNeXt, and PyTorch-Encoding's dilated deep-stem ResNet): stem,
 * four stages of residual blocks, optional classifier. Keys as torchvision: `conv1.weight`,
 * `bn1.*`, `layer1.0.conv1.weight` …, `fc.weight`, `fc.bias`; with the deep stem
 * `conv1.{0,3,6}.weight`, `conv1.{1,4}.*`, `bn1.*`.
 *
 * `call(x)` returns the logits `[N, numClasses]`, or without a classifier `layer4`'s output;
 * {@link ResNet.forwardFeatures} returns all four stage outputs. Feature capture
 * (`nn.captureFeatures(net, ['layer3'], …)`) reads any stage or block too.
 *
 * In eval mode every Conv2d → BatchNorm2d (→ ReLU) runs as one `conv2d` kernel; with the deep
 * stem, `conv1.6 → bn1 → relu` crosses the `conv1` Sequential, so `bn1` and that ReLU run as
 * their own kernels.
 */
export class ResNet extends nn.Module {
  /** The block class. */
  readonly block: BlockType;
  /** Input channels. */
  readonly inChannels: number;
  /** The output stride (8, 16 or 32). */
  readonly outputStride: OutputStride;
  /** Whether the stem is the deep (three-convolution) one. */
  readonly deepStem: boolean;
  /** The stem convolution (`Conv2d`), or the deep stem's `Sequential`. */
  readonly conv1: nn.Module;
  /** The stem's BatchNorm. */
  readonly bn1: nn.BatchNorm2d;
  /** The stem's ReLU. */
  readonly relu: nn.ReLU;
  /** The stem's 3×3/2 max pool (padding 1). */
  readonly maxpool: nn.MaxPool2d;
  /** Stage 1 (stride 4 from the input). */
  readonly layer1: nn.Sequential;
  /** Stage 2 (stride 8). */
  readonly layer2: nn.Sequential;
  /** Stage 3 (stride 16, or 8 when dilated). */
  readonly layer3: nn.Sequential;
  /** Stage 4 (stride 32, or 16 / 8 when dilated). */
  readonly layer4: nn.Sequential;
  /** Global average pooling before `fc`, or null without a classifier. */
  readonly avgpool: nn.AdaptiveAvgPool2d | null;
  /** The classifier, or null for a backbone. */
  readonly fc: nn.Linear | null;
  /** How each stage was built: planes, channels, stride, per-block dilations. */
  readonly stages: readonly StageLayout[];

  /** @param options - block, layers and the rest (see {@link ResNetOptions}). */
  constructor(options: ResNetOptions) {
    super();
    const op = 'ResNet';
    const o = options;
    const block = o?.block;
    if (typeof block !== 'function' || !Number.isInteger(block.expansion) || block.expansion < 1)
      throw new ArgumentError(
        op,
        'block',
        'a block class with an integer expansion (e.g. Bottleneck)',
        describeValue(block),
      );
    this.block = block;
    this.inChannels = checkInt(op, 'inChannels', o.inChannels ?? 3, 1);
    const planes = o.planes ?? [64, 128, 256, 512];
    if (!Array.isArray(planes) || planes.length !== 4)
      throw new ArgumentError(op, 'planes', 'four numbers', describeValue(planes));
    planes.forEach((p, i) => {
      checkInt(op, `planes[${i}]`, p, 1);
    });
    const numClasses = o.numClasses === undefined ? 1000 : o.numClasses;
    if (numClasses !== null) checkInt(op, 'numClasses', numClasses, 1);
    const stemWidth = checkInt(op, 'stemWidth', o.stemWidth ?? 64, 1);
    this.outputStride = o.outputStride ?? 32;
    const stagePlan = plan(op, o.layers, this.outputStride, o.multiGrid ?? null);
    this.deepStem = o.deepStem ?? false;

    const c = this.inChannels;
    const conv3x3 = (cin: number, cout: number, stride = 1) =>
      new nn.Conv2d(cin, cout, 3, { stride, padding: 1, bias: false });
    let inplanes: number;
    if (this.deepStem) {
      inplanes = 2 * stemWidth;
      this.conv1 = this.registerModule(
        'conv1',
        new nn.Sequential(
          conv3x3(c, stemWidth, 2),
          new nn.BatchNorm2d(stemWidth),
          new nn.ReLU(),
          conv3x3(stemWidth, stemWidth),
          new nn.BatchNorm2d(stemWidth),
          new nn.ReLU(),
          conv3x3(stemWidth, inplanes),
        ),
      );
    } else {
      inplanes = stemWidth;
      this.conv1 = this.registerModule(
        'conv1',
        new nn.Conv2d(c, stemWidth, 7, { stride: 2, padding: 3, bias: false }),
      );
    }
    this.bn1 = this.registerModule('bn1', new nn.BatchNorm2d(inplanes));
    this.relu = this.registerModule('relu', new nn.ReLU());
    this.maxpool = this.registerModule('maxpool', new nn.MaxPool2d(3, { stride: 2, padding: 1 }));
    // The deep stem's last convolution sits inside the conv1 Sequential, its BatchNorm outside.
    this.registerFusion(this.conv1 instanceof nn.Conv2d ? 'conv1' : 'conv1.6', 'bn1', 'relu');

    const stages: StageLayout[] = [];
    const layers: nn.Sequential[] = [];
    stagePlan.forEach(({ stride, dilation: stageDilation, dilations }, s) => {
      const p = planes[s];
      const channels = p * block.expansion;
      const blocks: nn.Module[] = dilations.map((dilation, b) => {
        const first = b === 0;
        const downsample =
          first && (stride !== 1 || inplanes !== channels)
            ? projectionShortcut(inplanes, channels, stride)
            : null;
        const m = new block(first ? inplanes : channels, p, {
          stride: first ? stride : 1,
          downsample,
          groups: o.groups,
          baseWidth: o.baseWidth,
          dilation,
          secondDilation: o.multiGrid && s === 3 ? dilation : stageDilation,
          extensions: o.extensions,
          position: { stage: s, index: b, blocks: dilations.length },
        });
        return m;
      });
      inplanes = channels;
      layers.push(this.registerModule(STAGE_NAMES[s], new nn.Sequential(...blocks)));
      stages.push({ planes: p, channels, stride, dilation: stageDilation, dilations });
    });
    [this.layer1, this.layer2, this.layer3, this.layer4] = layers;
    this.stages = stages;
    if (numClasses !== null) {
      this.avgpool = this.registerModule('avgpool', new nn.AdaptiveAvgPool2d(1));
      this.fc = this.registerModule('fc', new nn.Linear(inplanes, numClasses));
    } else {
      this.avgpool = null;
      this.fc = null;
    }
  }

  /** Output channels of `layer1` … `layer4` (`[256, 512, 1024, 2048]` for ResNet-50). */
  get featureChannels(): readonly number[] {
    return this.stages.map((s) => s.channels);
  }

  /** Channels of `layer4`'s output, which `fc` reads. */
  get numFeatures(): number {
    return this.stages[3].channels;
  }

  /**
   * The four stage outputs `[layer1, layer2, layer3, layer4]` (c1 … c4) for `[N, inChannels,
   * H, W]`: strides 4, 8, 16, 32 (dilated: 4, 8, 16, 16 or 4, 8, 8, 8). The classifier does not
   * run. Intermediates are freed; the four tensors are the caller's.
   */
  forwardFeatures(x: Tensor): ResNetFeatures {
    checkShape('ResNet.forwardFeatures', 'x', x, [null, this.inChannels, null, null]);
    return tidy(() => {
      const c1 = this.layer1.call(this.stem(x));
      const c2 = this.layer2.call(c1);
      const c3 = this.layer3.call(c2);
      const c4 = this.layer4.call(c3);
      return [c1, c2, c3, c4] as ResNetFeatures;
    });
  }

  /** Logits `[N, numClasses]`, or without a classifier `layer4`'s output. */
  protected forward(x: Tensor): Tensor {
    checkShape('ResNet', 'x', x, [null, this.inChannels, null, null]);
    let y = this.stem(x);
    for (const layer of [this.layer1, this.layer2, this.layer3, this.layer4]) y = layer.call(y);
    if (!this.fc || !this.avgpool) return y;
    return this.fc.call(flatten(this.avgpool.call(y), 1));
  }

  /** conv1 → bn1 → relu → maxpool. */
  private stem(x: Tensor): Tensor {
    return this.maxpool.call(this.relu.call(this.bn1.call(this.conv1.call(x))));
  }
}
