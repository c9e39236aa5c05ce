// AssemblyScript: direct convolution for grouped convolutions with few channels per group
// (SKNet/ResNeXt G=32) and other small-M convolutions. The input is first copied into a
// zero-padded, stride-phase-split buffer so every tap of 8 adjacent output pixels is two
// contiguous v128 loads; 4 output channels × 8 pixels accumulate in 8 v128 registers.
// The `_run` kernels take `(share, nt)` and return how many work units share `share` of `nt` held (the
// worker pool counts a job only when that is > 0).
import { sigmoidf } from './micro';
import { SLOT } from './slot';

function pi(p: usize, i: i32): i32 {
  return load<i32>(p + ((<usize>i) << 2));
}

function lo(n: i32, share: i32, nt: i32): i32 {
  return <i32>((<i64>n * share) / nt);
}

// Params (i32 words): 0 x, 1 wpack, 2 out, 3 bias, 4 act, 5 batch, 6 inC, 7 outC, 8 groups,
// 9 ih, 10 iw, 11 oh, 12 ow, 13 kh, 14 kw, 15 sh, 16 sw, 17 dh, 18 dw, 19 pt, 20 pl,
// 21 padded buffer, 22 Hp (padded rows), 23 Wq (floats per phase row), 24 scratch,
// 25 scratch bytes per thread.

/**
 * Fills the padded buffer: plane (n, c), row y, phase s, column q holds input
 * (y − pt, q·sw + s − pl), zero outside. Parallel over planes.
 */
export function direct_pad_run(p: usize, share: i32, nt: i32): i32 {
  const x = <usize>pi(p, 0);
  const planes = pi(p, 5) * pi(p, 6);
  const ih = pi(p, 9);
  const iw = pi(p, 10);
  const sw = pi(p, 16);
  const pt = pi(p, 19);
  const pl = pi(p, 20);
  const buf = <usize>pi(p, 21);
  const hp = pi(p, 22);
  const wq = pi(p, 23);
  const p0 = lo(planes, share, nt);
  const p1 = lo(planes, share + 1, nt);
  const rowLen = sw * wq;
  for (let q = p0; q < p1; q++) {
    const src = x + ((<usize>(q * ih * iw)) << 2);
    const dst = buf + ((<usize>(q * hp * rowLen)) << 2);
    for (let y = 0; y < hp; y++) {
      const d = dst + ((<usize>(y * rowLen)) << 2);
      const iy = y - pt;
      if (iy < 0 || iy >= ih) {
        memory.fill(d, 0, (<usize>rowLen) << 2);
        continue;
      }
      const srow = src + ((<usize>(iy * iw)) << 2);
      if (sw === 1) {
        // Left pad, the row, right pad.
        const left = min(pl, wq);
        memory.fill(d, 0, (<usize>left) << 2);
        memory.copy(d + ((<usize>pl) << 2), srow, (<usize>iw) << 2);
        memory.fill(d + ((<usize>(pl + iw)) << 2), 0, (<usize>(wq - pl - iw)) << 2);
        continue;
      }
      for (let s = 0; s < sw; s++) {
        const ds = d + ((<usize>(s * wq)) << 2);
        let c = 0;
        if (sw === 2) {
          // Columns c whose inputs 2c + s − pl are all in the row, four at a time: the even
          // lanes of 8 consecutive inputs (the 8th may lie one past the row: never used, and
          // addressable, as every buffer is rounded up to 64 bytes).
          const c0 = max(0, (pl - s + 1) >> 1);
          for (; c < c0 && c < wq; c++) {
            const ix = 2 * c + s - pl;
            let v: f32 = 0;
            if (ix >= 0 && ix < iw) v = load<f32>(srow + ((<usize>ix) << 2));
            store<f32>(ds + ((<usize>c) << 2), v);
          }
          for (; c + 4 <= wq && 2 * (c + 3) + s - pl < iw; c += 4) {
            const src = srow + ((<usize>(2 * c + s - pl)) << 2);
            v128.store(
              ds + ((<usize>c) << 2),
              v128.shuffle<f32>(v128.load(src), v128.load(src, 16), 0, 2, 4, 6),
            );
          }
        }
        for (; c < wq; c++) {
          const ix = c * sw + s - pl;
          let v: f32 = 0;
          if (ix >= 0 && ix < iw) v = load<f32>(srow + ((<usize>ix) << 2));
          store<f32>(ds + ((<usize>c) << 2), v);
        }
      }
    }
  }
  return max(0, p1 - p0);
}

/**
 * Packs weights `[outC, k]` (k = channels per group × kernel taps) as, per group and block of 4
 * output channels, `[k][4]` (missing channels of a last block are 0): 4-row panels, the layout
 * `direct_conv_run` reads. Run once per weight buffer (`src/kernels/packed-weights.ts`).
 */
export function direct_pack_w(w: usize, dst: usize, outC: i32, groups: i32, k: i32): void {
  const mg = outC / groups;
  const blocks = (mg + 3) >> 2;
  let d = dst;
  for (let g = 0; g < groups; g++) {
    for (let b = 0; b < blocks; b++) {
      for (let q = 0; q < k; q++) {
        for (let j = 0; j < 4; j++) {
          const o = b * 4 + j;
          let v: f32 = 0;
          if (o < mg) v = load<f32>(w + ((<usize>((g * mg + o) * k + q)) << 2));
          store<f32>(d, v);
          d += 4;
        }
      }
    }
  }
}

function finish(o: usize, v: v128, bias: f32, act: i32, cols: i32, tile: usize): void {
  let r = f32x4.add(v, f32x4.splat(bias));
  if (act === 1) r = f32x4.max(r, f32x4.splat(0));
  if (cols >= 4 && act !== 2) {
    v128.store(o, r);
    return;
  }
  v128.store(tile, r);
  for (let t = 0; t < min(cols, 4); t++) {
    let e = load<f32>(tile + ((<usize>t) << 2));
    if (act === 2) e = sigmoidf(e);
    store<f32>(o + ((<usize>t) << 2), e);
  }
}

/**
 * 4 pixels of 4 output channels: `r0..r3` plus their channels' bias vectors, then ReLU when
 * `act` is 1, stored at `o` and `oPlane` bytes apart.
 */
function storeChannels4(
  o: usize,
  oPlane: usize,
  r0: v128,
  r1: v128,
  r2: v128,
  r3: v128,
  bv0: v128,
  bv1: v128,
  bv2: v128,
  bv3: v128,
  act: i32,
): void {
  let v0 = f32x4.add(r0, bv0);
  let v1 = f32x4.add(r1, bv1);
  let v2 = f32x4.add(r2, bv2);
  let v3 = f32x4.add(r3, bv3);
  if (act === 1) {
    const zero = f32x4.splat(0);
    v0 = f32x4.max(v0, zero);
    v1 = f32x4.max(v1, zero);
    v2 = f32x4.max(v2, zero);
    v3 = f32x4.max(v3, zero);
  }
  v128.store(o, v0);
  v128.store(o + oPlane, v1);
  v128.store(o + 2 * oPlane, v2);
  v128.store(o + 3 * oPlane, v3);
}

/** The direct convolution; work units are (batch, group, block of 4 output channels). */
export function direct_conv_run(p: usize, share: i32, nt: i32): i32 {
  const wpack = <usize>pi(p, 1);
  const out = <usize>pi(p, 2);
  const bias = <usize>pi(p, 3);
  const act = pi(p, 4);
  const batch = pi(p, 5);
  const inC = pi(p, 6);
  const outC = pi(p, 7);
  const groups = pi(p, 8);
  const oh = pi(p, 11);
  const ow = pi(p, 12);
  const kh = pi(p, 13);
  const kw = pi(p, 14);
  const sh = pi(p, 15);
  const sw = pi(p, 16);
  const dh = pi(p, 17);
  const dw = pi(p, 18);
  const buf = <usize>pi(p, 21);
  const hp = pi(p, 22);
  const wq = pi(p, 23);
  const scratch = <usize>pi(p, 24) + <usize>SLOT * <usize>pi(p, 25);
  const tile = scratch;
  const offs = scratch + 64; // per tap (ky, kx): byte offset from its channel's row oy·sh, column ox
  const cg = inC / groups;
  const mg = outC / groups;
  const blocks = (mg + 3) >> 2;
  const khw = kh * kw;
  const rowLen = sw * wq;
  const planeLen = hp * rowLen;
  for (let ky = 0; ky < kh; ky++)
    for (let kx = 0; kx < kw; kx++) {
      // Column kx·dw of the tap lies in phase (kx·dw) % sw at (kx·dw) / sw.
      const t = kx * dw;
      const at = ky * dh * rowLen + (t % sw) * wq + t / sw;
      store<i32>(offs + ((<usize>(ky * kw + kx)) << 2), at << 2);
    }
  const units = batch * groups * blocks;
  const u0 = lo(units, share, nt);
  const u1 = lo(units, share + 1, nt);
  for (let u = u0; u < u1; u++) {
    const b = u % blocks;
    const ng = u / blocks;
    const g = ng % groups;
    const n = ng / groups;
    const wBase = wpack + ((<usize>((g * blocks + b) * cg * khw * 4)) << 2);
    const xBase = buf + ((<usize>((n * inC + g * cg) * planeLen)) << 2);
    const o0 = g * mg + b * 4;
    const nOut = min(4, mg - b * 4);
    let b0: f32 = 0;
    let b1: f32 = 0;
    let b2: f32 = 0;
    let b3: f32 = 0;
    if (bias !== 0) {
      b0 = load<f32>(bias + ((<usize>o0) << 2));
      if (nOut > 1) b1 = load<f32>(bias + ((<usize>(o0 + 1)) << 2));
      if (nOut > 2) b2 = load<f32>(bias + ((<usize>(o0 + 2)) << 2));
      if (nOut > 3) b3 = load<f32>(bias + ((<usize>(o0 + 3)) << 2));
    }
    const bv0 = f32x4.splat(b0);
    const bv1 = f32x4.splat(b1);
    const bv2 = f32x4.splat(b2);
    const bv3 = f32x4.splat(b3);
    // Tiles of 4 channels and at least 4 pixels, without sigmoid, are stored here rather than
    // through finish() (a call per vector cost as much as ~30 taps of a tile).
    const whole = nOut === 4 && act !== 2;
    const oPlane = (<usize>(oh * ow)) << 2;
    const outBase = out + ((<usize>((n * outC + o0) * oh * ow)) << 2);
    for (let oy = 0; oy < oh; oy++) {
      const rowOff = oy * sh;
      for (let ox = 0; ox < ow; ox += 8) {
        let a00 = f32x4.splat(0);
        let a01 = f32x4.splat(0);
        let a10 = f32x4.splat(0);
        let a11 = f32x4.splat(0);
        let a20 = f32x4.splat(0);
        let a21 = f32x4.splat(0);
        let a30 = f32x4.splat(0);
        let a31 = f32x4.splat(0);
        let wp = wBase;
        for (let c = 0; c < cg; c++) {
          const plane = xBase + ((<usize>(c * planeLen + rowOff * rowLen + ox)) << 2);
          for (let t = 0; t < khw; t++) {
            const src = plane + <usize>load<i32>(offs + ((<usize>t) << 2));
            const x0 = v128.load(src);
            const x1 = v128.load(src, 16);
            if (ASC_FEATURE_RELAXED_SIMD) {
              let w = v128.load32_splat(wp);
              a00 = f32x4.relaxed_madd(w, x0, a00);
              a01 = f32x4.relaxed_madd(w, x1, a01);
              w = v128.load32_splat(wp, 4);
              a10 = f32x4.relaxed_madd(w, x0, a10);
              a11 = f32x4.relaxed_madd(w, x1, a11);
              w = v128.load32_splat(wp, 8);
              a20 = f32x4.relaxed_madd(w, x0, a20);
              a21 = f32x4.relaxed_madd(w, x1, a21);
              w = v128.load32_splat(wp, 12);
              a30 = f32x4.relaxed_madd(w, x0, a30);
              a31 = f32x4.relaxed_madd(w, x1, a31);
            } else {
              let w = v128.load32_splat(wp);
              a00 = f32x4.add(a00, f32x4.mul(w, x0));
              a01 = f32x4.add(a01, f32x4.mul(w, x1));
              w = v128.load32_splat(wp, 4);
              a10 = f32x4.add(a10, f32x4.mul(w, x0));
              a11 = f32x4.add(a11, f32x4.mul(w, x1));
              w = v128.load32_splat(wp, 8);
              a20 = f32x4.add(a20, f32x4.mul(w, x0));
              a21 = f32x4.add(a21, f32x4.mul(w, x1));
              w = v128.load32_splat(wp, 12);
              a30 = f32x4.add(a30, f32x4.mul(w, x0));
              a31 = f32x4.add(a31, f32x4.mul(w, x1));
            }
            wp += 16;
          }
        }
        const cols = min(8, ow - ox);
        const o = outBase + ((<usize>(oy * ow + ox)) << 2);
        if (whole && cols >= 4) {
          // The first 4 pixels of each channel, then the next 4 whole or through finish().
          storeChannels4(o, oPlane, a00, a10, a20, a30, bv0, bv1, bv2, bv3, act);
          if (cols === 8) storeChannels4(o + 16, oPlane, a01, a11, a21, a31, bv0, bv1, bv2, bv3, act);
          else if (cols > 4) {
            finish(o + 16, a01, b0, act, cols - 4, tile);
            finish(o + oPlane + 16, a11, b1, act, cols - 4, tile);
            finish(o + 2 * oPlane + 16, a21, b2, act, cols - 4, tile);
            finish(o + 3 * oPlane + 16, a31, b3, act, cols - 4, tile);
          }
          continue;
        }
        finish(o, a00, b0, act, cols, tile);
        if (cols > 4) finish(o + 16, a01, b0, act, cols - 4, tile);
        if (nOut > 1) {
          finish(o + oPlane, a10, b1, act, cols, tile);
          if (cols > 4) finish(o + oPlane + 16, a11, b1, act, cols - 4, tile);
        }
        if (nOut > 2) {
          finish(o + 2 * oPlane, a20, b2, act, cols, tile);
          if (cols > 4) finish(o + 2 * oPlane + 16, a21, b2, act, cols - 4, tile);
        }
        if (nOut > 3) {
          finish(o + 3 * oPlane, a30, b3, act, cols, tile);
          if (cols > 4) finish(o + 3 * oPlane + 16, a31, b3, act, cols - 4, tile);
        }
      }
    }
  }
  return max(0, u1 - u0);
}
