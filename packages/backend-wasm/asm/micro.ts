// AssemblyScript: the GEMM's register-blocked SIMD128 micro-kernel, shared by the packed GEMM
// (gemm.ts) and the Winograd convolution (winograd.ts). Not exported from the module.

// Micro-tile rows (MR) and columns (NR); 8 columns are two v128.
export const MR: i32 = 5;
export const NR: i32 = 8;

/** The logistic sigmoid of a float32, computed in float64 and rounded once: every kernel's sigmoid epilogue. */
export function sigmoidf(v: f32): f32 {
  return <f32>(1.0 / (1.0 + Math.exp(-(<f64>v))));
}

/**
 * One 5×8 tile: C[rows × cols] (=|+=) Apanel · Bpanel over `kc`. `mode` bit 1: accumulate into
 * C; bit 2: last K block, apply the epilogue (bias, activation). Full tiles are stored with
 * SIMD; partial ones go through `tile` scratch.
 */
export function micro(
  kc: i32,
  pa: usize,
  pb: usize,
  c: usize,
  ldc: i32,
  mode: i32,
  bias: usize,
  biasMode: i32,
  act: i32,
  rows: i32,
  cols: i32,
  tile: usize,
): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0);
  let c41 = f32x4.splat(0);
  // Five rows, one k step per iteration: V8 has 15 allocatable xmm registers on x64, and a
  // 6×8 tile (12 accumulators + 2 B + 1 A + a product temporary) spills every iteration;
  // unrolling makes it hoist loads and spill more.
  if (ASC_FEATURE_RELAXED_SIMD) {
    for (let q = 0; q < kc; q++) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      let a = v128.load32_splat(pa);
      c00 = f32x4.relaxed_madd(a, b0, c00);
      c01 = f32x4.relaxed_madd(a, b1, c01);
      a = v128.load32_splat(pa, 4);
      c10 = f32x4.relaxed_madd(a, b0, c10);
      c11 = f32x4.relaxed_madd(a, b1, c11);
      a = v128.load32_splat(pa, 8);
      c20 = f32x4.relaxed_madd(a, b0, c20);
      c21 = f32x4.relaxed_madd(a, b1, c21);
      a = v128.load32_splat(pa, 12);
      c30 = f32x4.relaxed_madd(a, b0, c30);
      c31 = f32x4.relaxed_madd(a, b1, c31);
      a = v128.load32_splat(pa, 16);
      c40 = f32x4.relaxed_madd(a, b0, c40);
      c41 = f32x4.relaxed_madd(a, b1, c41);
      pa += 20;
      pb += 32;
    }
  } else {
    for (let q = 0; q < kc; q++) {
      const b0 = v128.load(pb);
      const b1 = v128.load(pb, 16);
      let a = v128.load32_splat(pa);
      c00 = f32x4.add(c00, f32x4.mul(a, b0));
      c01 = f32x4.add(c01, f32x4.mul(a, b1));
      a = v128.load32_splat(pa, 4);
      c10 = f32x4.add(c10, f32x4.mul(a, b0));
      c11 = f32x4.add(c11, f32x4.mul(a, b1));
      a = v128.load32_splat(pa, 8);
      c20 = f32x4.add(c20, f32x4.mul(a, b0));
      c21 = f32x4.add(c21, f32x4.mul(a, b1));
      a = v128.load32_splat(pa, 12);
      c30 = f32x4.add(c30, f32x4.mul(a, b0));
      c31 = f32x4.add(c31, f32x4.mul(a, b1));
      a = v128.load32_splat(pa, 16);
      c40 = f32x4.add(c40, f32x4.mul(a, b0));
      c41 = f32x4.add(c41, f32x4.mul(a, b1));
      pa += 20;
      pb += 32;
    }
  }
  const acc = (mode & 1) !== 0;
  const last = (mode & 2) !== 0;
  if (rows === MR && cols === NR) {
    const step = (<usize>ldc) << 2;
    if (acc) {
      c00 = f32x4.add(c00, v128.load(c));
      c01 = f32x4.add(c01, v128.load(c, 16));
      c10 = f32x4.add(c10, v128.load(c + step));
      c11 = f32x4.add(c11, v128.load(c + step, 16));
      c20 = f32x4.add(c20, v128.load(c + 2 * step));
      c21 = f32x4.add(c21, v128.load(c + 2 * step, 16));
      c30 = f32x4.add(c30, v128.load(c + 3 * step));
      c31 = f32x4.add(c31, v128.load(c + 3 * step, 16));
      c40 = f32x4.add(c40, v128.load(c + 4 * step));
      c41 = f32x4.add(c41, v128.load(c + 4 * step, 16));
    }
    if (last && biasMode === 1) {
      let bv = v128.load32_splat(bias);
      c00 = f32x4.add(c00, bv);
      c01 = f32x4.add(c01, bv);
      bv = v128.load32_splat(bias, 4);
      c10 = f32x4.add(c10, bv);
      c11 = f32x4.add(c11, bv);
      bv = v128.load32_splat(bias, 8);
      c20 = f32x4.add(c20, bv);
      c21 = f32x4.add(c21, bv);
      bv = v128.load32_splat(bias, 12);
      c30 = f32x4.add(c30, bv);
      c31 = f32x4.add(c31, bv);
      bv = v128.load32_splat(bias, 16);
      c40 = f32x4.add(c40, bv);
      c41 = f32x4.add(c41, bv);
    } else if (last && biasMode === 2) {
      const b0 = v128.load(bias);
      const b1 = v128.load(bias, 16);
      c00 = f32x4.add(c00, b0);
      c01 = f32x4.add(c01, b1);
      c10 = f32x4.add(c10, b0);
      c11 = f32x4.add(c11, b1);
      c20 = f32x4.add(c20, b0);
      c21 = f32x4.add(c21, b1);
      c30 = f32x4.add(c30, b0);
      c31 = f32x4.add(c31, b1);
      c40 = f32x4.add(c40, b0);
      c41 = f32x4.add(c41, b1);
    }
    if (last && act === 1) {
      // max propagates NaN, as PyTorch's relu does.
      const z = f32x4.splat(0);
      c00 = f32x4.max(c00, z);
      c01 = f32x4.max(c01, z);
      c10 = f32x4.max(c10, z);
      c11 = f32x4.max(c11, z);
      c20 = f32x4.max(c20, z);
      c21 = f32x4.max(c21, z);
      c30 = f32x4.max(c30, z);
      c31 = f32x4.max(c31, z);
      c40 = f32x4.max(c40, z);
      c41 = f32x4.max(c41, z);
    }
    v128.store(c, c00);
    v128.store(c, c01, 16);
    v128.store(c + step, c10);
    v128.store(c + step, c11, 16);
    v128.store(c + 2 * step, c20);
    v128.store(c + 2 * step, c21, 16);
    v128.store(c + 3 * step, c30);
    v128.store(c + 3 * step, c31, 16);
    v128.store(c + 4 * step, c40);
    v128.store(c + 4 * step, c41, 16);
    if (last && act === 2) {
      for (let r = 0; r < MR; r++) {
        for (let t = 0; t < NR; t++) {
          const e = c + <usize>r * step + ((<usize>t) << 2);
          store<f32>(e, sigmoidf(load<f32>(e)));
        }
      }
    }
    return;
  }
  v128.store(tile, c00);
  v128.store(tile, c01, 16);
  v128.store(tile, c10, 32);
  v128.store(tile, c11, 48);
  v128.store(tile, c20, 64);
  v128.store(tile, c21, 80);
  v128.store(tile, c30, 96);
  v128.store(tile, c31, 112);
  v128.store(tile, c40, 128);
  v128.store(tile, c41, 144);
  for (let r = 0; r < rows; r++) {
    const rowc = c + <usize>(r * ldc) * 4;
    const rowt = tile + <usize>(r * NR) * 4;
    for (let t = 0; t < cols; t++) {
      let v = load<f32>(rowt + ((<usize>t) << 2));
      const e = rowc + ((<usize>t) << 2);
      if (acc) v += load<f32>(e);
      if (last) {
        if (biasMode === 1) v += load<f32>(bias + ((<usize>r) << 2));
        else if (biasMode === 2) v += load<f32>(bias + ((<usize>t) << 2));
        if (act === 1) v = v > 0 || F32.isNaN(v) ? v : 0;
        else if (act === 2) v = sigmoidf(v);
      }
      store<f32>(e, v);
    }
  }
}
