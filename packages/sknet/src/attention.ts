import { ArgumentError, describeValue, KernelzooError, nn, type Tensor } from '@kernelzoo/core';
import { SelectiveKernel } from './selective-kernel.js';

/** One SK unit's selection attention, read after a forward. */
export interface SKUnitAttention {
  /** The unit's module path, e.g. `layer2.0.conv2`. */
  readonly name: string;
  /** Its stage: 0 for `layer1` … 3 for `layer4` (−1 when the path names no `layerN`). */
  readonly stage: number;
  /** The block's index within its stage (−1 when unknown). */
  readonly block: number;
  /** The attention `[N, M, C]` (softmax over the M branches); the caller owns it. */
  readonly attention: Tensor;
}

/** What {@link readAttention} returns. */
export interface AttentionReadout {
  /** The network's output for the input. */
  readonly output: Tensor;
  /** Every SK unit's attention, in call order. */
  readonly units: SKUnitAttention[];
  /** Frees the output and every attention tensor. */
  dispose(): void;
}

/** The module paths of every {@link SelectiveKernel} unit of `net`, in registration order. */
export function skUnitNames(net: nn.Module): string[] {
  return net
    .namedModules()
    .filter(([, m]) => m instanceof SelectiveKernel)
    .map(([n]) => n);
}

/**
 * Runs `net` on `x` and reads the selection attention of every SK unit (the output of each
 * unit's `attn.softmax`, by feature capture): unit × branch × channel, as `[N, M, C]` per unit.
 * Fusion is unaffected (the softmax is in no fused chain).
 * @param net - a network holding {@link SelectiveKernel} units (e.g. `sknet50()`).
 * @param x - its input.
 */
export function readAttention(net: nn.Module, x: Tensor): AttentionReadout {
  const names = skUnitNames(net);
  if (names.length === 0)
    throw new ArgumentError('readAttention', 'net', 'a module with SelectiveKernel units', net.typeName);
  const keys = names.map((n) => (n ? `${n}.attn.softmax` : 'attn.softmax'));
  const [output, features] = nn.captureFeatures(net, keys, () => net.call(x));
  try {
    const units = names.map((name, i) => {
      const m = /(?:^|\.)layer(\d+)\.(\d+)(?:\.|$)/.exec(name);
      return {
        name,
        stage: m ? Number(m[1]) - 1 : -1,
        block: m ? Number(m[2]) : -1,
        attention: features.take(keys[i]),
      };
    });
    return {
      output,
      units,
      dispose() {
        output.dispose();
        for (const u of units) u.attention.dispose();
      },
    };
  } finally {
    features.dispose();
  }
}

/** One unit's line in an {@link AttentionSummary}. */
export interface UnitAttentionDifference {
  /** The unit's module path. */
  readonly name: string;
  /** The block's index within its stage. */
  readonly block: number;
  /** Mean over samples and channels of `a_last − a_first` (larger kernel minus smaller). */
  readonly meanDifference: number;
  /** Per channel, mean over samples of `a_last − a_first`, `C` values. */
  readonly perChannel: Float64Array;
}

/** A stage's line in what {@link summariseAttention} returns. */
export interface AttentionSummary {
  /** The stage: 0 for `layer1` … 3 for `layer4`. */
  readonly stage: number;
  /** Its units, in order. */
  readonly units: readonly UnitAttentionDifference[];
  /** The mean of the units' `meanDifference`. */
  readonly meanDifference: number;
}

/**
 * Summarises {@link readAttention}'s units per stage as the paper's Figure 3 does: the mean
 * attention on the larger kernel (the last branch: the dilated 3×3 standing for 5×5) minus the
 * smaller (the first), per channel and averaged over channels (and over the batch), for every
 * unit and for the stage. Positive means the unit leans on the larger receptive field.
 * @param units - the units read by {@link readAttention}.
 */
export function summariseAttention(units: readonly SKUnitAttention[]): AttentionSummary[] {
  if (!Array.isArray(units))
    throw new ArgumentError(
      'summariseAttention',
      'units',
      'the units of readAttention',
      describeValue(units),
    );
  const stages = new Map<number, UnitAttentionDifference[]>();
  for (const u of units) {
    const [n, m, c] = u.attention.shape;
    if (u.attention.shape.length !== 3 || m < 2)
      throw new KernelzooError(
        `summariseAttention: '${u.name}' has attention ${u.attention.shape}, not [N, M ≥ 2, C]`,
      );
    const a = u.attention.dataSync();
    const perChannel = new Float64Array(c);
    for (let b = 0; b < n; b++)
      for (let ch = 0; ch < c; ch++) perChannel[ch] += (a[(b * m + m - 1) * c + ch] - a[b * m * c + ch]) / n;
    const meanDifference = perChannel.reduce((s, v) => s + v, 0) / c;
    const list = stages.get(u.stage) ?? [];
    list.push({ name: u.name, block: u.block, meanDifference, perChannel });
    stages.set(u.stage, list);
  }
  return [...stages.entries()]
    .sort(([a], [b]) => a - b)
    .map(([stage, list]) => ({
      stage,
      units: list,
      meanDifference: list.reduce((s, u) => s + u.meanDifference, 0) / list.length,
    }));
}
