/**
 * The recorded pooling and resizing kernels in TF.js, on NHWC, with kernelzoo's (PyTorch's)
 * rules kept exactly:
 *
 * - `pool2d`: `tf.maxPool` / `tf.avgPool` with explicit padding. TF.js's average counts only
 *   real cells, which is `countIncludePad: false`; with `countIncludePad` the input is
 *   zero-padded first, and where a ceil-mode window reaches past the padding its mean is
 *   rescaled by a constant map to PyTorch's divisor (the window clipped to the padded input).
 * - `adaptiveAvgPool2d`: two matrix products with constant averaging matrices built once from
 *   PyTorch's bins (`floor(i·in/out)` to `ceil((i+1)·in/out) − 1`), which works for bins larger
 *   than the input as well.
 * - `resizeBilinear`: `tf.image.resizeBilinear` with `alignCorners`, or `halfPixelCenters`
 *   without: TF.js clamps the lower neighbour at 0 and the upper at the last row, which is
 *   PyTorch's rule (checked over all sizes to 40 → 80 on both backends).
 * - `resizeNearest`: `tf.image.resizeNearestNeighbor` (no align corners, no half-pixel
 *   centres) for whole-number enlargements; TF.js computes `floor(dst · (in/out))` in floating
 *   point, which for other ratios is sometimes one below PyTorch's `floor(dst · in / out)`
 *   (e.g. 6 → 74, row 37), so those are gathers with indices computed exactly once.
 *
 * @module
 */
import type { Pool2dInfo, ResizeInfo } from '@kernelzoo/core';
import * as tf from '@tensorflow/tfjs-core';
import { adaptiveAverageMatrix, nearestIndices } from './pytorch-rules.js';
import type { Prepare, Step } from './tfjs-context.js';
import { padding4 } from './tfjs-conv.js';

/** Rows (or columns) past the explicit padding that a ceil-mode last window reaches. */
function overhang(
  inSize: number,
  out: number,
  kernel: number,
  stride: number,
  dilation: number,
  pad: number,
) {
  return Math.max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - (inSize + pad));
}

/** Translates `pool2d(x, type, info)`; the input and output are NHWC. */
export function pool2dStep(p: Prepare, x: number, type: 'max' | 'avg', i: Pool2dInfo): Step {
  const getX = p.use(x, 'nhwc');
  const extraH = overhang(
    i.inHeight,
    i.outHeight,
    i.kernelHeight,
    i.strideHeight,
    i.dilationHeight,
    i.padTop + i.padBottom,
  );
  const extraW = overhang(
    i.inWidth,
    i.outWidth,
    i.kernelWidth,
    i.strideWidth,
    i.dilationWidth,
    i.padLeft + i.padRight,
  );
  const window: [number, number] = [i.kernelHeight, i.kernelWidth];
  const strides: [number, number] = [i.strideHeight, i.strideWidth];
  const pads = padding4(i.padTop, i.padBottom + extraH, i.padLeft, i.padRight + extraW);
  if (type === 'max') {
    if (i.dilationHeight !== 1 || i.dilationWidth !== 1)
      throw new Error('tfjs: pool2d max with dilation is not supported (tf.maxPool has no dilations)');
    return (values) => [tf.maxPool(getX(values) as tf.Tensor4D, window, strides, pads), 'nhwc'];
  }
  if (!i.countIncludePad)
    return (values) => [tf.avgPool(getX(values) as tf.Tensor4D, window, strides, pads), 'nhwc'];
  // PyTorch's divisor: the window clipped to the padded input, k·k except past the padding.
  const clipped = (
    o: number,
    stride: number,
    kernel: number,
    pad: number,
    inSize: number,
    padAfter: number,
  ) => Math.min(o * stride - pad + kernel, inSize + padAfter) - (o * stride - pad);
  const scale = new Float32Array(i.outHeight * i.outWidth);
  let rescale = false;
  for (let oy = 0; oy < i.outHeight; oy++)
    for (let ox = 0; ox < i.outWidth; ox++) {
      const h = clipped(oy, i.strideHeight, i.kernelHeight, i.padTop, i.inHeight, i.padBottom);
      const w = clipped(ox, i.strideWidth, i.kernelWidth, i.padLeft, i.inWidth, i.padRight);
      scale[oy * i.outWidth + ox] = (i.kernelHeight * i.kernelWidth) / (h * w);
      if (h * w !== i.kernelHeight * i.kernelWidth) rescale = true;
    }
  const scaleMap = rescale ? p.keep(tf.tensor4d(scale, [1, i.outHeight, i.outWidth, 1])) : null;
  return (values) => {
    const padded = tf.pad(getX(values) as tf.Tensor4D, pads);
    const mean = tf.avgPool(padded, window, strides, 'valid');
    return [scaleMap ? tf.mul(mean, scaleMap) : mean, 'nhwc'];
  };
}

/** Translates `adaptiveAvgPool2d(x, info)`; the input and output are NHWC. */
export function adaptiveAvgPool2dStep(p: Prepare, x: number, i: ResizeInfo): Step {
  const getX = p.use(x, 'nhwc');
  const { batch: n, channels: c, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = i;
  const rows = oh === h ? null : p.keep(tf.tensor2d(adaptiveAverageMatrix(h, oh), [oh, h]));
  const cols = ow === w ? null : p.keep(tf.tensor2d(adaptiveAverageMatrix(w, ow), [ow, w]));
  return (values) => {
    let t = getX(values);
    // Rows: [oh, h] · [n, h, w·c] (the matrix broadcast over the batch).
    if (rows) t = tf.reshape(tf.matMul(rows, tf.reshape(t, [n, h, w * c])), [n, oh, w, c]);
    // Columns: [ow, w] · [n·oh, w, c].
    if (cols) t = tf.reshape(tf.matMul(cols, tf.reshape(t, [n * oh, w, c])), [n, oh, ow, c]);
    return [rows || cols ? t : t.clone(), 'nhwc'];
  };
}

/** Translates `resizeBilinear(x, info, alignCorners)`; the input and output are NHWC. */
export function resizeBilinearStep(p: Prepare, x: number, i: ResizeInfo, alignCorners: boolean): Step {
  const getX = p.use(x, 'nhwc');
  const size: [number, number] = [i.outHeight, i.outWidth];
  return (values) => [
    tf.image.resizeBilinear(getX(values) as tf.Tensor4D, size, alignCorners, !alignCorners),
    'nhwc',
  ];
}

/** Translates `resizeNearest(x, info)`; the input and output are NHWC. */
export function resizeNearestStep(p: Prepare, x: number, i: ResizeInfo): Step {
  const getX = p.use(x, 'nhwc');
  if (i.outHeight % i.inHeight === 0 && i.outWidth % i.inWidth === 0) {
    const size: [number, number] = [i.outHeight, i.outWidth];
    return (values) => [
      tf.image.resizeNearestNeighbor(getX(values) as tf.Tensor4D, size, false, false),
      'nhwc',
    ];
  }
  const rowIdx = i.inHeight === i.outHeight ? null : Int32Array.from(nearestIndices(i.inHeight, i.outHeight));
  const colIdx = i.inWidth === i.outWidth ? null : Int32Array.from(nearestIndices(i.inWidth, i.outWidth));
  const rows = rowIdx ? p.keep(tf.tensor1d(rowIdx, 'int32')) : null;
  const cols = colIdx ? p.keep(tf.tensor1d(colIdx, 'int32')) : null;
  return (values) => {
    let t = getX(values);
    if (rows) t = tf.gather(t, rows, 1);
    if (cols) t = tf.gather(t, cols, 2);
    return [rows || cols ? t : t.clone(), 'nhwc'];
  };
}
