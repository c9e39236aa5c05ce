import { getModel, type ModelEntry, nn, Tensor } from '@kernelzoo/core';
import { WeightsError } from './errors.js';
import { type LoadWeightsOptions, loadWeights, type WeightsSource } from './load.js';

/**
 * Where a network's weights come from: a file path (Node), the file's bytes, a fetch
 * `Response` or a `Blob` (browser), or a state dict of tensors (used as they are).
 */
export type ModelSource = WeightsSource | Response | Blob | ReadonlyMap<string, Tensor>;

/** Options of {@link loadModel}. */
export interface LoadModelOptions extends LoadWeightsOptions {
  /**
   * Without weights: the seed of the random initialisation (`nn.manualSeed`), deterministic on
   * every backend. Default 0.
   */
  seed?: number;
}

/** What {@link loadModel} returns. */
export interface LoadedModel {
  /** The network, in eval mode (fusion on), weights loaded. */
  readonly model: nn.AnyModule;
  /** Its registry entry (task, input size, pre-processing, labels, the reference's facts). */
  readonly entry: ModelEntry;
  /** Keys the network has that the weights lacked (non-strict loads only). */
  readonly missing: readonly string[];
  /** Keys the weights had that the network lacks (ignored; non-strict loads only). */
  readonly unexpected: readonly string[];
  /** The wrapper prefix removed from every key (`module.`, `model.`, …), or `''`. */
  readonly strippedPrefix: string;
}

async function toBytes(source: Response | Blob): Promise<Uint8Array> {
  if (typeof Response !== 'undefined' && source instanceof Response) {
    if (!source.ok)
      throw new WeightsError(`cannot load weights: the response is ${source.status} ${source.statusText}`);
    return new Uint8Array(await source.arrayBuffer());
  }
  return new Uint8Array(await (source as Blob).arrayBuffer());
}

/**
 * Builds the registered network `id` and loads its weights — the one loading path every id
 * uses. With weights, the network is built without initial values (`nn.withoutInit`: no
 * random numbers drawn, no parameter memory until the weights arrive), then loaded from a path,
 * bytes, `Response`, `Blob` or state dict — safetensors or a PyTorch checkpoint (zip or
 * legacy), its wrapper (`state_dict`, `model`, …) and key prefixes (`module.`, `model.`)
 * removed and reported. Without weights, it is built with seeded random values. Either way it
 * is returned in eval mode. A failed load frees what was built and throws (a `StateDictError`
 * listing every missing, unexpected and mis-shaped key, or a `WeightsError` naming the file's
 * problem).
 *
 * @example
 * ```ts
 * import '@kernelzoo/sknet'; // registers its ids
 * const { model, entry } = await loadModel('sknet50', 'skresnext50_32x4d.safetensors');
 * ```
 * @param id - a registered id (see `listModels()` from `@kernelzoo/core`).
 * @param source - the weights; omit for seeded random values.
 * @param options - `strict` (default true), the checkpoint `key` and `stripPrefix`, `seed`.
 */
export async function loadModel(
  id: string,
  source?: ModelSource,
  options: LoadModelOptions = {},
): Promise<LoadedModel> {
  const entry = getModel(id);
  if (source === undefined) {
    nn.manualSeed(options.seed ?? 0);
    const model = entry.build().eval();
    return { model, entry, missing: [], unexpected: [], strippedPrefix: '' };
  }
  const model = nn.withoutInit(() => entry.build());
  try {
    let strippedPrefix = '';
    let result: nn.LoadStateDictResult;
    if (source instanceof Map) {
      for (const [k, t] of source)
        if (!(t instanceof Tensor)) throw new WeightsError(`state dict entry '${k}' is not a Tensor`);
      result = model.loadStateDict(source, { strict: options.strict ?? true });
    } else {
      const bytes =
        typeof source === 'string' || source instanceof Uint8Array || source instanceof ArrayBuffer
          ? source
          : await toBytes(source as Response | Blob);
      result = await loadWeights(model, bytes, {
        ...options,
        onPrefixStripped: (p) => {
          strippedPrefix = p;
          options.onPrefixStripped?.(p);
        },
      });
    }
    return { model: model.eval(), entry, ...result, strippedPrefix };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
