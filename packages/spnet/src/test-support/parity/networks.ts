// The modules, network and inputs of the PyTorch parity fixtures (parity.test.ts,
// parity.browser.test.ts, write-weights.ts, sliding.test.ts). The constructors come from the
// caller: the tests import the sources, write-weights.ts the built package.
import { nn, randomNormal, type Tensor } from '@kernelzoo/core';

/** What the parity cases are built from (the package's own exports). */
export interface ParityConstructors {
  readonly SPBlock: new (channels: number) => nn.Module;
  readonly StripPooling: new (inChannels: number) => nn.Module;
  readonly spnet50: (nclass: number, options: { aux: boolean }) => nn.Module;
}

/** One parity case: a module or network, its seed, and the shape of its input. */
export interface ParityCase {
  /** The fixture's name (`fixtures/<name>.safetensors`) and the input's key. */
  readonly name: 'spblock' | 'strip_pooling' | 'spnet50' | 'spnet50_small';
  /** `nn.manualSeed` before building: the weights. */
  readonly seed: number;
  /** The input's shape. */
  readonly input: readonly number[];
  /** The input's seed. */
  readonly inputSeed: number;
  /** Builds it. */
  readonly build: (c: ParityConstructors) => nn.Module;
  /** Module names whose float64 outputs the fixture holds (reference hooks, our capture). */
  readonly captured: readonly string[];
}

/** The classes of the parity network (the reference takes any `nclass`; few keep the fixture small). */
export const PARITY_NCLASS = 8;

export const PARITY_CASES: readonly ParityCase[] = [
  {
    name: 'spblock',
    seed: 14,
    input: [2, 16, 13, 17],
    inputSeed: 15,
    build: (c) => new c.SPBlock(16),
    captured: ['pool1', 'pool2'],
  },
  {
    name: 'strip_pooling',
    seed: 20,
    input: [2, 32, 23, 29],
    inputSeed: 21,
    build: (c) => new c.StripPooling(32),
    captured: ['pool1', 'pool2', 'pool3', 'pool4'],
  },
  {
    name: 'spnet50',
    seed: 2020,
    input: [1, 3, 97, 129],
    inputSeed: 2021,
    build: (c) => c.spnet50(PARITY_NCLASS, { aux: false }),
    captured: ['pretrained.layer2.3.spm', 'pretrained.layer2.3.spm.pool1', 'pretrained.layer2.3.spm.pool2'],
  },
  {
    // The same network at a smaller input (its own calibrated statistics): the gpujs run in
    // Chromium, where the 97×129 case takes minutes.
    name: 'spnet50_small',
    seed: 2020,
    input: [1, 3, 33, 41],
    inputSeed: 2022,
    build: (c) => c.spnet50(PARITY_NCLASS, { aux: false }),
    captured: ['pretrained.layer4.2.spm'],
  },
];

/** The case's module with our seeded weights (training mode, as constructed). */
export function seeded(p: ParityCase, c: ParityConstructors): nn.Module {
  nn.manualSeed(p.seed);
  return p.build(c);
}

/** The case's input (also committed in fixtures/input.safetensors, which the tests read). */
export function parityInput(p: ParityCase): Tensor {
  return randomNormal(p.input, 0, 1, { seed: p.inputSeed });
}

/** Σ|w| in float64 over every weight and bias: detects a change of the seeded generator. */
export function weightsChecksum(m: nn.Module): number {
  let s = 0;
  for (const [k, t] of m.stateDict())
    if (k.endsWith('weight') || k.endsWith('bias')) for (const v of t.dataSync()) s += Math.abs(v);
  return s;
}
