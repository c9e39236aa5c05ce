import type { Activation, Conv2dInfo } from '../backend.js';
import { ENGINE } from '../engine.js';
import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { formatShape } from '../util/shape.js';
import { checkDtype, checkInt, checkPadding, checkPair, checkRank, describe } from './validate.js';

/** Options of {@link conv2d}; defaults follow PyTorch's `nn.Conv2d`. */
export interface Conv2dOptions {
  /** `[outChannels]` added to every output pixel. */
  bias?: Tensor | null;
  /** Stride, one number or `[h, w]`. Default 1. */
  stride?: number | readonly [number, number];
  /** Zero padding: one number, `[h, w]` or `[top, bottom, left, right]`. Default 0. */
  padding?: number | readonly [number, number] | readonly [number, number, number, number];
  /** Dilation, one number or `[h, w]`. Default 1. */
  dilation?: number | readonly [number, number];
  /** Channel groups. Default 1. */
  groups?: number;
  /** Activation applied after the bias, fused into the kernel. Default `linear`. */
  activation?: Activation;
}

const ACTIVATIONS: readonly Activation[] = ['linear', 'relu', 'sigmoid'];

/** Checks an activation name. @internal */
export function checkActivation(op: string, a: unknown): Activation {
  if (a === undefined) return 'linear';
  if (!ACTIVATIONS.includes(a as Activation))
    throw new ArgumentError(op, 'activation', `one of ${ACTIVATIONS.join(', ')}`, describe(a));
  return a as Activation;
}

/**
 * Derives the {@link Conv2dInfo} of a convolution from shapes and options, checking
 * everything. Exported for backends' own tests and for shape tools.
 */
export function conv2dInfo(
  xShape: readonly number[],
  wShape: readonly number[],
  options: Conv2dOptions = {},
): Conv2dInfo {
  const op = 'conv2d';
  const [strideHeight, strideWidth] = checkPair(op, 'stride', options.stride ?? 1, 1);
  const [dilationHeight, dilationWidth] = checkPair(op, 'dilation', options.dilation ?? 1, 1);
  const [padTop, padBottom, padLeft, padRight] = checkPadding(op, options.padding ?? 0);
  const groups = checkInt(op, 'groups', options.groups ?? 1, 1);
  const [batch, inChannels, inHeight, inWidth] = xShape;
  const [outChannels, inPerGroup, kernelHeight, kernelWidth] = wShape;
  if (inChannels % groups !== 0)
    throw new ArgumentError(op, 'groups', `a divisor of the input channels (${inChannels})`, String(groups));
  if (outChannels % groups !== 0)
    throw new ArgumentError(
      op,
      'groups',
      `a divisor of the output channels (${outChannels})`,
      String(groups),
    );
  if (inPerGroup * groups !== inChannels)
    throw new ArgumentError(
      op,
      'weight',
      `shape [outChannels, ${inChannels / groups}, kH, kW] (input channels ${inChannels} / groups ${groups})`,
      `shape ${formatShape(wShape)}`,
    );
  const effH = dilationHeight * (kernelHeight - 1) + 1;
  const effW = dilationWidth * (kernelWidth - 1) + 1;
  const paddedH = inHeight + padTop + padBottom;
  const paddedW = inWidth + padLeft + padRight;
  if (effH > paddedH || effW > paddedW)
    throw new ArgumentError(
      op,
      'x',
      `a padded input of at least ${effH}×${effW} for a ${kernelHeight}×${kernelWidth} kernel at dilation ${dilationHeight}×${dilationWidth}`,
      `padded input ${paddedH}×${paddedW} (shape ${formatShape(xShape)})`,
    );
  return {
    batch,
    inChannels,
    inHeight,
    inWidth,
    outChannels,
    outHeight: Math.floor((paddedH - effH) / strideHeight) + 1,
    outWidth: Math.floor((paddedW - effW) / strideWidth) + 1,
    kernelHeight,
    kernelWidth,
    strideHeight,
    strideWidth,
    dilationHeight,
    dilationWidth,
    padTop,
    padBottom,
    padLeft,
    padRight,
    groups,
  };
}

/**
 * 2-D convolution of NCHW `x` `[N, C_in, H, W]` with OIHW `weight`
 * `[C_out, C_in / groups, kH, kW]`, PyTorch semantics, with optional fused bias and
 * activation. Returns `[N, C_out, H_out, W_out]`.
 */
export function conv2d(x: Tensor, weight: Tensor, options: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  checkRank(op, 'x', x, 4, '[N, C, H, W]');
  checkRank(op, 'weight', weight, 4, '[outChannels, inChannels / groups, kH, kW]');
  checkDtype(op, 'x', x, ['float32']);
  checkDtype(op, 'weight', weight, ['float32']);
  const activation = checkActivation(op, options.activation);
  const info = conv2dInfo(x.shape, weight.shape, options);
  const bias = options.bias ?? null;
  if (bias !== null) {
    checkRank(op, 'bias', bias, 1, '[outChannels]');
    checkDtype(op, 'bias', bias, ['float32']);
    if (bias.shape[0] !== info.outChannels)
      throw new ArgumentError(op, 'bias', `shape [${info.outChannels}]`, `shape ${formatShape(bias.shape)}`);
  }
  const outShape = [info.batch, info.outChannels, info.outHeight, info.outWidth];
  const macs =
    info.batch *
    info.outChannels *
    info.outHeight *
    info.outWidth *
    (info.inChannels / info.groups) *
    info.kernelHeight *
    info.kernelWidth;
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return ENGINE.run(op, inputs, outShape, 'float32', macs, (b, [xi, wi, bi]) =>
    b.conv2d(xi, wi, bi ?? null, info, activation),
  );
}
