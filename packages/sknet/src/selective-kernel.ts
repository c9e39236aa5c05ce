import {
  ArgumentError,
  add,
  checkInt,
  checkShape,
  describeValue,
  mean,
  mul,
  nn,
  reshape,
  slice,
  type Tensor,
} from '@kernelzoo/core';

/**
 * timm's `make_divisible` (`timm/layers/helpers.py`), which sizes the SK attention: `v` rounded
 * to the nearest multiple of `divisor`, at least `minValue` (default `divisor`), and bumped up by
 * one `divisor` when the rounding lost more than 10 % of `v`.
 * @param v - the value to round (e.g. `channels · rdRatio`).
 * @param divisor - the multiple to round to.
 * @param minValue - the smallest result; default `divisor`.
 */
export function makeDivisible(v: number, divisor: number, minValue?: number): number {
  const min = minValue ?? divisor;
  let r = Math.max(min, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  if (r < 0.9 * v) r += divisor;
  return r;
}

/** Options of {@link ConvNormAct}. */
export interface ConvNormActOptions {
  /** Stride. Default 1. */
  stride?: number;
  /** Dilation; the padding is timm's `((stride − 1) + dilation · (k − 1)) / 2`, rounded down. Default 1. */
  dilation?: number;
  /** Channel groups. Default 1. */
  groups?: number;
  /** Whether a ReLU follows the BatchNorm (timm's `apply_act`). Default true. */
  act?: boolean;
}

/**
 * timm's `ConvNormAct`: `conv` (a `Conv2d` without bias, timm's static padding) → `bn`
 * (BatchNorm2d) → `act` (ReLU, or nothing when `act: false`). Keys `conv.weight`, `bn.*`
 * (timm's BatchNormAct2d has the plain BatchNorm's five). In eval mode the three run as one
 * folded `conv2d` kernel.
 */
export class ConvNormAct extends nn.Module {
  /** The convolution. */
  readonly conv: nn.Conv2d;
  /** Its BatchNorm. */
  readonly bn: nn.BatchNorm2d;
  /** The ReLU, or null when built with `act: false`. */
  readonly act: nn.ReLU | null;

  /**
   * @param inChannels - input channels.
   * @param outChannels - output channels.
   * @param kernelSize - square kernel size (odd).
   * @param options - stride, dilation, groups, act.
   */
  constructor(inChannels: number, outChannels: number, kernelSize: number, options: ConvNormActOptions = {}) {
    super();
    const op = 'ConvNormAct';
    const stride = checkInt(op, 'stride', options.stride ?? 1, 1);
    const dilation = checkInt(op, 'dilation', options.dilation ?? 1, 1);
    const groups = checkInt(op, 'groups', options.groups ?? 1, 1);
    const k = checkInt(op, 'kernelSize', kernelSize, 1);
    const padding = Math.floor((stride - 1 + dilation * (k - 1)) / 2);
    this.conv = this.registerModule(
      'conv',
      new nn.Conv2d(inChannels, outChannels, k, { stride, padding, dilation, groups, bias: false }),
    );
    this.bn = this.registerModule('bn', new nn.BatchNorm2d(outChannels));
    if (options.act ?? true) {
      this.act = this.registerModule('act', new nn.ReLU());
      this.registerFusion('conv', 'bn', 'act');
    } else {
      this.act = null;
      this.registerFusion('conv', 'bn');
    }
  }

  /** conv → bn (→ ReLU). */
  protected forward(x: Tensor): Tensor {
    const y = this.bn.call(this.conv.call(x));
    return this.act ? this.act.call(y) : y;
  }
}

/**
 * timm's `SelectiveKernelAttn`: from the branch outputs, the selection weights. U = Σ paths,
 * s = mean of U over H and W, `fc_reduce` (1×1 conv C → d, no bias) → `bn` → ReLU →
 * `fc_select` (1×1 conv d → M·C, no bias) → view `[N, M, C]` → softmax over the branch axis
 * (the `softmax` child, whose output feature capture reads). In eval mode `fc_reduce → bn → act`
 * is one folded convolution.
 */
export class SelectiveKernelAttn extends nn.Module {
  /** Channels C of every path. */
  readonly channels: number;
  /** Number of paths M. */
  readonly numPaths: number;
  /** Attention channels d. */
  readonly attnChannels: number;
  /** 1×1 convolution C → d, no bias. */
  readonly fc_reduce: nn.Conv2d;
  /** BatchNorm over the d channels. */
  readonly bn: nn.BatchNorm2d;
  /** ReLU after `bn`. */
  readonly act: nn.ReLU;
  /** 1×1 convolution d → M·C, no bias. */
  readonly fc_select: nn.Conv2d;
  /** Softmax over the branch axis of `[N, M, C]`. */
  readonly softmax: nn.Softmax;

  /**
   * @param channels - channels C of each path.
   * @param numPaths - number of paths M.
   * @param attnChannels - attention width d.
   */
  constructor(channels: number, numPaths: number, attnChannels: number) {
    super();
    const op = 'SelectiveKernelAttn';
    this.channels = checkInt(op, 'channels', channels, 1);
    this.numPaths = checkInt(op, 'numPaths', numPaths, 1);
    this.attnChannels = checkInt(op, 'attnChannels', attnChannels, 1);
    this.fc_reduce = this.registerModule(
      'fc_reduce',
      new nn.Conv2d(channels, attnChannels, 1, { bias: false }),
    );
    this.bn = this.registerModule('bn', new nn.BatchNorm2d(attnChannels));
    this.act = this.registerModule('act', new nn.ReLU());
    this.fc_select = this.registerModule(
      'fc_select',
      new nn.Conv2d(attnChannels, channels * numPaths, 1, { bias: false }),
    );
    this.softmax = this.registerModule('softmax', new nn.Softmax(1));
    this.registerFusion('fc_reduce', 'bn', 'act');
  }

  /** U `[N, C, H, W]` (the sum of the paths) → attention `[N, M, C]`, summing to 1 over M. */
  protected forward(u: Tensor): Tensor {
    checkShape('SelectiveKernelAttn', 'u', u, [null, this.channels, null, null]);
    const s = mean(u, [2, 3], true);
    const z = this.act.call(this.bn.call(this.fc_reduce.call(s)));
    const logits = this.fc_select.call(z);
    return this.softmax.call(reshape(logits, [u.shape[0], this.numPaths, this.channels]));
  }
}

/** Options of {@link SelectiveKernel}; defaults are timm's. */
export interface SelectiveKernelOptions {
  /** Output channels C. Default the input channels. */
  outChannels?: number;
  /** Number of paths M: path `i` is a 3×3 convolution with dilation `dilation · (1 + i)` (timm's `keep_3x3` for kernels 3, 5, …). Default 2. */
  numPaths?: number;
  /** Stride of every path. Default 1. */
  stride?: number;
  /** The module's dilation, multiplied into each path's. Default 1. */
  dilation?: number;
  /** Groups of every path convolution (capped at the output channels, as timm). Default 1. */
  groups?: number;
  /** Attention reduction ratio. Default 1/16. */
  rdRatio?: number;
  /** Attention channels are `makeDivisible(outChannels · rdRatio, rdDivisor)`. Default 8. */
  rdDivisor?: number;
  /** The attention width, overriding the ratio rule. */
  rdChannels?: number;
  /** Split the input channels evenly between the paths (timm's `split_input`). Default true. */
  splitInput?: boolean;
}

/**
 * The Selective Kernel unit of the official SKNet (Caffe prototxt) and timm
 * (`timm/layers/selective_kernel.py`), with timm's names so its keys are timm's:
 *
 * - **split**: M paths `paths.{i}` = {@link ConvNormAct}: 3×3 convolution with dilation 1 + i
 *   (padding 1 + i; the dilated 3×3 stands in for the paper's 5×5), stride, groups, no bias →
 *   BatchNorm → ReLU. With `splitInput` each path sees its own 1/M of the input channels
 *   (timm's skresnet18/34/50); without, every path sees all of them (official, skresnext50);
 * - **fuse** and **select**: {@link SelectiveKernelAttn} `attn` turns Σ paths into the weights
 *   `a` `[N, M, C]` (softmax over the paths);
 * - output V = Σᵢ aᵢ · pathᵢ.
 *
 * Keys: `paths.{i}.conv.weight` `[C, Cin/(M if split)/groups, 3, 3]`, `paths.{i}.bn.*`,
 * `attn.fc_reduce.weight` `[d, C, 1, 1]`, `attn.bn.*`, `attn.fc_select.weight` `[M·C, d, 1, 1]`.
 * In eval mode every BatchNorm is folded: M + 2 `conv2d` kernels and no `batchNorm`.
 *
 * How it differs from the pppLang-style {@link SKConv} (the seed's): dilated 3×3 instead of real
 * 5×5 kernels, no conv biases, the squeeze is a 1×1 conv + BN + ReLU instead of a bare `Linear`,
 * one `fc_select` to M·C instead of M `Linear`s, d by timm's `make_divisible`, optional input
 * split. Not weight-compatible with it.
 */
export class SelectiveKernel extends nn.Module {
  /** Input channels. */
  readonly inChannels: number;
  /** Output channels C. */
  readonly outChannels: number;
  /** Number of paths M. */
  readonly numPaths: number;
  /** Stride of the paths. */
  readonly stride: number;
  /** Whether the input is split between the paths. */
  readonly splitInput: boolean;
  /** Attention width d. */
  readonly attnChannels: number;
  /** The M paths. */
  readonly paths: nn.ModuleList<ConvNormAct>;
  /** The selection attention. */
  readonly attn: SelectiveKernelAttn;

  /**
   * @param inChannels - input channels (divisible by M with `splitInput`).
   * @param options - outChannels, numPaths, stride, dilation, groups, rdRatio, rdDivisor,
   *   rdChannels, splitInput.
   */
  constructor(inChannels: number, options: SelectiveKernelOptions = {}) {
    super();
    const op = 'SelectiveKernel';
    if (options === null || typeof options !== 'object')
      throw new ArgumentError(op, 'options', 'an object', describeValue(options));
    this.inChannels = checkInt(op, 'inChannels', inChannels, 1);
    this.outChannels = checkInt(op, 'outChannels', options.outChannels ?? inChannels, 1);
    this.numPaths = checkInt(op, 'numPaths', options.numPaths ?? 2, 1);
    this.stride = checkInt(op, 'stride', options.stride ?? 1, 1);
    const dilation = checkInt(op, 'dilation', options.dilation ?? 1, 1);
    const groups = Math.min(this.outChannels, checkInt(op, 'groups', options.groups ?? 1, 1));
    const rdRatio = options.rdRatio ?? 1 / 16;
    if (typeof rdRatio !== 'number' || !Number.isFinite(rdRatio) || rdRatio <= 0)
      throw new ArgumentError(op, 'rdRatio', 'a finite number > 0', describeValue(rdRatio));
    const rdDivisor = checkInt(op, 'rdDivisor', options.rdDivisor ?? 8, 1);
    this.splitInput = options.splitInput ?? true;
    if (this.splitInput && this.inChannels % this.numPaths !== 0)
      throw new ArgumentError(
        op,
        'inChannels',
        `divisible by numPaths (${this.numPaths}) with splitInput`,
        String(inChannels),
      );
    const pathIn = this.splitInput ? this.inChannels / this.numPaths : this.inChannels;
    if (pathIn % groups !== 0 || this.outChannels % groups !== 0)
      throw new ArgumentError(
        op,
        'groups',
        `a divisor of the path's input (${pathIn}) and output (${this.outChannels}) channels`,
        String(groups),
      );
    const paths: ConvNormAct[] = [];
    for (let i = 0; i < this.numPaths; i++)
      paths.push(
        new ConvNormAct(pathIn, this.outChannels, 3, {
          stride: this.stride,
          dilation: dilation * (1 + i),
          groups,
        }),
      );
    this.paths = this.registerModule('paths', new nn.ModuleList(paths));
    this.attnChannels =
      options.rdChannels !== undefined
        ? checkInt(op, 'rdChannels', options.rdChannels, 1)
        : makeDivisible(this.outChannels * rdRatio, rdDivisor);
    this.attn = this.registerModule(
      'attn',
      new SelectiveKernelAttn(this.outChannels, this.numPaths, this.attnChannels),
    );
  }

  /** `[N, inChannels, H, W]` → `[N, outChannels, H / stride, W / stride]`. */
  protected forward(x: Tensor): Tensor {
    checkShape('SelectiveKernel', 'x', x, [null, this.inChannels, null, null]);
    const paths = [...this.paths];
    const [n, , h, w] = x.shape;
    const part = this.inChannels / this.numPaths;
    const outs = paths.map((p, i) =>
      p.call(this.splitInput ? slice(x, [0, i * part, 0, 0], [n, part, h, w]) : x),
    );
    const a = this.attn.call(outs.reduce((acc, y) => add(acc, y)));
    const c = this.outChannels;
    return outs
      .map((y, i) => mul(y, reshape(slice(a, [0, i, 0], [n, 1, c]), [n, c, 1, 1])))
      .reduce((acc, y) => add(acc, y));
  }
}
