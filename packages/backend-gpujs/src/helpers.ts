/**
 * The helper functions every kernel may call, in two forms: JavaScript (translated by gpu.js
 * for its cpu and WebAssembly modes) and GLSL (given to the GL modes as native functions, for
 * exact integer division and IEEE special values the kernel language cannot express).
 *
 * @module
 */

// The JavaScript helpers are stringified by gpu.js: plain functions, restricted subset.
function kzF(x: number): number {
  return x;
}
// floor(a / b) for integral a ≥ 0, b > 0. The half added guards against a quotient rounding
// down onto an integer; from 2²³ on every float is an integer and a + 0.5 would round (to even,
// possibly a + 1), so it is not added there. Exact for a < 2²⁴ in float32.
function kzDiv(a: number, b: number): number {
  if (a < 8388608) {
    return Math.floor((a + 0.5) / b);
  }
  return Math.floor(a / b);
}
function kzIsNaN(x: number): number {
  // biome-ignore lint/suspicious/noSelfCompare: gpu.js translates this function; NaN is the only value unequal to itself.
  if (x !== x) {
    return 1;
  }
  return 0;
}
function kzInf(): number {
  return 1 / 0;
}
function kzNaN(): number {
  return 0 / 0;
}
function kzExp(x: number): number {
  return Math.exp(x);
}
function kzLog(x: number): number {
  return Math.log(x);
}
function kzSigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
function kzTanh(x: number): number {
  return Math.tanh(x);
}
function kzPow(a: number, b: number): number {
  if (a === 1 || b === 0) {
    return 1;
  }
  return a ** b;
}
function kzTrunc(x: number): number {
  if (x < 0) {
    return Math.ceil(x);
  }
  return Math.floor(x);
}

/** The JavaScript helpers (for `gpu.addFunction`). */
export const JS_HELPERS: readonly ((...args: number[]) => number)[] = [
  kzF,
  kzDiv,
  kzIsNaN,
  kzInf,
  kzNaN,
  kzExp,
  kzLog,
  kzSigmoid,
  kzTanh,
  kzPow,
  kzTrunc,
];

/** GLSL versions of the helpers for GLSL ES 3.00 (webgl2). */
export const GLSL3_HELPERS: readonly [string, string][] = [
  ['kzF', 'float kzF(float x) { return x; }'],
  [
    'kzDiv',
    'float kzDiv(float a, float b) { return float(int(a < 8388608.0 ? a + 0.5 : a) / int(b + 0.5)); }',
  ],
  ['kzIsNaN', 'float kzIsNaN(float x) { return isnan(x) ? 1.0 : 0.0; }'],
  ['kzInf', 'float kzInf() { return uintBitsToFloat(0x7F800000u); }'],
  ['kzNaN', 'float kzNaN() { return uintBitsToFloat(0x7FC00000u); }'],
  ['kzExp', 'float kzExp(float x) { if (isnan(x)) return x; return exp(x); }'],
  [
    'kzLog',
    'float kzLog(float x) { if (isnan(x) || x < 0.0) return uintBitsToFloat(0x7FC00000u); if (x == 0.0) return -uintBitsToFloat(0x7F800000u); if (isinf(x)) return x; return log(x); }',
  ],
  ['kzSigmoid', 'float kzSigmoid(float x) { if (isnan(x)) return x; return 1.0 / (1.0 + exp(-x)); }'],
  [
    'kzTanh',
    'float kzTanh(float x) { if (isnan(x)) return x; if (x > 10.0) return 1.0; if (x < -10.0) return -1.0; float e = exp(2.0 * x); return (e - 1.0) / (e + 1.0); }',
  ],
  [
    'kzPow',
    `float kzPow(float a, float b) {
  if (a == 1.0 || b == 0.0) return 1.0;
  if (isnan(a) || isnan(b)) return uintBitsToFloat(0x7FC00000u);
  float inf = uintBitsToFloat(0x7F800000u);
  if (isinf(b)) {
    float m = abs(a);
    if (m == 1.0) return 1.0;
    if ((m > 1.0) == (b > 0.0)) return inf;
    return 0.0;
  }
  bool integral = floor(b) == b;
  bool odd = integral && mod(b, 2.0) == 1.0;
  if (a == 0.0) {
    if (b > 0.0) return (odd && 1.0 / a < 0.0) ? -0.0 : 0.0;
    return (odd && 1.0 / a < 0.0) ? -inf : inf;
  }
  if (a < 0.0 && !integral) return uintBitsToFloat(0x7FC00000u);
  float r = isinf(a) ? (b > 0.0 ? inf : 0.0) : exp2(b * log2(abs(a)));
  if (integral && abs(b) <= 64.0 && !isinf(a)) {
    float p = 1.0;
    float base = abs(a);
    float e = abs(b);
    for (int i = 0; i < 7; i++) {
      if (mod(e, 2.0) == 1.0) p *= base;
      base *= base;
      e = floor(e / 2.0);
    }
    r = b < 0.0 ? 1.0 / p : p;
  }
  return (a < 0.0 && odd) ? -r : r;
}`,
  ],
  ['kzTrunc', 'float kzTrunc(float x) { return trunc(x); }'],
];
