/**
 * The registry as the CLI sees it: the model packages installed here (each registers its ids
 * when imported), looking an id up, and building a network with seeded or loaded weights.
 *
 * @module
 */
import { stat } from 'node:fs/promises';
import { listModels, type ModelEntry, nn, StateDictError } from '@kernelzoo/core';
import { detectFormat, loadRawWeights, readFileBytes, readWeights, WeightsError } from '@kernelzoo/weights';
import { isNotInstalled } from './backends.js';
import type { Progress } from './progress.js';
import { CliError, someOf, UsageError } from './util.js';

/**
 * The packages that register networks. Each is imported when installed; a package that is
 * not installed is skipped, so a new paper package needs only a line here and a dependency.
 */
export const MODEL_PACKAGES = [
  '@kernelzoo/resnet',
  '@kernelzoo/sknet',
  '@kernelzoo/spnet',
  '@kernelzoo/hrnet',
] as const;

let discovered: Promise<string[]> | undefined;

/** Imports every installed model package (once per process); returns the ones found. */
export function discoverModels(): Promise<string[]> {
  discovered ??= (async () => {
    const found: string[] = [];
    for (const pkg of MODEL_PACKAGES) {
      try {
        await import(pkg);
        found.push(pkg);
      } catch (e) {
        if (!isNotInstalled(e, pkg)) throw e;
      }
    }
    return found;
  })();
  return discovered;
}

/** The registry entry of `id`; a {@link UsageError} listing the registered ids otherwise. */
export async function findModel(id: string): Promise<ModelEntry> {
  await discoverModels();
  const all = listModels();
  const e = all.find((m) => m.id === id);
  if (e) return e;
  const near = all.filter((m) => m.id.includes(id) || id.includes(m.id.split('_')[0]));
  throw new UsageError(
    `unknown model '${id}'${near.length ? ` (did you mean ${near.map((m) => m.id).join(', ')}?)` : ''}; registered: ${all.map((m) => m.id).join(', ')} (kernelzoo list shows them)`,
  );
}

/** Where a network's weights came from, as reported in every command's output. */
export type WeightsInfo =
  | { readonly source: 'seeded'; readonly seed: number }
  | {
      readonly source: 'file';
      readonly file: string;
      readonly format: string;
      readonly tensors: number;
      /** Keys the file holds that the network does not use (reported, not fatal). */
      readonly unused: readonly string[];
      /** The wrapper prefix removed from every key (`module.`), or `''`. */
      readonly strippedPrefix: string;
    };

/** The warning every seeded run prints: its outputs are not predictions. */
export function seededWarning(id: string): string {
  return `${id} ran with seeded random weights (no --weights given): its outputs are NOT a real prediction`;
}

/** A network ready to run. */
export interface Network {
  readonly model: nn.AnyModule;
  readonly entry: ModelEntry;
  readonly weights: WeightsInfo;
}

/** Keys and shapes `entry`'s network expects, built without allocating weights. */
export function expectedKeys(entry: ModelEntry): Map<string, readonly number[]> {
  const model = nn.withoutInit(() => entry.build());
  try {
    return new Map([...model.stateDict()].map(([k, t]) => [k, t.shape]));
  } finally {
    model.dispose();
  }
}

/**
 * The registered ids whose keys and shapes the file's tensors fit best — to say, of a file
 * that does not fit, which network it is for.
 */
function likelyOwners(raw: ReadonlyMap<string, { shape: readonly number[] }>, not: string): string[] {
  const owners: string[] = [];
  for (const e of listModels()) {
    if (e.id === not) continue;
    let keys: Map<string, readonly number[]>;
    try {
      keys = expectedKeys(e);
    } catch {
      continue;
    }
    let fits = keys.size > 0;
    for (const [k, shape] of keys) {
      const t = raw.get(k);
      if (!t || t.shape.join() !== shape.join()) {
        fits = false;
        break;
      }
    }
    if (fits) owners.push(e.id);
  }
  return owners;
}

/**
 * Why `file`'s tensors do not fit `id`: counts and the first names of missing, mis-shaped and
 * unused keys, and which registered network they fit instead (when one does), on one line.
 */
export function mismatchMessage(
  file: string,
  id: string,
  missing: readonly string[],
  mismatched: readonly { key: string; expected: readonly number[]; got: readonly number[] }[],
  unused: readonly string[],
  raw: ReadonlyMap<string, { shape: readonly number[] }>,
): string {
  const parts: string[] = [];
  if (missing.length) parts.push(`${missing.length} keys missing (${someOf(missing)})`);
  if (mismatched.length)
    parts.push(
      `${mismatched.length} mis-shaped (${someOf(mismatched.map((m) => `${m.key}: file [${m.got.join(', ')}], network [${m.expected.join(', ')}]`))})`,
    );
  if (unused.length) parts.push(`${unused.length} unused (${someOf(unused)})`);
  const owners = likelyOwners(raw, id);
  const hint = owners.length
    ? `; the file fits ${owners.join(', ')} — pass that model instead`
    : '; pass the weights of this model (kernelzoo convert --model <id> checks a file)';
  return `${file} does not fit ${id}: ${parts.join(', ')}${hint}`;
}

/**
 * Builds registered network `entry` in eval mode: with seeded random weights when `weightsFile`
 * is undefined, else from the file (safetensors or PyTorch .pth/.pt, zip or legacy). Keys the
 * network does not use (an auxiliary head) are reported in the result, not fatal; missing or
 * mis-shaped keys throw a {@link CliError} naming the file, the keys, and what would fit.
 */
export async function buildNetwork(
  entry: ModelEntry,
  weightsFile: string | undefined,
  progress: Progress,
  seed = 0,
): Promise<Network> {
  if (weightsFile === undefined) {
    progress.start(1, `building ${entry.id} (seeded weights)`);
    nn.manualSeed(seed);
    const model = entry.build().eval();
    progress.stop();
    return { model, entry, weights: { source: 'seeded', seed } };
  }
  let size: number;
  try {
    const s = await stat(weightsFile);
    if (!s.isFile()) throw new Error('not a regular file');
    size = s.size;
  } catch (e) {
    throw new CliError(
      `cannot read weights '${weightsFile}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message} (expected a .safetensors, .pth or .pt file)`,
    );
  }
  // The bar follows the file in MiB as it is read, then the tensors as they are decoded.
  const mib = (bytes: number) => Math.floor(bytes / 2 ** 20);
  progress.start(Math.max(mib(size), 1), `reading ${weightsFile} (MiB)`);
  let format: string;
  let raw: Awaited<ReturnType<typeof readWeights>>;
  let strippedPrefix = '';
  try {
    const bytes = await readFileBytes(weightsFile, (p) => progress.update(mib(p.done)));
    format = detectFormat(bytes);
    let decoding = false;
    raw = await readWeights(bytes, {
      onPrefixStripped: (p) => (strippedPrefix = p),
      onProgress: (p) => {
        if (!decoding) progress.start(p.total, `decoding ${weightsFile} (${format}, tensors)`);
        decoding = true;
        progress.update(p.done);
      },
    });
  } catch (e) {
    progress.stop();
    if (e instanceof WeightsError)
      throw new CliError(e.message.startsWith(weightsFile) ? e.message : `${weightsFile}: ${e.message}`);
    throw e;
  }
  progress.start(1, `loading into ${entry.id}`);
  const model = nn.withoutInit(() => entry.build());
  try {
    let result: nn.LoadStateDictResult;
    try {
      result = loadRawWeights(model, raw, { strict: false });
    } catch (e) {
      if (e instanceof StateDictError)
        throw new CliError(
          mismatchMessage(weightsFile, entry.id, e.missing, e.mismatched, e.unexpected, raw),
        );
      throw e;
    }
    if (result.missing.length > 0)
      throw new CliError(mismatchMessage(weightsFile, entry.id, result.missing, [], result.unexpected, raw));
    model.eval();
    return {
      model,
      entry,
      weights: {
        source: 'file',
        file: weightsFile,
        format,
        tensors: raw.size,
        unused: result.unexpected,
        strippedPrefix,
      },
    };
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    progress.stop();
  }
}

/** One line saying where the weights came from. */
export function weightsLine(id: string, w: WeightsInfo): string {
  if (w.source === 'seeded') return `WARNING: ${seededWarning(id)}`;
  const extra: string[] = [];
  if (w.strippedPrefix) extra.push(`prefix '${w.strippedPrefix}' removed`);
  if (w.unused.length)
    extra.push(`${w.unused.length} keys the network does not use ignored (${someOf(w.unused)})`);
  return `weights: ${w.file} (${w.format}, ${w.tensors} tensors${extra.length ? `; ${extra.join('; ')}` : ''})`;
}
