import type { Activation, MatMulInfo } from '../backend.js';
import { ENGINE } from '../engine.js';
import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { formatShape } from '../util/shape.js';
import { checkActivation } from './conv.js';
import { reshape } from './transform.js';
import { checkDtype, checkRank, checkTensor } from './validate.js';

/** Options of {@link matmul}. */
export interface MatMulOptions {
  /** Use `a` transposed (its last two dimensions swapped). */
  transposeA?: boolean;
  /** Use `b` transposed (its last two dimensions swapped). */
  transposeB?: boolean;
  /** `[n]` added to every output row. */
  bias?: Tensor | null;
  /** Activation after the bias, fused. Default `linear`. */
  activation?: Activation;
}

/**
 * Matrix product of rank-2 or rank-3 (batched) float32 tensors; a batch of 1 broadcasts.
 */
export function matmul(a: Tensor, b: Tensor, options: MatMulOptions = {}): Tensor {
  const op = 'matmul';
  checkRank(op, 'a', a, [2, 3], '[m, k] or [batch, m, k]');
  checkRank(op, 'b', b, [2, 3], '[k, n] or [batch, k, n]');
  checkDtype(op, 'a', a, ['float32']);
  checkDtype(op, 'b', b, ['float32']);
  const activation = checkActivation(op, options.activation);
  const transposeA = options.transposeA ?? false;
  const transposeB = options.transposeB ?? false;
  const aBatch = a.rank === 3 ? a.shape[0] : 1;
  const bBatch = b.rank === 3 ? b.shape[0] : 1;
  const ar = a.shape.slice(-2);
  const br = b.shape.slice(-2);
  const [m, k] = transposeA ? [ar[1], ar[0]] : [ar[0], ar[1]];
  const [kb, n] = transposeB ? [br[1], br[0]] : [br[0], br[1]];
  if (k !== kb)
    throw new ArgumentError(
      op,
      'b',
      `${transposeB ? 'last' : 'first'} matrix dimension ${k} to match a's inner dimension`,
      `shape ${formatShape(b.shape)}${transposeB ? ' (transposed)' : ''}`,
    );
  if (aBatch !== bBatch && aBatch !== 1 && bBatch !== 1)
    throw new ArgumentError(op, 'b', `batch 1 or ${aBatch}`, `batch ${bBatch}`);
  const batch = Math.max(aBatch, bBatch);
  const bias = options.bias ?? null;
  if (bias !== null) {
    checkRank(op, 'bias', bias, 1, '[n]');
    checkDtype(op, 'bias', bias, ['float32']);
    if (bias.shape[0] !== n)
      throw new ArgumentError(op, 'bias', `shape [${n}]`, `shape ${formatShape(bias.shape)}`);
  }
  const outShape = a.rank === 3 || b.rank === 3 ? [batch, m, n] : [m, n];
  const info: MatMulInfo = { batch, aBatch, bBatch, m, n, k, transposeA, transposeB, outShape };
  const inputs = bias ? [a, b, bias] : [a, b];
  return ENGINE.run(op, inputs, outShape, 'float32', batch * m * n * k, (be, [ai, bi, ci]) =>
    be.matmul(ai, bi, ci ?? null, info, activation),
  );
}

/**
 * PyTorch's `F.linear`: `x · weightᵀ + bias` with `weight` `[out, in]`, over the last
 * dimension of `x` (any leading dimensions).
 */
export function linear(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  activation: Activation = 'linear',
): Tensor {
  const op = 'linear';
  checkTensor(op, 'x', x);
  checkDtype(op, 'x', x, ['float32']);
  checkRank(op, 'weight', weight, 2, '[outFeatures, inFeatures]');
  checkDtype(op, 'weight', weight, ['float32']);
  if (x.rank < 1)
    throw new ArgumentError(op, 'x', 'rank ≥ 1 [..., inFeatures]', `shape ${formatShape(x.shape)}`);
  const inF = weight.shape[1];
  if (x.shape[x.rank - 1] !== inF)
    throw new ArgumentError(
      op,
      'x',
      `last dimension ${inF} (weight is ${formatShape(weight.shape)})`,
      `shape ${formatShape(x.shape)}`,
    );
  if (bias !== null) {
    checkRank(op, 'bias', bias, 1, '[outFeatures]');
    checkDtype(op, 'bias', bias, ['float32']);
    if (bias.shape[0] !== weight.shape[0])
      throw new ArgumentError(
        op,
        'bias',
        `shape [${weight.shape[0]}] (outFeatures)`,
        `shape ${formatShape(bias.shape)}`,
      );
  }
  if (x.rank === 2) return matmul(x, weight, { transposeB: true, bias, activation });
  const lead = x.shape.slice(0, -1);
  const flat = reshape(x, [-1, inF]);
  const y = matmul(flat, weight, { transposeB: true, bias, activation });
  flat.dispose();
  const out = reshape(y, [...lead, weight.shape[0]]);
  y.dispose();
  return out;
}
