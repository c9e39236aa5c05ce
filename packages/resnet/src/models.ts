import { BasicBlock, Bottleneck } from './blocks.js';
import { ResNet, type ResNetOptions } from './resnet.js';

/** Options of the named constructors: everything of {@link ResNetOptions} but the block and layers. */
export type ResNetVariantOptions = Omit<ResNetOptions, 'block' | 'layers'>;

/**
 * Options of {@link dilatedResNet50} and {@link dilatedResNet101}: PyTorch-Encoding's dilated
 * ResNet, the backbone of PSPNet and SPNet.
 */
export interface DilatedResNetOptions extends ResNetVariantOptions {
  /** Default 8. */
  outputStride?: 8 | 16 | 32;
  /** Default true (the deep stem, 64 → 64 → 128). */
  deepStem?: boolean;
  /** Default null: a backbone without classifier. */
  numClasses?: number | null;
}

/** torchvision `resnet18`: BasicBlock, [2, 2, 2, 2]; 11,689,512 parameters with the 1000-class fc. */
export function resnet18(options: ResNetVariantOptions = {}): ResNet {
  return new ResNet({ ...options, block: BasicBlock, layers: [2, 2, 2, 2] });
}

/** torchvision `resnet34`: BasicBlock, [3, 4, 6, 3]; 21,797,672 parameters with the 1000-class fc. */
export function resnet34(options: ResNetVariantOptions = {}): ResNet {
  return new ResNet({ ...options, block: BasicBlock, layers: [3, 4, 6, 3] });
}

/**
 * torchvision `resnet50`: Bottleneck, [3, 4, 6, 3]; 25,557,032 parameters with the 1000-class fc,
 * 4,089,184,256 multiply-adds at 224×224 (convolutions and fc).
 */
export function resnet50(options: ResNetVariantOptions = {}): ResNet {
  return new ResNet({ ...options, block: Bottleneck, layers: [3, 4, 6, 3] });
}

/** torchvision `resnet101`: Bottleneck, [3, 4, 23, 3]; 44,549,160 parameters with the 1000-class fc. */
export function resnet101(options: ResNetVariantOptions = {}): ResNet {
  return new ResNet({ ...options, block: Bottleneck, layers: [3, 4, 23, 3] });
}

/** torchvision `resnet152`: Bottleneck, [3, 8, 36, 3]; 60,192,808 parameters with the 1000-class fc. */
export function resnet152(options: ResNetVariantOptions = {}): ResNet {
  return new ResNet({ ...options, block: Bottleneck, layers: [3, 8, 36, 3] });
}

/**
 * torchvision `resnext50_32x4d`: Bottleneck, [3, 4, 6, 3], 32 groups of 4 channels at planes 64
 * (3×3 widths 128 … 1024); 25,028,904 parameters with the 1000-class fc.
 */
export function resnext50_32x4d(options: Omit<ResNetVariantOptions, 'groups' | 'baseWidth'> = {}): ResNet {
  return new ResNet({ ...options, block: Bottleneck, layers: [3, 4, 6, 3], groups: 32, baseWidth: 4 });
}

/**
 * torchvision `resnext101_32x8d`: Bottleneck, [3, 4, 23, 3], 32 groups of 8 channels at planes
 * 64; 88,791,336 parameters with the 1000-class fc.
 */
export function resnext101_32x8d(options: Omit<ResNetVariantOptions, 'groups' | 'baseWidth'> = {}): ResNet {
  return new ResNet({ ...options, block: Bottleneck, layers: [3, 4, 23, 3], groups: 32, baseWidth: 8 });
}

/**
 * PyTorch-Encoding's dilated ResNet-50 (the backbone of PSPNet and SPNet): deep stem, output
 * stride 8, no classifier by default. SPNet's backbone is
 * `dilatedResNet50({ multiGrid: [4, 8, 16], extensions: { gate: … } })`; its keys (without the
 * checkpoint's `module.pretrained.` prefix) are this module's.
 */
export function dilatedResNet50(options: DilatedResNetOptions = {}): ResNet {
  return new ResNet(dilated(options, [3, 4, 6, 3]));
}

/** As {@link dilatedResNet50} with ResNet-101's [3, 4, 23, 3] blocks. */
export function dilatedResNet101(options: DilatedResNetOptions = {}): ResNet {
  return new ResNet(dilated(options, [3, 4, 23, 3]));
}

function dilated(options: DilatedResNetOptions, layers: number[]): ResNetOptions {
  return {
    ...options,
    outputStride: options.outputStride ?? 8,
    deepStem: options.deepStem ?? true,
    numClasses: options.numClasses === undefined ? null : options.numClasses,
    block: Bottleneck,
    layers,
  };
}
