/**
 * NCHW ↔ NHWC for the TF.js runner: a recorded graph states every shape and axis in NCHW
 * (kernelzoo's layout), while TF.js's image kernels take NHWC. These helpers map axes, shapes
 * and paddings between the two and move tensors across, as a reshape when only dimensions of
 * length 1 move (no copy) and as a transpose otherwise.
 *
 * @module
 */
import type { Shape } from '@kernelzoo/core';
import * as tf from '@tensorflow/tfjs-core';

/** How a runtime tensor holds a recorded value. */
export type Layout =
  /** The recorded shape, row-major (NCHW for images). */
  | 'nat'
  /** A value of rank ≤ 4 padded to rank 4 with leading 1s, then permuted NCHW → NHWC. */
  | 'nhwc';

/** NHWC dimension `j` is NCHW dimension `TO_NHWC[j]`. */
export const TO_NHWC: readonly number[] = [0, 2, 3, 1];

/** NCHW axis `a` sits at NHWC position `NHWC_AXIS[a]`; also the permutation NHWC → NCHW. */
export const NHWC_AXIS: readonly number[] = [0, 3, 1, 2];

/** `shape` padded to rank 4 with leading 1s (rank ≤ 4). */
export function expand4(shape: Shape): number[] {
  if (shape.length > 4) throw new Error(`tfjs: rank ${shape.length} has no NHWC form`);
  return [...new Array<number>(4 - shape.length).fill(1), ...shape];
}

/** A rank-4 NCHW list (shape, begins, sizes, paddings) in NHWC order. */
export function toNhwcOrder<T>(nchw: readonly T[]): T[] {
  return TO_NHWC.map((a) => nchw[a]!);
}

/** NCHW axes of a rank-4 value as sorted NHWC positions. */
export function nhwcAxes(axes: readonly number[]): number[] {
  return axes.map((a) => NHWC_AXIS[a]!).sort((p, q) => p - q);
}

/**
 * Permutes `t`'s dimensions (output dimension `i` is input dimension `perm[i]`): a reshape
 * when the dimensions longer than 1 keep their order, a transpose otherwise.
 */
export function permute(t: tf.Tensor, perm: readonly number[]): tf.Tensor {
  const shape = t.shape;
  const moved = perm.filter((p) => shape[p] !== 1);
  const inOrder = moved.every((p, i) => i === 0 || moved[i - 1]! < p);
  if (inOrder) {
    const out = perm.map((p) => shape[p]!);
    return perm.every((p, i) => p === i) ? t.clone() : tf.reshape(t, out);
  }
  return tf.transpose(t, [...perm]);
}

/** A value in natural layout (recorded shape `shape`, rank ≤ 4) → its NHWC form. */
export function natToNhwc(t: tf.Tensor, shape: Shape): tf.Tensor {
  const four = shape.length === 4 ? t : tf.reshape(t, expand4(shape));
  return permute(four, TO_NHWC);
}

/** A value's NHWC form → natural layout under its recorded shape `shape`. */
export function nhwcToNat(t: tf.Tensor, shape: Shape): tf.Tensor {
  const nchw = permute(t, NHWC_AXIS);
  return shape.length === 4 ? nchw : tf.reshape(nchw, [...shape]);
}

/**
 * What is left of a rank-4 NHWC tensor after removing the NHWC positions `removed` (sorted),
 * moved back to natural (NCHW) order: TF.js keeps the remaining dimensions in NHWC order.
 */
export function remainingToNat(t: tf.Tensor, removed: readonly number[]): tf.Tensor {
  const left = TO_NHWC.filter((_, pos) => !removed.includes(pos));
  const sorted = [...left].sort((p, q) => p - q);
  const perm = sorted.map((a) => left.indexOf(a));
  return perm.every((p, i) => p === i) ? t : permute(t, perm);
}
