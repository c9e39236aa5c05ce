import {
  type AdaptiveSize,
  add,
  addActivation,
  checkInt,
  concat,
  interpolate,
  nn,
  type Tensor,
} from '@kernelzoo/core';

/** `Sequential(conv, BN)` or `Sequential(conv, BN, ReLU)`: keys `.0.weight`, `.1.*`. */
function convBn(
  inChannels: number,
  outChannels: number,
  kernel: number | [number, number],
  padding: number | [number, number],
  withRelu: boolean,
): nn.Sequential {
  const conv = new nn.Conv2d(inChannels, outChannels, kernel, { padding, bias: false });
  const bn = new nn.BatchNorm2d(outChannels);
  return withRelu ? new nn.Sequential(conv, bn, new nn.ReLU()) : new nn.Sequential(conv, bn);
}

/**
 * SPNet's mixed pooling module (MPM) — the class `StripPooling` in `models/customize.py`. With
 * `ic = inChannels / 4`:
 *
 * - `conv1_1`, `conv1_2`: 1×1 `in → ic` + BN + ReLU, two parallel reductions x1, x2;
 * - short-range path on x1: `conv2_0` (3×3 + BN); `pool1` (adaptive average to
 *   `poolSize[0]`, 20) → `conv2_1` (3×3 + BN) → bilinear up; `pool2` (to `poolSize[1]`, 12) →
 *   `conv2_2` (3×3 + BN) → up; `conv2_5` (3×3 + BN + ReLU) of the ReLU of their sum;
 * - long-range path on x2: `pool3` (`1 × W` strip) → `conv2_3` (1×3 + BN) → up; `pool4`
 *   (`H × 1` strip) → `conv2_4` (3×1 + BN) → up; `conv2_6` (3×3 + BN + ReLU) of the ReLU of
 *   their sum;
 * - `conv3`: 1×1 `2·ic → in` + BN on the concatenation; the output is `relu(x + conv3(…))`.
 *
 * Every upsampling is bilinear with `align_corners=True` to the input's `H × W`; adaptive
 * pooling follows PyTorch's bins, so any input size works. Keys: `conv1_1`, `conv1_2`,
 * `conv2_0` … `conv2_6`, `conv3`, each `.0.weight` (convolution, no bias) and `.1.*`
 * (BatchNorm). Each is an `nn.Sequential`, so in eval mode each runs as one convolution.
 */
export class StripPooling extends nn.Module {
  /** The reduced width `inChannels / 4`. */
  readonly interChannels: number;
  /** Adaptive average pool to `poolSize[0]` (20). */
  readonly pool1: nn.AdaptiveAvgPool2d;
  /** Adaptive average pool to `poolSize[1]` (12). */
  readonly pool2: nn.AdaptiveAvgPool2d;
  /** `AdaptiveAvgPool2d((1, None))`: the `1 × W` strip. */
  readonly pool3: nn.AdaptiveAvgPool2d;
  /** `AdaptiveAvgPool2d((None, 1))`: the `H × 1` strip. */
  readonly pool4: nn.AdaptiveAvgPool2d;
  /** 1×1 reduction + BN + ReLU (x1, short-range path). */
  readonly conv1_1: nn.Sequential;
  /** 1×1 reduction + BN + ReLU (x2, long-range path). */
  readonly conv1_2: nn.Sequential;
  /** 3×3 + BN on x1. */
  readonly conv2_0: nn.Sequential;
  /** 3×3 + BN after `pool1`. */
  readonly conv2_1: nn.Sequential;
  /** 3×3 + BN after `pool2`. */
  readonly conv2_2: nn.Sequential;
  /** 1×3 + BN on the `1 × W` strip. */
  readonly conv2_3: nn.Sequential;
  /** 3×1 + BN on the `H × 1` strip. */
  readonly conv2_4: nn.Sequential;
  /** 3×3 + BN + ReLU closing the short-range path. */
  readonly conv2_5: nn.Sequential;
  /** 3×3 + BN + ReLU closing the long-range path. */
  readonly conv2_6: nn.Sequential;
  /** 1×1 `2·ic → in` + BN. */
  readonly conv3: nn.Sequential;

  /**
   * @param inChannels - input and output channels, a multiple of 4 (1024 in SPHead).
   * @param poolSize - the two pyramid pool sizes. Default `[20, 12]`, SPNet's.
   */
  constructor(
    readonly inChannels: number,
    readonly poolSize: readonly [AdaptiveSize, AdaptiveSize] = [20, 12],
  ) {
    super();
    checkInt('StripPooling', 'inChannels', inChannels, 4);
    const ic = Math.floor(inChannels / 4);
    this.interChannels = ic;
    this.pool1 = this.registerModule('pool1', new nn.AdaptiveAvgPool2d(poolSize[0]));
    this.pool2 = this.registerModule('pool2', new nn.AdaptiveAvgPool2d(poolSize[1]));
    this.pool3 = this.registerModule('pool3', new nn.AdaptiveAvgPool2d([1, null]));
    this.pool4 = this.registerModule('pool4', new nn.AdaptiveAvgPool2d([null, 1]));
    this.conv1_1 = this.registerModule('conv1_1', convBn(inChannels, ic, 1, 0, true));
    this.conv1_2 = this.registerModule('conv1_2', convBn(inChannels, ic, 1, 0, true));
    this.conv2_0 = this.registerModule('conv2_0', convBn(ic, ic, 3, 1, false));
    this.conv2_1 = this.registerModule('conv2_1', convBn(ic, ic, 3, 1, false));
    this.conv2_2 = this.registerModule('conv2_2', convBn(ic, ic, 3, 1, false));
    this.conv2_3 = this.registerModule('conv2_3', convBn(ic, ic, [1, 3], [0, 1], false));
    this.conv2_4 = this.registerModule('conv2_4', convBn(ic, ic, [3, 1], [1, 0], false));
    this.conv2_5 = this.registerModule('conv2_5', convBn(ic, ic, 3, 1, true));
    this.conv2_6 = this.registerModule('conv2_6', convBn(ic, ic, 3, 1, true));
    this.conv3 = this.registerModule('conv3', convBn(ic * 2, inChannels, 1, 0, false));
  }

  /** `relu(x + conv3(concat[short-range(x), long-range(x)]))`, the input's shape. */
  protected forward(x: Tensor): Tensor {
    const size: [number, number] = [x.shape[2], x.shape[3]];
    const up = (t: Tensor) => interpolate(t, { size, mode: 'bilinear', alignCorners: true });
    const x1 = this.conv1_1.call(x);
    const x2 = this.conv1_2.call(x);
    const x2_1 = this.conv2_0.call(x1);
    const x2_2 = up(this.conv2_1.call(this.pool1.call(x1)));
    const x2_3 = up(this.conv2_2.call(this.pool2.call(x1)));
    const x2_4 = up(this.conv2_3.call(this.pool3.call(x2)));
    const x2_5 = up(this.conv2_4.call(this.pool4.call(x2)));
    const short = this.conv2_5.call(addActivation(add(x2_1, x2_2), x2_3, 'relu'));
    const long = this.conv2_6.call(addActivation(x2_5, x2_4, 'relu'));
    const out = this.conv3.call(concat([short, long], 1));
    return addActivation(x, out, 'relu');
  }
}
