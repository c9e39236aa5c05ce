import { linear } from '../ops/matmul.js';
import { checkInt } from '../ops/validate.js';
import type { Tensor } from '../tensor.js';
import { FusedLinear, readChainTail } from './fusion.js';
import { initUniform } from './init.js';
import { type AnyModule, type FusedStep, Module } from './module.js';

/** PyTorch's `nn.Linear`: `weight` `[out, in]`, `bias` `[out]`; `y = x · weightᵀ + bias`. */
export class Linear extends Module {
  /** Input features. */
  readonly inFeatures: number;
  /** Output features. */
  readonly outFeatures: number;

  /**
   * @param inFeatures - size of the last input dimension.
   * @param outFeatures - size of the last output dimension.
   * @param options - `bias` (default true).
   */
  constructor(inFeatures: number, outFeatures: number, options: { bias?: boolean } = {}) {
    super();
    this.inFeatures = checkInt('Linear', 'inFeatures', inFeatures, 1);
    this.outFeatures = checkInt('Linear', 'outFeatures', outFeatures, 1);
    const bound = 1 / Math.sqrt(inFeatures);
    this.registerParameter('weight', initUniform([outFeatures, inFeatures], bound));
    this.registerParameter('bias', options.bias === false ? null : initUniform([outFeatures], bound));
  }

  /** `[out, in]`. */
  get weight(): Tensor {
    return this.param('weight');
  }

  /** `[out]`, or null. */
  get bias(): Tensor | null {
    return this.paramOrNull('bias');
  }

  /** A Linear folds a following activation. */
  protected override chainError(rest: readonly AnyModule[]): string | null {
    const tail = readChainTail(rest, null);
    return typeof tail === 'string' ? tail : null;
  }

  /** The layer with its activation in the matrix product's epilogue. */
  protected override foldChain(rest: readonly AnyModule[]): FusedStep {
    const tail = readChainTail(rest, null) as Exclude<ReturnType<typeof readChainTail>, string>;
    return new FusedLinear(this, tail.activation);
  }

  /** Applies the layer over the last dimension of `x`. */
  protected forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
