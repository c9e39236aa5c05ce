/**
 * What the GEMM-based kernels (conv2d, matmul) share: the blocking of the packed SIMD GEMM,
 * the per-thread scratch it works in, and the activation codes of its epilogue.
 *
 * @module
 */
import type { Activation } from '@kernelzoo/core';
import type { KernelContext } from '../context.js';

// GEMM blocking: K block (rows of a packed B block) and N block (its columns).
// The K block bounds the float32 partial sums kept in registers: blocks of more than 256
// terms measurably lose accuracy (1e-5 tolerance) and win little outside K ≥ 1024.
let KC = 256;
/** The N block: columns of one packed B block. */
export const NC = 240;
/** Rows of the GEMM's register block (A is packed in panels of MR rows). */
export const MR = 5;
/** Bytes of scratch per thread: a packed B block of up to 512 × NC floats, plus 256 bytes. */
export const SCRATCH_BYTES = 256 + 512 * NC * 4;

/** The fused activations, as the kernels number them. */
export const ACT: Record<Activation, number> = { linear: 0, relu: 1, sigmoid: 2 };

/** The K block: at most KC (≤ 512), the K blocks of one product as even as possible. */
export function kBlock(k: number): number {
  return Math.ceil(k / Math.ceil(k / KC));
}

/** @internal Tuning hook for the benchmark: the largest K block (at most 512). */
export function setKBlock(kc: number): void {
  KC = Math.max(16, Math.min(512, kc));
}

/** Per-thread scratch for the GEMM (grown when the thread count grows). */
export function gemmScratch(ctx: KernelContext): number {
  if (ctx.scratchThreads < ctx.threads) {
    ctx.free(ctx.scratch);
    ctx.scratch = ctx.alloc(SCRATCH_BYTES * ctx.threads, 'GEMM scratch');
    ctx.scratchThreads = ctx.threads;
  }
  return ctx.scratch;
}
