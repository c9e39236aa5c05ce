// The networks and input of the PyTorch parity fixtures (parity.test.ts, write-weights.ts).
import { nn, randomNormal, type Tensor } from '@kernelzoo/core';
import type { ResNet } from '@kernelzoo/resnet';

/**
 * A network of the parity check: timm's name, our constructor's name, the seed of its weights.
 * (The constructors come from the caller: the test imports the sources, write-weights.ts the
 * built package.)
 */
export interface ParityNetwork {
  readonly timm: string;
  readonly ours: 'skresnet18' | 'skresnet50' | 'sknet50';
  readonly seed: number;
}

export const PARITY_NETWORKS: readonly ParityNetwork[] = [
  { timm: 'skresnet18', ours: 'skresnet18', seed: 18 },
  { timm: 'skresnet50', ours: 'skresnet50', seed: 50 },
  { timm: 'skresnext50_32x4d', ours: 'sknet50', seed: 5032 },
];

export const PARITY_INPUT_SHAPE = [8, 3, 64, 64];
export const PARITY_INPUT_SEED = 1903;

/** The network with the weights our seeded generator gives it. */
export function seededNetwork(
  p: ParityNetwork,
  constructors: Record<ParityNetwork['ours'], () => ResNet>,
): ResNet {
  nn.manualSeed(p.seed);
  return constructors[p.ours]();
}

/** The parity input (also committed in the fixture, which the test uses). */
export function parityInput(): Tensor {
  return randomNormal(PARITY_INPUT_SHAPE, 0, 1, { seed: PARITY_INPUT_SEED });
}

/** Σ|w| over conv1.weight and fc.weight in float64: detects a change of the seeded generator. */
export function weightsChecksum(net: ResNet): number {
  const sd = net.stateDict();
  let s = 0;
  for (const k of ['conv1.weight', 'fc.weight']) for (const v of sd.get(k)!.dataSync()) s += Math.abs(v);
  return s;
}
