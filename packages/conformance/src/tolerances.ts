/**
 * Per-backend numeric tolerances, stated once. A value `a` matches an expected `e` when
 * `|a − e| ≤ max(rtol · |e|, atol)`; NaN matches only NaN and ±Inf match only the same
 * infinity.
 *
 * @module
 */

/** How close a backend's float32 results must be to the oracle's. */
export interface Tolerance {
  /** Relative tolerance, scaled by the magnitude of the expected value. */
  readonly rtol: number;
  /** Absolute tolerance, the floor for values near zero. */
  readonly atol: number;
}

/**
 * The tolerance each backend is held to, by backend name. `js` computes in float32 with
 * exact float64 oracle values, so only accumulation order separates them; `wasm` is held to
 * the same bar (SIMD lanes and fused multiply-add change only the rounding order); `gpujs`
 * (WebGL float textures, approximate transcendental functions) is looser.
 */
export const TOLERANCES: Readonly<Record<string, Tolerance>> = Object.freeze({
  js: Object.freeze({ rtol: 1e-5, atol: 1e-5 }),
  wasm: Object.freeze({ rtol: 1e-5, atol: 1e-5 }),
  gpujs: Object.freeze({ rtol: 1e-3, atol: 1e-4 }),
});

/** The tolerance used when a backend is not listed in {@link TOLERANCES} and states none. */
export const DEFAULT_TOLERANCE: Tolerance = Object.freeze({ rtol: 1e-5, atol: 1e-5 });

/**
 * The tolerance for a backend: the one its environment states, else its entry in
 * {@link TOLERANCES}, else {@link DEFAULT_TOLERANCE}.
 */
export function toleranceFor(name: string, stated?: Tolerance): Tolerance {
  return stated ?? TOLERANCES[name] ?? DEFAULT_TOLERANCE;
}
