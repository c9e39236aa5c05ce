// AssemblyScript: every kernel besides the GEMM — depthwise convolution, elementwise,
// batch norm, pooling, resize, reductions, softmax, argmax, strided (and reversed) copies and casts.
// Pointers are byte addresses in linear memory; element counts are i32. Parallel kernels take
// `(share, nt)`, split their outermost loop and return how many units of it (planes, rows,
// elements) share `share` held: the worker pool counts a job only when that is > 0. Any thread
// may run any share; per-thread scratch is indexed by the instance's SLOT (slot.ts).
import { sigmoidf } from './micro';
import { SLOT } from './slot';

function pi(p: usize, i: i32): i32 {
  return load<i32>(p + ((<usize>i) << 2));
}

function pf(p: usize, i: i32): f32 {
  return load<f32>(p + ((<usize>i) << 2));
}

function lo(n: i32, share: i32, nt: i32): i32 {
  return <i32>((<i64>n * share) / nt);
}

function relu(v: f32): f32 {
  return v > 0 || F32.isNaN(v) ? v : 0;
}

/** Bias and activation over `len` floats at `o` (0 linear, 1 relu, 2 sigmoid). */
function epilogue(o: usize, len: i32, b: f32, act: i32): void {
  let i = 0;
  const bv = f32x4.splat(b);
  const z = f32x4.splat(0);
  if (act !== 2) {
    for (; i + 4 <= len; i += 4) {
      const e = o + ((<usize>i) << 2);
      let v = f32x4.add(v128.load(e), bv);
      if (act === 1) v = f32x4.max(v, z);
      v128.store(e, v);
    }
  }
  for (; i < len; i++) {
    const e = o + ((<usize>i) << 2);
    let v = load<f32>(e) + b;
    if (act === 1) v = relu(v);
    else if (act === 2) v = sigmoidf(v);
    store<f32>(e, v);
  }
}

/**
 * Depthwise convolution (groups = input channels, channel multiplier `mult`), direct loops,
 * SIMD along output columns for stride-1 rows. Params: x, w, out, bias (0: none), act, batch,
 * inC, mult, ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl.
 */
export function depthwise_run(p: usize, share: i32, nt: i32): i32 {
  const x = <usize>pi(p, 0);
  const w = <usize>pi(p, 1);
  const out = <usize>pi(p, 2);
  const bias = <usize>pi(p, 3);
  const act = pi(p, 4);
  const batch = pi(p, 5);
  const inC = pi(p, 6);
  const mult = pi(p, 7);
  const ih = pi(p, 8);
  const iw = pi(p, 9);
  const oh = pi(p, 10);
  const ow = pi(p, 11);
  const kh = pi(p, 12);
  const kw = pi(p, 13);
  const sh = pi(p, 14);
  const sw = pi(p, 15);
  const dh = pi(p, 16);
  const dw = pi(p, 17);
  const pt = pi(p, 18);
  const pl = pi(p, 19);
  const outC = inC * mult;
  const planes = batch * outC;
  const hw = oh * ow;
  const p0 = lo(planes, share, nt);
  const p1 = lo(planes, share + 1, nt);
  for (let pl_ = p0; pl_ < p1; pl_++) {
    const n = pl_ / outC;
    const oc = pl_ - n * outC;
    const xin = x + ((<usize>((n * inC + oc / mult) * ih * iw)) << 2);
    const o = out + ((<usize>(pl_ * hw)) << 2);
    memory.fill(o, 0, (<usize>hw) << 2);
    for (let ky = 0; ky < kh; ky++) {
      const yShift = ky * dh - pt;
      // Output rows whose tap lands inside: 0 ≤ oy·sh + yShift < ih.
      let oyLo = 0;
      if (yShift < 0) oyLo = (-yShift + sh - 1) / sh;
      let oyHi = oh;
      if (ih - 1 - yShift < 0) oyHi = 0;
      else oyHi = min(oh, (ih - 1 - yShift) / sh + 1);
      for (let kx = 0; kx < kw; kx++) {
        const wv = load<f32>(w + ((<usize>((oc * kh + ky) * kw + kx)) << 2));
        const wvv = f32x4.splat(wv);
        const xShift = kx * dw - pl;
        let oxLo = 0;
        if (xShift < 0) oxLo = (-xShift + sw - 1) / sw;
        let oxHi = ow;
        if (iw - 1 - xShift < 0) oxHi = 0;
        else oxHi = min(ow, (iw - 1 - xShift) / sw + 1);
        if (oxHi <= oxLo) continue;
        for (let oy = oyLo; oy < oyHi; oy++) {
          const row = xin + ((<usize>((oy * sh + yShift) * iw + xShift)) << 2);
          const orow = o + ((<usize>(oy * ow)) << 2);
          let ox = oxLo;
          if (sw === 1) {
            for (; ox + 4 <= oxHi; ox += 4) {
              const e = orow + ((<usize>ox) << 2);
              v128.store(e, f32x4.add(v128.load(e), f32x4.mul(wvv, v128.load(row + ((<usize>ox) << 2)))));
            }
          }
          for (; ox < oxHi; ox++) {
            const e = orow + ((<usize>ox) << 2);
            store<f32>(e, load<f32>(e) + wv * load<f32>(row + ((<usize>(ox * sw)) << 2)));
          }
        }
      }
    }
    if (bias !== 0 || act !== 0) epilogue(o, hw, bias !== 0 ? load<f32>(bias + ((<usize>oc) << 2)) : 0, act);
  }
  return max(0, p1 - p0);
}

/** Bias (per row of `len` values, `rows` rows per outer step) and activation, in place. */
export function bias_act_rows(o: usize, outer: i32, rows: i32, len: i32, bias: usize, act: i32): void {
  for (let i = 0; i < outer; i++) {
    for (let r = 0; r < rows; r++) {
      const b: f32 = bias !== 0 ? load<f32>(bias + ((<usize>r) << 2)) : 0;
      epilogue(o + ((<usize>((i * rows + r) * len)) << 2), len, b, act);
    }
  }
}

// ---- unary ----
// op codes: 0 neg, 1 abs, 2 exp, 3 log, 4 sqrt, 5 rsqrt, 6 square, 7 reciprocal, 8 relu,
// 9 sigmoid, 10 tanh.

function unaryScalar(op: i32, v: f64): f64 {
  switch (op) {
    case 0:
      return -v;
    case 1:
      return Math.abs(v);
    case 2:
      return Math.exp(v);
    case 3:
      return Math.log(v);
    case 4:
      return Math.sqrt(v);
    case 5:
      return 1.0 / Math.sqrt(v);
    case 6:
      return v * v;
    case 7:
      return 1.0 / v;
    case 8:
      return v > 0 || F64.isNaN(v) ? v : 0;
    case 9:
      return 1.0 / (1.0 + Math.exp(-v));
    case 10:
      return Math.tanh(v);
  }
  return v;
}

/** Float32 unary over elements [lo, hi) of share `share`. */
export function unary_f32(op: i32, x: usize, out: usize, n: i32, share: i32, nt: i32): i32 {
  let i = lo(n, share, nt) & ~3;
  let end = lo(n, share + 1, nt) & ~3;
  if (share === nt - 1) end = n;
  const done = max(0, end - i);
  const z = f32x4.splat(0);
  if (op === 0 || op === 1 || op === 4 || op === 6 || op === 8) {
    for (; i + 4 <= end; i += 4) {
      const v = v128.load(x + ((<usize>i) << 2));
      let r = v;
      if (op === 0) r = f32x4.neg(v);
      else if (op === 1) r = f32x4.abs(v);
      else if (op === 4) r = f32x4.sqrt(v);
      else if (op === 6) r = f32x4.mul(v, v);
      else r = f32x4.max(v, z);
      v128.store(out + ((<usize>i) << 2), r);
    }
  }
  for (; i < end; i++) {
    const v = load<f32>(x + ((<usize>i) << 2));
    let r: f32;
    if (op === 0) r = -v;
    else if (op === 1) r = Mathf.abs(v);
    else if (op === 6) r = v * v;
    else if (op === 8) r = relu(v);
    else if (op === 4) r = Mathf.sqrt(v);
    else r = <f32>unaryScalar(op, <f64>v);
    store<f32>(out + ((<usize>i) << 2), r);
  }
  return done;
}

/** JavaScript's ToInt32 of a double (what storing into an Int32Array does). */
function toInt32(v: f64): i32 {
  if (!F64.isFinite(v)) return 0;
  const t = Math.trunc(v);
  if (t >= -2147483648.0 && t <= 2147483647.0) return <i32>t;
  let m = t % 4294967296.0;
  if (m < 0) m += 4294967296.0;
  return <i32>(<i64>m);
}

/** Int32 unary (neg/abs/square/relu exact; others through doubles, then ToInt32). */
export function unary_i32(op: i32, x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const v = load<i32>(x + ((<usize>i) << 2));
    let r: i32;
    if (op === 0) r = -v;
    else if (op === 1) r = v < 0 ? -v : v;
    else if (op === 6) r = v * v;
    else if (op === 8) r = max<i32>(v, 0);
    else r = toInt32(unaryScalar(op, <f64>v));
    store<i32>(out + ((<usize>i) << 2), r);
  }
}

// ---- binary with broadcasting ----
// op codes: 0 add, 1 sub, 2 mul, 3 div, 4 maximum, 5 minimum, 6 pow.
// Params: rank r (≥ 1, collapsed), then shape[r], strideA[r], strideB[r] (elements).

function powC(a: f64, b: f64): f64 {
  if (a === 1 || b === 0) return 1;
  if (a === -1 && !F64.isFinite(b) && !F64.isNaN(b)) return 1;
  return a ** b;
}

function binScalarF(op: i32, a: f32, b: f32): f32 {
  switch (op) {
    case 0:
      return a + b;
    case 1:
      return a - b;
    case 2:
      return a * b;
    case 3:
      return a / b;
    case 4:
      return max<f32>(a, b);
    case 5:
      return min<f32>(a, b);
  }
  return <f32>powC(<f64>a, <f64>b);
}

function binScalarI(op: i32, a: i32, b: i32): i32 {
  switch (op) {
    case 0:
      return a + b;
    case 1:
      return a - b;
    case 2:
      return a * b;
    case 3:
      if (b === 0) return 0;
      if (b === -1) return -a;
      return a / b;
    case 4:
      return a > b ? a : b;
    case 5:
      return a < b ? a : b;
  }
  return toInt32(powC(<f64>a, <f64>b));
}

function binVec(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case 0:
      return f32x4.add(a, b);
    case 1:
      return f32x4.sub(a, b);
    case 2:
      return f32x4.mul(a, b);
    case 3:
      return f32x4.div(a, b);
    case 4:
      return f32x4.max(a, b);
  }
  return f32x4.min(a, b);
}

/** One innermost run of a float binary op; vectorised when both are contiguous or broadcast. */
function runF(op: i32, a: usize, sa: i32, b: usize, sb: i32, o: usize, len: i32): void {
  let i = 0;
  if (op !== 6 && sa <= 1 && sb <= 1) {
    if (sa === 1 && sb === 1) {
      for (; i + 4 <= len; i += 4) {
        const off = (<usize>i) << 2;
        v128.store(o + off, binVec(op, v128.load(a + off), v128.load(b + off)));
      }
    } else if (sa === 1 && sb === 0) {
      const bv = v128.load32_splat(b);
      for (; i + 4 <= len; i += 4) {
        const off = (<usize>i) << 2;
        v128.store(o + off, binVec(op, v128.load(a + off), bv));
      }
    } else if (sa === 0 && sb === 1) {
      const av = v128.load32_splat(a);
      for (; i + 4 <= len; i += 4) {
        const off = (<usize>i) << 2;
        v128.store(o + off, binVec(op, av, v128.load(b + off)));
      }
    }
  }
  for (; i < len; i++) {
    store<f32>(
      o + ((<usize>i) << 2),
      binScalarF(op, load<f32>(a + ((<usize>(i * sa)) << 2)), load<f32>(b + ((<usize>(i * sb)) << 2))),
    );
  }
}

function runI(op: i32, a: usize, sa: i32, b: usize, sb: i32, o: usize, len: i32): void {
  for (let i = 0; i < len; i++) {
    store<i32>(
      o + ((<usize>i) << 2),
      binScalarI(op, load<i32>(a + ((<usize>(i * sa)) << 2)), load<i32>(b + ((<usize>(i * sb)) << 2))),
    );
  }
}

/**
 * Broadcast binary op, then ReLU when `act` is 1 (float32; on each run of results while it is
 * in cache). `p`: rank r, shape[r], strideA[r], strideB[r]; `idx` is r words of scratch. Share
 * `share` takes a part of the output elements (a range that may begin and end inside a row of
 * the innermost dimension); returns how many.
 */
export function binary_run(
  op: i32,
  isInt: i32,
  a: usize,
  b: usize,
  out: usize,
  p: usize,
  idxBase: usize,
  act: i32,
  share: i32,
  nt: i32,
): i32 {
  const r = pi(p, 0);
  const inner = pi(p, r);
  const innerA = pi(p, 1 + r + r - 1);
  const innerB = pi(p, 1 + 2 * r + r - 1);
  let rows = 1;
  for (let d = 0; d < r - 1; d++) rows *= pi(p, 1 + d);
  // Each thread takes a range of output elements, not of rows: a same-shape operation collapses
  // to a single row, which a split by rows would leave to one thread.
  const total = <i64>rows * inner;
  const e0 = <i64>((total * share) / nt);
  const e1 = <i64>((total * (share + 1)) / nt);
  if (e0 >= e1) return 0;
  const idx = idxBase + ((<usize>(SLOT * 16)) << 2);
  // Position of the row holding e0, and e0's column in it.
  const r0 = <i32>(e0 / inner);
  let col = <i32>(e0 - <i64>r0 * inner);
  let ia = 0;
  let ib = 0;
  let rem = r0;
  for (let d = r - 2; d >= 0; d--) {
    const len = pi(p, 1 + d);
    const q = rem % len;
    rem = rem / len;
    store<i32>(idx + ((<usize>d) << 2), q);
    ia += q * pi(p, 1 + r + d);
    ib += q * pi(p, 1 + 2 * r + d);
  }
  let e = e0;
  while (e < e1) {
    const n = <i32>min(<i64>(inner - col), e1 - e);
    const o = out + ((<usize>e) << 2);
    const pa = a + ((<usize>(ia + col * innerA)) << 2);
    const pb = b + ((<usize>(ib + col * innerB)) << 2);
    if (isInt !== 0) runI(op, pa, innerA, pb, innerB, o, n);
    else {
      runF(op, pa, innerA, pb, innerB, o, n);
      if (act === 1) epilogue(o, n, 0, 1);
    }
    e += n;
    col = 0;
    // The next row's start.
    for (let d = r - 2; d >= 0; d--) {
      const at = idx + ((<usize>d) << 2);
      const q = load<i32>(at) + 1;
      const sa = pi(p, 1 + r + d);
      const sb = pi(p, 1 + 2 * r + d);
      ia += sa;
      ib += sb;
      const len = pi(p, 1 + d);
      if (q < len) {
        store<i32>(at, q);
        break;
      }
      store<i32>(at, 0);
      ia -= sa * len;
      ib -= sb * len;
    }
  }
  return <i32>(e1 - e0);
}

/** Batch-norm inference: `(x − mean) / sqrt(var + eps) · scale + offset` per channel. */
export function batchnorm_run(
  x: usize,
  out: usize,
  outer: i32,
  channels: i32,
  inner: i32,
  mean: usize,
  variance: usize,
  scale: usize,
  offset: usize,
  eps: f64,
  share: i32,
  nt: i32,
): i32 {
  const rows = outer * channels;
  const r0 = lo(rows, share, nt);
  const r1 = lo(rows, share + 1, nt);
  for (let r = r0; r < r1; r++) {
    const c = r % channels;
    const m = load<f32>(mean + ((<usize>c) << 2));
    const inv = <f32>(1.0 / Math.sqrt(<f64>load<f32>(variance + ((<usize>c) << 2)) + eps));
    const s: f32 = scale !== 0 ? load<f32>(scale + ((<usize>c) << 2)) : 1;
    const b: f32 = offset !== 0 ? load<f32>(offset + ((<usize>c) << 2)) : 0;
    const mv = f32x4.splat(m);
    const iv = f32x4.splat(inv);
    const sv = f32x4.splat(s);
    const bv = f32x4.splat(b);
    const xs = x + ((<usize>(r * inner)) << 2);
    const os = out + ((<usize>(r * inner)) << 2);
    let i = 0;
    for (; i + 4 <= inner; i += 4) {
      const off = (<usize>i) << 2;
      const v = f32x4.mul(f32x4.mul(f32x4.sub(v128.load(xs + off), mv), iv), sv);
      v128.store(os + off, f32x4.add(v, bv));
    }
    for (; i < inner; i++) {
      const off = (<usize>i) << 2;
      store<f32>(os + off, (load<f32>(xs + off) - m) * inv * s + b);
    }
  }
  return max(0, r1 - r0);
}

/** The running maximum `m` after value `v`: `v` when greater or NaN (so NaN propagates), four lanes. */
function maxStep(m: v128, v: v128): v128 {
  return v128.bitselect(v, m, v128.or(f32x4.gt(v, m), f32x4.ne(v, v)));
}

/** The same for one value. */
function maxStep1(m: f32, v: f32): f32 {
  return v > m || F32.isNaN(v) ? v : m;
}

/** Floats of a max-pooling row buffer: the row plus 4, so a stride-2 vector may read one past it. */
export function maxpoolRowFloats(iw: i32): i32 {
  return iw + 4;
}

/**
 * Max pooling (the params of {@link avgpool_run}; dilation applies), one output row at a time.
 * First the maxima of the window's rows, column by column and four columns a vector, into a row
 * buffer (the running thread's, {@link maxpoolRowFloats} floats a thread from `buf`); then each output's
 * maximum over its window's columns in that row, four outputs a vector where the window lies
 * inside the row and the stride is 1 or 2. The maximum takes a value when it is greater or NaN,
 * as the scalar scan does, so NaN propagates (rows first, then columns: only the sign of a
 * zero maximum can differ from a row-major scan).
 */
export function maxpool_run(x: usize, out: usize, p: usize, buf: usize, share: i32, nt: i32): i32 {
  const planes = pi(p, 0) * pi(p, 1);
  const ih = pi(p, 2);
  const iw = pi(p, 3);
  const oh = pi(p, 4);
  const ow = pi(p, 5);
  const kh = pi(p, 6);
  const kw = pi(p, 7);
  const sh = pi(p, 8);
  const sw = pi(p, 9);
  const dh = pi(p, 10);
  const dw = pi(p, 11);
  const pt = pi(p, 12);
  const pl = pi(p, 14);
  const p0 = lo(planes, share, nt);
  const p1 = lo(planes, share + 1, nt);
  const rowBytes = (<usize>iw) << 2;
  const row = buf + ((<usize>(SLOT * maxpoolRowFloats(iw))) << 2);
  const vecEnd = iw & ~3;
  // Outputs oxIn ≤ ox < oxOut have their whole window inside the row: ox·sw − pl ≥ 0 and
  // ox·sw − pl + (kw − 1)·dw ≤ iw − 1.
  const oxIn = min(ow, (pl + sw - 1) / sw);
  const last = iw - 1 + pl - (kw - 1) * dw;
  const oxOut = last < 0 ? oxIn : max(oxIn, min(ow, last / sw + 1));
  const tapBytes = (<usize>dw) << 2;
  const vectorCols = sw === 1 || sw === 2;
  const minusInf = f32x4.splat(-Infinity);
  for (let q = p0; q < p1; q++) {
    const base = x + <usize>q * <usize>ih * rowBytes;
    let o = out + ((<usize>(q * oh * ow)) << 2);
    for (let oy = 0; oy < oh; oy++) {
      // The window's rows, into the row buffer.
      const y0 = oy * sh - pt;
      const kyLo = y0 < 0 ? (-y0 + dh - 1) / dh : 0;
      const kyHi = ih - 1 - y0 < 0 ? 0 : min(kh, (ih - 1 - y0) / dh + 1);
      if (kyLo >= kyHi) {
        for (let c = 0; c < iw; c++) store<f32>(row + ((<usize>c) << 2), -Infinity);
      } else {
        memory.copy(row, base + <usize>(y0 + kyLo * dh) * rowBytes, rowBytes);
        for (let ky = kyLo + 1; ky < kyHi; ky++) {
          const src = base + <usize>(y0 + ky * dh) * rowBytes;
          let c = 0;
          for (; c < vecEnd; c += 4) {
            const off = (<usize>c) << 2;
            v128.store(row + off, maxStep(v128.load(row + off), v128.load(src + off)));
          }
          for (; c < iw; c++) {
            const off = (<usize>c) << 2;
            store<f32>(row + off, maxStep1(load<f32>(row + off), load<f32>(src + off)));
          }
        }
      }
      // The window's columns: the edges scalar with bounds, the inside four outputs a vector.
      let ox = 0;
      for (; ox < oxIn; ox++, o += 4) store<f32>(o, edgeMax(row, ox * sw - pl, kw, dw, iw));
      if (vectorCols) {
        for (; ox + 4 <= oxOut; ox += 4, o += 16) {
          let at = row + ((<usize>(ox * sw - pl)) << 2);
          let m = minusInf;
          for (let kx = 0; kx < kw; kx++, at += tapBytes) {
            const v =
              sw === 1 ? v128.load(at) : v128.shuffle<f32>(v128.load(at), v128.load(at + 16), 0, 2, 4, 6);
            m = maxStep(m, v);
          }
          v128.store(o, m);
        }
      }
      for (; ox < oxOut; ox++, o += 4) {
        let at = row + ((<usize>(ox * sw - pl)) << 2);
        let m: f32 = -Infinity;
        for (let kx = 0; kx < kw; kx++, at += tapBytes) m = maxStep1(m, load<f32>(at));
        store<f32>(o, m);
      }
      for (; ox < ow; ox++, o += 4) store<f32>(o, edgeMax(row, ox * sw - pl, kw, dw, iw));
    }
  }
  return max(0, p1 - p0);
}

/** The maximum over the taps `x0 + kx · dw` (`kx < kw`) of a row of `iw` floats that fall inside it. */
function edgeMax(row: usize, x0: i32, kw: i32, dw: i32, iw: i32): f32 {
  const kxLo = x0 < 0 ? (-x0 + dw - 1) / dw : 0;
  const kxHi = iw - 1 - x0 < 0 ? 0 : min(kw, (iw - 1 - x0) / dw + 1);
  let m: f32 = -Infinity;
  for (let kx = kxLo; kx < kxHi; kx++) m = maxStep1(m, load<f32>(row + ((<usize>(x0 + kx * dw)) << 2)));
  return m;
}

/**
 * Average pooling. Params: batch, channels, ih, iw, oh, ow, kh, kw, sh, sw, dh, dw (unused:
 * average pooling has no dilation), pt, pb, pl, pr, countIncludePad.
 */
export function avgpool_run(x: usize, out: usize, p: usize, share: i32, nt: i32): i32 {
  const planes = pi(p, 0) * pi(p, 1);
  const ih = pi(p, 2);
  const iw = pi(p, 3);
  const oh = pi(p, 4);
  const ow = pi(p, 5);
  const kh = pi(p, 6);
  const kw = pi(p, 7);
  const sh = pi(p, 8);
  const sw = pi(p, 9);
  const pt = pi(p, 12);
  const pb = pi(p, 13);
  const pl = pi(p, 14);
  const pr = pi(p, 15);
  const includePad = pi(p, 16);
  const p0 = lo(planes, share, nt);
  const p1 = lo(planes, share + 1, nt);
  for (let q = p0; q < p1; q++) {
    const base = x + ((<usize>(q * ih * iw)) << 2);
    let o = out + ((<usize>(q * oh * ow)) << 2);
    for (let oy = 0; oy < oh; oy++) {
      let y0 = oy * sh - pt;
      let y1 = min(y0 + kh, ih + pb);
      const spanY = y1 - y0;
      y0 = max(y0, 0);
      y1 = min(y1, ih);
      for (let ox = 0; ox < ow; ox++) {
        let x0 = ox * sw - pl;
        let x1 = min(x0 + kw, iw + pr);
        const spanX = x1 - x0;
        x0 = max(x0, 0);
        x1 = min(x1, iw);
        let s: f64 = 0;
        for (let y = y0; y < y1; y++) {
          const row = base + ((<usize>(y * iw)) << 2);
          for (let xx = x0; xx < x1; xx++) s += <f64>load<f32>(row + ((<usize>xx) << 2));
        }
        const count = includePad !== 0 ? spanY * spanX : (y1 - y0) * (x1 - x0);
        store<f32>(o, <f32>(s / <f64>count));
        o += 4;
      }
    }
  }
  return max(0, p1 - p0);
}

/** Adaptive average pooling, PyTorch's cell bounds. */
export function adaptive_avg_run(
  x: usize,
  out: usize,
  planes: i32,
  ih: i32,
  iw: i32,
  oh: i32,
  ow: i32,
  share: i32,
  nt: i32,
): i32 {
  const p0 = lo(planes, share, nt);
  const p1 = lo(planes, share + 1, nt);
  for (let q = p0; q < p1; q++) {
    const base = x + ((<usize>(q * ih * iw)) << 2);
    let o = out + ((<usize>(q * oh * ow)) << 2);
    for (let oy = 0; oy < oh; oy++) {
      const y0 = <i32>((<i64>oy * ih) / oh);
      const y1 = <i32>((<i64>(oy + 1) * ih + oh - 1) / oh);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = <i32>((<i64>ox * iw) / ow);
        const x1 = <i32>((<i64>(ox + 1) * iw + ow - 1) / ow);
        let s: f64 = 0;
        for (let y = y0; y < y1; y++) {
          const row = base + ((<usize>(y * iw)) << 2);
          for (let xx = x0; xx < x1; xx++) s += <f64>load<f32>(row + ((<usize>xx) << 2));
        }
        store<f32>(o, <f32>(s / <f64>((y1 - y0) * (x1 - x0))));
        o += 4;
      }
    }
  }
  return max(0, p1 - p0);
}

/**
 * Bilinear (mode 0) or nearest (mode 1) resize. `tab` holds per output row then column:
 * lo index, hi index (i32) and weight (f32) — 3 words each, rows first (oh), then columns (ow).
 */
export function resize_run(
  mode: i32,
  x: usize,
  out: usize,
  planes: i32,
  ih: i32,
  iw: i32,
  oh: i32,
  ow: i32,
  tab: usize,
  share: i32,
  nt: i32,
): i32 {
  const p0 = lo(planes, share, nt);
  const p1 = lo(planes, share + 1, nt);
  const cols = tab + ((<usize>(oh * 3)) << 2);
  for (let q = p0; q < p1; q++) {
    const base = x + ((<usize>(q * ih * iw)) << 2);
    let o = out + ((<usize>(q * oh * ow)) << 2);
    for (let oy = 0; oy < oh; oy++) {
      const r0 = base + ((<usize>(pi(tab, oy * 3) * iw)) << 2);
      if (mode === 1) {
        for (let ox = 0; ox < ow; ox++) {
          store<f32>(o, load<f32>(r0 + ((<usize>pi(cols, ox * 3)) << 2)));
          o += 4;
        }
        continue;
      }
      const r1 = base + ((<usize>(pi(tab, oy * 3 + 1) * iw)) << 2);
      const ty = <f64>pf(tab, oy * 3 + 2);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = (<usize>pi(cols, ox * 3)) << 2;
        const x1 = (<usize>pi(cols, ox * 3 + 1)) << 2;
        const tx = <f64>pf(cols, ox * 3 + 2);
        const top = <f64>load<f32>(r0 + x0) * (1 - tx) + <f64>load<f32>(r0 + x1) * tx;
        const bottom = <f64>load<f32>(r1 + x0) * (1 - tx) + <f64>load<f32>(r1 + x1) * tx;
        store<f32>(o, <f32>(top * (1 - ty) + bottom * ty));
        o += 4;
      }
    }
  }
  return max(0, p1 - p0);
}

/**
 * Reduction of `x` (op 0 sum, 1 mean, 2 max; isInt for int32 input) into `outSize` cells.
 * `p`: rank r, shape[r], outStride[r] (0 along reduced axes), collapsed so the innermost run is
 * contiguous in x. `acc` is outSize doubles of scratch, `idx` r words.
 */
export function reduce_run(
  op: i32,
  isInt: i32,
  x: usize,
  total: i32,
  out: usize,
  outSize: i32,
  count: i32,
  p: usize,
  acc: usize,
  idx: usize,
): void {
  const isMax = op === 2;
  const init: f64 = isMax ? -Infinity : 0;
  for (let i = 0; i < outSize; i++) store<f64>(acc + ((<usize>i) << 3), init);
  const r = pi(p, 0);
  if (total > 0) {
    if (r === 0) {
      store<f64>(acc, isInt !== 0 ? <f64>load<i32>(x) : <f64>load<f32>(x));
    } else {
      const inner = pi(p, r);
      const innerOut = pi(p, 1 + r + r - 1);
      for (let d = 0; d < r; d++) store<i32>(idx + ((<usize>d) << 2), 0);
      let o = 0;
      // The innermost run reduces into one cell (e.g. a mean over H×W): fold it in registers
      // (float32 sums four lanes at a time, each widened to float64), then into the cell once.
      const folded = innerOut === 0;
      for (let i = 0; i < total; i += inner) {
        if (folded) {
          const a = acc + ((<usize>o) << 3);
          if (isMax || isInt !== 0) {
            let m: f64 = isMax ? -Infinity : 0;
            for (let j = 0; j < inner; j++) {
              const e = x + ((<usize>(i + j)) << 2);
              const v: f64 = isInt !== 0 ? <f64>load<i32>(e) : <f64>load<f32>(e);
              if (!isMax) m += v;
              else if (v > m || F64.isNaN(v)) m = v;
            }
            const prev = load<f64>(a);
            if (!isMax) store<f64>(a, prev + m);
            else if (m > prev || F64.isNaN(m)) store<f64>(a, m);
          } else {
            let lo = f64x2.splat(0);
            let hi = f64x2.splat(0);
            let j = 0;
            for (; j + 4 <= inner; j += 4) {
              const v = v128.load(x + ((<usize>(i + j)) << 2));
              lo = f64x2.add(lo, f64x2.promote_low_f32x4(v));
              hi = f64x2.add(hi, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
            }
            const both = f64x2.add(lo, hi);
            let sum = f64x2.extract_lane(both, 0) + f64x2.extract_lane(both, 1);
            for (; j < inner; j++) sum += <f64>load<f32>(x + ((<usize>(i + j)) << 2));
            store<f64>(a, load<f64>(a) + sum);
          }
        } else
          for (let j = 0; j < inner; j++) {
            const e = x + ((<usize>(i + j)) << 2);
            const v: f64 = isInt !== 0 ? <f64>load<i32>(e) : <f64>load<f32>(e);
            const a = acc + ((<usize>(o + j * innerOut)) << 3);
            if (isMax) {
              const m = load<f64>(a);
              if (v > m || F64.isNaN(v)) store<f64>(a, v);
            } else {
              store<f64>(a, load<f64>(a) + v);
            }
          }
        for (let d = r - 2; d >= 0; d--) {
          const e = idx + ((<usize>d) << 2);
          const q = load<i32>(e) + 1;
          const so = pi(p, 1 + r + d);
          o += so;
          const len = pi(p, 1 + d);
          if (q < len) {
            store<i32>(e, q);
            break;
          }
          store<i32>(e, 0);
          o -= so * len;
        }
      }
    }
  }
  for (let i = 0; i < outSize; i++) {
    const v = load<f64>(acc + ((<usize>i) << 3));
    const e = out + ((<usize>i) << 2);
    if (op === 1) store<f32>(e, <f32>(v / <f64>count));
    else if (isInt !== 0) store<i32>(e, toInt32(v));
    else store<f32>(e, <f32>v);
  }
}

/** Softmax along an axis of length `len` (outer × len × inner); `e` is len doubles of scratch. */
export function softmax_run(x: usize, out: usize, outer: i32, len: i32, inner: i32, e: usize): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * len * inner + i;
      let m: f32 = -Infinity;
      for (let k = 0; k < len; k++) {
        const v = load<f32>(x + ((<usize>(base + k * inner)) << 2));
        if (v > m || F32.isNaN(v)) m = v;
      }
      let s: f64 = 0;
      for (let k = 0; k < len; k++) {
        const v = Math.exp(<f64>load<f32>(x + ((<usize>(base + k * inner)) << 2)) - <f64>m);
        store<f64>(e + ((<usize>k) << 3), v);
        s += v;
      }
      for (let k = 0; k < len; k++) {
        store<f32>(out + ((<usize>(base + k * inner)) << 2), <f32>(load<f64>(e + ((<usize>k) << 3)) / s));
      }
    }
  }
}

/** Index of the largest value along an axis (first on ties, NaN wins). */
export function argmax_run(isInt: i32, x: usize, out: usize, outer: i32, len: i32, inner: i32): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let pos = o * len * inner + i;
      let bi = 0;
      if (isInt !== 0) {
        let best = load<i32>(x + ((<usize>pos) << 2));
        for (let k = 1; k < len; k++) {
          pos += inner;
          const v = load<i32>(x + ((<usize>pos) << 2));
          if (v > best) {
            best = v;
            bi = k;
          }
        }
      } else {
        let best = load<f32>(x + ((<usize>pos) << 2));
        if (!F32.isNaN(best)) {
          for (let k = 1; k < len; k++) {
            pos += inner;
            const v = load<f32>(x + ((<usize>pos) << 2));
            if (v > best) {
              best = v;
              bi = k;
            } else if (F32.isNaN(v)) {
              bi = k;
              break;
            }
          }
        }
      }
      store<i32>(out + ((<usize>(o * inner + i)) << 2), bi);
    }
  }
}

/**
 * Copies `n` 4-byte elements in reverse order: dst[j] = src[−j] (`src` is the address of the
 * first element read; reads walk down). Four at a time, lanes reversed with one shuffle.
 */
function copy_reversed(dst: usize, src: usize, n: i32): void {
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    const a = v128.load(src - ((<usize>(j + 3)) << 2));
    const b = v128.load(src - ((<usize>(j + 7)) << 2));
    const d = dst + ((<usize>j) << 2);
    v128.store(d, v128.shuffle<i32>(a, a, 3, 2, 1, 0));
    v128.store(d, v128.shuffle<i32>(b, b, 3, 2, 1, 0), 16);
  }
  for (; j + 4 <= n; j += 4) {
    const a = v128.load(src - ((<usize>(j + 3)) << 2));
    v128.store(dst + ((<usize>j) << 2), v128.shuffle<i32>(a, a, 3, 2, 1, 0));
  }
  for (; j < n; j++) store<i32>(dst + ((<usize>j) << 2), load<i32>(src - ((<usize>j) << 2)));
}

/**
 * Strided copy of 4-byte elements: for every index of `shape`, dst[Σ i·ds] = src[Σ i·ss].
 * Strides may be negative (flip reads reversed axes with negated strides from their last
 * element): contiguous innermost runs copy with `memory.copy`, reversed ones with SIMD.
 * `p`: rank r (≥ 1), shape[r], srcStride[r], dstStride[r]; `idx` r words of scratch.
 */
export function copy_strided(src: usize, dst: usize, p: usize, idx: usize): void {
  const r = pi(p, 0);
  const inner = pi(p, r);
  const si = pi(p, 1 + r + r - 1);
  const di = pi(p, 1 + 2 * r + r - 1);
  let rows = 1;
  for (let d = 0; d < r - 1; d++) {
    rows *= pi(p, 1 + d);
    store<i32>(idx + ((<usize>d) << 2), 0);
  }
  let s = 0;
  let o = 0;
  for (let row = 0; row < rows; row++) {
    if (si === 1 && di === 1)
      memory.copy(dst + ((<usize>o) << 2), src + ((<usize>s) << 2), (<usize>inner) << 2);
    else if (si === -1 && di === 1) copy_reversed(dst + ((<usize>o) << 2), src + ((<usize>s) << 2), inner);
    else
      for (let j = 0; j < inner; j++)
        store<i32>(dst + ((<usize>(o + j * di)) << 2), load<i32>(src + ((<usize>(s + j * si)) << 2)));
    for (let d = r - 2; d >= 0; d--) {
      const e = idx + ((<usize>d) << 2);
      const q = load<i32>(e) + 1;
      const ss = pi(p, 1 + r + d);
      const ds = pi(p, 1 + 2 * r + d);
      s += ss;
      o += ds;
      const len = pi(p, 1 + d);
      if (q < len) {
        store<i32>(e, q);
        break;
      }
      store<i32>(e, 0);
      s -= ss * len;
      o -= ds * len;
    }
  }
}

/** Fills `n` 4-byte words with `bits`. */
export function fill32(dst: usize, n: i32, bits: i32): void {
  for (let i = 0; i < n; i++) store<i32>(dst + ((<usize>i) << 2), bits);
}

/** float32 → int32 (truncation, JavaScript's ToInt32 beyond range). */
export function cast_f2i(x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++)
    store<i32>(out + ((<usize>i) << 2), toInt32(<f64>load<f32>(x + ((<usize>i) << 2))));
}

/** int32 → float32. */
export function cast_i2f(x: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(out + ((<usize>i) << 2), <f32>load<i32>(x + ((<usize>i) << 2)));
}

/**
 * An arithmetic ceiling for SIMD128 on this machine: `iters` rounds of 12 independent
 * f32x4 multiply-then-add chains (`a = a·y + x`, 96 flops per round), no memory traffic.
 */
export function simd_peak(iters: i32): f32 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0.1);
  let a2 = f32x4.splat(0.2);
  let a3 = f32x4.splat(0.3);
  let a4 = f32x4.splat(0.4);
  let a5 = f32x4.splat(0.5);
  let a6 = f32x4.splat(0.6);
  let a7 = f32x4.splat(0.7);
  let a8 = f32x4.splat(0.8);
  let a9 = f32x4.splat(0.9);
  let a10 = f32x4.splat(1.0);
  let a11 = f32x4.splat(1.1);
  const x = f32x4.splat(<f32>iters * 1e-9);
  const y = f32x4.splat(0.999);
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.add(f32x4.mul(a0, y), x);
    a1 = f32x4.add(f32x4.mul(a1, y), x);
    a2 = f32x4.add(f32x4.mul(a2, y), x);
    a3 = f32x4.add(f32x4.mul(a3, y), x);
    a4 = f32x4.add(f32x4.mul(a4, y), x);
    a5 = f32x4.add(f32x4.mul(a5, y), x);
    a6 = f32x4.add(f32x4.mul(a6, y), x);
    a7 = f32x4.add(f32x4.mul(a7, y), x);
    a8 = f32x4.add(f32x4.mul(a8, y), x);
    a9 = f32x4.add(f32x4.mul(a9, y), x);
    a10 = f32x4.add(f32x4.mul(a10, y), x);
    a11 = f32x4.add(f32x4.mul(a11, y), x);
  }
  const s = f32x4.add(
    f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)),
    f32x4.add(
      f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)),
      f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11)),
    ),
  );
  return f32x4.extract_lane(s, 0);
}
