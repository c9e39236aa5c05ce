/**
 * A recorded `conv2d` as a TF.js user writes it, on NHWC: `tf.fused.conv2d` with HWIO filters
 * (converted once from OIHW), bias and activation fused; `tf.fused.depthwiseConv2d` when each
 * group has one input channel; other grouped convolutions split along channels, one convolution
 * per group, concatenated (TF.js has no groups). Dilation goes to `dilations`, asymmetric padding
 * to an explicit padding array.
 *
 * TF.js refuses a stride and a dilation both above 1 (SKNet's strided dilated branches). When
 * the stride is a multiple of the dilation the convolution reads only every dilation-th row and
 * column of the padded input, so it runs undilated on that subsample at stride ÷ dilation;
 * otherwise it runs at stride 1 and every stride-th output is kept.
 *
 * @module
 */
import type { Activation, Conv2dInfo } from '@kernelzoo/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Prepare, Step } from './tfjs-context.js';

/** TF.js's explicit padding: `[before, after]` per NHWC dimension. */
export type Padding4 = [[number, number], [number, number], [number, number], [number, number]];

/** Explicit NHWC padding of `top`, `bottom`, `left`, `right` rows and columns. */
export function padding4(top: number, bottom: number, left: number, right: number): Padding4 {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/** How the stride and dilation reach TF.js (see the module comment). */
type Plan = 'direct' | 'subsample' | 'stride-then-slice';

function planOf(i: Conv2dInfo): Plan {
  const unitStride = i.strideHeight === 1 && i.strideWidth === 1;
  const unitDilation = i.dilationHeight === 1 && i.dilationWidth === 1;
  if (unitStride || unitDilation) return 'direct';
  if (i.strideHeight % i.dilationHeight === 0 && i.strideWidth % i.dilationWidth === 0) return 'subsample';
  return 'stride-then-slice';
}

/** OIHW weights of one group (output channels `from` to `from + count`) as HWIO. */
function hwio(w: tf.Tensor, from: number, count: number): tf.Tensor4D {
  const part = count === w.shape[0] ? w : tf.slice(w, [from, 0, 0, 0], [count, -1, -1, -1]);
  return tf.transpose(part, [2, 3, 1, 0]) as tf.Tensor4D;
}

/** Translates `conv2d(x, weight, bias, info, activation)`; the input and output are NHWC. */
export function conv2dStep(
  p: Prepare,
  x: number,
  weight: number,
  bias: number | null,
  info: Conv2dInfo,
  activation: Activation,
): Step {
  const groups = info.groups;
  const perGroupIn = info.inChannels / groups;
  const perGroupOut = info.outChannels / groups;
  const depthwise = groups > 1 && perGroupIn === 1;
  const split = groups > 1 && !depthwise;
  const getX = p.use(x, 'nhwc');
  // Depthwise filters are [kh, kw, inChannels, multiplier]: OIHW output channel c·m + j reads
  // input channel c, as TF.js's output channel c·m + j does.
  const getFilters = p.derive(weight, `conv:${groups}`, (w): tf.Tensor4D[] => {
    if (depthwise) {
      const [, , kh, kw] = w.shape;
      const byInput = tf.reshape(w, [info.inChannels, perGroupOut, kh!, kw!]);
      return [tf.transpose(byInput, [2, 3, 0, 1]) as tf.Tensor4D];
    }
    return Array.from({ length: split ? groups : 1 }, (_, g) =>
      hwio(w, g * perGroupOut, split ? perGroupOut : info.outChannels),
    );
  });
  const getBiases =
    bias === null
      ? null
      : p.derive(bias, `bias:${split ? groups : 1}`, (b): tf.Tensor1D[] =>
          split ? (tf.split(b, groups) as tf.Tensor1D[]) : [b as tf.Tensor1D],
        );

  const plan = planOf(info);
  const { padTop: top, padBottom: bottom, padLeft: left, padRight: right } = info;
  const zeroPad = top === 0 && bottom === 0 && left === 0 && right === 0;
  const samePad = top === bottom && top === left && top === right;
  const strides: [number, number] = [info.strideHeight, info.strideWidth];
  const dilations: [number, number] = [info.dilationHeight, info.dilationWidth];
  // TF.js's fused depthwise convolution takes only a symmetric padding: pad beforehand otherwise.
  const prePad = plan === 'subsample' || (depthwise && !samePad);
  const convStrides: [number, number] =
    plan === 'subsample'
      ? [strides[0] / dilations[0], strides[1] / dilations[1]]
      : plan === 'stride-then-slice'
        ? [1, 1]
        : strides;
  const convDilations: [number, number] = plan === 'subsample' ? [1, 1] : dilations;
  const pad: 'valid' | number | Padding4 =
    prePad || zeroPad ? 'valid' : depthwise ? top : padding4(top, bottom, left, right);

  const one = (xi: tf.Tensor4D, filter: tf.Tensor4D, b: tf.Tensor1D | undefined): tf.Tensor4D => {
    const common = { x: xi, filter, strides: convStrides, dilations: convDilations, bias: b, activation };
    if (!depthwise) return tf.fused.conv2d({ ...common, pad });
    if (typeof pad === 'object') throw new Error('tfjs: conv2d depthwise padding is applied beforehand');
    return tf.fused.depthwiseConv2d({ ...common, pad });
  };

  return (values) => {
    let input = getX(values) as tf.Tensor4D;
    if (prePad && !zeroPad) input = tf.pad(input, padding4(top, bottom, left, right));
    if (plan === 'subsample')
      input = tf.stridedSlice(input, [0, 0, 0, 0], input.shape, [
        1,
        dilations[0],
        dilations[1],
        1,
      ]) as tf.Tensor4D;
    const filters = getFilters(values);
    const biases = getBiases?.(values);
    let y: tf.Tensor4D;
    if (split) {
      const parts = tf.split(input, groups, 3) as tf.Tensor4D[];
      y = tf.concat(
        parts.map((xi, g) => one(xi, filters[g]!, biases?.[g])),
        3,
      ) as tf.Tensor4D;
    } else {
      y = one(input, filters[0]!, biases?.[0]);
    }
    if (plan === 'stride-then-slice')
      y = tf.stridedSlice(y, [0, 0, 0, 0], y.shape, [1, strides[0], strides[1], 1]) as tf.Tensor4D;
    return [y, 'nhwc'];
  };
}
