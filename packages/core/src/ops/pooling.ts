import type { Pool2dInfo, ResizeInfo } from '../backend.js';
import { ENGINE } from '../engine.js';
import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { formatShape } from '../util/shape.js';
import { checkDtype, checkPadding, checkPair, checkRank, describe } from './validate.js';

/** Options of {@link maxPool2d} and {@link avgPool2d}; defaults follow PyTorch. */
export interface Pool2dOptions {
  /** Stride; defaults to the kernel size. */
  stride?: number | readonly [number, number];
  /** Implicit padding: one number, `[h, w]` or `[top, bottom, left, right]`. Default 0. */
  padding?: number | readonly [number, number] | readonly [number, number, number, number];
  /** Use ceil instead of floor for the output size (a last window may start in the padding's reach). */
  ceilMode?: boolean;
  /** Max pooling only: dilation of the window. Default 1. */
  dilation?: number | readonly [number, number];
  /** Average pooling only: whether padded zeros count in the divisor. Default true (PyTorch). */
  countIncludePad?: boolean;
}

function poolOutSize(
  inSize: number,
  k: number,
  s: number,
  p0: number,
  p1: number,
  d: number,
  ceil: boolean,
): number {
  const span = inSize + p0 + p1 - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  // PyTorch: the last window must start inside the input or the leading padding.
  if (ceil && (out - 1) * s >= inSize + p0) out--;
  return out;
}

/** Derives the {@link Pool2dInfo} for a pooling op. @internal */
export function pool2dInfo(op: string, x: Tensor, kernelSize: unknown, options: Pool2dOptions): Pool2dInfo {
  checkRank(op, 'x', x, 4, '[N, C, H, W]');
  checkDtype(op, 'x', x, ['float32']);
  const [kernelHeight, kernelWidth] = checkPair(op, 'kernelSize', kernelSize, 1);
  const [strideHeight, strideWidth] = checkPair(
    op,
    'stride',
    options.stride ?? [kernelHeight, kernelWidth],
    1,
  );
  const [dilationHeight, dilationWidth] = checkPair(op, 'dilation', options.dilation ?? 1, 1);
  const [padTop, padBottom, padLeft, padRight] = checkPadding(op, options.padding ?? 0);
  if (
    padTop * 2 > kernelHeight ||
    padBottom * 2 > kernelHeight ||
    padLeft * 2 > kernelWidth ||
    padRight * 2 > kernelWidth
  )
    throw new ArgumentError(
      op,
      'padding',
      `at most half the kernel size (${kernelHeight}×${kernelWidth})`,
      describe(options.padding),
    );
  const [batch, channels, inHeight, inWidth] = x.shape;
  const ceil = options.ceilMode ?? false;
  const outHeight = poolOutSize(
    inHeight,
    kernelHeight,
    strideHeight,
    padTop,
    padBottom,
    dilationHeight,
    ceil,
  );
  const outWidth = poolOutSize(inWidth, kernelWidth, strideWidth, padLeft, padRight, dilationWidth, ceil);
  if (outHeight < 1 || outWidth < 1)
    throw new ArgumentError(
      op,
      'x',
      `an input large enough for a ${kernelHeight}×${kernelWidth} window`,
      `shape ${formatShape(x.shape)}`,
    );
  return {
    batch,
    channels,
    inHeight,
    inWidth,
    outHeight,
    outWidth,
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
    countIncludePad: options.countIncludePad ?? true,
  };
}

/** 2-D max pooling over NCHW input (PyTorch `F.max_pool2d`). */
export function maxPool2d(
  x: Tensor,
  kernelSize: number | readonly [number, number],
  options: Pool2dOptions = {},
): Tensor {
  const info = pool2dInfo('maxPool2d', x, kernelSize, options);
  return ENGINE.run(
    'maxPool2d',
    [x],
    [info.batch, info.channels, info.outHeight, info.outWidth],
    'float32',
    0,
    (b, [xi]) => b.pool2d(xi, 'max', info),
  );
}

/** 2-D average pooling over NCHW input (PyTorch `F.avg_pool2d`). */
export function avgPool2d(
  x: Tensor,
  kernelSize: number | readonly [number, number],
  options: Pool2dOptions = {},
): Tensor {
  if (options.dilation !== undefined && options.dilation !== 1)
    throw new ArgumentError(
      'avgPool2d',
      'dilation',
      '1 (average pooling has no dilation)',
      describe(options.dilation),
    );
  const info = pool2dInfo('avgPool2d', x, kernelSize, options);
  return ENGINE.run(
    'avgPool2d',
    [x],
    [info.batch, info.channels, info.outHeight, info.outWidth],
    'float32',
    0,
    (b, [xi]) => b.pool2d(xi, 'avg', info),
  );
}

/** An output size where `null` keeps the input's size along that axis (PyTorch's `None`). */
export type AdaptiveSize = number | readonly [number | null, number | null];

/**
 * PyTorch's `F.adaptive_avg_pool2d` to any output size, including the strip forms
 * `[1, null]` (pool to one row) and `[null, 1]` (pool to one column).
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: AdaptiveSize): Tensor {
  const op = 'adaptiveAvgPool2d';
  checkRank(op, 'x', x, 4, '[N, C, H, W]');
  checkDtype(op, 'x', x, ['float32']);
  const [batch, channels, inHeight, inWidth] = x.shape;
  const pair = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize;
  const ok = (v: unknown) => v === null || (typeof v === 'number' && Number.isInteger(v) && v >= 1);
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every(ok))
    throw new ArgumentError(
      op,
      'outputSize',
      'an integer ≥ 1 or a pair of (integer ≥ 1 | null)',
      describe(outputSize),
    );
  const info: ResizeInfo = {
    batch,
    channels,
    inHeight,
    inWidth,
    outHeight: pair[0] ?? inHeight,
    outWidth: pair[1] ?? inWidth,
  };
  if (inHeight < 1 || inWidth < 1)
    throw new ArgumentError(op, 'x', 'a non-empty spatial size', `shape ${formatShape(x.shape)}`);
  return ENGINE.run(op, [x], [batch, channels, info.outHeight, info.outWidth], 'float32', 0, (b, [xi]) =>
    b.adaptiveAvgPool2d(xi, info),
  );
}
