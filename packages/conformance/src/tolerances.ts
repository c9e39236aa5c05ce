/**
 * Tolerances, stated once per backend as its **precision**: one named preset per kind of
 * result, chosen per case (as Burn's tests choose theirs), plus the bound for long sums.
 *
 * - `exact` — layout and selection (concat, slice, transpose, flip, pad, cast, argmax, max
 *   pooling) and every int32 result: bit-exact.
 * - `elementwise` — a few float32 roundings: arithmetic, batch norm, pooling averages,
 *   resizing, and convolutions and products over few terms (K ≤ 72).
 * - `transcendental` — exp, log, sigmoid, tanh, softmax, pow, rsqrt: the platform's
 *   approximations of those functions.
 * - `accumulation` — sums of hundreds to thousands of products, judged against the float64
 *   loop oracle by `|a − e| ≤ c·ε·Σ|terms|` per element and by the mean signed error over the
 *   output (see `expectAccumulated`).
 *
 * A float value `a` matches an expected `e` under a {@link Tolerance} when
 * `|a − e| ≤ max(rtol · |e|, atol)`; NaN matches only NaN and ±Inf only the same infinity.
 *
 * @module
 */

/** How close a backend's float32 results must be to the oracle's, per element. */
export interface Tolerance {
  /** Relative tolerance, scaled by the magnitude of the expected value. */
  readonly rtol: number;
  /** Absolute tolerance, the floor for values near zero. */
  readonly atol: number;
}

/** The per-element presets a case chooses from. */
export type TolerancePreset = 'exact' | 'elementwise' | 'transcendental';

/** The bound for long sums of products (see `expectAccumulated`). */
export interface AccumulationTolerance {
  /** `c` in `|a − e| ≤ c·ε·Σ|terms|` (ε = 2⁻²⁴). */
  readonly c: number;
  /** The largest mean signed relative error and mean offset allowed over an output. */
  readonly systematic: number;
}

/** A backend's stated precision: a tolerance per preset and the accumulation bound. */
export interface Precision {
  /** Bit-exact results. */
  readonly exact: Tolerance;
  /** A few float32 roundings. */
  readonly elementwise: Tolerance;
  /** Approximated transcendental functions. */
  readonly transcendental: Tolerance;
  /** Long sums of products. */
  readonly accumulation: AccumulationTolerance;
}

const EXACT: Tolerance = Object.freeze({ rtol: 0, atol: 0 });

/**
 * The precision each backend is held to, by backend name.
 *
 * `js` computes in float32 against float64 oracles, so only rounding order separates them;
 * `wasm` is held to the same bar (SIMD lanes and fused multiply-add change only the rounding
 * order). `gpujs` runs float32 shaders whose transcendental functions are approximations
 * (WebGL), hence its looser `transcendental`; its arithmetic is IEEE float32, so
 * `elementwise` is tight enough that a 0.05 % scale error in a convolution fails.
 *
 * The accumulation bound: a float32 sum of K products in any order is within
 * `γ_K·Σ|terms|` of the truth (γ_K ≈ K·ε, the worst case); in practice the rounding errors
 * cancel like a random walk and stay within a few ε·Σ|terms|. `c` = 8 holds with margin for
 * every blocking our backends use at K up to 4608 (the worst case seen is ≈ 2); a dropped term
 * or row is far beyond it. `systematic` = 2·10⁻⁵ lets through the ~10⁻⁷ mean of rounding
 * errors and fails a 0.05 % scale error by a factor of 25.
 */
export const PRECISIONS: Readonly<Record<string, Precision>> = Object.freeze({
  js: Object.freeze({
    exact: EXACT,
    elementwise: Object.freeze({ rtol: 1e-5, atol: 1e-5 }),
    transcendental: Object.freeze({ rtol: 1e-5, atol: 1e-5 }),
    accumulation: Object.freeze({ c: 8, systematic: 2e-5 }),
  }),
  wasm: Object.freeze({
    exact: EXACT,
    elementwise: Object.freeze({ rtol: 1e-5, atol: 1e-5 }),
    transcendental: Object.freeze({ rtol: 1e-5, atol: 1e-5 }),
    accumulation: Object.freeze({ c: 8, systematic: 2e-5 }),
  }),
  gpujs: Object.freeze({
    exact: EXACT,
    elementwise: Object.freeze({ rtol: 2e-4, atol: 2e-5 }),
    transcendental: Object.freeze({ rtol: 1e-3, atol: 1e-4 }),
    accumulation: Object.freeze({ c: 8, systematic: 2e-5 }),
  }),
});

/** The precision of a backend not listed in {@link PRECISIONS} that states none: js's. */
export const DEFAULT_PRECISION: Precision = PRECISIONS.js;

/**
 * A backend's precision: the one its environment states, else its entry in
 * {@link PRECISIONS}, else {@link DEFAULT_PRECISION}.
 */
export function precisionFor(name: string, stated?: Precision): Precision {
  return stated ?? PRECISIONS[name] ?? DEFAULT_PRECISION;
}

/** The per-element tolerance of one preset for a backend (see {@link precisionFor}). */
export function toleranceFor(name: string, preset: TolerancePreset, stated?: Precision): Tolerance {
  return precisionFor(name, stated)[preset];
}

/**
 * The bound of a network's parity with its PyTorch reference on `backend`, relative to the
 * output's largest |value|: `max(1e-4, 3 × torch32)`, where `torch32` is float32 PyTorch's own
 * distance from the float64 truth (a deep network's head amplifies rounding, so the bound
 * follows that floor), scaled on a backend whose elementwise precision is looser than js's by
 * the ratio of the two (gpujs: 2e-4 / 1e-5 = 20). The SKNet, SPNet and HRNet parity tests all
 * hold their outputs to it.
 * @param torch32 - float32 PyTorch's relative distance from float64 on the same input.
 * @param backend - the backend whose outputs are held to it. Default `'js'`.
 */
export function referenceParityBound(torch32: number, backend = 'js'): number {
  const scale = precisionFor(backend).elementwise.rtol / PRECISIONS.js.elementwise.rtol;
  return Math.max(scale, 1) * Math.max(1e-4, 3 * torch32);
}
