import { ArgumentError, checkInt, checkShape, describeValue, nn, type Tensor } from '@kernelzoo/core';
import type { BlockOptions, BlockType } from '@kernelzoo/resnet';
import { ConvNormAct, SelectiveKernel } from './selective-kernel.js';

/** The SK unit's settings a whole network shares (timm's `sk_kwargs`). */
export interface SKSettings {
  /** Attention reduction ratio. Default 1/16. */
  readonly rdRatio?: number;
  /** Attention channels are `makeDivisible(C · rdRatio, rdDivisor)`. Default 8. */
  readonly rdDivisor?: number;
  /** Split the input channels between the paths. Default true (timm's default). */
  readonly splitInput?: boolean;
}

function checkOptions(op: string, inplanes: number, planes: number, o: BlockOptions) {
  checkInt(op, 'inplanes', inplanes, 1);
  checkInt(op, 'planes', planes, 1);
  const downsample = o.downsample ?? null;
  if (downsample !== null && !(downsample instanceof nn.Module))
    throw new ArgumentError(op, 'downsample', 'a Module or null', describeValue(downsample));
  if (o.extensions && (o.extensions.spatialConv || o.extensions.gate))
    throw new ArgumentError(
      op,
      'extensions',
      'none (the SK unit is this block’s spatial convolution; it takes no gate)',
      'extensions',
    );
  return {
    stride: checkInt(op, 'stride', o.stride ?? 1, 1),
    dilation: checkInt(op, 'dilation', o.dilation ?? 1, 1),
    downsample,
  };
}

/**
 * timm's `SelectiveKernelBottleneck` (`timm/models/sknet.py`): `conv1` 1×1 {@link ConvNormAct}
 * → `conv2` {@link SelectiveKernel} (stride, groups) → `conv3` 1×1 ConvNormAct without ReLU,
 * plus the shortcut, ReLU after the sum. Width `floor(planes · baseWidth / 64) · groups`
 * (SKNet-50: 128 … 1024), output `planes · 4`. Keys `conv1.conv.weight`, `conv1.bn.*`,
 * `conv2.paths.{0,1}.*`, `conv2.attn.*`, `conv3.conv.weight`, `conv3.bn.*`, `downsample.0/1.*`.
 *
 * A {@link BlockType} for `@kernelzoo/resnet`'s `ResNet`; the SK settings are bound with
 * {@link skBlock}. In eval mode: 1 + (M + 2) + 1 `conv2d` kernels (one more with a shortcut)
 * and no `batchNorm`.
 */
export class SelectiveKernelBottleneck extends nn.Module {
  /** Output channels per `planes`. */
  static readonly expansion = 4;
  /** Input channels. */
  readonly inChannels: number;
  /** Output channels (`planes · 4`). */
  readonly outChannels: number;
  /** Width of the SK unit. */
  readonly width: number;
  /** 1×1 reduce. */
  readonly conv1: ConvNormAct;
  /** The SK unit (carries the stride). */
  readonly conv2: SelectiveKernel;
  /** 1×1 expand, no ReLU. */
  readonly conv3: ConvNormAct;
  /** ReLU after the residual sum. */
  readonly act: nn.ReLU;
  /** The projection shortcut, or null. */
  readonly downsample: nn.Module | null;

  /**
   * @param inplanes - input channels.
   * @param planes - the stage's planes.
   * @param options - stride, downsample, groups, baseWidth, dilation (as `ResNet` passes them).
   * @param sk - the SK unit's settings.
   */
  constructor(inplanes: number, planes: number, options: BlockOptions = {}, sk: SKSettings = {}) {
    super();
    const op = 'SelectiveKernelBottleneck';
    const c = checkOptions(op, inplanes, planes, options);
    const groups = checkInt(op, 'groups', options.groups ?? 1, 1);
    const baseWidth = checkInt(op, 'baseWidth', options.baseWidth ?? 64, 1);
    const width = Math.floor((planes * baseWidth) / 64) * groups;
    if (width < 1) throw new ArgumentError(op, 'baseWidth', 'large enough for a width ≥ 1', `width ${width}`);
    this.inChannels = inplanes;
    this.outChannels = planes * SelectiveKernelBottleneck.expansion;
    this.width = width;
    this.conv1 = this.registerModule('conv1', new ConvNormAct(inplanes, width, 1));
    this.conv2 = this.registerModule(
      'conv2',
      new SelectiveKernel(width, {
        outChannels: width,
        stride: c.stride,
        dilation: c.dilation,
        groups,
        rdRatio: sk.rdRatio,
        rdDivisor: sk.rdDivisor,
        splitInput: sk.splitInput,
      }),
    );
    this.conv3 = this.registerModule('conv3', new ConvNormAct(width, this.outChannels, 1, { act: false }));
    this.act = this.registerModule('act', new nn.ReLU());
    this.downsample = c.downsample ? this.registerModule('downsample', c.downsample) : null;
  }

  /** `[N, inplanes, H, W]` → `[N, planes · 4, H / stride, W / stride]`. */
  protected forward(x: Tensor): Tensor {
    checkShape('SelectiveKernelBottleneck', 'x', x, [null, this.inChannels, null, null]);
    const y = this.conv3.call(this.conv2.call(this.conv1.call(x)));
    return nn.residualSum(this, y, this.downsample ? this.downsample.call(x) : x, this.act);
  }
}

/**
 * timm's `SelectiveKernelBasic`: `conv1` {@link SelectiveKernel} (stride) → `conv2` 3×3
 * {@link ConvNormAct} without ReLU, plus the shortcut, ReLU after the sum. Keys
 * `conv1.paths.{0,1}.*`, `conv1.attn.*`, `conv2.conv.weight`, `conv2.bn.*`, `downsample.0/1.*`.
 * A {@link BlockType} for `ResNet` (bind the SK settings with {@link skBlock}).
 */
export class SelectiveKernelBasic extends nn.Module {
  /** Output channels per `planes`. */
  static readonly expansion = 1;
  /** Input channels. */
  readonly inChannels: number;
  /** Output channels (`planes`). */
  readonly outChannels: number;
  /** The SK unit (carries the stride). */
  readonly conv1: SelectiveKernel;
  /** 3×3 convolution + BatchNorm, no ReLU. */
  readonly conv2: ConvNormAct;
  /** ReLU after the residual sum. */
  readonly act: nn.ReLU;
  /** The projection shortcut, or null. */
  readonly downsample: nn.Module | null;

  /**
   * @param inplanes - input channels.
   * @param planes - output channels.
   * @param options - stride, downsample, dilation, secondDilation (groups 1, baseWidth 64 only).
   * @param sk - the SK unit's settings.
   */
  constructor(inplanes: number, planes: number, options: BlockOptions = {}, sk: SKSettings = {}) {
    super();
    const op = 'SelectiveKernelBasic';
    const c = checkOptions(op, inplanes, planes, options);
    if ((options.groups ?? 1) !== 1)
      throw new ArgumentError(op, 'groups', '1 (a basic block has no groups)', describeValue(options.groups));
    if ((options.baseWidth ?? 64) !== 64)
      throw new ArgumentError(op, 'baseWidth', '64', describeValue(options.baseWidth));
    const second = checkInt(op, 'secondDilation', options.secondDilation ?? c.dilation, 1);
    this.inChannels = inplanes;
    this.outChannels = planes;
    this.conv1 = this.registerModule(
      'conv1',
      new SelectiveKernel(inplanes, {
        outChannels: planes,
        stride: c.stride,
        dilation: c.dilation,
        rdRatio: sk.rdRatio,
        rdDivisor: sk.rdDivisor,
        splitInput: sk.splitInput,
      }),
    );
    this.conv2 = this.registerModule(
      'conv2',
      new ConvNormAct(planes, planes, 3, { dilation: second, act: false }),
    );
    this.act = this.registerModule('act', new nn.ReLU());
    this.downsample = c.downsample ? this.registerModule('downsample', c.downsample) : null;
  }

  /** `[N, inplanes, H, W]` → `[N, planes, H / stride, W / stride]`. */
  protected forward(x: Tensor): Tensor {
    checkShape('SelectiveKernelBasic', 'x', x, [null, this.inChannels, null, null]);
    const y = this.conv2.call(this.conv1.call(x));
    return nn.residualSum(this, y, this.downsample ? this.downsample.call(x) : x, this.act);
  }
}

/** A block class with its SK settings bound: what `ResNet`'s `block` option takes. */
export type SKBlockType = BlockType & {
  /** The bound settings. */
  readonly sk: SKSettings;
};

/**
 * Binds a network's SK settings to {@link SelectiveKernelBottleneck} or
 * {@link SelectiveKernelBasic}, giving a {@link BlockType} for `@kernelzoo/resnet`'s `ResNet`
 * (whose block contract is `new (inplanes, planes, options)`).
 *
 * ```ts
 * new ResNet({ block: skBlock(SelectiveKernelBottleneck, { rdDivisor: 32, splitInput: false }),
 *   layers: [3, 4, 6, 3], groups: 32, baseWidth: 4 }); // skresnext50_32x4d
 * ```
 * @param base - the block class.
 * @param sk - the settings of every SK unit.
 */
export function skBlock(
  base: typeof SelectiveKernelBottleneck | typeof SelectiveKernelBasic,
  sk: SKSettings,
): SKBlockType {
  const settings = { ...sk };
  // A named subclass so summaries show the block's name.
  const bound = {
    [base.name]: class extends base {
      static readonly sk = settings;
      constructor(inplanes: number, planes: number, options: BlockOptions = {}) {
        super(inplanes, planes, options, settings);
      }
    },
  }[base.name];
  return bound as SKBlockType;
}
