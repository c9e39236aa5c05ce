import { ArgumentError, checkInt, checkShape, interpolate, nn, reshape, type Tensor } from '@kernelzoo/core';
import {
  dilatedResNet50,
  dilatedResNet101,
  type GateOptions,
  type GateSpec,
  type ResNet,
} from '@kernelzoo/resnet';
import { SPBlock } from './spblock.js';
import { StripPooling } from './strip-pooling.js';

/**
 * PyTorch's `nn.Dropout2d` at inference: the identity. It holds no parameters; it is here so
 * the layers after it keep the reference's `Sequential` indices (`score_layer.4`,
 * `auxlayer.conv5.4`).
 */
export class Dropout2d extends nn.Module {
  /** @param p - the training-time drop probability (unused at inference). */
  constructor(readonly p = 0.5) {
    super();
  }

  /** Returns `x` unchanged (a new handle on the same data). */
  protected forward(x: Tensor): Tensor {
    return reshape(x, x.shape);
  }
}

/**
 * SPNet's placement of the strip pooling module (`_make_layer` in `models/resnet.py` with
 * `spm_on=True`): the first block of a stage gets one only when `planes === 512`; a later block
 * when it is the stage's last or `planes === 512`. ResNet-50: `layer1.2`, `layer2.3`,
 * `layer3.5`, `layer4.0/1/2`; ResNet-101: `layer1.2`, `layer2.3`, `layer3.22`, `layer4.0/1/2`.
 */
export function spmPlacement(planes: number, index: number, blocks: number): boolean {
  return index === 0 ? planes === 512 : index === blocks - 1 || planes === 512;
}

/**
 * The backbone gate of SPNet for `@kernelzoo/resnet`'s block extension point: an
 * {@link SPBlock} named `spm` at {@link spmPlacement}'s blocks.
 */
export const SPM_GATE: GateOptions = {
  name: 'spm',
  create: ({ channels, planes, position: p }: GateSpec) =>
    spmPlacement(planes, p.index, p.blocks) ? new SPBlock(channels) : null,
};

/** SPNet's backbone depths. */
export type SPNetDepth = 50 | 101;

/**
 * SPNet's backbone: PyTorch-Encoding's dilated ResNet-50/101 (deep stem, output stride 8,
 * multi-grid dilations 4, 8, 16 in `layer4`, no classifier) with the strip pooling module as
 * the `spm` gate at SPNet's placement ({@link SPM_GATE}). Keys are the checkpoints'
 * `module.pretrained.*` without that prefix.
 */
export function spnetBackbone(depth: SPNetDepth): ResNet {
  const options = { multiGrid: [4, 8, 16], extensions: { gate: SPM_GATE } };
  if (depth === 50) return dilatedResNet50(options);
  if (depth === 101) return dilatedResNet101(options);
  throw new ArgumentError('spnetBackbone', 'depth', '50 or 101', String(depth));
}

/**
 * SPNet's segmentation head (`SPHead` in `models/spnet.py`), for the backbone's `layer4` output:
 * `trans_layer` (1×1 `in → in/2` + BN + ReLU), `strip_pool1` and `strip_pool2` (two
 * {@link StripPooling} modules with pools 20 and 12), `score_layer` (3×3 `in/2 → in/4` + BN +
 * ReLU + Dropout2d(0.1) + 1×1 `in/4 → nclass` with bias, keys `.0`, `.1`, `.4`).
 */
export class SPHead extends nn.Module {
  /** 1×1 `in → in/2` + BN + ReLU. */
  readonly trans_layer: nn.Sequential;
  /** The first mixed pooling module. */
  readonly strip_pool1: StripPooling;
  /** The second mixed pooling module. */
  readonly strip_pool2: StripPooling;
  /** 3×3 + BN + ReLU + Dropout2d + 1×1 classifier. */
  readonly score_layer: nn.Sequential;

  /**
   * @param inChannels - the backbone's output channels (2048), a multiple of 8.
   * @param nclass - output classes.
   */
  constructor(
    readonly inChannels: number,
    readonly nclass: number,
  ) {
    super();
    checkInt('SPHead', 'inChannels', inChannels, 8);
    checkInt('SPHead', 'nclass', nclass, 1);
    const mid = Math.floor(inChannels / 2);
    const score = Math.floor(inChannels / 4);
    this.trans_layer = this.registerModule(
      'trans_layer',
      new nn.Sequential(
        new nn.Conv2d(inChannels, mid, 1, { bias: false }),
        new nn.BatchNorm2d(mid),
        new nn.ReLU(),
      ),
    );
    this.strip_pool1 = this.registerModule('strip_pool1', new StripPooling(mid, [20, 12]));
    this.strip_pool2 = this.registerModule('strip_pool2', new StripPooling(mid, [20, 12]));
    this.score_layer = this.registerModule(
      'score_layer',
      new nn.Sequential(
        new nn.Conv2d(mid, score, 3, { padding: 1, bias: false }),
        new nn.BatchNorm2d(score),
        new nn.ReLU(),
        new Dropout2d(0.1),
        new nn.Conv2d(score, nclass, 1),
      ),
    );
  }

  /** Logits `[N, nclass, H, W]` at the input's resolution. */
  protected forward(x: Tensor): Tensor {
    const t = this.trans_layer.call(x);
    return this.score_layer.call(this.strip_pool2.call(this.strip_pool1.call(t)));
  }
}

/**
 * The auxiliary head of SPNet (`FCNHead` of PyTorch-Encoding) on the backbone's `layer3`
 * output: `conv5` = 3×3 `in → in/4` + BN + ReLU + Dropout2d(0.1) + 1×1 `in/4 → nclass` with
 * bias (keys `conv5.0`, `conv5.1`, `conv5.4`). A training loss term only: {@link SPNet} builds
 * it when asked (so the checkpoints' `auxlayer.*` keys load) and never runs it at inference.
 */
export class FCNHead extends nn.Module {
  /** The head's layers. */
  readonly conv5: nn.Sequential;

  /**
   * @param inChannels - input channels (1024 for `layer3`), a multiple of 4.
   * @param nclass - output classes.
   */
  constructor(
    readonly inChannels: number,
    readonly nclass: number,
  ) {
    super();
    checkInt('FCNHead', 'inChannels', inChannels, 4);
    checkInt('FCNHead', 'nclass', nclass, 1);
    const inter = Math.floor(inChannels / 4);
    this.conv5 = this.registerModule(
      'conv5',
      new nn.Sequential(
        new nn.Conv2d(inChannels, inter, 3, { padding: 1, bias: false }),
        new nn.BatchNorm2d(inter),
        new nn.ReLU(),
        new Dropout2d(0.1),
        new nn.Conv2d(inter, nclass, 1),
      ),
    );
  }

  /** Logits `[N, nclass, H, W]` at the input's resolution. */
  protected forward(x: Tensor): Tensor {
    return this.conv5.call(x);
  }
}

/** Options of {@link SPNet}. */
export interface SPNetOptions {
  /** Output classes (150 for ADE20K, 19 for Cityscapes). */
  nclass: number;
  /** Backbone depth: 50 or 101. Default 101. */
  depth?: SPNetDepth;
  /**
   * Build the auxiliary {@link FCNHead} (`auxlayer.*`), as the reference does for training and
   * as its training checkpoints hold. It never runs in the forward. Default false: the
   * inference network, into which a training checkpoint still loads (its `auxlayer.*` keys are
   * dropped and reported, see {@link SPNet.loadStateDict}).
   */
  aux?: boolean;
}

/**
 * SPNet (`models/spnet.py`): the dilated ResNet backbone with strip pooling gates
 * (`pretrained`, {@link spnetBackbone}), {@link SPHead} on `layer4` (`head`) and, when asked,
 * the auxiliary {@link FCNHead} on `layer3` (`auxlayer`, `{ aux: true }`). The forward maps `[N, 3, H, W]` to
 * logits `[N, nclass, H, W]`: the head's 1/8-resolution output upsampled bilinearly with
 * `align_corners=True` to the input size. Keys are the reference checkpoints' without
 * `module.`.
 */
export class SPNet extends nn.Module {
  /** The backbone. */
  readonly pretrained: ResNet;
  /** The segmentation head. */
  readonly head: SPHead;
  /** The auxiliary head, or null when built without it. */
  readonly auxlayer: FCNHead | null;
  /** Output classes. */
  readonly nclass: number;
  /** Backbone depth. */
  readonly depth: SPNetDepth;

  /** @param options - classes, depth, auxiliary head. */
  constructor(options: SPNetOptions) {
    super();
    const op = 'SPNet';
    checkInt(op, 'options.nclass', options.nclass, 1);
    this.nclass = options.nclass;
    this.depth = options.depth ?? 101;
    this.pretrained = this.registerModule('pretrained', spnetBackbone(this.depth));
    const channels = this.pretrained.featureChannels;
    this.head = this.registerModule('head', new SPHead(channels[3], this.nclass));
    this.auxlayer =
      (options.aux ?? false) ? this.registerModule('auxlayer', new FCNHead(channels[2], this.nclass)) : null;
  }

  /**
   * Loads parameters and buffers by key, as {@link nn.Module.loadStateDict}, with one addition:
   * a network built without the auxiliary head (the inference network, the default) accepts a
   * training checkpoint. Its `auxlayer.*` keys are dropped before loading — even with `strict`
   * — and listed in the result's `unexpected` (which `loadModel` of `@kernelzoo/weights`
   * passes on), nothing printed. Every other key is checked as usual.
   */
  override loadStateDict(
    dict: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
    options: nn.LoadStateDictOptions = {},
  ): nn.LoadStateDictResult {
    if (this.auxlayer !== null) return super.loadStateDict(dict, options);
    const entries = dict instanceof Map ? [...dict.entries()] : Object.entries(dict);
    const isAux = (k: string) => k.startsWith('auxlayer.');
    const dropped = entries.filter(([k]) => isAux(k)).map(([k]) => k);
    if (dropped.length === 0) return super.loadStateDict(dict, options);
    const result = super.loadStateDict(new Map(entries.filter(([k]) => !isAux(k))), options);
    return { missing: result.missing, unexpected: [...result.unexpected, ...dropped] };
  }

  /** Logits `[N, nclass, H, W]` for images `[N, 3, H, W]`. */
  protected forward(x: Tensor): Tensor {
    checkShape('SPNet', 'x', x, [null, 3, null, null]);
    const size: [number, number] = [x.shape[2], x.shape[3]];
    const [, , , c4] = this.pretrained.forwardFeatures(x);
    const out = this.head.call(c4);
    return interpolate(out, { size, mode: 'bilinear', alignCorners: true });
  }
}

/** SPNet with a dilated ResNet-50 backbone. */
export function spnet50(nclass: number, options: Omit<SPNetOptions, 'nclass' | 'depth'> = {}): SPNet {
  return new SPNet({ ...options, nclass, depth: 50 });
}

/** SPNet with a dilated ResNet-101 backbone. */
export function spnet101(nclass: number, options: Omit<SPNetOptions, 'nclass' | 'depth'> = {}): SPNet {
  return new SPNet({ ...options, nclass, depth: 101 });
}
