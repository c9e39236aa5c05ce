/**
 * The comparison every conformance case ends with.
 *
 * @module
 */
import type { Tolerance } from './tolerances.js';

/** Thrown by {@link expectClose} when values differ beyond tolerance. */
export class MismatchError extends Error {
  /** @param message - what differs, where, and by how much. */
  constructor(message: string) {
    super(message);
    this.name = 'MismatchError';
  }
}

/** Whether one actual value matches one expected value under `tol`. */
export function isClose(a: number, e: number, tol: Tolerance): boolean {
  if (Number.isNaN(e)) return Number.isNaN(a);
  if (Number.isNaN(a)) return false;
  if (e === Number.POSITIVE_INFINITY || e === Number.NEGATIVE_INFINITY) return a === e;
  if (a === Number.POSITIVE_INFINITY || a === Number.NEGATIVE_INFINITY) return false;
  return Math.abs(a - e) <= Math.max(tol.rtol * Math.abs(e), tol.atol);
}

function indexToCoords(i: number, shape: readonly number[] | undefined): string {
  if (!shape || shape.length === 0) return `${i}`;
  const coords = new Array<number>(shape.length);
  let r = i;
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d] || 1;
    coords[d] = r % n;
    r = Math.floor(r / n);
  }
  return `${i} (at [${coords.join(', ')}])`;
}

/**
 * Asserts `actual` matches `expected` element by element: `|a − e| ≤ max(rtol · |e|, atol)`,
 * NaN only matches NaN, and +Inf / −Inf only match themselves. Throws a
 * {@link MismatchError} naming `what`, the shape, the first mismatching index (with its
 * coordinates), both values, the error and the allowed error, and how many elements differ.
 *
 * @param actual - the backend's values.
 * @param expected - the oracle's values.
 * @param tol - the tolerance.
 * @param what - a description for the message, e.g. `conv2d stride 2`.
 * @param shape - the shape of both, to show coordinates; optional.
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance,
  what: string,
  shape?: readonly number[],
): void {
  const shapeText = shape ? ` of shape [${shape.join(', ')}]` : '';
  if (actual.length !== expected.length)
    throw new MismatchError(
      `${what}: expected ${expected.length} values${shapeText}, got ${actual.length} values`,
    );
  let bad = 0;
  let first = -1;
  let worst = -1;
  let worstErr = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (isClose(a, e, tol)) continue;
    bad++;
    if (first < 0) first = i;
    const err = Number.isFinite(a) && Number.isFinite(e) ? Math.abs(a - e) : Number.POSITIVE_INFINITY;
    if (err > worstErr) {
      worstErr = err;
      worst = i;
    }
  }
  if (bad === 0) return;
  const describeAt = (i: number) => {
    const a = actual[i];
    const e = expected[i];
    const allowed = Math.max(tol.rtol * Math.abs(e), tol.atol);
    return `index ${indexToCoords(i, shape)}: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)}, allowed ${allowed})`;
  };
  const parts = [
    `${what}: ${bad} of ${expected.length} values${shapeText} differ beyond rtol ${tol.rtol} / atol ${tol.atol}`,
    `first at ${describeAt(first)}`,
  ];
  if (worst !== first) parts.push(`worst at ${describeAt(worst)}`);
  throw new MismatchError(parts.join('; '));
}

/** Asserts two shapes are equal, naming `what` in the message. */
export function expectShape(actual: readonly number[], expected: readonly number[], what: string): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i]))
    throw new MismatchError(`${what}: expected shape [${expected.join(', ')}], got [${actual.join(', ')}]`);
}
