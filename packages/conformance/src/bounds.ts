/**
 * The accumulation bound: how far a float32 sum of many products may be from its exact value,
 * and the systematic-error checks that catch what a per-element bound lets through.
 *
 * @module
 */
import { MismatchError } from './compare.js';
import type { Accumulated } from './oracle/accumulate.js';
import type { AccumulationTolerance } from './tolerances.js';

/** float32's unit roundoff, 2⁻²⁴. */
export const FLOAT32_EPSILON = 2 ** -24;

/** What {@link expectAccumulated} measured (for reports). */
export interface AccumulationReport {
  /** The largest `|a − e| / (ε · Σ|terms|)` over the output. */
  readonly worstRatio: number;
  /** `Σ (a − e)·sign(e) / Σ|e|`: a scale error s shows as s. */
  readonly scaleError: number;
  /** `Σ (a − e) / Σ|e|`: a constant offset shows here. */
  readonly offsetError: number;
}

/**
 * Asserts `actual` is what a correct float32 implementation can produce for `expected`:
 * - per element, `|a − e| ≤ c · ε · Σ|terms|` (ε = 2⁻²⁴; `c` from the backend's stated
 *   precision), the bound of a sum of products whatever its order or blocking;
 * - over the whole output, the mean signed relative error `Σ(a − e)·sign(e) / Σ|e|` and the
 *   mean offset `Σ(a − e) / Σ|e|` within `systematic` — rounding errors cancel there, a
 *   dropped term, a wrong scale or a bias do not.
 * NaN or ±Inf in `actual` fails.
 */
export function expectAccumulated(
  actual: ArrayLike<number>,
  expected: Accumulated,
  tol: AccumulationTolerance,
  what: string,
): AccumulationReport {
  const e = expected.values;
  if (actual.length !== e.length)
    throw new MismatchError(
      `${what}: expected ${e.length} values of shape [${expected.shape}], got ${actual.length}`,
    );
  let worstRatio = 0;
  let worst = -1;
  let bad = 0;
  let signed = 0;
  let offset = 0;
  let total = 0;
  for (let i = 0; i < e.length; i++) {
    const a = actual[i];
    if (!Number.isFinite(a)) throw new MismatchError(`${what}: value ${i} is ${a}, expected ${e[i]}`);
    const err = a - e[i];
    const allowed = tol.c * FLOAT32_EPSILON * expected.magnitude[i];
    const ratio = Math.abs(err) / (FLOAT32_EPSILON * Math.max(expected.magnitude[i], Number.MIN_VALUE));
    if (ratio > worstRatio) {
      worstRatio = ratio;
      worst = i;
    }
    if (Math.abs(err) > allowed) bad++;
    signed += err * Math.sign(e[i]);
    offset += err;
    total += Math.abs(e[i]);
  }
  const scaleError = total > 0 ? signed / total : 0;
  const offsetError = total > 0 ? offset / total : 0;
  if (bad > 0)
    throw new MismatchError(
      `${what}: ${bad} of ${e.length} values beyond c·ε·Σ|terms| (c = ${tol.c}, K = ${expected.terms}); worst at ${worst}: got ${actual[worst]}, expected ${e[worst]}, |error| = ${worstRatio.toFixed(1)}·ε·Σ|terms|`,
    );
  for (const [name, v] of [
    ['mean signed relative error Σ(a−e)·sign(e)/Σ|e|', scaleError],
    ['mean offset Σ(a−e)/Σ|e|', offsetError],
  ] as const)
    if (Math.abs(v) > tol.systematic)
      throw new MismatchError(
        `${what}: ${name} = ${v.toExponential(2)} exceeds ${tol.systematic.toExponential(1)} (a systematic scale or offset error)`,
      );
  return { worstRatio, scaleError, offsetError };
}
