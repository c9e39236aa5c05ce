import { ArgumentError, checkInt, checkShape, describeValue, mul, nn, type Tensor } from '@kernelzoo/core';

/** Where a block sits in its network: handed to the {@link BlockExtensions} factories. */
export interface BlockPosition {
  /** The stage: 0 for `layer1` … 3 for `layer4`. */
  readonly stage: number;
  /** The block's index within its stage (`layerX.<index>`). */
  readonly index: number;
  /** How many blocks the stage has (so `index === blocks - 1` is its last block). */
  readonly blocks: number;
}

/**
 * What a {@link BlockExtensions.spatialConv} factory is asked to build: the block's strided
 * 3×3 convolution (Bottleneck `conv2`, BasicBlock `conv1`), as the block would make it.
 */
export interface SpatialConvSpec {
  /** Input channels. */
  readonly inChannels: number;
  /** Output channels. */
  readonly outChannels: number;
  /** The block's stride (carried by this convolution). */
  readonly stride: number;
  /** Dilation (the plain 3×3 convolution pads by it). */
  readonly dilation: number;
  /** Channel groups (ResNeXt cardinality). */
  readonly groups: number;
  /** The stage's `planes` (64, 128, 256, 512 in a standard ResNet). */
  readonly planes: number;
  /** Where the block sits. */
  readonly position: BlockPosition;
}

/**
 * What a {@link BlockExtensions.spatialConv} factory may return when its module brings its own
 * normalisation and activation (as timm's `SelectiveKernel`).
 */
export interface SpatialConv {
  /** The module registered in place of the 3×3 convolution, under the same name. */
  readonly module: nn.Module;
  /**
   * True when the module ends with its own normalisation and activation: the block then
   * registers no BatchNorm after it (no `bn2` in a Bottleneck, no `bn1` in a BasicBlock) and
   * applies no ReLU to its output. Default false: the block's BatchNorm and ReLU follow it.
   */
  readonly normalized?: boolean;
}

/** What a {@link GateOptions.create} factory is asked for. */
export interface GateSpec {
  /** Channels of the tensor the gate sees (the spatial convolution's output). */
  readonly channels: number;
  /** The stage's `planes`. */
  readonly planes: number;
  /** Where the block sits. */
  readonly position: BlockPosition;
}

/**
 * A gate inside a block — SPNet's strip-pooling module, for one: after the spatial
 * convolution, its BatchNorm and ReLU, the block computes `out = out * gate(out)` before going
 * on (Bottleneck: before `conv3`; BasicBlock: before `conv2`). The gate is registered after every
 * other child, so its keys (`layerX.Y.<name>.*`) come last in the block, as in SPNet.
 */
export interface GateOptions {
  /** The child's name, e.g. `spm`; not one of the block's own child names. */
  readonly name: string;
  /**
   * Builds the gate of one block, or returns null for a block without one. The module maps
   * `[N, channels, H, W]` to a tensor that broadcasts against it (e.g. the same shape).
   */
  readonly create: (spec: GateSpec) => nn.Module | null;
}

/**
 * The typed extension points of {@link Bottleneck} and {@link BasicBlock}: how paper packages
 * change a block without copying it.
 *
 * ```ts
 * // SKNet: the 3×3 convolution becomes a selective-kernel unit.
 * const sk: BlockExtensions = { spatialConv: (s) => new MySKUnit(s.inChannels, s.outChannels, s.stride) };
 * // SPNet: a strip-pooling gate in the last block of each stage and every block of layer4.
 * const sp: BlockExtensions = {
 *   gate: { name: 'spm', create: ({ channels, planes, position: p }) =>
 *     (p.index === 0 ? planes === 512 : p.index === p.blocks - 1 || planes === 512)
 *       ? new StripPooling(channels) : null },
 * };
 * ```
 */
export interface BlockExtensions {
  /**
   * Builds the block's strided 3×3 unit in place of the plain `Conv2d`; it keeps that
   * convolution's name (`conv2` in a Bottleneck, `conv1` in a BasicBlock). Return a module (the
   * block's BatchNorm and ReLU follow it) or a {@link SpatialConv} marked `normalized`.
   */
  readonly spatialConv?: (spec: SpatialConvSpec) => nn.Module | SpatialConv;
  /** A gate applied after the spatial convolution (see {@link GateOptions}). */
  readonly gate?: GateOptions;
}

/** Options of {@link Bottleneck} and {@link BasicBlock}; defaults are torchvision's. */
export interface BlockOptions {
  /** Stride of the block (on its 3×3 convolution, as torchvision's ResNet v1.5). Default 1. */
  stride?: number;
  /**
   * The shortcut's projection (usually {@link projectionShortcut}: 1×1 conv with the stride +
   * BatchNorm, keys `downsample.0` / `downsample.1`), or null for the identity. Default null.
   */
  downsample?: nn.Module | null;
  /** Channel groups of the 3×3 convolution (ResNeXt cardinality; Bottleneck only). Default 1. */
  groups?: number;
  /**
   * Channels per group at `planes = 64` (ResNeXt's `width_per_group`; Bottleneck only): the
   * 3×3 width is `floor(planes · baseWidth / 64) · groups`. Default 64.
   */
  baseWidth?: number;
  /** Dilation of the strided 3×3 convolution; its padding equals it. Default 1. */
  dilation?: number;
  /**
   * BasicBlock only: dilation of its second 3×3 convolution. Default `dilation`. (A dilated
   * stage's first block takes the previous stage's dilation on its strided convolution and the
   * stage's own on the second, as timm.)
   */
  secondDilation?: number;
  /** Changes to the block: a replacement spatial convolution, a gate. */
  extensions?: BlockExtensions;
  /** Where the block sits, for the extension factories. Default `{ stage: 0, index: 0, blocks: 1 }`. */
  position?: BlockPosition;
}

/**
 * A residual block class that {@link ResNet} can stack: output channels are
 * `planes · expansion`.
 */
export interface BlockType {
  /** Output channels per `planes` (4 for a Bottleneck, 1 for a BasicBlock). */
  readonly expansion: number;
  /** Builds one block. */
  new (inplanes: number, planes: number, options?: BlockOptions): nn.Module;
}

/**
 * The projection shortcut of torchvision's ResNet: `Sequential(Conv2d(in, out, 1, stride,
 * bias=False), BatchNorm2d(out))`, keys `0.weight` and `1.*`; in eval mode one fused kernel.
 * @param inChannels - the block's input channels.
 * @param outChannels - the block's output channels.
 * @param stride - the block's stride.
 */
export function projectionShortcut(inChannels: number, outChannels: number, stride = 1): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(inChannels, outChannels, 1, { stride, bias: false }),
    new nn.BatchNorm2d(outChannels),
  );
}

const DEFAULT_POSITION: BlockPosition = { stage: 0, index: 0, blocks: 1 };

/** A block's checked common options. */
interface Common {
  stride: number;
  dilation: number;
  downsample: nn.Module | null;
  position: BlockPosition;
  extensions: BlockExtensions;
}

function readCommon(op: string, inplanes: number, planes: number, o: BlockOptions): Common {
  checkInt(op, 'inplanes', inplanes, 1);
  checkInt(op, 'planes', planes, 1);
  const downsample = o.downsample ?? null;
  if (downsample !== null && !(downsample instanceof nn.Module))
    throw new ArgumentError(op, 'downsample', 'a Module or null', describeValue(downsample));
  return {
    stride: checkInt(op, 'stride', o.stride ?? 1, 1),
    dilation: checkInt(op, 'dilation', o.dilation ?? 1, 1),
    downsample,
    position: o.position ?? DEFAULT_POSITION,
    extensions: o.extensions ?? {},
  };
}

/** Builds the spatial convolution: the extension's, or the plain 3×3 one. */
function makeSpatial(
  spec: SpatialConvSpec,
  ext: BlockExtensions,
): { module: nn.Module; normalized: boolean } {
  if (ext.spatialConv) {
    const made = ext.spatialConv(spec);
    if (made instanceof nn.Module) return { module: made, normalized: false };
    return { module: made.module, normalized: made.normalized ?? false };
  }
  return {
    module: new nn.Conv2d(spec.inChannels, spec.outChannels, 3, {
      stride: spec.stride,
      padding: spec.dilation,
      dilation: spec.dilation,
      groups: spec.groups,
      bias: false,
    }),
    normalized: false,
  };
}

function makeGate(op: string, ext: BlockExtensions, spec: GateSpec, reserved: readonly string[]) {
  const gate = ext.gate;
  if (!gate) return null;
  if (
    typeof gate.name !== 'string' ||
    gate.name === '' ||
    gate.name.includes('.') ||
    reserved.includes(gate.name)
  )
    throw new ArgumentError(
      op,
      'extensions.gate.name',
      `a non-empty name without dots, not one of ${reserved.join(', ')}`,
      describeValue(gate.name),
    );
  return { name: gate.name, module: gate.create(spec) };
}

/**
 * torchvision's (and timm's) ResNet `Bottleneck`, v1.5: 1×1 reduce → 3×3 (stride, dilation,
 * groups) → 1×1 expand ×4, each followed by BatchNorm, ReLU after the first two and after the
 * residual sum. Keys: `conv1.weight`, `bn1.*`, `conv2.weight`, `bn2.*`, `conv3.weight`, `bn3.*`,
 * `downsample.0.weight`, `downsample.1.*` (with a projection), then the gate's
 * (`spm.*` in SPNet).
 *
 * In eval mode it runs three `conv2d` kernels (four with a projection shortcut), one `add` with
 * the ReLU fused into it ({@link nn.residualSum}), and no `batchNorm`: `conv1 → bn1 → relu`,
 * `conv2 → bn2 → relu` and `conv3 → bn3` are declared fusion chains (the second only when
 * `conv2` is a plain `Conv2d`).
 */
export class Bottleneck extends nn.Module {
  /** Output channels per `planes`. */
  static readonly expansion = 4;

  /** Input channels. */
  readonly inChannels: number;
  /** Output channels (`planes · 4`). */
  readonly outChannels: number;
  /** Width of the 3×3 convolution: `floor(planes · baseWidth / 64) · groups`. */
  readonly width: number;
  /** Stride (on the 3×3 convolution). */
  readonly stride: number;
  /** Dilation of the 3×3 convolution. */
  readonly dilation: number;
  /** 1×1 reduce. */
  readonly conv1: nn.Conv2d;
  /** BatchNorm after `conv1`. */
  readonly bn1: nn.BatchNorm2d;
  /** The 3×3 convolution, or the module an extension put in its place. */
  readonly conv2: nn.Module;
  /** BatchNorm after `conv2` (null when an extension's `conv2` is `normalized`). */
  readonly bn2: nn.BatchNorm2d | null;
  /** 1×1 expand. */
  readonly conv3: nn.Conv2d;
  /** BatchNorm after `conv3`. */
  readonly bn3: nn.BatchNorm2d;
  /** The one ReLU, used after `bn1`, `bn2` and the residual sum. */
  readonly relu: nn.ReLU;
  /** The projection shortcut, or null for the identity. */
  readonly downsample: nn.Module | null;
  /** The gate applied after `conv2` (see {@link GateOptions}), or null. */
  readonly gate: nn.Module | null;

  /**
   * @param inplanes - input channels.
   * @param planes - the stage's planes; the block outputs `planes · 4` channels.
   * @param options - stride, downsample, groups, baseWidth, dilation, extensions, position.
   */
  constructor(inplanes: number, planes: number, options: BlockOptions = {}) {
    super();
    const op = 'Bottleneck';
    const c = readCommon(op, inplanes, planes, options);
    const groups = checkInt(op, 'groups', options.groups ?? 1, 1);
    const baseWidth = checkInt(op, 'baseWidth', options.baseWidth ?? 64, 1);
    const width = Math.floor((planes * baseWidth) / 64) * groups;
    if (width < 1) throw new ArgumentError(op, 'baseWidth', 'large enough for a width ≥ 1', `width ${width}`);
    this.inChannels = inplanes;
    this.outChannels = planes * Bottleneck.expansion;
    this.width = width;
    this.stride = c.stride;
    this.dilation = c.dilation;
    this.conv1 = this.registerModule('conv1', new nn.Conv2d(inplanes, width, 1, { bias: false }));
    this.bn1 = this.registerModule('bn1', new nn.BatchNorm2d(width));
    const spatial = makeSpatial(
      {
        inChannels: width,
        outChannels: width,
        stride: c.stride,
        dilation: c.dilation,
        groups,
        planes,
        position: c.position,
      },
      c.extensions,
    );
    this.conv2 = this.registerModule('conv2', spatial.module);
    this.bn2 = spatial.normalized ? null : this.registerModule('bn2', new nn.BatchNorm2d(width));
    this.conv3 = this.registerModule('conv3', new nn.Conv2d(width, this.outChannels, 1, { bias: false }));
    this.bn3 = this.registerModule('bn3', new nn.BatchNorm2d(this.outChannels));
    this.relu = this.registerModule('relu', new nn.ReLU());
    this.downsample = c.downsample ? this.registerModule('downsample', c.downsample) : null;
    const gate = makeGate(op, c.extensions, { channels: width, planes, position: c.position }, [
      'conv1',
      'bn1',
      'conv2',
      'bn2',
      'conv3',
      'bn3',
      'relu',
      'downsample',
    ]);
    this.gate = gate?.module ? this.registerModule(gate.name, gate.module) : null;
    this.registerFusion('conv1', 'bn1', 'relu');
    if (this.conv2 instanceof nn.Conv2d && this.bn2) this.registerFusion('conv2', 'bn2', 'relu');
    this.registerFusion('conv3', 'bn3'); // the relu runs after the residual sum
  }

  /** `[N, inplanes, H, W]` → `[N, planes · 4, H / stride, W / stride]`. */
  protected forward(x: Tensor): Tensor {
    checkShape('Bottleneck', 'x', x, [null, this.inChannels, null, null]);
    let out = this.relu.call(this.bn1.call(this.conv1.call(x)));
    out = this.conv2.call(out);
    if (this.bn2) out = this.relu.call(this.bn2.call(out));
    if (this.gate) out = mul(out, this.gate.call(out));
    out = this.bn3.call(this.conv3.call(out));
    const identity = this.downsample ? this.downsample.call(x) : x;
    return nn.residualSum(this, out, identity, this.relu);
  }
}

/**
 * torchvision's (and timm's) ResNet `BasicBlock`: 3×3 (stride, dilation) → BatchNorm → ReLU →
 * 3×3 → BatchNorm, ReLU after the residual sum. Keys: `conv1.weight`, `bn1.*`, `conv2.weight`,
 * `bn2.*`, `downsample.0.weight`, `downsample.1.*`, then the gate's. Groups and baseWidth other
 * than 1 and 64 are refused, as in torchvision. In eval mode: two `conv2d` kernels (three with
 * a projection), one `add` with the ReLU fused into it, no `batchNorm`.
 *
 * Its spatial convolution (the one {@link BlockExtensions.spatialConv} replaces, and after which
 * the gate runs) is `conv1`, the strided one — where timm's SK-ResNet-18/34 put the SK unit.
 */
export class BasicBlock extends nn.Module {
  /** Output channels per `planes`. */
  static readonly expansion = 1;

  /** Input channels. */
  readonly inChannels: number;
  /** Output channels (`planes`). */
  readonly outChannels: number;
  /** Stride (on `conv1`). */
  readonly stride: number;
  /** Dilation of `conv1`. */
  readonly dilation: number;
  /** The strided 3×3 convolution, or the module an extension put in its place. */
  readonly conv1: nn.Module;
  /** BatchNorm after `conv1` (null when an extension's `conv1` is `normalized`). */
  readonly bn1: nn.BatchNorm2d | null;
  /** The second 3×3 convolution. */
  readonly conv2: nn.Conv2d;
  /** BatchNorm after `conv2`. */
  readonly bn2: nn.BatchNorm2d;
  /** The one ReLU, used after `bn1` and after the residual sum. */
  readonly relu: nn.ReLU;
  /** The projection shortcut, or null for the identity. */
  readonly downsample: nn.Module | null;
  /** The gate applied after `conv1` (see {@link GateOptions}), or null. */
  readonly gate: nn.Module | null;

  /**
   * @param inplanes - input channels.
   * @param planes - output channels.
   * @param options - stride, downsample, dilation, secondDilation, extensions, position.
   */
  constructor(inplanes: number, planes: number, options: BlockOptions = {}) {
    super();
    const op = 'BasicBlock';
    const c = readCommon(op, inplanes, planes, options);
    if ((options.groups ?? 1) !== 1)
      throw new ArgumentError(
        op,
        'groups',
        '1 (BasicBlock has no grouped form)',
        describeValue(options.groups),
      );
    if ((options.baseWidth ?? 64) !== 64)
      throw new ArgumentError(
        op,
        'baseWidth',
        '64 (BasicBlock has no width option)',
        describeValue(options.baseWidth),
      );
    const second = checkInt(op, 'secondDilation', options.secondDilation ?? c.dilation, 1);
    this.inChannels = inplanes;
    this.outChannels = planes;
    this.stride = c.stride;
    this.dilation = c.dilation;
    const spatial = makeSpatial(
      {
        inChannels: inplanes,
        outChannels: planes,
        stride: c.stride,
        dilation: c.dilation,
        groups: 1,
        planes,
        position: c.position,
      },
      c.extensions,
    );
    this.conv1 = this.registerModule('conv1', spatial.module);
    this.bn1 = spatial.normalized ? null : this.registerModule('bn1', new nn.BatchNorm2d(planes));
    this.relu = this.registerModule('relu', new nn.ReLU());
    this.conv2 = this.registerModule(
      'conv2',
      new nn.Conv2d(planes, planes, 3, { padding: second, dilation: second, bias: false }),
    );
    this.bn2 = this.registerModule('bn2', new nn.BatchNorm2d(planes));
    this.downsample = c.downsample ? this.registerModule('downsample', c.downsample) : null;
    const gate = makeGate(op, c.extensions, { channels: planes, planes, position: c.position }, [
      'conv1',
      'bn1',
      'relu',
      'conv2',
      'bn2',
      'downsample',
    ]);
    this.gate = gate?.module ? this.registerModule(gate.name, gate.module) : null;
    if (this.conv1 instanceof nn.Conv2d && this.bn1) this.registerFusion('conv1', 'bn1', 'relu');
    this.registerFusion('conv2', 'bn2');
  }

  /** `[N, inplanes, H, W]` → `[N, planes, H / stride, W / stride]`. */
  protected forward(x: Tensor): Tensor {
    checkShape('BasicBlock', 'x', x, [null, this.inChannels, null, null]);
    let out = this.conv1.call(x);
    if (this.bn1) out = this.relu.call(this.bn1.call(out));
    if (this.gate) out = mul(out, this.gate.call(out));
    out = this.bn2.call(this.conv2.call(out));
    const identity = this.downsample ? this.downsample.call(x) : x;
    return nn.residualSum(this, out, identity, this.relu);
  }
}
