import { ArgumentError, type Tensor } from '@kernelzoo/core';

/** One of the top classes of an image. */
export interface Prediction {
  /** The class index. */
  readonly index: number;
  /** The class name, when labels were given (`''` otherwise). */
  readonly label: string;
  /** The softmax probability. */
  readonly probability: number;
  /** The raw logit. */
  readonly logit: number;
}

/** Softmax of one row of logits, in float64 with the maximum subtracted first. */
export function softmaxRow(logits: ArrayLike<number>): Float64Array {
  const n = logits.length;
  const out = new Float64Array(n);
  if (n === 0) return out;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < n; i++) {
    out[i] = Math.exp(logits[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < n; i++) out[i] /= sum;
  return out;
}

/**
 * The `k` most probable classes of one row of logits, most probable first; equal logits keep
 * index order. `labels`, when given, must hold one name per class.
 */
export function topK(logits: ArrayLike<number>, k = 5, labels?: readonly string[]): Prediction[] {
  if (!Number.isInteger(k) || k < 1) throw new ArgumentError('topK', 'k', 'a positive integer', String(k));
  if (labels !== undefined && labels.length !== logits.length)
    throw new ArgumentError(
      'topK',
      'labels',
      `${logits.length} names (one per logit)`,
      `${labels.length} names`,
    );
  for (let i = 0; i < logits.length; i++)
    if (Number.isNaN(logits[i]))
      throw new ArgumentError('topK', 'logits', 'numbers without NaN', `NaN at ${i}`);
  const probs = softmaxRow(logits);
  const order = Array.from({ length: logits.length }, (_, i) => i);
  order.sort((a, b) => logits[b] - logits[a] || a - b);
  return order.slice(0, Math.min(k, order.length)).map((index) => ({
    index,
    label: labels?.[index] ?? '',
    probability: probs[index],
    logit: logits[index],
  }));
}

/**
 * Reads a `[N, C]` (or `[C]`) float32 logits tensor and returns each row's {@link topK}. The
 * tensor is not disposed.
 */
export async function classify(
  logits: Tensor,
  options: { k?: number; labels?: readonly string[] } = {},
): Promise<Prediction[][]> {
  if (logits.shape.length !== 1 && logits.shape.length !== 2)
    throw new ArgumentError(
      'classify',
      'logits',
      'a [N, C] or [C] tensor',
      `shape [${logits.shape.join(', ')}]`,
    );
  if (logits.dtype !== 'float32') throw new ArgumentError('classify', 'logits', 'float32', logits.dtype);
  const values = await logits.data();
  const c = logits.shape[logits.shape.length - 1];
  const n = logits.shape.length === 2 ? logits.shape[0] : 1;
  const out: Prediction[][] = [];
  for (let r = 0; r < n; r++)
    out.push(topK(values.subarray(r * c, (r + 1) * c), options.k ?? 5, options.labels));
  return out;
}
