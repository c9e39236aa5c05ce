import { type InterpolateOptions, interpolate } from '../ops/resize.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

/** PyTorch's `nn.Upsample`: nearest or bilinear, by size or scale factor. */
export class Upsample extends Module {
  /** @param options - `size` or `scaleFactor`, `mode`, `alignCorners`. */
  constructor(readonly options: InterpolateOptions) {
    super();
  }

  /** Resizes NCHW `x`. */
  protected forward(x: Tensor): Tensor {
    return interpolate(x, this.options);
  }
}
