import type { Activation } from '../backend.js';
import { ENGINE } from '../engine.js';
import { conv2d } from '../ops/conv.js';
import { add, mul, rsqrt, sub } from '../ops/elementwise.js';
import { reshape } from '../ops/transform.js';
import type { Tensor } from '../tensor.js';
import type { BatchNorm2d } from './batchnorm.js';
import type { Conv2d } from './conv.js';
import type { Disposable } from './module.js';

/**
 * A convolution with BatchNorm folded into its weights and an activation fused into its
 * epilogue — what inference preparation turns `Conv2d → BatchNorm2d → ReLU` into:
 * `w' = w · γ/√(σ²+ε)` per output channel, `b' = (b − μ) · γ/√(σ²+ε) + β`.
 */
export class FusedConv2d implements Disposable {
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
