import type { Activation } from '../backend.js';
import { ENGINE } from '../engine.js';
import { conv2d } from '../ops/conv.js';
import { add, addActivation, mul, rsqrt, sub } from '../ops/elementwise.js';
import { linear } from '../ops/matmul.js';
import { reshape } from '../ops/transform.js';
import type { Tensor } from '../tensor.js';
import { Identity, ReLU, Sigmoid } from './activation.js';
import { BatchNorm2d } from './batchnorm.js';
import type { Conv2d } from './conv.js';
import type { Linear } from './linear.js';
import type { AnyModule, FusedStep } from './module.js';

/** What follows the head of a fused chain: an optional BatchNorm, then an optional activation. */
export interface ChainTail {
  /** The BatchNorm folded into the head, or null. */
  readonly bn: BatchNorm2d | null;
  /** The activation fused into the epilogue (`linear` for none or `Identity`). */
  readonly activation: Activation;
}

/**
 * Reads the modules after a chain's head: `[BatchNorm2d?, ReLU | Sigmoid | Identity?]`.
 * Returns the tail, or a reason it cannot be folded.
 * @param rest - the modules after the head.
 * @param channels - the head's output channels, which the BatchNorm must have (null when the
 *   head takes no BatchNorm, as `Linear`).
 */
export function readChainTail(rest: readonly AnyModule[], channels: number | null): ChainTail | string {
  let i = 0;
  let bn: BatchNorm2d | null = null;
  if (rest[i] instanceof BatchNorm2d) {
    if (channels === null) return 'a BatchNorm2d can only be folded into a Conv2d';
    bn = rest[i++] as BatchNorm2d;
    if (bn.numFeatures !== channels)
      return `the BatchNorm2d has ${bn.numFeatures} features, the convolution ${channels} output channels`;
  }
  let activation: Activation = 'linear';
  const act = rest[i];
  if (act instanceof ReLU) activation = 'relu';
  else if (act instanceof Sigmoid) activation = 'sigmoid';
  else if (!(act instanceof Identity) && act !== undefined)
    return `${act.typeName} is not foldable (expected BatchNorm2d, then ReLU, Sigmoid or Identity)`;
  if (act !== undefined) i++;
  if (i < rest.length) return `nothing can follow the activation (got ${rest[i].typeName})`;
  return { bn, activation };
}

/**
 * The end of a residual block, `act.call(a + b)` (`out += identity; out = relu(out)` in
 * torchvision's blocks). When `owner` runs in eval mode and `act` is a `ReLU`, the sum and the
 * activation run as one kernel ({@link addActivation}) and `act` passes the result through, so
 * its hooks and feature capture still hear the call (with the activated tensor as input, as in
 * a fused chain); otherwise an `add`, then `act`.
 * @param owner - the block (its mode decides).
 * @param a - the block's branch output.
 * @param b - the shortcut.
 * @param act - the activation module that follows the sum.
 */
export function residualSum(owner: AnyModule, a: Tensor, b: Tensor, act: AnyModule): Tensor {
  if (!(act instanceof ReLU) || !owner.isEval || ENGINE.tracing) return act.call(add(a, b)) as Tensor;
  const y = addActivation(a, b, 'relu');
  ENGINE.markFused(y, 'add', [act]);
  return act.call(y) as Tensor;
}

/** A `Linear` with its activation fused: what `Linear → ReLU` becomes in eval mode. */
export class FusedLinear implements FusedStep {
  /**
   * @param layer - the Linear layer (its parameters are used as they are).
   * @param activation - the activation that follows.
   */
  constructor(
    readonly layer: Linear,
    readonly activation: Activation,
  ) {}

  /** Runs the layer and the activation in one kernel. */
  forward(x: Tensor): Tensor {
    return linear(x, this.layer.weight, this.layer.bias, this.activation);
  }

  /** Holds nothing of its own. */
  dispose(): void {}
}

/**
 * A convolution with BatchNorm folded into its weights and an activation fused into its
 * epilogue — what inference preparation turns `Conv2d → BatchNorm2d → ReLU` into:
 * `w' = w · γ/√(σ²+ε)` per output channel, `b' = (b − μ) · γ/√(σ²+ε) + β`.
 */
export class FusedConv2d implements FusedStep {
  /** Folded weight `[outChannels, inChannels / groups, kH, kW]`. */
  readonly weight: Tensor;
  /** Folded bias `[outChannels]`, or null when there was neither a bias nor a BatchNorm. */
  readonly bias: Tensor | null;

  /**
   * @param conv - the convolution (its weights are read, not kept).
   * @param bn - the BatchNorm that follows it, or null.
   * @param activation - the activation that follows, fused.
   */
  constructor(
    readonly conv: Conv2d,
    bn: BatchNorm2d | null,
    readonly activation: Activation,
  ) {
    const [w, b] = ENGINE.tidy(() => {
      if (!bn)
        return [
          reshape(conv.weight, conv.weight.shape),
          conv.bias ? reshape(conv.bias, conv.bias.shape) : null,
        ];
      const scale = bn.weight
        ? mul(bn.weight, rsqrt(add(bn.runningVar, bn.eps)))
        : rsqrt(add(bn.runningVar, bn.eps));
      const w = mul(conv.weight, reshape(scale, [-1, 1, 1, 1]));
      const centred = conv.bias ? sub(conv.bias, bn.runningMean) : mul(bn.runningMean, -1);
      const shifted = mul(centred, scale);
      return [w, bn.bias ? add(shifted, bn.bias) : shifted];
    });
    this.weight = ENGINE.keep(w);
    this.bias = b ? ENGINE.keep(b) : null;
  }

  /** Runs the fused convolution. */
  forward(x: Tensor): Tensor {
    const c = this.conv;
    return conv2d(x, this.weight, {
      bias: this.bias,
      stride: c.stride,
      padding: c.padding,
      dilation: c.dilation,
      groups: c.groups,
      activation: this.activation,
    });
  }

  /** Frees the folded tensors. */
  dispose(): void {
    for (const t of [this.weight, this.bias]) {
      if (!t) continue;
      ENGINE.unkeep(t);
      t.dispose();
    }
  }
}
