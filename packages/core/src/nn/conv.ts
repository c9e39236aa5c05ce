import { ENGINE } from '../engine.js';
import { conv2d } from '../ops/conv.js';
import { checkInt, checkPair } from '../ops/validate.js';
import type { Tensor } from '../tensor.js';
import { FusedConv2d, readChainTail } from './fusion.js';
import { initUniform } from './init.js';
import { type AnyModule, type FusedStep, Module } from './module.js';

/** Options of {@link Conv2d}; defaults are PyTorch's. */
export interface Conv2dModuleOptions {
  /** Stride. Default 1. */
  stride?: number | readonly [number, number];
  /** Zero padding `p` or `[pH, pW]`. Default 0. */
  padding?: number | readonly [number, number];
  /** Dilation. Default 1. */
  dilation?: number | readonly [number, number];
  /** Channel groups. Default 1. */
  groups?: number;
  /** Whether the layer has a bias. Default true. */
  bias?: boolean;
}

/**
 * PyTorch's `nn.Conv2d`: parameters `weight` `[out, in / groups, kH, kW]` and `bias` `[out]`.
 */
export class Conv2d extends Module {
  /** Input channels. */
  readonly inChannels: number;
  /** Output channels. */
  readonly outChannels: number;
  /** Kernel size `[kH, kW]`. */
  readonly kernelSize: readonly [number, number];
  /** Stride `[sH, sW]`. */
  readonly stride: readonly [number, number];
  /** Padding `[pH, pW]`. */
  readonly padding: readonly [number, number];
  /** Dilation `[dH, dW]`. */
  readonly dilation: readonly [number, number];
  /** Channel groups. */
  readonly groups: number;

  /**
   * @param inChannels - input channels.
   * @param outChannels - output channels.
   * @param kernelSize - `k` or `[kH, kW]`.
   * @param options - stride, padding, dilation, groups, bias.
   */
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly [number, number],
    options: Conv2dModuleOptions = {},
  ) {
    super();
    const op = 'Conv2d';
    this.inChannels = checkInt(op, 'inChannels', inChannels, 1);
    this.outChannels = checkInt(op, 'outChannels', outChannels, 1);
    this.kernelSize = checkPair(op, 'kernelSize', kernelSize, 1);
    this.stride = checkPair(op, 'stride', options.stride ?? 1, 1);
    this.padding = checkPair(op, 'padding', options.padding ?? 0, 0);
    this.dilation = checkPair(op, 'dilation', options.dilation ?? 1, 1);
    this.groups = checkInt(op, 'groups', options.groups ?? 1, 1);
    const fanIn = (inChannels / this.groups) * this.kernelSize[0] * this.kernelSize[1];
    const bound = 1 / Math.sqrt(fanIn);
    this.registerParameter(
      'weight',
      initUniform([outChannels, inChannels / this.groups, ...this.kernelSize], bound),
    );
    this.registerParameter('bias', options.bias === false ? null : initUniform([outChannels], bound));
  }

  /** `[out, in / groups, kH, kW]`. */
  get weight(): Tensor {
    return this.param('weight');
  }

  /** `[out]`, or null without bias. */
  get bias(): Tensor | null {
    return this.paramOrNull('bias');
  }

  /** A Conv2d folds a following BatchNorm2d (of its output channels) and activation. */
  protected override chainError(rest: readonly AnyModule[]): string | null {
    const tail = readChainTail(rest, this.outChannels);
    return typeof tail === 'string' ? tail : null;
  }

  /**
   * Folds the chain; with a BatchNorm, the original weight and bias, and the BatchNorm's
   * parameters and statistics, then move to host memory (the backend keeps only the folded copy).
   */
  protected override foldChain(rest: readonly AnyModule[]): FusedStep {
    const tail = readChainTail(rest, this.outChannels) as Exclude<ReturnType<typeof readChainTail>, string>;
    const fused = new FusedConv2d(this, tail.bn, tail.activation);
    if (tail.bn) {
      // The fused step runs from the folded copy alone: the convolution's and the BatchNorm's
      // tensors move off the backend together, so their blocks there free up side by side.
      const own = [...this.namedParameters(), ...tail.bn.namedParameters(), ...tail.bn.namedBuffers()];
      for (const [, t] of own) ENGINE.park(t);
    }
    return fused;
  }

  /** Convolves NCHW `x`. */
  protected forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, {
      bias: this.bias,
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }
}
