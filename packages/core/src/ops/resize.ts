import type { ResizeInfo } from '../backend.js';
import { ENGINE } from '../engine.js';
import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { checkDtype, checkRank, describe } from './validate.js';

function resizeInfo(op: string, x: Tensor, size: unknown): ResizeInfo {
  checkRank(op, 'x', x, 4, '[N, C, H, W]');
  checkDtype(op, 'x', x, ['float32']);
  const ok = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1;
  if (!Array.isArray(size) || size.length !== 2 || !size.every(ok))
    throw new ArgumentError(op, 'size', '[outHeight, outWidth], integers ≥ 1', describe(size));
  const [batch, channels, inHeight, inWidth] = x.shape;
  return { batch, channels, inHeight, inWidth, outHeight: size[0], outWidth: size[1] };
}

/**
 * Bilinear resize of NCHW input to `size` = `[outHeight, outWidth]`, PyTorch's
 * `F.interpolate(mode='bilinear')` with its `align_corners` (default false).
 */
export function resizeBilinear(x: Tensor, size: readonly [number, number], alignCorners = false): Tensor {
  const info = resizeInfo('resizeBilinear', x, size);
  return ENGINE.run(
    'resizeBilinear',
    [x],
    [info.batch, info.channels, info.outHeight, info.outWidth],
    'float32',
    0,
    (b, [xi]) => b.resizeBilinear(xi, info, alignCorners),
  );
}

/** Nearest-neighbour resize of NCHW input, PyTorch's `F.interpolate(mode='nearest')`. */
export function resizeNearest(x: Tensor, size: readonly [number, number]): Tensor {
  const info = resizeInfo('resizeNearest', x, size);
  return ENGINE.run(
    'resizeNearest',
    [x],
    [info.batch, info.channels, info.outHeight, info.outWidth],
    'float32',
    0,
    (b, [xi]) => b.resizeNearest(xi, info),
  );
}

/** Options of {@link interpolate}: give `size` or `scaleFactor`. */
export interface InterpolateOptions {
  /** Output `[height, width]`. */
  size?: readonly [number, number];
  /** Multiplier of the input size (output = floor(input · factor)). */
  scaleFactor?: number | readonly [number, number];
  /** `nearest` (default) or `bilinear`. */
  mode?: 'nearest' | 'bilinear';
  /** Bilinear only: PyTorch's `align_corners`. Default false. */
  alignCorners?: boolean;
}

/** PyTorch's `F.interpolate` for NCHW input. */
export function interpolate(x: Tensor, options: InterpolateOptions): Tensor {
  const op = 'interpolate';
  checkRank(op, 'x', x, 4, '[N, C, H, W]');
  const mode = options.mode ?? 'nearest';
  if (mode !== 'nearest' && mode !== 'bilinear')
    throw new ArgumentError(op, 'mode', "'nearest' or 'bilinear'", describe(mode));
  let size: readonly [number, number];
  if (options.size !== undefined && options.scaleFactor === undefined) size = options.size;
  else if (options.scaleFactor !== undefined && options.size === undefined) {
    const f =
      typeof options.scaleFactor === 'number'
        ? [options.scaleFactor, options.scaleFactor]
        : options.scaleFactor;
    if (!Array.isArray(f) || !f.every((v) => typeof v === 'number' && v > 0))
      throw new ArgumentError(
        op,
        'scaleFactor',
        'a positive number or a pair of them',
        describe(options.scaleFactor),
      );
    size = [Math.floor(x.shape[2] * f[0]), Math.floor(x.shape[3] * f[1])];
  } else
    throw new ArgumentError(
      op,
      'options',
      'exactly one of size and scaleFactor',
      describe(Object.keys(options)),
    );
  return mode === 'bilinear'
    ? resizeBilinear(x, size, options.alignCorners ?? false)
    : resizeNearest(x, size);
}
