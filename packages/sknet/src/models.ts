import { ResNet, type ResNetOptions } from '@kernelzoo/resnet';
import { SelectiveKernelBasic, SelectiveKernelBottleneck, skBlock } from './blocks.js';

/** Options of the SKNet constructors: `ResNet`'s, less what defines the network. */
export type SKNetOptions = Omit<ResNetOptions, 'block' | 'layers' | 'groups' | 'baseWidth' | 'extensions'>;

/** timm's skresnet18/34: rd_ratio 1/8, rd_divisor 16, split input. */
const SK_BASIC = skBlock(SelectiveKernelBasic, { rdRatio: 1 / 8, rdDivisor: 16, splitInput: true });
/** timm's skresnet50: timm's defaults (1/16, 8, split input). */
const SK_BOTTLENECK = skBlock(SelectiveKernelBottleneck, { rdRatio: 1 / 16, rdDivisor: 8, splitInput: true });
/**
 * The paper's SK unit as timm's skresnext50_32x4d builds it: no input split, d =
 * `makeDivisible(C / 16, 32)` — for C = 128 … 1024 the paper's `max(C / 16, 32)`.
 */
const SK_PAPER = skBlock(SelectiveKernelBottleneck, { rdRatio: 1 / 16, rdDivisor: 32, splitInput: false });

/**
 * SKNet-50 as timm's `skresnext50_32x4d` (registered as `sknet50`): ResNeXt-50 32×4d with every
 * grouped 3×3 replaced by an SK unit (3×3 and 3×3 dilation 2, 32 groups, d = 32, 32, 32, 64 per
 * stage). 27,479,784 parameters, as timm and the official prototxt.
 * @param options - `ResNet` options (numClasses, outputStride, …).
 */
export function skresnext50_32x4d(options: SKNetOptions = {}): ResNet {
  return new ResNet({ ...options, block: SK_PAPER, layers: [3, 4, 6, 3], groups: 32, baseWidth: 4 });
}

/** SKNet-50: {@link skresnext50_32x4d}. */
export const sknet50 = skresnext50_32x4d;

/**
 * SKNet-101: blocks 3-4-23-3, otherwise as {@link sknet50}, with the paper's d rule
 * `max(C / 16, 32)` (32, 32, 32, 64 per stage). 48,736,040 parameters. The released Caffe
 * prototxt uses d = 16 in conv3 (48,686,760 parameters); no PyTorch weights exist.
 * @param options - `ResNet` options.
 */
export function sknet101(options: SKNetOptions = {}): ResNet {
  return new ResNet({ ...options, block: SK_PAPER, layers: [3, 4, 23, 3], groups: 32, baseWidth: 4 });
}

/**
 * timm's `skresnet18`: SK basic blocks 2-2-2-2, the SK unit as `conv1` (input split between
 * the paths, d = 16, 16, 32, 64). 11,958,056 parameters.
 * @param options - `ResNet` options.
 */
export function skresnet18(options: SKNetOptions = {}): ResNet {
  return new ResNet({ ...options, block: SK_BASIC, layers: [2, 2, 2, 2] });
}

/** timm's `skresnet34`: as {@link skresnet18} with blocks 3-4-6-3. 22,282,376 parameters. */
export function skresnet34(options: SKNetOptions = {}): ResNet {
  return new ResNet({ ...options, block: SK_BASIC, layers: [3, 4, 6, 3] });
}

/**
 * timm's `skresnet50`: SK bottlenecks 3-4-6-3 without groups (width = planes), input split,
 * d = 8, 8, 16, 32. 25,803,160 parameters; timm publishes no weights for it.
 * @param options - `ResNet` options.
 */
export function skresnet50(options: SKNetOptions = {}): ResNet {
  return new ResNet({ ...options, block: SK_BOTTLENECK, layers: [3, 4, 6, 3] });
}
