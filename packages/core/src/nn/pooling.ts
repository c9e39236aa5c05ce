import {
  type AdaptiveSize,
  adaptiveAvgPool2d,
  avgPool2d,
  maxPool2d,
  type Pool2dOptions,
} from '../ops/pooling.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

/** PyTorch's `nn.AdaptiveAvgPool2d`, including the strip forms `[1, null]` and `[null, 1]`. */
export class AdaptiveAvgPool2d extends Module {
  /** @param outputSize - `s`, `[h, w]`, or with `null` keeping the input size on that axis. */
  constructor(readonly outputSize: AdaptiveSize) {
    super();
  }

  /** Pools NCHW `x` to the output size. */
  protected forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}

/** PyTorch's `nn.MaxPool2d`. */
export class MaxPool2d extends Module {
  /**
   * @param kernelSize - window size.
   * @param options - stride (default: kernel size), padding, dilation, ceilMode.
   */
  constructor(
    readonly kernelSize: number | readonly [number, number],
    readonly options: Pool2dOptions = {},
  ) {
    super();
  }

  /** Max-pools NCHW `x`. */
  protected forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.options);
  }
}

/** PyTorch's `nn.AvgPool2d`. */
export class AvgPool2d extends Module {
  /**
   * @param kernelSize - window size.
   * @param options - stride (default: kernel size), padding, ceilMode, countIncludePad.
   */
  constructor(
    readonly kernelSize: number | readonly [number, number],
    readonly options: Pool2dOptions = {},
  ) {
    super();
  }

  /** Average-pools NCHW `x`. */
  protected forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.options);
  }
}
