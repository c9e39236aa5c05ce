import { addActivation, checkInt, nn, type Tensor } from '@kernelzoo/core';

/**
 * The strip pooling module (SPM) of SPNet — `SPBlock` in `models/resnet.py` — the gate SPNet
 * puts inside backbone bottlenecks. For `x` of `[N, C, H, W]`:
 *
 * - `pool1` averages each row to an `H × 1` strip, `conv1` (3×1, padding (1, 0), no bias) and
 *   `bn1` follow;
 * - `pool2` averages each column to a `1 × W` strip, `conv2` (1×3, padding (0, 1), no bias) and
 *   `bn2` follow;
 * - the two strips broadcast back to `H × W` (an expand, no interpolation) and are summed,
 *   then ReLU, `conv3` (1×1 with bias) and a sigmoid give the gate `[N, C, H, W]`.
 *
 * Keys: `conv1.weight` [C, C, 3, 1], `bn1.*`, `conv2.weight` [C, C, 1, 3], `bn2.*`,
 * `conv3.weight` [C, C, 1, 1], `conv3.bias` [C]. In eval mode `conv1 → bn1`, `conv2 → bn2` and
 * `conv3 → sigmoid` each run as one convolution.
 */
export class SPBlock extends nn.Module {
  /** `AdaptiveAvgPool2d((None, 1))`: the `H × 1` strip. */
  readonly pool1: nn.AdaptiveAvgPool2d;
  /** `AdaptiveAvgPool2d((1, None))`: the `1 × W` strip. */
  readonly pool2: nn.AdaptiveAvgPool2d;
  /** 3×1 convolution on the `H × 1` strip. */
  readonly conv1: nn.Conv2d;
  /** BatchNorm after `conv1`. */
  readonly bn1: nn.BatchNorm2d;
  /** 1×3 convolution on the `1 × W` strip. */
  readonly conv2: nn.Conv2d;
  /** BatchNorm after `conv2`. */
  readonly bn2: nn.BatchNorm2d;
  /** 1×1 convolution with bias on the fused strips. */
  readonly conv3: nn.Conv2d;
  /** The gate's sigmoid. */
  readonly sigmoid: nn.Sigmoid;

  /**
   * @param channels - C, the input and output channels (the bottleneck's width).
   */
  constructor(readonly channels: number) {
    super();
    checkInt('SPBlock', 'channels', channels, 1);
    const c = channels;
    this.pool1 = this.registerModule('pool1', new nn.AdaptiveAvgPool2d([null, 1]));
    this.pool2 = this.registerModule('pool2', new nn.AdaptiveAvgPool2d([1, null]));
    this.conv1 = this.registerModule('conv1', new nn.Conv2d(c, c, [3, 1], { padding: [1, 0], bias: false }));
    this.bn1 = this.registerModule('bn1', new nn.BatchNorm2d(c));
    this.conv2 = this.registerModule('conv2', new nn.Conv2d(c, c, [1, 3], { padding: [0, 1], bias: false }));
    this.bn2 = this.registerModule('bn2', new nn.BatchNorm2d(c));
    this.conv3 = this.registerModule('conv3', new nn.Conv2d(c, c, 1));
    this.sigmoid = this.registerModule('sigmoid', new nn.Sigmoid());
    this.registerFusion('conv1', 'bn1');
    this.registerFusion('conv2', 'bn2');
    this.registerFusion('conv3', 'sigmoid');
  }

  /** The gate `sigmoid(conv3(relu(expand(bn1(conv1(pool1 x))) + expand(bn2(conv2(pool2 x))))))`. */
  protected forward(x: Tensor): Tensor {
    const x1 = this.bn1.call(this.conv1.call(this.pool1.call(x))); // [N, C, H, 1]
    const x2 = this.bn2.call(this.conv2.call(this.pool2.call(x))); // [N, C, 1, W]
    return this.sigmoid.call(this.conv3.call(addActivation(x1, x2, 'relu'))); // broadcast = expand
  }
}
