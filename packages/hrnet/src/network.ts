import { ArgumentError, checkInt, describeValue, nn, type Tensor } from '@kernelzoo/core';
import { BasicBlock, Bottleneck, projectionShortcut } from '@kernelzoo/resnet';
import { type BlockKind, expansionOf, type FuseUpsampling, HighResolutionModule } from './hr-module.js';

/** The first stage (`layer1`): one branch of residual blocks at 1/4 resolution. */
export interface Stage1Config {
  /** The block (`bottleneck` in every published HRNet). */
  readonly block: BlockKind;
  /** Number of blocks (4). */
  readonly blocks: number;
  /** `planes` of the blocks (64: the stage outputs 64 · expansion = 256 channels). */
  readonly channels: number;
}

/** One multi-resolution stage (`stage2`, `stage3`, …): the configs' `STAGEk` entries. */
export interface StageConfig {
  /** Number of {@link HighResolutionModule}s (`NUM_MODULES`). */
  readonly modules: number;
  /** The block of every branch (`BLOCK`). */
  readonly block: BlockKind;
  /** Blocks per branch (`NUM_BLOCKS`); its length is the number of branches. */
  readonly blocks: readonly number[];
  /** `planes` per branch (`NUM_CHANNELS`). */
  readonly channels: readonly number[];
}

/**
 * One HRNet definition: the configs' `MODEL.EXTRA` — every published size (pose W32/W48,
 * classification W18…W64, HRNetV2 segmentation) is one of these.
 */
export interface HRNetConfig {
  /** `layer1`. */
  readonly stage1: Stage1Config;
  /** `stage2`, `stage3`, … in order; each has at least as many branches as the one before. */
  readonly stages: readonly StageConfig[];
  /**
   * Whether the last module of the last stage outputs every branch (classification,
   * segmentation) or only the highest-resolution one (false: pose).
   */
  readonly multiScaleOutput: boolean;
  /** The fuse layers' upsampling (nearest for pose and classification, bilinear for segmentation). */
  readonly fuse: FuseUpsampling;
}

/** Options of {@link hrnetConfig}. */
export interface HRNetConfigOptions {
  /** Modules of stages 2, 3, 4. Default `[1, 4, 3]` (every published full-size HRNet). */
  readonly modules?: readonly [number, number, number];
  /** Blocks per branch in stages 2–4. Default 4. */
  readonly blocks?: number;
  /** Blocks of `layer1`. Default 4. */
  readonly stage1Blocks?: number;
  /** See {@link HRNetConfig.multiScaleOutput}. Default true. */
  readonly multiScaleOutput?: boolean;
  /** See {@link HRNetConfig.fuse}. Default `{ mode: 'nearest' }`. */
  readonly fuse?: FuseUpsampling;
}

/**
 * The standard HRNet of width `W` (the W in HRNet-W32): `layer1` of 4 Bottlenecks (64 planes),
 * then stages 2, 3, 4 of BasicBlocks with 2, 3, 4 branches of widths W, 2W, 4W, 8W, 1, 4 and 3
 * modules, 4 blocks per branch — the `experiments/*.yaml` of all three reference repositories.
 * @param width - W (18, 30, 32, 40, 44, 48, 64 published).
 * @param options - modules, blocks, multiScaleOutput, fuse.
 */
export function hrnetConfig(width: number, options: HRNetConfigOptions = {}): HRNetConfig {
  const op = 'hrnetConfig';
  checkInt(op, 'width', width, 1);
  const modules = options.modules ?? [1, 4, 3];
  if (!Array.isArray(modules) || modules.length !== 3)
    throw new ArgumentError(op, 'modules', 'modules of stages 2, 3, 4 ([1, 4, 3])', describeValue(modules));
  const blocks = checkInt(op, 'blocks', options.blocks ?? 4, 1);
  const widths = [width, 2 * width, 4 * width, 8 * width];
  return {
    stage1: {
      block: 'bottleneck',
      blocks: checkInt(op, 'stage1Blocks', options.stage1Blocks ?? 4, 1),
      channels: 64,
    },
    stages: modules.map((m, s) => ({
      modules: checkInt(op, `modules[${s}]`, m, 1),
      block: 'basic' as const,
      blocks: Array.from({ length: s + 2 }, () => blocks),
      channels: widths.slice(0, s + 2),
    })),
    multiScaleOutput: options.multiScaleOutput ?? true,
    fuse: options.fuse ?? { mode: 'nearest' },
  };
}

/**
 * A transition layer (`transition1`, `transition2`, …): from one stage's branches to the next
 * stage's. Slot `i` of an existing branch is a 3×3 stride-1 convolution + BatchNorm + ReLU
 * when its width changes (only `transition1.0`: 256 → W), else empty (the branch passes
 * through); slot `i` of a new branch is a chain of 3×3 stride-2 convolution + BatchNorm + ReLU
 * steps (`transitionK.i.s.{0,1}`) from the lowest-resolution branch.
 *
 * An existing branch's convolution reads that branch (HRNet-seg's rule; pose and
 * classification HRNet feed it the last branch instead — the same whenever the previous stage
 * had one branch, as for every convolution in the published configs).
 */
export class Transition extends nn.Module<[Tensor[]], Tensor[]> {
  /** Widths of the previous stage's branches. */
  readonly inChannels: readonly number[];
  /** Widths of the next stage's branches. */
  readonly outChannels: readonly number[];
  /** Slot per next-stage branch (children `0`, `1`, …): the branch's layers, or null where it passes through. */
  readonly layers: readonly (nn.Sequential | null)[];

  /**
   * @param inChannels - widths of the previous stage's branches.
   * @param outChannels - widths of the next stage's branches (at least as many).
   */
  constructor(inChannels: readonly number[], outChannels: readonly number[]) {
    super();
    const op = 'Transition';
    if (!Array.isArray(outChannels) || outChannels.length < inChannels.length)
      throw new ArgumentError(
        op,
        'outChannels',
        `at least ${inChannels.length} widths (one per branch)`,
        describeValue(outChannels),
      );
    this.inChannels = [...inChannels];
    this.outChannels = [...outChannels];
    const pre = inChannels.length;
    const conv3 = (cin: number, cout: number, stride: number) =>
      new nn.Sequential(
        new nn.Conv2d(cin, cout, 3, { stride, padding: 1, bias: false }),
        new nn.BatchNorm2d(cout),
        new nn.ReLU(),
      );
    const slots = outChannels.map((cout, i) => {
      if (i < pre) return cout !== inChannels[i] ? conv3(inChannels[i], cout, 1) : null;
      const steps: nn.Sequential[] = [];
      const cin = inChannels[pre - 1];
      for (let k = 0; k <= i - pre; k++) steps.push(conv3(cin, k === i - pre ? cout : cin, 2));
      return new nn.Sequential(...steps);
    });
    // The slots are this module's own children: keys `transitionK.<i>.*`.
    this.layers = slots;
    slots.forEach((m, i) => {
      this.registerModule(String(i), m);
    });
  }

  /** The previous stage's outputs → the next stage's inputs. */
  protected forward(ys: Tensor[]): Tensor[] {
    if (!Array.isArray(ys) || ys.length !== this.inChannels.length)
      throw new ArgumentError('Transition', 'ys', `${this.inChannels.length} tensors`, describeValue(ys));
    const pre = ys.length;
    return this.outChannels.map((_, i) => {
      const m = this.layers[i];
      if (!m) return ys[i];
      return m.call(i < pre ? ys[i] : ys[pre - 1]);
    });
  }
}

/**
 * A stage (`stage2`, `stage3`, …): its {@link HighResolutionModule}s under `0`, `1`, … run one
 * after another on the list of branches (the reference's `nn.Sequential` of modules).
 */
export class HRStage extends nn.Module<[Tensor[]], Tensor[]> {
  /** The modules, in order. */
  readonly modules: readonly HighResolutionModule[];

  /** @param modules - the stage's modules. */
  constructor(modules: readonly HighResolutionModule[]) {
    super();
    this.modules = [...modules];
    this.modules.forEach((m, i) => {
      this.registerModule(String(i), m);
    });
  }

  /** Branches in → branches out (one, for a single-scale last module). */
  protected forward(xs: Tensor[]): Tensor[] {
    let ys = xs;
    for (const m of this.modules) {
      const next = m.call(ys);
      // Free a module's outputs once the next module has run (they are its own tensors).
      if (ys !== xs) for (const t of ys) if (!next.includes(t)) t.dispose();
      ys = next;
    }
    return ys;
  }
}

/**
 * The HRNet backbone shared by the pose, classification and segmentation networks, with the
 * reference's names: the stem (`conv1`/`bn1`/`conv2`/`bn2`, two 3×3 stride-2 convolutions to
 * 1/4 resolution), `layer1`, then `transition1`, `stage2`, `transition2`, `stage3`, … Its
 * {@link HighResolutionNet.features} returns the last stage's branches; the task networks
 * register their heads after it, so their keys follow the backbone's as in the checkpoints.
 *
 * Every stream is a module output that `nn.captureFeatures` reads after a forward: `stage2`,
 * `stage3`, `stage4` (lists, one tensor per branch), `stage4.<m>` for each module, and
 * `stage4.<m>.branches.<b>` for one branch before fusion.
 */
export abstract class HighResolutionNet<Out = Tensor> extends nn.Module<[Tensor], Out> {
  /** The definition this network was built from. */
  readonly config: HRNetConfig;
  /** Stem: 3×3 stride-2 convolution 3 → 64. */
  readonly conv1: nn.Conv2d;
  /** BatchNorm after `conv1`. */
  readonly bn1: nn.BatchNorm2d;
  /** Stem: 3×3 stride-2 convolution 64 → 64. */
  readonly conv2: nn.Conv2d;
  /** BatchNorm after `conv2`. */
  readonly bn2: nn.BatchNorm2d;
  /** The stem's ReLU. */
  readonly relu: nn.ReLU;
  /** The first stage: residual blocks at 1/4 resolution. */
  readonly layer1: nn.Sequential;
  /** `transition1`, `transition2`, … (one before each multi-resolution stage). */
  readonly transitions: readonly Transition[];
  /** `stage2`, `stage3`, … */
  readonly stages: readonly HRStage[];
  /** Widths of the last stage's outputs. */
  readonly outChannels: readonly number[];

  /** @param config - the definition (see {@link hrnetConfig}). */
  constructor(config: HRNetConfig) {
    super();
    const op = 'HighResolutionNet';
    if (!config || !Array.isArray(config.stages) || config.stages.length === 0)
      throw new ArgumentError(op, 'config', 'an HRNetConfig with at least one stage', describeValue(config));
    this.config = config;
    this.conv1 = this.registerModule(
      'conv1',
      new nn.Conv2d(3, 64, 3, { stride: 2, padding: 1, bias: false }),
    );
    this.bn1 = this.registerModule('bn1', new nn.BatchNorm2d(64));
    this.conv2 = this.registerModule(
      'conv2',
      new nn.Conv2d(64, 64, 3, { stride: 2, padding: 1, bias: false }),
    );
    this.bn2 = this.registerModule('bn2', new nn.BatchNorm2d(64));
    this.relu = this.registerModule('relu', new nn.ReLU());

    const s1 = config.stage1;
    const Block1 = s1.block === 'basic' ? BasicBlock : Bottleneck;
    const out1 = s1.channels * expansionOf(s1.block);
    const layers: nn.AnyModule[] = [
      new Block1(64, s1.channels, { downsample: out1 !== 64 ? projectionShortcut(64, out1) : null }),
    ];
    for (let k = 1; k < checkInt(op, 'stage1.blocks', s1.blocks, 1); k++)
      layers.push(new Block1(out1, s1.channels));
    this.layer1 = this.registerModule('layer1', new nn.Sequential(...layers));

    let pre = [out1];
    const transitions: Transition[] = [];
    const stages: HRStage[] = [];
    config.stages.forEach((s: StageConfig, k: number) => {
      const widths = s.channels.map((c: number) => c * expansionOf(s.block));
      transitions.push(this.registerModule(`transition${k + 1}`, new Transition(pre, widths)));
      const last = k === config.stages.length - 1;
      const modules: HighResolutionModule[] = [];
      let inChannels: readonly number[] = widths;
      for (let m = 0; m < checkInt(op, `stages[${k}].modules`, s.modules, 1); m++) {
        const module = new HighResolutionModule({
          block: s.block,
          blocks: s.blocks,
          inChannels,
          channels: s.channels,
          multiScaleOutput: !(last && m === s.modules - 1) || config.multiScaleOutput,
          fuse: config.fuse,
        });
        modules.push(module);
        inChannels = module.outChannels;
      }
      stages.push(this.registerModule(`stage${k + 2}`, new HRStage(modules)));
      pre = [...inChannels];
    });
    this.transitions = transitions;
    this.stages = stages;
    this.outChannels = config.multiScaleOutput ? pre : [pre[0]];
    this.registerFusion('conv1', 'bn1', 'relu');
    this.registerFusion('conv2', 'bn2', 'relu');
  }

  /**
   * The backbone's forward: `[N, 3, H, W]` → the last stage's branches, `[N, C_i, H/2^(i+2),
   * W/2^(i+2)]` (only branch 0 when `config.multiScaleOutput` is false). Run it inside a module
   * call (the task networks' forwards do).
   */
  protected features(x: Tensor): Tensor[] {
    let y = this.relu.call(this.bn1.call(this.conv1.call(x)));
    y = this.relu.call(this.bn2.call(this.conv2.call(y)));
    let ys = [this.layer1.call(y)];
    for (let k = 0; k < this.stages.length; k++) ys = this.stages[k].call(this.transitions[k].call(ys));
    return ys;
  }
}
