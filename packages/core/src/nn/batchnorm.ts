import { fill } from '../ops/creation.js';
import { batchNorm } from '../ops/normalization.js';
import { checkInt } from '../ops/validate.js';
import type { Tensor } from '../tensor.js';
import { initFill } from './init.js';
import { Module } from './module.js';

/** Options of {@link BatchNorm2d}; defaults are PyTorch's. */
export interface BatchNorm2dOptions {
  /** Added to the variance. Default 1e-5. */
  eps?: number;
  /** Kept for PyTorch parity (training only; unused at inference). Default 0.1. */
  momentum?: number;
  /** Whether γ and β exist. Default true. */
  affine?: boolean;
}

/**
 * PyTorch's `nn.BatchNorm2d` at inference: parameters `weight` (γ), `bias` (β); buffers
 * `running_mean`, `running_var`, `num_batches_tracked` (the last may be absent from a state
 * dict and is unused here).
 */
export class BatchNorm2d extends Module {
  /** Channels. */
  readonly numFeatures: number;
  /** Added to the variance. */
  readonly eps: number;
  /** PyTorch's momentum (unused at inference). */
  readonly momentum: number;

  /**
   * @param numFeatures - channels C of the `[N, C, H, W]` input.
   * @param options - eps, momentum, affine.
   */
  constructor(numFeatures: number, options: BatchNorm2dOptions = {}) {
    super();
    this.numFeatures = checkInt('BatchNorm2d', 'numFeatures', numFeatures, 1);
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    const affine = options.affine ?? true;
    this.registerParameter('weight', affine ? initFill([numFeatures], 1) : null);
    this.registerParameter('bias', affine ? initFill([numFeatures], 0) : null);
    this.registerBuffer('running_mean', initFill([numFeatures], 0));
    this.registerBuffer('running_var', initFill([numFeatures], 1));
    this.registerBuffer('num_batches_tracked', fill([], 0, 'int32'), true);
  }

  /** γ `[C]`, or null when not affine. */
  get weight(): Tensor | null {
    return this.paramOrNull('weight');
  }

  /** β `[C]`, or null when not affine. */
  get bias(): Tensor | null {
    return this.paramOrNull('bias');
  }

  /** The running mean `[C]`. */
  get runningMean(): Tensor {
    return this.buffer('running_mean');
  }

  /** The running variance `[C]`. */
  get runningVar(): Tensor {
    return this.buffer('running_var');
  }

  /** Normalises `[N, C, H, W]` with the running statistics. */
  protected forward(x: Tensor): Tensor {
    return batchNorm(x, this.runningMean, this.runningVar, {
      weight: this.weight,
      bias: this.bias,
      eps: this.eps,
    });
  }
}
