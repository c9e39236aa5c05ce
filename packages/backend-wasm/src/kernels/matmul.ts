/**
 * Batched matrix product on the wasm backend: the packed SIMD GEMM with fused bias (per
 * column) and activation.
 *
 * @module
 */
import type { Activation, MatMulInfo, TensorInfo } from '@kernelzoo/core';
import type { KernelContext } from '../context.js';
import { ACT, gemmScratch, kBlock, MR, NC, SCRATCH_BYTES } from './gemm.js';

/** Batched matrix product: packed SIMD GEMM with fused bias (per column) and activation. */
export function matmul(
  ctx: KernelContext,
  a: TensorInfo,
  b: TensorInfo,
  bias: TensorInfo | null,
  info: MatMulInfo,
  activation: Activation,
): TensorInfo {
  const op = 'matmul';
  const { batch, aBatch, bBatch, m, n, k, transposeA, transposeB } = info;
  const out = ctx.make(info.outShape, 'float32', op);
  if (out.size === 0) return out.info;
  const ap = ctx.ptr(a, op);
  const bp = ctx.ptr(b, op);
  const biasp = bias === null ? 0 : ctx.ptr(bias, op);
  const act = ACT[activation];
  if (k === 0) {
    const v = ctx.f32();
    v.fill(0, out.ptr >>> 2, (out.ptr >>> 2) + out.size);
    if (biasp !== 0 || act !== 0) {
      // Every row is bias (or 0) through the activation.
      const bv = biasp === 0 ? null : v.slice(biasp >>> 2, (biasp >>> 2) + n);
      for (let r = 0; r < batch * m; r++)
        for (let j = 0; j < n; j++) {
          let s = bv === null ? 0 : bv[j];
          if (act === 1) s = s > 0 || Number.isNaN(s) ? s : 0;
          else if (act === 2) s = 1 / (1 + Math.exp(-s));
          v[(out.ptr >>> 2) + r * n + j] = s;
        }
    }
    return out.info;
  }
  const mp = Math.ceil(m / MR) * MR;
  const kc = kBlock(k);
  const packA = ctx.alloc(aBatch * mp * k * 4, 'packed matmul operand');
  const ars = transposeA ? 1 : k;
  const acs = transposeA ? m : 1;
  for (let i = 0; i < aBatch; i++)
    ctx.exports.pack_a(ap + i * m * k * 4, ars, acs, m, k, kc, packA + i * mp * k * 4);
  const p = ctx.params([
    0,
    m,
    n,
    k,
    packA,
    mp * k,
    bp,
    transposeB ? 1 : n,
    transposeB ? k : 1,
    bBatch === 1 ? 0 : k * n,
    0,
    out.ptr,
    n,
    m * n,
    0,
    biasp,
    biasp === 0 ? 0 : 2,
    act,
    batch,
    1,
    gemmScratch(ctx),
    SCRATCH_BYTES,
    kc,
    NC,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    aBatch === 1 ? 0 : 1,
  ]);
  try {
    ctx.par('gemm_run', [p], out.size * k);
  } finally {
    ctx.free(packA);
  }
  return out.info;
}
