import { ENGINE } from '../engine.js';
import { fill } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';
import type { DType, Shape } from '../types.js';
import { SeededRandom } from '../util/random.js';
import { sizeFromShape } from '../util/shape.js';

let rng = new SeededRandom(0);
let withoutValues = 0;

/**
 * Seeds the generator that initialises new modules' parameters (like `torch.manual_seed`),
 * so freshly built networks are reproducible.
 */
export function manualSeed(seed: number): void {
  rng = new SeededRandom(seed);
}

/**
 * Builds modules without initial values: every parameter and buffer made while `build` runs is
 * a placeholder holding no memory (no random numbers drawn, nothing written to a backend), to
 * be replaced by `loadStateDict`. For networks built to receive published weights — the only
 * memory they take is the weights themselves. A placeholder left unloaded (a non-strict load)
 * makes the op that reads it throw, saying so. Seeded random initialisation (`manualSeed`)
 * stays what a plain `new` gives.
 *
 * @example
 * ```ts
 * const net = nn.withoutInit(() => new Bottleneck(256, 64)); // no parameter memory yet
 * net.loadStateDict(weights);
 * ```
 */
export function withoutInit<T>(build: () => T): T {
  withoutValues++;
  try {
    return build();
  } finally {
    withoutValues--;
  }
}

/**
 * A float32 tensor uniform in [-bound, bound) from the module-initialisation generator:
 * PyTorch's default initialisation of conv and linear layers uses bound = 1/√fanIn. Inside
 * {@link withoutInit}, a placeholder instead.
 * @internal
 */
export function initUniform(shape: Shape, bound: number): Tensor {
  if (withoutValues > 0) return ENGINE.placeholder(shape, 'float32');
  const a = new Float32Array(sizeFromShape(shape));
  for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-bound, bound);
  return ENGINE.makeTensor(a, shape, 'float32');
}

/**
 * A tensor filled with `value` for a module's initial state (BatchNorm's γ = 1, β = 0, running
 * statistics); inside {@link withoutInit}, a placeholder instead.
 * @internal
 */
export function initFill(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
  if (withoutValues > 0) return ENGINE.placeholder(shape, dtype);
  return fill(shape, value, dtype);
}
