// The networks and input of the PyTorch parity fixtures (parity.test.ts, write-weights.ts).
import { nn, randomNormal, type Tensor } from '@kernelzoo/core';
import type { ResNet } from '@kernelzoo/resnet';
import { sknet50, skresnet18, skresnet50 } from '@kernelzoo/sknet';

/** A network of the parity check: our constructor, timm's name, the seed of its weights. */
export interface ParityNetwork {
  readonly timm: string;
  readonly build: () => ResNet;
  readonly seed: number;
}

export const PARITY_NETWORKS: readonly ParityNetwork[] = [
  { timm: 'skresnet18', build: skresnet18, seed: 18 },
  { timm: 'skresnet50', build: skresnet50, seed: 50 },
  { timm: 'skresnext50_32x4d', build: sknet50, seed: 5032 },
];

export const PARITY_INPUT_SHAPE = [8, 3, 64, 64];
export const PARITY_INPUT_SEED = 1903;

/** The network with the weights our seeded generator gives it. */
export function seededNetwork(p: ParityNetwork): ResNet {
  nn.manualSeed(p.seed);
  return p.build();
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
