/**
 * Argument checks shared by the ops and exported for model authors, so a block's checks are
 * one line each and read like every other kernelzoo error. Each throws an `ArgumentError`
 * naming the op (or module), the argument, what was expected and what came.
 * @module
 */
import { ArgumentError } from '../errors.js';
import { Tensor } from '../tensor.js';
import type { DType } from '../types.js';
import { formatShape } from '../util/shape.js';

/** Describes a value for an error message. */
export function describe(v: unknown): string {
  if (v instanceof Tensor) return `${v.dtype} tensor of shape ${formatShape(v.shape)}`;
  if (Array.isArray(v)) return `[${v.map(describe).join(', ')}]`;
  if (typeof v === 'string') return `'${v}'`;
  return String(v);
}

/** Checks `x` is a live tensor. */
export function checkTensor(op: string, arg: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new ArgumentError(op, arg, 'a Tensor', describe(x));
  if (x.isDisposed) throw new ArgumentError(op, arg, 'a live tensor', `tensor ${x.id} (disposed)`);
  return x;
}

/** Checks `x` is a live tensor of one of `ranks`, described as `layout` (e.g. `[N, C, H, W]`). */
export function checkRank(
  op: string,
  arg: string,
  x: unknown,
  ranks: number | readonly number[],
  layout = '',
): Tensor {
  const t = checkTensor(op, arg, x);
  const allowed = typeof ranks === 'number' ? [ranks] : ranks;
  if (!allowed.includes(t.rank)) {
    const what = `rank ${allowed.join(' or ')}${layout ? ` ${layout}` : ''}`;
    throw new ArgumentError(op, arg, what, `shape ${formatShape(t.shape)}`);
  }
  return t;
}

/** Checks the dtype of `x`. */
export function checkDtype(op: string, arg: string, x: Tensor, dtypes: readonly DType[]): void {
  if (!dtypes.includes(x.dtype))
    throw new ArgumentError(op, arg, `dtype ${dtypes.join(' or ')}`, `${x.dtype} tensor`);
}

/** Checks `v` is an integer ≥ `min`. */
export function checkInt(op: string, arg: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw new ArgumentError(op, arg, `an integer ≥ ${min}`, describe(v));
  return v;
}

/** A number or a pair of numbers → a pair, each an integer ≥ `min`. */
export function checkPair(op: string, arg: string, v: unknown, min: number): [number, number] {
  if (typeof v === 'number') {
    checkInt(op, arg, v, min);
    return [v, v];
  }
  if (
    Array.isArray(v) &&
    v.length === 2 &&
    v.every((e) => typeof e === 'number' && Number.isInteger(e) && e >= min)
  )
    return [v[0], v[1]];
  throw new ArgumentError(op, arg, `an integer ≥ ${min} or a pair of them`, describe(v));
}

/**
 * Spatial padding → `[top, bottom, left, right]`. Accepts one number, `[h, w]` (PyTorch's
 * symmetric form) or `[top, bottom, left, right]`.
 */
export function checkPadding(op: string, v: unknown): [number, number, number, number] {
  const ok = (e: unknown) => typeof e === 'number' && Number.isInteger(e) && e >= 0;
  if (ok(v)) return [v as number, v as number, v as number, v as number];
  if (Array.isArray(v) && v.length === 2 && v.every(ok)) return [v[0], v[0], v[1], v[1]];
  if (Array.isArray(v) && v.length === 4 && v.every(ok)) return [v[0], v[1], v[2], v[3]];
  throw new ArgumentError(
    op,
    'padding',
    'an integer ≥ 0, [padH, padW] or [top, bottom, left, right]',
    describe(v),
  );
}

/** Normalises a possibly negative axis for a tensor of `rank`. */
export function checkAxis(op: string, arg: string, axis: unknown, rank: number): number {
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1))
    throw new ArgumentError(op, arg, `an integer axis in [${-rank}, ${rank - 1}]`, describe(axis));
  return axis < 0 ? axis + rank : axis;
}

/**
 * Checks `x` is a live tensor of rank `expected.length` whose dimensions equal `expected`
 * where it gives a number (`null` accepts any size), e.g.
 * `checkShape('SKConv', 'x', x, [null, 64, null, null], 'NCHW')` for `[N, 64, H, W]`.
 * @param layout - one letter per dimension naming the free ones in the message (default `N`,
 *   `C`, `H`, `W` for rank 4, else `d0`, `d1`, …).
 */
export function checkShape(
  op: string,
  arg: string,
  x: unknown,
  expected: readonly (number | null)[],
  layout?: string,
): Tensor {
  const t = checkTensor(op, arg, x);
  const letters =
    layout !== undefined && layout.length === expected.length
      ? [...layout]
      : expected.length === 4
        ? ['N', 'C', 'H', 'W']
        : expected.map((_, i) => `d${i}`);
  const ok = t.rank === expected.length && expected.every((d, i) => d === null || t.shape[i] === d);
  if (!ok) {
    const want = `[${expected.map((d, i) => (d === null ? letters[i] : String(d))).join(', ')}]`;
    throw new ArgumentError(op, arg, `shape ${want}`, `shape ${formatShape(t.shape)}`);
  }
  return t;
}
