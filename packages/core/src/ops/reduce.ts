import type { ReduceOp } from '../backend.js';
import { ENGINE } from '../engine.js';
import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { formatShape } from '../util/shape.js';
import { reshape } from './transform.js';
import { checkAxis, checkDtype, checkTensor, describe } from './validate.js';

function reduceOp(
  op: ReduceOp,
  x: Tensor,
  axis: number | readonly number[] | undefined,
  keepDims: boolean,
): Tensor {
  checkTensor(op, 'x', x);
  const raw = axis === undefined ? x.shape.map((_, i) => i) : typeof axis === 'number' ? [axis] : axis;
  if (!Array.isArray(raw)) throw new ArgumentError(op, 'axis', 'an axis or an array of axes', describe(axis));
  const axes = [...new Set(raw.map((a) => checkAxis(op, 'axis', a, x.rank)))].sort((a, b) => a - b);
  if (x.rank === 0) {
    // A scalar reduces to itself.
    return reshape(x, []);
  }
  for (const a of axes)
    if (x.shape[a] === 0)
      throw new ArgumentError(
        op,
        'x',
        `a non-empty dimension ${a} to reduce over`,
        `shape ${formatShape(x.shape)}`,
      );
  if (axes.length === 0) throw new ArgumentError(op, 'axis', 'at least one axis', '[]');
  const outShape = x.shape.filter((_, i) => !axes.includes(i));
  const dtype = op === 'mean' ? 'float32' : x.dtype;
  const y = ENGINE.run(op, [x], outShape, dtype, 0, (b, [xi]) => b.reduce(op, xi, axes));
  if (!keepDims) return y;
  const kept = reshape(
    y,
    x.shape.map((d, i) => (axes.includes(i) ? 1 : d)),
  );
  y.dispose();
  return kept;
}

/** Sum over `axis` (all axes when omitted). */
export function sum(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return reduceOp('sum', x, axis, keepDims);
}

/** Mean over `axis` (all axes when omitted); float32. */
export function mean(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return reduceOp('mean', x, axis, keepDims);
}

/** Maximum over `axis` (all axes when omitted). */
export function max(x: Tensor, axis?: number | readonly number[], keepDims = false): Tensor {
  return reduceOp('max', x, axis, keepDims);
}

/** Softmax along `axis` (default the last). */
export function softmax(x: Tensor, axis = -1): Tensor {
  const op = 'softmax';
  checkTensor(op, 'x', x);
  checkDtype(op, 'x', x, ['float32']);
  if (x.rank === 0) throw new ArgumentError(op, 'x', 'rank ≥ 1', 'a scalar');
  const a = checkAxis(op, 'axis', axis, x.rank);
  if (x.shape[a] === 0)
    throw new ArgumentError(op, 'x', `a non-empty axis ${a}`, `shape ${formatShape(x.shape)}`);
  return ENGINE.run(op, [x], x.shape, 'float32', 0, (b, [xi]) => b.softmax(xi, a));
}

/** Index of the maximum along `axis` (first on ties), int32, without that axis. */
export function argmax(x: Tensor, axis = 0): Tensor {
  const op = 'argmax';
  checkTensor(op, 'x', x);
  if (x.rank === 0) throw new ArgumentError(op, 'x', 'rank ≥ 1', 'a scalar');
  const a = checkAxis(op, 'axis', axis, x.rank);
  if (x.shape[a] === 0)
    throw new ArgumentError(op, 'x', `a non-empty axis ${a}`, `shape ${formatShape(x.shape)}`);
  return ENGINE.run(
    op,
    [x],
    x.shape.filter((_, i) => i !== a),
    'int32',
    0,
    (b, [xi]) => b.argmax(xi, a),
  );
}
