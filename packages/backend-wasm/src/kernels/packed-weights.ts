/**
 * Convolution weights held in a kernel's packed layout instead of their own.
 *
 * The GEMM reads a convolution's weights as MR-row panels (`pack_a`), the direct kernel
 * (grouped convolutions) as 4-row panels (`direct_pack_w`). Packing on every call would cost
 * time; keeping a packed copy beside the weights would cost a second copy of every
 * convolution's weights. So the first convolution over a weight buffer packs it and frees the
 * original: the buffer's record then holds only the packed form (rows padded with zeros to a
 * multiple of the panel's rows: at most rows − 1 more per group). Anything else that asks
 * for the buffer's address ({@link KernelContext.ptr}, a read) gets the original layout back,
 * unpacked exactly (the packing only moves values), and the packed form is dropped until the
 * next convolution packs it again; so is a convolution that wants the other layout.
 *
 * @module
 */
import type { KernelContext, PackedWeights, WasmDataId } from '../context.js';
import { MR } from './gemm.js';

/** Output channels of the direct kernel's panels (`asm/direct.ts`: four per vector lane). */
export const DIRECT_ROWS = 4;

/**
 * The packed weights of a convolution (`groups` blocks of `m × k`, in panels of `rows` output
 * channels and K blocks of `kc`; `ptr` their byte address), packing the buffer `id` on the
 * first call, when it also notes whether they are all finite. `rows`: {@link MR} for the GEMM
 * (`pack_a`), {@link DIRECT_ROWS} for the direct kernel (`direct_pack_w`, `kc` = `k`).
 * `keepOriginal`: keep the original layout too (when the same buffer is also another input of
 * the call).
 */
export function packedWeights(
  ctx: KernelContext,
  id: WasmDataId,
  groups: number,
  m: number,
  k: number,
  kc: number,
  rows: number,
  keepOriginal: boolean,
): PackedWeights {
  const held = id.packed;
  if (held !== null && held.rows === rows && held.kc === kc && held.m === m && held.groups === groups)
    return held;
  const wp = ctx.original(id, 'conv2d');
  // A form packed for another kernel, beside a kept original: dropped.
  if (id.packed !== null) ctx.free(id.packed.ptr);
  id.packed = null;
  const mp = Math.ceil(m / rows) * rows;
  const ptr = ctx.alloc(groups * mp * k * 4, 'packed conv2d weights', true);
  if (rows === DIRECT_ROWS) ctx.exports.direct_pack_w(wp, ptr, groups * m, groups, k);
  else
    for (let g = 0; g < groups; g++)
      ctx.exports.pack_a(wp + g * m * k * 4, k, 1, m, k, kc, ptr + g * mp * k * 4);
  const packed = { ptr, rows, kc, m, groups, finite: ctx.exports.all_finite(ptr, groups * mp * k) === 1 };
  id.packed = packed;
  if (!keepOriginal) {
    ctx.free(wp);
    id.ptr = 0;
  }
  return packed;
}

/**
 * Writes the original layout of packed weights (`size` floats) into `dst` from element `at`:
 * the inverse of `pack_a` (or `direct_pack_w`) over each group, dropping the padding rows.
 * `memory` is the wasm memory as float32 (`dst` may be it or any other array).
 */
export function unpackWeights(
  memory: Float32Array,
  packed: PackedWeights,
  size: number,
  dst: Float32Array,
  at: number,
): void {
  const { ptr, rows, kc: kcBlock, m, groups } = packed;
  const k = size / (groups * m);
  const mp = Math.ceil(m / rows) * rows;
  for (let g = 0; g < groups; g++) {
    const src = (ptr >>> 2) + g * mp * k;
    const out = at + g * m * k;
    for (let pc = 0; pc < k; pc += kcBlock) {
      const kc = Math.min(kcBlock, k - pc);
      for (let i = 0; i < m; i++) {
        const r = i % rows;
        const from = src + pc * mp + (i - r) * kc + r;
        const to = out + i * k + pc;
        for (let q = 0; q < kc; q++) dst[to + q] = memory[from + q * rows];
      }
    }
  }
}
