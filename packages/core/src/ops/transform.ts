import { ENGINE } from '../engine.js';
import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { DType, Shape } from '../types.js';
import { formatShape, shapesEqual, sizeFromShape } from '../util/shape.js';
import { checkAxis, checkTensor, describe } from './validate.js';

/**
 * The same data under another shape of equal size; one entry may be -1 (inferred). Shares
 * the buffer: no copy is made.
 */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const op = 'reshape';
  checkTensor(op, 'x', x);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= -1))
    throw new ArgumentError(op, 'shape', 'an array of integers ≥ -1', describe(shape));
  const inferred = shape.filter((d) => d === -1).length;
  if (inferred > 1) throw new ArgumentError(op, 'shape', 'at most one -1', formatShape(shape));
  let out = [...shape];
  if (inferred === 1) {
    const known = sizeFromShape(shape.filter((d) => d !== -1));
    if (known === 0 || x.size % known !== 0)
      throw new ArgumentError(op, 'shape', `a shape whose size divides ${x.size}`, formatShape(shape));
    out = shape.map((d) => (d === -1 ? x.size / known : d));
  }
  if (sizeFromShape(out) !== x.size)
    throw new ArgumentError(
      op,
      'shape',
      `${x.size} elements (input ${formatShape(x.shape)})`,
      `${formatShape(out)} (${sizeFromShape(out)} elements)`,
    );
  return ENGINE.view(x, out);
}

/** Flattens dimensions `startDim`..end into one (PyTorch `torch.flatten(x, startDim)`). */
export function flatten(x: Tensor, startDim = 1): Tensor {
  checkTensor('flatten', 'x', x);
  const s = checkAxis('flatten', 'startDim', startDim, x.rank);
  return reshape(x, [...x.shape.slice(0, s), -1]);
}

/** Removes dimensions of length 1 (all of them, or those in `axis`). */
export function squeeze(x: Tensor, axis?: number | readonly number[]): Tensor {
  checkTensor('squeeze', 'x', x);
  const axes =
    axis === undefined
      ? x.shape.map((_, i) => i).filter((i) => x.shape[i] === 1)
      : (typeof axis === 'number' ? [axis] : axis).map((a) => checkAxis('squeeze', 'axis', a, x.rank));
  for (const a of axes)
    if (x.shape[a] !== 1)
      throw new ArgumentError(
        'squeeze',
        'axis',
        `axes of length 1`,
        `axis ${a} of shape ${formatShape(x.shape)}`,
      );
  return reshape(
    x,
    x.shape.filter((_, i) => !axes.includes(i)),
  );
}

/** Inserts a dimension of length 1 at `axis`. */
export function expandDims(x: Tensor, axis = 0): Tensor {
  checkTensor('expandDims', 'x', x);
  const a = checkAxis('expandDims', 'axis', axis, x.rank + 1);
  const s = [...x.shape];
  s.splice(a, 0, 1);
  return reshape(x, s);
}

/** Joins tensors of one dtype along `axis`; all other dimensions must agree. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  const op = 'concat';
  if (!Array.isArray(xs) || xs.length === 0)
    throw new ArgumentError(op, 'xs', 'a non-empty array of tensors', describe(xs));
  for (let i = 0; i < xs.length; i++) checkTensor(op, `xs[${i}]`, xs[i]);
  const first: Tensor = xs[0];
  if (first.rank === 0) throw new ArgumentError(op, 'xs[0]', 'rank ≥ 1', 'a scalar');
  const a = checkAxis(op, 'axis', axis, first.rank);
  let total = 0;
  xs.forEach((x: Tensor, i) => {
    if (x.dtype !== first.dtype) throw new ArgumentError(op, `xs[${i}]`, `dtype ${first.dtype}`, x.dtype);
    if (x.rank !== first.rank || x.shape.some((d, j) => j !== a && d !== first.shape[j]))
      throw new ArgumentError(
        op,
        `xs[${i}]`,
        `shape ${formatShape(first.shape.map((d, j) => (j === a ? -1 : d)))} (-1: any length on axis ${a})`,
        formatShape(x.shape),
      );
    total += x.shape[a];
  });
  if (xs.length === 1) return reshape(first, first.shape);
  const outShape = first.shape.map((d, j) => (j === a ? total : d));
  return ENGINE.run(op, xs, outShape, first.dtype, 0, (b, infos) => b.concat(infos, a, outShape));
}

/** Stacks tensors of one shape along a new dimension `axis`. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0)
    throw new ArgumentError('stack', 'xs', 'a non-empty array of tensors', describe(xs));
  const first = checkTensor('stack', 'xs[0]', xs[0]);
  xs.forEach((x, i) => {
    checkTensor('stack', `xs[${i}]`, x);
    if (x.dtype !== first.dtype || !shapesEqual(x.shape, first.shape))
      throw new ArgumentError(
        'stack',
        `xs[${i}]`,
        `${first.dtype} of shape ${formatShape(first.shape)} (like xs[0])`,
        `${x.dtype} of shape ${formatShape(x.shape)}`,
      );
  });
  const a = checkAxis('stack', 'axis', axis, first.rank + 1);
  const expanded = xs.map((x) => expandDims(x, a));
  try {
    return concat(expanded, a);
  } finally {
    for (const e of expanded) e.dispose();
  }
}

/**
 * The block of `x` starting at `begin` with lengths `size` (one entry per dimension; a size of
 * -1 means "to the end").
 */
export function slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor {
  const op = 'slice';
  checkTensor(op, 'x', x);
  const okArr = (v: unknown, min: number) =>
    Array.isArray(v) && v.length === x.rank && v.every((e) => Number.isInteger(e) && e >= min);
  if (!okArr(begin, 0)) throw new ArgumentError(op, 'begin', `${x.rank} integers ≥ 0`, describe(begin));
  if (!okArr(size, -1)) throw new ArgumentError(op, 'size', `${x.rank} integers ≥ -1`, describe(size));
  const sz = size.map((s, i) => (s === -1 ? x.shape[i] - begin[i] : s));
  for (let i = 0; i < x.rank; i++)
    if (begin[i] + sz[i] > x.shape[i] || sz[i] < 0)
      throw new ArgumentError(
        op,
        'size',
        `a block inside ${formatShape(x.shape)}`,
        `begin ${formatShape(begin)} size ${formatShape(size)} (dimension ${i} runs to ${begin[i] + sz[i]})`,
      );
  return ENGINE.run(op, [x], sz, x.dtype, 0, (b, [xi]) => b.slice(xi, begin, sz));
}

/** Splits `x` along `axis` into pieces of the given lengths, or into `n` equal pieces. */
export function split(x: Tensor, sizesOrCount: number | readonly number[], axis = 0): Tensor[] {
  const op = 'split';
  checkTensor(op, 'x', x);
  const a = checkAxis(op, 'axis', axis, x.rank);
  const len = x.shape[a];
  let sizes: number[];
  if (typeof sizesOrCount === 'number') {
    if (!Number.isInteger(sizesOrCount) || sizesOrCount < 1 || len % sizesOrCount !== 0)
      throw new ArgumentError(op, 'sizesOrCount', `a divisor of ${len}`, describe(sizesOrCount));
    sizes = new Array(sizesOrCount).fill(len / sizesOrCount);
  } else {
    sizes = [...sizesOrCount];
    if (sizes.reduce((s, v) => s + v, 0) !== len)
      throw new ArgumentError(op, 'sizesOrCount', `lengths summing to ${len}`, describe(sizesOrCount));
  }
  let start = 0;
  return sizes.map((s) => {
    const begin = x.shape.map((_, i) => (i === a ? start : 0));
    const size = x.shape.map((d, i) => (i === a ? s : d));
    start += s;
    return slice(x, begin, size);
  });
}

/** Permutes dimensions; output dimension `i` is input dimension `perm[i]` (default: reversed). */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const op = 'transpose';
  checkTensor(op, 'x', x);
  const p = perm ?? x.shape.map((_, i) => x.rank - 1 - i);
  if (!Array.isArray(p) || p.length !== x.rank || [...p].sort((a, b) => a - b).some((v, i) => v !== i))
    throw new ArgumentError(op, 'perm', `a permutation of 0..${x.rank - 1}`, describe(perm));
  return ENGINE.run(
    op,
    [x],
    p.map((i) => x.shape[i]),
    x.dtype,
    0,
    (b, [xi]) => b.transpose(xi, p),
  );
}

/**
 * Reverses `x` along each axis in `axes` (PyTorch's `torch.flip(x, dims)`; negative axes count
 * from the end): `out[…, i_a, …] = x[…, size_a − 1 − i_a, …]` for every `a` in `axes`. Keeps
 * shape and dtype (float32 or int32). Always returns a new tensor; empty `axes` give a copy.
 * Used for flip testing (HRNet) and flip averaging (SPNet): `flip(x, [3])` mirrors NCHW images
 * left to right.
 */
export function flip(x: Tensor, axes: readonly number[]): Tensor {
  const op = 'flip';
  checkTensor(op, 'x', x);
  if (!Array.isArray(axes)) throw new ArgumentError(op, 'axes', 'an array of integer axes', describe(axes));
  const norm = axes.map((a) => checkAxis(op, 'axes', a, x.rank));
  const seen = new Set<number>();
  norm.forEach((a, i) => {
    if (seen.has(a))
      throw new ArgumentError(
        op,
        'axes',
        'distinct axes',
        `${describe(axes)} (entry ${i} is axis ${a} again, for a tensor of rank ${x.rank})`,
      );
    seen.add(a);
  });
  // A 0-d tensor has no axis to reverse (checkAxis lets axis 0 name it, as reductions do).
  const sorted = norm.filter((a) => a < x.rank).sort((a, b) => a - b);
  return ENGINE.run(op, [x], x.shape, x.dtype, 0, (b, [xi]) => b.flip(xi, sorted));
}

/**
 * Constant padding. `paddings[i] = [before, after]` for every dimension of `x`.
 */
export function pad(x: Tensor, paddings: readonly (readonly [number, number])[], value = 0): Tensor {
  const op = 'pad';
  checkTensor(op, 'x', x);
  const ok =
    Array.isArray(paddings) &&
    paddings.length === x.rank &&
    paddings.every(
      (p) => Array.isArray(p) && p.length === 2 && p.every((v) => Number.isInteger(v) && v >= 0),
    );
  if (!ok)
    throw new ArgumentError(
      op,
      'paddings',
      `${x.rank} pairs [before, after] of integers ≥ 0`,
      describe(paddings),
    );
  if (typeof value !== 'number') throw new ArgumentError(op, 'value', 'a number', describe(value));
  const outShape = x.shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
  return ENGINE.run(op, [x], outShape, x.dtype, 0, (b, [xi]) => b.pad(xi, paddings, value));
}

/** Converts to another dtype (float → int truncates toward zero). */
export function cast(x: Tensor, dtype: DType): Tensor {
  checkTensor('cast', 'x', x);
  if (dtype !== 'float32' && dtype !== 'int32')
    throw new ArgumentError('cast', 'dtype', "'float32' or 'int32'", describe(dtype));
  if (dtype === x.dtype) return reshape(x, x.shape);
  return ENGINE.run('cast', [x], x.shape, dtype, 0, (b, [xi]) => b.cast(xi, dtype));
}
