/**
 * `@kernelzoo/resnet`: the ResNet family shared by kernelzoo's paper packages — torchvision's
 * {@link BasicBlock} and {@link Bottleneck} with typed extension points ({@link BlockExtensions}:
 * a replacement 3×3 unit for SKNet, a gate for SPNet's strip pooling), the {@link ResNet}
 * backbone (ResNeXt groups, deep stem, output stride 8/16/32 by dilation, multi-grid, optional
 * classifier, stage outputs) and named constructors with torchvision's keys.
 *
 * Importing the package registers `resnet50`, `resnet101`, `resnet152` and `resnext50_32x4d`
 * in core's model registry ({@link RESNET_MODELS}).
 *
 * @packageDocumentation
 */
import './register.js';

export {
  BasicBlock,
  type BlockExtensions,
  type BlockOptions,
  type BlockPosition,
  type BlockType,
  Bottleneck,
  type GateOptions,
  type GateSpec,
  projectionShortcut,
  type SpatialConv,
  type SpatialConvSpec,
} from './blocks.js';
export {
  type DilatedResNetOptions,
  dilatedResNet50,
  dilatedResNet101,
  type ResNetVariantOptions,
  resnet18,
  resnet34,
  resnet50,
  resnet101,
  resnet152,
  resnext50_32x4d,
  resnext101_32x8d,
} from './models.js';
export { RESNET_MODELS } from './register.js';
export {
  type OutputStride,
  planStages,
  ResNet,
  type ResNetFeatures,
  type ResNetOptions,
  type StageLayout,
  type StagePlan,
} from './resnet.js';
