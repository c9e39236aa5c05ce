import { relu, sigmoid } from '../ops/elementwise.js';
import { softmax } from '../ops/reduce.js';
import { reshape } from '../ops/transform.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

/** PyTorch's `nn.ReLU`. No parameters. */
export class ReLU extends Module {
  /** max(x, 0). */
  protected forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** PyTorch's `nn.Sigmoid`. No parameters. */
export class Sigmoid extends Module {
  /** 1 / (1 + e⁻ˣ). */
  protected forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** PyTorch's `nn.Softmax(dim)`. No parameters. */
export class Softmax extends Module {
  /** @param dim - the axis to normalise over. */
  constructor(readonly dim: number) {
    super();
  }

  /** Softmax along `dim`. */
  protected forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }
}

/** PyTorch's `nn.Identity`: returns its input (as a new handle on the same data). */
export class Identity extends Module {
  /** Returns `x` unchanged. */
  protected forward(x: Tensor): Tensor {
    return reshape(x, x.shape);
  }
}
