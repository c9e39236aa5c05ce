import { ENGINE } from '../engine.js';
import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { formatShape } from '../util/shape.js';
import { checkDtype, checkRank, checkTensor, describe } from './validate.js';

/** Options of {@link batchNorm}. */
export interface BatchNormOptions {
  /** Per-channel scale γ (`[C]`); 1 when absent. */
  weight?: Tensor | null;
  /** Per-channel offset β (`[C]`); 0 when absent. */
  bias?: Tensor | null;
  /** Added to the variance. Default 1e-5 (PyTorch). */
  eps?: number;
}

/**
 * Batch normalisation in inference mode over `[N, C, ...]`:
 * `(x − mean) / √(variance + eps) · weight + bias`, per channel.
 */
export function batchNorm(x: Tensor, mean: Tensor, variance: Tensor, options: BatchNormOptions = {}): Tensor {
  const op = 'batchNorm';
  checkTensor(op, 'x', x);
  if (x.rank < 2) throw new ArgumentError(op, 'x', 'rank ≥ 2 [N, C, ...]', `shape ${formatShape(x.shape)}`);
  checkDtype(op, 'x', x, ['float32']);
  const c = x.shape[1];
  const eps = options.eps ?? 1e-5;
  if (typeof eps !== 'number' || !(eps >= 0))
    throw new ArgumentError(op, 'eps', 'a number ≥ 0', describe(eps));
  const per: [string, Tensor | null][] = [
    ['mean', mean],
    ['variance', variance],
    ['weight', options.weight ?? null],
    ['bias', options.bias ?? null],
  ];
  for (const [name, t] of per) {
    if (t === null) continue;
    checkRank(op, name, t, 1, `[${c}]`);
    checkDtype(op, name, t, ['float32']);
    if (t.shape[0] !== c)
      throw new ArgumentError(op, name, `shape [${c}] (channels of x)`, `shape ${formatShape(t.shape)}`);
  }
  const scale = options.weight ?? null;
  const offset = options.bias ?? null;
  const inputs = [x, mean, variance, ...(scale ? [scale] : []), ...(offset ? [offset] : [])];
  return ENGINE.run(op, inputs, x.shape, 'float32', 0, (b, infos) => {
    const [xi, mi, vi] = infos;
    let i = 3;
    const si = scale ? infos[i++] : null;
    const oi = offset ? infos[i++] : null;
    return b.batchNorm(xi, mi, vi, si, oi, eps);
  });
}
