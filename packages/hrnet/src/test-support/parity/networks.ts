// The cases and inputs of the PyTorch parity fixtures (parity.test.ts, parity.browser.test.ts,
// write-weights.ts). reference.py builds the same cases from the reference repositories.
import { nn, randomNormal, type Tensor } from '@kernelzoo/core';
import type {
  ClsHighResolutionNet,
  HighResolutionModule,
  HighResolutionModuleOptions,
  PoseHighResolutionNet,
  SegHighResolutionNet,
} from '../../index.js';

/** A case of the parity check: its fixture name (the reference's model), the seed of its weights. */
export interface ParityCase {
  readonly name: 'hr_module' | 'pose_hrnet_w32' | 'cls_hrnet_w18' | 'seg_hrnet_w48';
  readonly seed: number;
}

export const PARITY_CASES: readonly ParityCase[] = [
  { name: 'hr_module', seed: 3 },
  { name: 'pose_hrnet_w32', seed: 32 },
  { name: 'cls_hrnet_w18', seed: 18 },
  { name: 'seg_hrnet_w48', seed: 48 },
];

/**
 * The HighResolutionModule case: 3 branches of BasicBlocks, nearest fuse upsampling (pose
 * HRNet's), multi-scale output; branch 2 widens 24 → 32 so its first block projects (the
 * reference's `branches.2.0.downsample`). reference.py's MODULE_* constants.
 */
export const MODULE_OPTIONS: HighResolutionModuleOptions = {
  block: 'basic',
  blocks: [2, 2, 2],
  inChannels: [8, 16, 24],
  channels: [8, 16, 32],
  multiScaleOutput: true,
  fuse: { mode: 'nearest' },
};

/**
 * The parity inputs by fixture key: the module's three branch inputs (batch 2), pose W32 and
 * cls W18 at 64×64 (sizes divisible by 32, as their nearest fuse upsampling needs), seg W48 at
 * 72×120 (its low branches are 5×8 and 3×4: the exact-size bilinear fusion off the
 * power-of-two grid).
 */
export const PARITY_INPUTS: Readonly<Record<string, readonly number[]>> = {
  'hr_module.0': [2, 8, 16, 16],
  'hr_module.1': [2, 16, 8, 8],
  'hr_module.2': [2, 24, 4, 4],
  pose_hrnet_w32: [1, 3, 64, 64],
  cls_hrnet_w18: [1, 3, 64, 64],
  seg_hrnet_w48: [1, 3, 72, 120],
};
export const PARITY_INPUT_SEED = 1902;

/** The constructors of the cases (the test passes the sources', write-weights.ts the built package's). */
export interface ParityConstructors {
  readonly HighResolutionModule: new (options: HighResolutionModuleOptions) => HighResolutionModule;
  readonly hrnet_w32_pose: () => PoseHighResolutionNet;
  readonly hrnet_w18_cls: () => ClsHighResolutionNet;
  readonly hrnet_w48_seg: () => SegHighResolutionNet;
}

/** A network of a parity case. */
export type ParityNetwork =
  | HighResolutionModule
  | PoseHighResolutionNet
  | ClsHighResolutionNet
  | SegHighResolutionNet;

/** The case's network with the weights core's seeded generator gives it. */
export function seededNetwork(c: ParityCase, k: ParityConstructors): ParityNetwork {
  nn.manualSeed(c.seed);
  switch (c.name) {
    case 'hr_module':
      return new k.HighResolutionModule(MODULE_OPTIONS);
    case 'pose_hrnet_w32':
      return k.hrnet_w32_pose();
    case 'cls_hrnet_w18':
      return k.hrnet_w18_cls();
    case 'seg_hrnet_w48':
      return k.hrnet_w48_seg();
  }
}

/** The parity inputs (also committed in the fixture, which the tests use), by fixture key. */
export function parityInputs(): Map<string, Tensor> {
  return new Map(
    Object.entries(PARITY_INPUTS).map(([key, shape], i) => [
      key,
      randomNormal([...shape], 0, 1, { seed: PARITY_INPUT_SEED + i }),
    ]),
  );
}

/**
 * Σ|w| in float64 over the state-dict entries `keys` (reference.py records which: the
 * reference's first and last convolution weights): detects a change of the seeded generator.
 */
export function weightsChecksum(net: ParityNetwork, keys: readonly string[]): number {
  const sd = net.stateDict();
  let s = 0;
  for (const k of keys) {
    const t = sd.get(k);
    if (t === undefined) throw new Error(`parity: the network has no ${k}`);
    for (const v of t.dataSync()) s += Math.abs(v);
  }
  return s;
}
