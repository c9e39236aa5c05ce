import { ArgumentError } from '@kernelzoo/core';
import { VIRIDIS_HEX } from './viridis.js';

/** A colour as `[R, G, B]`, each an integer in 0–255. */
export type Rgb = readonly [number, number, number];

/** Checks that `c` is an {@link Rgb}; `op`/`arg` name the caller in the error. */
export function checkRgb(op: string, arg: string, c: Rgb): void {
  if (!Array.isArray(c) || c.length !== 3 || c.some((v) => !Number.isInteger(v) || v < 0 || v > 255))
    throw new ArgumentError(op, arg, '[R, G, B] with integers in 0–255', JSON.stringify(c));
}

function fromHex(hex: string): readonly Rgb[] {
  const out: Rgb[] = [];
  for (let i = 0; i < hex.length; i += 6)
    out.push([
      Number.parseInt(hex.slice(i, i + 2), 16),
      Number.parseInt(hex.slice(i + 2, i + 4), 16),
      Number.parseInt(hex.slice(i + 4, i + 6), 16),
    ]);
  return Object.freeze(out);
}

/**
 * matplotlib's perceptually uniform `viridis` colormap (van der Walt, Smith and Firing; CC0): its
 * 256 entries, each rounded to 8 bits, entry 0 (dark purple `[68, 1, 84]`) for the minimum and
 * entry 255 (yellow `[253, 231, 37]`) for the maximum. The 8-bit values are those
 * d3-scale-chromatic ships.
 */
export const VIRIDIS: readonly Rgb[] = fromHex(VIRIDIS_HEX);
