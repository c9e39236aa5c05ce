import {
  ArgumentError,
  add,
  checkInt,
  describeValue,
  formatShape,
  interpolate,
  KernelzooError,
  nn,
  type Tensor,
} from '@kernelzoo/core';
import { BasicBlock, Bottleneck, projectionShortcut } from '@kernelzoo/resnet';

/** The residual block of a branch: `basic` (`BasicBlock`) or `bottleneck` (`Bottleneck`), as the configs' `BASIC` / `BOTTLENECK`. */
export type BlockKind = 'basic' | 'bottleneck';

/** Output channels per `planes` of a block kind (1 for `basic`, 4 for `bottleneck`). */
export function expansionOf(block: BlockKind): number {
  return block === 'basic' ? BasicBlock.expansion : Bottleneck.expansion;
}

/**
 * How a lower-resolution branch is brought up to a higher one in the fuse layers (after its 1×1
 * convolution and BatchNorm):
 * - `nearest` — pose and classification HRNet: `nn.Upsample(scale_factor=2^(j−i), mode='nearest')`,
 *   the third entry of the fuse `Sequential` (no keys). The input's height and width must then
 *   be divisible by 32 (as in the reference, where other sizes fail at the sum).
 * - `bilinear` — HRNetV2 segmentation: `F.interpolate(…, size=<the target branch's size>,
 *   mode='bilinear', align_corners)` outside the `Sequential`; any input size works.
 */
export type FuseUpsampling =
  | {
      /** Nearest ×2^(j−i) (`nn.Upsample`). */
      readonly mode: 'nearest';
    }
  | {
      /** Bilinear to the target branch's exact size (`F.interpolate`). */
      readonly mode: 'bilinear';
      /** PyTorch's `align_corners` (the config's `MODEL.ALIGN_CORNERS`). Default false. */
      readonly alignCorners?: boolean;
    };

/**
 * PyTorch's `nn.ModuleList` with empty slots: modules under `0`, `1`, …, where a `null` slot
 * (the reference's `None`) holds no keys but keeps its index — HRNet's transitions
 * (`transition2.2.0.0.weight`, slots 0 and 1 empty) and fuse layers (slot `i` of
 * `fuse_layers.i` is empty). Its owner decides how to call the modules.
 */
export class ModuleSlots<M extends nn.AnyModule = nn.AnyModule> extends nn.Module<[], never> {
  private readonly slots: (M | null)[];

  /** @param slots - the modules (or null), in index order. */
  constructor(slots: readonly (M | null)[]) {
    super();
    this.slots = [...slots];
    this.slots.forEach((m, i) => {
      this.registerModule(String(i), m);
    });
  }

  /** The number of slots, empty ones included. */
  get length(): number {
    return this.slots.length;
  }

  /** The module in slot `index`, or null for an empty slot. */
  at(index: number): M | null {
    if (!Number.isInteger(index) || index < 0 || index >= this.slots.length)
      throw new KernelzooError(`ModuleSlots: no slot ${index} (it has ${this.slots.length})`);
    return this.slots[index];
  }

  /** Not callable; its owner calls the modules. */
  protected forward(): never {
    throw new KernelzooError('ModuleSlots is not callable; call its modules (slots.at(i))');
  }
}

/** Options of {@link HighResolutionModule}. */
export interface HighResolutionModuleOptions {
  /** The residual block of every branch. */
  readonly block: BlockKind;
  /** Blocks per branch (one entry per branch). */
  readonly blocks: readonly number[];
  /** Input channels per branch. */
  readonly inChannels: readonly number[];
  /** `planes` of each branch's blocks; a branch outputs `channels[i] · expansion` channels. */
  readonly channels: readonly number[];
  /**
   * Whether the module outputs every branch (true, default) or only the highest-resolution one
   * (false: the last module of pose HRNet, which then holds only `fuse_layers.0`).
   */
  readonly multiScaleOutput?: boolean;
  /** Upsampling of the fuse layers. Default `{ mode: 'nearest' }`. */
  readonly fuse?: FuseUpsampling;
}

/**
 * HRNet's multi-resolution module (`HighResolutionModule` of the reference repositories): each
 * branch runs its residual blocks (`branches.i.k`, `BasicBlock` or `Bottleneck` of
 * `@kernelzoo/resnet`), then every output `i` sums all branches brought to branch `i`'s
 * resolution and width, followed by ReLU:
 * - `j > i`: `fuse_layers.i.j` = 1×1 convolution (no bias) + BatchNorm, then upsampling
 *   ({@link FuseUpsampling}: nearest ×2^(j−i), or bilinear to the exact size);
 * - `j = i`: the branch itself (`fuse_layers.i.i` is an empty slot);
 * - `j < i`: `fuse_layers.i.j.k` (k = 0 … i−j−1) = 3×3 stride-2 convolution (no bias) +
 *   BatchNorm, with ReLU on all but the last; all keep branch `j`'s width but the last, which
 *   maps to branch `i`'s.
 *
 * The sum runs in the reference's order (`x[0]` first, then `j = 1, 2, …`). Called with a list
 * of one tensor per branch, it returns one tensor per output (all branches, or only branch 0
 * when `multiScaleOutput` is false). A single-branch module runs its branch only, as the
 * reference. In eval mode every Conv2d → BatchNorm (→ ReLU) runs as one kernel.
 *
 * ```ts
 * const m = new HighResolutionModule({ block: 'basic', blocks: [4, 4, 4], inChannels: [32, 64, 128], channels: [32, 64, 128] });
 * const [y0, y1, y2] = m.call([x0, x1, x2]); // [N,32,H,W], [N,64,H/2,W/2], [N,128,H/4,W/4]
 * ```
 */
export class HighResolutionModule extends nn.Module<[Tensor[]], Tensor[]> {
  /** Number of branches. */
  readonly numBranches: number;
  /** The block of every branch. */
  readonly block: BlockKind;
  /** Input channels per branch. */
  readonly inChannels: readonly number[];
  /** Output channels per branch (`channels[i] · expansion`). */
  readonly outChannels: readonly number[];
  /** Whether every branch is output (else only branch 0). */
  readonly multiScaleOutput: boolean;
  /** The fuse layers' upsampling. */
  readonly fuse: FuseUpsampling;
  /** `branches.i`: one `Sequential` of residual blocks per branch. */
  readonly branches: nn.ModuleList<nn.Sequential>;
  /**
   * `fuse_layers.i.j`: one {@link ModuleSlots} per output (slot `i` empty), or null for a
   * single-branch module (which has no fuse layers).
   */
  readonly fuseLayers: nn.ModuleList<ModuleSlots<nn.Sequential>> | null;
  /** The ReLU after each sum. */
  readonly relu: nn.ReLU;

  /** @param options - block, blocks, inChannels, channels, multiScaleOutput, fuse. */
  constructor(options: HighResolutionModuleOptions) {
    super();
    const op = 'HighResolutionModule';
    const { block, blocks, inChannels, channels } = options;
    if (block !== 'basic' && block !== 'bottleneck')
      throw new ArgumentError(op, 'block', "'basic' or 'bottleneck'", describeValue(block));
    if (!Array.isArray(blocks) || blocks.length === 0)
      throw new ArgumentError(op, 'blocks', 'one block count per branch (≥ 1 branch)', describeValue(blocks));
    const n = blocks.length;
    // The reference's _check_branches: every list has one entry per branch.
    for (const [name, list] of [
      ['inChannels', inChannels],
      ['channels', channels],
    ] as const)
      if (!Array.isArray(list) || list.length !== n)
        throw new ArgumentError(op, name, `${n} entries (one per branch, as blocks)`, describeValue(list));
    blocks.forEach((b, i) => {
      checkInt(op, `blocks[${i}]`, b, 1);
    });
    inChannels.forEach((c, i) => {
      checkInt(op, `inChannels[${i}]`, c, 1);
    });
    channels.forEach((c, i) => {
      checkInt(op, `channels[${i}]`, c, 1);
    });
    const fuse = options.fuse ?? { mode: 'nearest' };
    if (fuse?.mode !== 'nearest' && fuse?.mode !== 'bilinear')
      throw new ArgumentError(op, 'fuse', "{ mode: 'nearest' } or { mode: 'bilinear' }", describeValue(fuse));
    this.numBranches = n;
    this.block = block;
    this.inChannels = [...inChannels];
    this.multiScaleOutput = options.multiScaleOutput ?? true;
    this.fuse = fuse;

    const expansion = expansionOf(block);
    const Block = block === 'basic' ? BasicBlock : Bottleneck;
    const out = channels.map((c) => c * expansion);
    this.outChannels = out;
    this.branches = this.registerModule(
      'branches',
      new nn.ModuleList(
        blocks.map((count, i) => {
          const layers: nn.AnyModule[] = [];
          // The first block projects when the width changes (the reference's
          // _make_one_branch, stride 1); none of the published configs needs it.
          const downsample = inChannels[i] !== out[i] ? projectionShortcut(inChannels[i], out[i]) : null;
          layers.push(new Block(inChannels[i], channels[i], { downsample }));
          for (let k = 1; k < count; k++) layers.push(new Block(out[i], channels[i]));
          return new nn.Sequential(...layers);
        }),
      ),
    );
    this.fuseLayers =
      n === 1
        ? null
        : this.registerModule(
            'fuse_layers',
            new nn.ModuleList(
              Array.from(
                { length: this.multiScaleOutput ? n : 1 },
                (_, i) =>
                  new ModuleSlots(
                    Array.from({ length: n }, (_, j) => makeFuse(out, i, j, fuse.mode === 'nearest')),
                  ),
              ),
            ),
          );
    this.relu = this.registerModule('relu', new nn.ReLU());
  }

  /** One tensor per branch (`[N, inChannels[i], H/2^i, W/2^i]`) → one per output. */
  protected forward(xs: Tensor[]): Tensor[] {
    const op = 'HighResolutionModule';
    if (!Array.isArray(xs) || xs.length !== this.numBranches)
      throw new ArgumentError(op, 'xs', `${this.numBranches} tensors (one per branch)`, describeValue(xs));
    const x = xs.map((t, i) => {
      if (t.rank !== 4 || t.shape[1] !== this.inChannels[i])
        throw new ArgumentError(op, `xs[${i}]`, `[N, ${this.inChannels[i]}, H, W]`, formatShape(t.shape));
      return this.branches.at(i).call(t);
    });
    if (!this.fuseLayers) return x;
    const outputs: Tensor[] = [];
    for (let i = 0; i < this.fuseLayers.length; i++) {
      const layer = this.fuseLayers.at(i);
      let y = i === 0 ? x[0] : this.fused(layer, i, 0, x);
      for (let j = 1; j < this.numBranches - 1; j++) y = add(y, i === j ? x[j] : this.fused(layer, i, j, x));
      // The last term's sum and the ReLU after it: one kernel in eval mode.
      const last = this.numBranches - 1;
      outputs.push(nn.residualSum(this, y, i === last ? x[last] : this.fused(layer, i, last, x), this.relu));
    }
    return outputs;
  }

  /** Branch `j` through `fuse_layers.i.j`, at branch `i`'s resolution. */
  private fused(layer: ModuleSlots<nn.Sequential>, i: number, j: number, x: Tensor[]): Tensor {
    const y = layer.at(j)!.call(x[j]);
    const [, , h, w] = x[i].shape;
    if (j > i && this.fuse.mode === 'bilinear')
      return interpolate(y, {
        size: [h, w],
        mode: 'bilinear',
        alignCorners: this.fuse.alignCorners ?? false,
      });
    if (y.shape[2] !== h || y.shape[3] !== w)
      throw new ArgumentError(
        'HighResolutionModule',
        'input size',
        `branch sizes that halve exactly (network input height and width divisible by 32 with nearest fuse upsampling)`,
        `branch ${j} brought to ${y.shape[2]}×${y.shape[3]} for branch ${i} of ${h}×${w}`,
      );
    return y;
  }
}

/** `fuse_layers.i.j` as the reference builds it (null for j = i). */
function makeFuse(out: readonly number[], i: number, j: number, nearest: boolean): nn.Sequential | null {
  if (j === i) return null;
  if (j > i) {
    const layers: nn.AnyModule[] = [
      new nn.Conv2d(out[j], out[i], 1, { bias: false }),
      new nn.BatchNorm2d(out[i]),
    ];
    if (nearest) layers.push(new nn.Upsample({ scaleFactor: 2 ** (j - i), mode: 'nearest' }));
    return new nn.Sequential(...layers);
  }
  const steps: nn.Sequential[] = [];
  for (let k = 0; k < i - j; k++) {
    const last = k === i - j - 1;
    const conv = new nn.Conv2d(out[j], last ? out[i] : out[j], 3, { stride: 2, padding: 1, bias: false });
    const bn = new nn.BatchNorm2d(last ? out[i] : out[j]);
    steps.push(last ? new nn.Sequential(conv, bn) : new nn.Sequential(conv, bn, new nn.ReLU()));
  }
  return new nn.Sequential(...steps);
}
