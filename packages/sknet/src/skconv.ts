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
  stack,
  type Tensor,
} from '@kernelzoo/core';
import type { SelectiveKernel } from './selective-kernel.js';

/**
 * Options of {@link SKConv}. Defaults are those of the PyTorch reference (pppLang/SKNet
 * `sknet.py`), whose unused `WH` argument is left out.
 */
export interface SKConvOptions {
  /** Input and output channels C. */
  features: number;
  /** Number of branches M; branch `i` is a `(3 + 2i)×(3 + 2i)` convolution. Default 2. */
  M?: number;
  /** Channel groups G of every branch convolution; must divide `features`. Default 32. */
  G?: number;
  /** Reduction ratio r of the squeeze layer: `d = max(floor(features / r), L)`. Default 16. */
  r?: number;
  /** Stride of every branch convolution. Default 1. */
  stride?: number;
  /** Minimum width L of the squeeze layer. Default 32. */
  L?: number;
}

/** What {@link SKConv.forwardWithAttention} returns. */
export interface SKConvResult {
  /** The selected features V, `[N, features, H', W']`. */
  output: Tensor;
  /** The branch attention weights `[N, M, features]` (softmax over the branch axis). */
  attention: Tensor;
}

const OP = 'SKConv';

/**
 * The Selective Kernel convolution (Li et al., "Selective Kernel Networks", CVPR 2019), as
 * written in the pppLang/SKNet PyTorch code, with the same child names so its state dict
 * keys equal PyTorch's:
 *
 * - **split**: M branches `convs.{i}` = `Conv2d(C, C, 3 + 2i, stride, padding 1 + i, groups G,
 *   bias) → BatchNorm2d(C) → ReLU`;
 * - **fuse**: U = Σ branches, s = mean of U over H and W `[N, C]`, z = `fc(s)` (a `Linear(C, d)`
 *   with no normalisation or activation);
 * - **select**: `fcs.{i}(z)` (each `Linear(d, C)`) stacked to `[N, M, C]`, softmax over the
 *   branch axis, V = Σᵢ aᵢ · branchᵢ.
 *
 * Each branch is a `Sequential`, so in eval mode its Conv2d → BatchNorm2d → ReLU runs as one
 * folded convolution. The attention is the output of the `softmax` child: read it with
 * {@link SKConv.forwardWithAttention} or `nn.captureFeatures(net, ['….softmax'], …)`.
 *
 * This is the seed's form, not the official one: the official Caffe SKNet and timm (whose
 * weights exist) use {@link SelectiveKernel}, which differs in each step — a 3×3 convolution
 * with dilation 2 instead of a real 5×5, no convolution biases, a squeeze that is a 1×1
 * convolution + BatchNorm + ReLU instead of a bare `Linear`, one 1×1 convolution to M·C instead
 * of M `Linear`s, `d` by timm's `make_divisible`, optionally split input. The two are not
 * weight-compatible (see the package README's table).
 *
 * @example
 * ```ts
 * const sk = new SKConv({ features: 64, M: 2, G: 8, r: 2 }).eval();
 * const v = sk.call(x); // x: [N, 64, H, W] → v: [N, 64, H, W]
 * ```
 */
export class SKConv extends nn.Module {
  /** Input and output channels C. */
  readonly features: number;
  /** Number of branches M. */
  readonly M: number;
  /** Channel groups G of the branch convolutions. */
  readonly G: number;
  /** Reduction ratio r. */
  readonly r: number;
  /** Stride of the branch convolutions. */
  readonly stride: number;
  /** Minimum squeeze width L. */
  readonly L: number;
  /** Squeeze width d = max(floor(features / r), L). */
  readonly d: number;
  /** The M branches, each `Sequential(Conv2d, BatchNorm2d, ReLU)`. */
  readonly convs: nn.ModuleList<nn.Sequential>;
  /** The squeeze layer `Linear(features, d)`. */
  readonly fc: nn.Linear;
  /** The M excitation layers, each `Linear(d, features)`. */
  readonly fcs: nn.ModuleList<nn.Linear>;
  /** Softmax over the branch axis (dim 1), as in the reference. */
  readonly softmax: nn.Softmax;

  /** @param options - features (required), M, G, r, stride, L. Load weights with `loadWeights` from `@kernelzoo/weights`. */
  constructor(options: SKConvOptions) {
    super();
    if (options === null || typeof options !== 'object')
      throw new ArgumentError(
        OP,
        'options',
        'an object { features, M?, G?, r?, stride?, L? }',
        describeValue(options),
      );
    const features = checkInt(OP, 'features', options.features, 1);
    const M = checkInt(OP, 'M', options.M ?? 2, 1);
    const G = checkInt(OP, 'G', options.G ?? 32, 1);
    const r = options.r ?? 16;
    const stride = checkInt(OP, 'stride', options.stride ?? 1, 1);
    const L = checkInt(OP, 'L', options.L ?? 32, 1);
    if (features % G !== 0)
      throw new ArgumentError(OP, 'G', `a divisor of features (${features})`, String(G));
    if (typeof r !== 'number' || !Number.isFinite(r) || r <= 0)
      throw new ArgumentError(OP, 'r', 'a finite number > 0', describeValue(r));
    this.features = features;
    this.M = M;
    this.G = G;
    this.r = r;
    this.stride = stride;
    this.L = L;
    this.d = Math.max(Math.floor(features / r), L);

    const branches: nn.Sequential[] = [];
    for (let i = 0; i < M; i++)
      branches.push(
        new nn.Sequential(
          new nn.Conv2d(features, features, 3 + 2 * i, { stride, padding: 1 + i, groups: G }),
          new nn.BatchNorm2d(features),
          new nn.ReLU(),
        ),
      );
    this.convs = this.registerModule('convs', new nn.ModuleList(branches));
    this.fc = this.registerModule('fc', new nn.Linear(features, this.d));
    const excite: nn.Linear[] = [];
    for (let i = 0; i < M; i++) excite.push(new nn.Linear(this.d, features));
    this.fcs = this.registerModule('fcs', new nn.ModuleList(excite));
    this.softmax = this.registerModule('softmax', new nn.Softmax(1));
  }

  /** Selects among the branches of NCHW `x` `[N, features, H, W]`; returns V. */
  protected forward(x: Tensor): Tensor {
    checkShape(OP, 'x', x, [null, this.features, null, null]);
    const feas = [...this.convs].map((branch) => branch.call(x));
    const u = feas.reduce((acc, f) => add(acc, f));
    const z = this.fc.call(mean(u, [2, 3]));
    const attention = this.softmax.call(
      stack(
        [...this.fcs].map((f) => f.call(z)),
        1,
      ),
    );
    const [n, , c] = attention.shape;
    return feas
      .map((f, i) => mul(f, reshape(slice(attention, [0, i, 0], [n, 1, c]), [n, c, 1, 1])))
      .reduce((acc, w) => add(acc, w));
  }

  /**
   * Like `call(x)`, also returning the attention weights `[N, M, features]` (the output of the
   * `softmax` child, read by feature capture; they sum to 1 over the branch axis). The caller
   * owns (and disposes) both tensors.
   */
  forwardWithAttention(x: Tensor): SKConvResult {
    const [output, features] = nn.captureFeatures(this, ['softmax'], () => this.call(x));
    const attention = features.take('softmax');
    features.dispose();
    return { output, attention };
  }
}
