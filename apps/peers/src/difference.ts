/**
 * How far a peer's output is from kernelzoo's, the one measure the replay tests and the
 * benchmark report.
 *
 * @module
 */

/**
 * max |theirs − ours| / max |ours|: the largest difference relative to the output's largest
 * magnitude. Infinity when the lengths differ or a value is NaN; an error when `ours` is all
 * zeros (there would be nothing to compare against).
 */
export function relativeDifference(ours: Float32Array, theirs: Float32Array): number {
  if (ours.length !== theirs.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  let largest = 0;
  for (let i = 0; i < ours.length; i++) {
    const d = Math.abs(theirs[i]! - ours[i]!);
    if (Number.isNaN(d)) return Number.POSITIVE_INFINITY;
    diff = Math.max(diff, d);
    largest = Math.max(largest, Math.abs(ours[i]!));
  }
  if (largest === 0) throw new Error('relativeDifference: kernelzoo output is all zeros');
  return diff / largest;
}

/**
 * The bounds the replay tests hold both peers to, relative to the output's largest magnitude:
 * they and kernelzoo are float32 implementations that sum in different orders, so they agree to
 * rounding — on small graphs of a few kernels, and on whole networks (dozens of layers of
 * accumulated rounding).
 */
export const REPLAY_TOLERANCE = { graph: 1e-4, network: 5e-4 } as const;
