/**
 * Helpers for model packages' tests: non-trivial BatchNorm statistics so that folding is
 * exercised, and the comparison of a fused output with an unfused one.
 *
 * @module
 */
import { nn, SeededRandom, type Tensor, tensor, tidy } from '@kernelzoo/core';

/**
 * Gives every `BatchNorm2d` of `module` seeded non-trivial statistics and affine parameters
 * (γ in [0.5, 1.5]·gain, β, μ in [−0.2, 0.2], σ² in [0.5, 2]), so folding them into the
 * convolutions is actually exercised. Equal seeds give equal values on every backend.
 */
export function randomizeBatchNorms(module: nn.Module, seed: number, gain = 1): void {
  const rng = new SeededRandom(seed);
  const u = (n: number, lo: number, hi: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = rng.uniform(lo, hi);
    return a;
  };
  tidy(() => {
    const dict = new Map<string, Tensor>();
    for (const [name, m] of module.namedModules()) {
      if (!(m instanceof nn.BatchNorm2d)) continue;
      const c = m.numFeatures;
      const p = name ? `${name}.` : '';
      dict.set(`${p}weight`, tensor(u(c, 0.5 * gain, 1.5 * gain), [c]));
      dict.set(`${p}bias`, tensor(u(c, -0.2, 0.2), [c]));
      dict.set(`${p}running_mean`, tensor(u(c, -0.2, 0.2), [c]));
      dict.set(`${p}running_var`, tensor(u(c, 0.5, 2), [c]));
    }
    module.loadStateDict(dict, { strict: false });
  });
}

/** What {@link maxDifference} measures. */
export interface MaxDifference {
  /** The largest `|a − b|`. */
  readonly maxDiff: number;
  /** The largest `|b|` (the scale to judge `maxDiff` against). */
  readonly maxRef: number;
}

/** The largest `|a − b|` and the largest `|b|` over two tensors of the same size. */
export function maxDifference(a: Tensor, b: Tensor): MaxDifference {
  const x = a.dataSync();
  const y = b.dataSync();
  if (x.length !== y.length) throw new Error(`maxDifference: ${x.length} vs ${y.length} values`);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < x.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(x[i] - y[i]));
    maxRef = Math.max(maxRef, Math.abs(y[i]));
  }
  return { maxDiff, maxRef };
}
