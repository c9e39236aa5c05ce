import { ENGINE } from '../engine.js';
import type { Tensor } from '../tensor.js';
import type { Shape } from '../types.js';
import { SeededRandom } from '../util/random.js';
import { sizeFromShape } from '../util/shape.js';

let rng = new SeededRandom(0);

/**
 * Seeds the generator that initialises new modules' parameters (like `torch.manual_seed`),
 * so freshly built networks are reproducible.
 */
export function manualSeed(seed: number): void {
  rng = new SeededRandom(seed);
}

/**
 * A float32 tensor uniform in [-bound, bound) from the module-initialisation generator:
 * PyTorch's default initialisation of conv and linear layers uses bound = 1/√fanIn.
 * @internal
 */
export function initUniform(shape: Shape, bound: number): Tensor {
  const a = new Float32Array(sizeFromShape(shape));
  for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-bound, bound);
  return ENGINE.makeTensor(a, shape, 'float32');
}
