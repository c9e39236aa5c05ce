/**
 * The model registry: every whole network a paper package provides, by id, with what a
 * program needs to run it (task, input size, pre-processing, labels) and the reference's facts
 * to hold it against (parameters, published GFLOPs with their convention, source). Core holds
 * the mechanism; each paper package registers its ids when it is imported (its registering
 * module is listed in its `sideEffects`, so bundlers keep it), and `@kernelzoo/weights`'
 * `loadModel` builds any id and loads published weights into it.
 *
 * @module
 */
import { ArgumentError, KernelzooError } from './errors.js';
import type { AnyModule } from './nn/module.js';

/** ImageNet's per-channel RGB mean on the 0–1 scale: the normalisation every network here was trained with. */
export const IMAGENET_MEAN: readonly [number, number, number] = Object.freeze([0.485, 0.456, 0.406]) as [
  number,
  number,
  number,
];

/** ImageNet's per-channel RGB standard deviation on the 0–1 scale (see {@link IMAGENET_MEAN}). */
export const IMAGENET_STD: readonly [number, number, number] = Object.freeze([0.229, 0.224, 0.225]) as [
  number,
  number,
  number,
];

/** What a network does. */
export type Task = 'classification' | 'segmentation' | 'pose';

/** How an image becomes the network's input, as the reference pipeline does it. */
export interface Preprocessing {
  /** Per-channel mean (RGB), in the units of `scale`. */
  readonly mean: readonly [number, number, number];
  /** Per-channel standard deviation (RGB), in the units of `scale`. */
  readonly std: readonly [number, number, number];
  /** The range pixels are brought to before `mean`/`std`: `1` for [0, 1], `255` for [0, 255]. */
  readonly scale: 1 | 255;
  /**
   * The resize rule: `shorter-side` (timm's eval transform: shorter side to
   * ⌊size / cropPct⌋, then centre crop `size`), `long-side` (SPNet: long side to `size`, sliding
   * windows of the input size), or `box-warp` (HRNet pose: the person box warped to the input).
   */
  readonly resize: 'shorter-side' | 'long-side' | 'box-warp';
  /** The interpolation the reference resizes with. */
  readonly interpolation: 'bilinear' | 'bicubic';
  /** timm's crop fraction (`shorter-side` only). */
  readonly cropPct?: number;
}

/** What the reference implementation publishes (or what we computed where it publishes nothing). */
export interface ReferenceFacts {
  /** Parameters of the reference network. */
  readonly parameters: number;
  /** Where the parameter count comes from: `published` by the paper/repository, or `computed`. */
  readonly parametersSource: 'published' | 'computed';
  /**
   * Published GFLOPs at the default input, or `computed` where the paper and repository
   * publish none.
   */
  readonly gflops: number | 'computed';
  /** What the GFLOPs count (e.g. `multiply-adds, 224×224`), when published. */
  readonly gflopsConvention?: string;
  /** The reference code (and weights) this network mirrors, e.g. `timm/models/sknet.py`. */
  readonly source: string;
}

/** One registered network. */
export interface ModelEntry<M extends AnyModule = AnyModule> {
  /** The id, e.g. `sknet50`. */
  readonly id: string;
  /** The npm package that registered it. */
  readonly package: string;
  /** One line saying what it is. */
  readonly description: string;
  /** What it does. */
  readonly task: Task;
  /** Default input `[height, width]`. */
  readonly inputSize: readonly [number, number];
  /** Output classes (keypoints for pose). */
  readonly numClasses: number;
  /** The label set's name, e.g. `imagenet-1k`, `ade20k-150`, `cityscapes-19`, `coco-17-keypoints`. */
  readonly labels: string;
  /** How an image becomes its input. */
  readonly preprocessing: Preprocessing;
  /** The reference's facts. */
  readonly reference: ReferenceFacts;
  /**
   * Builds the network (not yet in eval mode). Wrap the call in `nn.withoutInit` to build it
   * without initial values, to receive weights.
   */
  readonly build: () => M;
}

const ENTRIES = new Map<string, ModelEntry>();

/**
 * Registers a network by id. A paper package calls it for each of its ids when imported.
 * Registering an id twice throws (two packages claiming one id), unless it is the same entry.
 */
export function registerModel<M extends AnyModule>(entry: ModelEntry<M>): void {
  if (!entry || typeof entry.id !== 'string' || !/^[a-z0-9_]+$/.test(entry.id))
    throw new ArgumentError(
      'registerModel',
      'entry.id',
      'lower-case letters, digits and _',
      String(entry?.id),
    );
  const existing = ENTRIES.get(entry.id);
  if (existing && existing !== entry)
    throw new KernelzooError(
      `registerModel: '${entry.id}' is already registered by ${existing.package}; ${entry.package} cannot register it again`,
    );
  ENTRIES.set(entry.id, entry as ModelEntry);
}

/** The entry of `id`; throws naming the registered ids (and the packages to import) if absent. */
export function getModel(id: string): ModelEntry {
  const e = ENTRIES.get(id);
  if (!e) {
    const known = [...ENTRIES.keys()];
    throw new KernelzooError(
      `no model '${id}' is registered; ${known.length ? `registered: ${known.join(', ')}` : 'none is'} (import the paper package that provides it: @kernelzoo/sknet, @kernelzoo/spnet or @kernelzoo/hrnet)`,
    );
  }
  return e;
}

/** Every registered entry, in registration order, optionally of one task. */
export function listModels(filter: { task?: Task } = {}): ModelEntry[] {
  return [...ENTRIES.values()].filter((e) => filter.task === undefined || e.task === filter.task);
}
