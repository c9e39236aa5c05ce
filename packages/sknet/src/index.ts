/**
 * `@kernelzoo/sknet`: Selective Kernel Networks (Li et al., CVPR 2019) for kernelzoo — timm's
 * (and the official release's) {@link SelectiveKernel} unit, the pppLang-style {@link SKConv},
 * the SK blocks for `@kernelzoo/resnet`'s `ResNet`, and the whole networks with timm's keys:
 * {@link sknet50} (timm's `skresnext50_32x4d`), {@link sknet101}, {@link skresnet18},
 * {@link skresnet34}, {@link skresnet50}; plus the attention read-out
 * ({@link readAttention}, {@link summariseAttention}).
 *
 * Importing the package registers `sknet50`, `sknet101`, `skresnet18`, `skresnet34` and
 * `skresnet50` in core's model registry ({@link SKNET_MODELS}).
 *
 * @packageDocumentation
 */
import './register.js';

export {
  type AttentionReadout,
  type AttentionSummary,
  readAttention,
  type SKUnitAttention,
  skUnitNames,
  summariseAttention,
  type UnitAttentionDifference,
} from './attention.js';
export {
  SelectiveKernelBasic,
  SelectiveKernelBottleneck,
  type SKBlockType,
  type SKSettings,
  skBlock,
} from './blocks.js';
export {
  type SKNetOptions,
  sknet50,
  sknet101,
  skresnet18,
  skresnet34,
  skresnet50,
  skresnext50_32x4d,
} from './models.js';
export { SKNET_MODELS } from './register.js';
export {
  ConvNormAct,
  type ConvNormActOptions,
  makeDivisible,
  SelectiveKernel,
  SelectiveKernelAttn,
  type SelectiveKernelOptions,
} from './selective-kernel.js';
export { SKConv, type SKConvOptions, type SKConvResult } from './skconv.js';
