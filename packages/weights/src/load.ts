import type { nn, Tensor } from '@kernelzoo/core';
import { budgetOf } from './budget.js';
import { onlyWeightsErrors, WeightsError } from './errors.js';
import { type RawStateDict, type RawTensor, toTensors } from './raw.js';
import { isSafetensors, readSafetensors, type SafetensorsContents } from './safetensors.js';
import {
  decodeLeaves,
  extractStateDict,
  type StateDictOptions,
  selectLeaves,
  type WeightsProgress,
} from './state-dict.js';
import {
  attachStorage,
  isLegacyTorch,
  isTensorRef,
  openTorchZip,
  readTorchLegacy,
  readTorchZip,
} from './torch.js';
import { isZip, ZipArchive } from './zip.js';

/** Where weights come from: a file path (Node only), or the file's bytes. */
export type WeightsSource = string | Uint8Array | ArrayBuffer;

/** The file formats the loader reads. */
export type WeightsFormat = 'safetensors' | 'pytorch-zip' | 'pytorch-legacy';

/** Options of {@link readWeights} and {@link parseWeights}. */
export interface ReadWeightsOptions extends StateDictOptions {}

/** Options of {@link loadWeights}. */
export interface LoadWeightsOptions extends ReadWeightsOptions {
  /** Refuse missing and unexpected keys (default true). Mis-shaped keys are always refused. */
  strict?: boolean;
}

/** What {@link loadWeights} needs of a model: `loadStateDict`, as every core module has. */
export interface LoadsStateDict {
  /** Loads tensors by key; throws `StateDictError` listing every mismatch, changing nothing. */
  loadStateDict(dict: ReadonlyMap<string, Tensor>, options?: nn.LoadStateDictOptions): nn.LoadStateDictResult;
}

/**
 * Tells the format of a weights file from its first bytes.
 * @param bytes - the file, or at least its first 16 bytes.
 * @throws {@link WeightsError} when it is none of the formats read.
 */
export function detectFormat(bytes: Uint8Array): WeightsFormat {
  if (isZip(bytes)) return 'pytorch-zip';
  if (isLegacyTorch(bytes)) return 'pytorch-legacy';
  if (isSafetensors(bytes)) return 'safetensors';
  const head = [...bytes.subarray(0, 8)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
  throw new WeightsError(
    `unrecognised file (${bytes.length} bytes, starting ${head || '(empty)'}): expected safetensors, a PyTorch zip checkpoint or a legacy PyTorch checkpoint`,
    { offset: 0 },
  );
}

function asBytes(source: Uint8Array | ArrayBuffer): Uint8Array {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  throw new WeightsError(`source must be a path, Uint8Array or ArrayBuffer, got ${typeof source}`);
}

function parseTree(bytes: Uint8Array, options: ReadWeightsOptions): unknown {
  const format = detectFormat(bytes);
  if (format === 'safetensors') return readSafetensors(bytes, options).tensors;
  if (format === 'pytorch-legacy') return readTorchLegacy(bytes);
  return readTorchZip(new ZipArchive(bytes));
}

/**
 * Reads a weights file from memory, synchronously: safetensors, a zip-format or legacy
 * PyTorch checkpoint (told apart by content). Finds the state dict inside the checkpoint
 * and strips a `module.` prefix as {@link StateDictOptions} say. Zip entries must be
 * stored (as PyTorch writes them); use {@link readWeights} for deflated ones.
 * @param bytes - the file.
 * @param options - which entry holds the state dict, which prefix to strip.
 * @throws {@link WeightsError} saying what was wrong and where.
 */
export function parseWeights(
  bytes: Uint8Array | ArrayBuffer,
  options: ReadWeightsOptions = {},
): RawStateDict {
  try {
    return extractStateDict(parseTree(asBytes(bytes), options), options);
  } catch (e) {
    return onlyWeightsErrors(e);
  }
}

/** Bytes read per call while a file is read, so progress can be reported between them. */
const READ_CHUNK = 16 << 20;

/**
 * Reads the bytes of a file in Node (`node:fs/promises`, imported only when called, so
 * browser bundles are unaffected), in 16 MiB reads.
 * @param path - the file's path.
 * @param onProgress - hears the bytes read so far after each read (`phase: 'read'`).
 */
export async function readFileBytes(
  path: string,
  onProgress?: (progress: WeightsProgress) => void,
): Promise<Uint8Array> {
  let fs: typeof import('node:fs/promises');
  try {
    fs = await import('node:fs/promises');
  } catch {
    throw new WeightsError(
      `cannot read '${path}': file paths need Node (node:fs); in a browser pass the bytes (Uint8Array or ArrayBuffer)`,
    );
  }
  try {
    const file = await fs.open(path, 'r');
    try {
      const total = (await file.stat()).size;
      const bytes = new Uint8Array(total);
      let done = 0;
      onProgress?.({ phase: 'read', done, total });
      while (done < total) {
        const { bytesRead } = await file.read(bytes, done, Math.min(READ_CHUNK, total - done), done);
        if (bytesRead === 0) break; // the file shrank while it was read
        done += bytesRead;
        onProgress?.({ phase: 'read', done, total });
      }
      return done === total ? bytes : bytes.subarray(0, done);
    } finally {
      await file.close();
    }
  } catch (e) {
    throw new WeightsError(`cannot read '${path}': ${(e as Error).message}`);
  }
}

/**
 * Reads a weights file — safetensors, or a PyTorch checkpoint in the zip or legacy format —
 * from a path (Node) or bytes, into a raw state dict. Deflated zip entries are inflated.
 * @param source - a file path (Node), or the file's bytes.
 * @param options - which entry holds the state dict, which prefix to strip.
 * @throws {@link WeightsError} saying what was wrong and where.
 */
export async function readWeights(
  source: WeightsSource,
  options: ReadWeightsOptions = {},
): Promise<RawStateDict> {
  const bytes =
    typeof source === 'string' ? await readFileBytes(source, options.onProgress) : asBytes(source);
  try {
    if (detectFormat(bytes) !== 'pytorch-zip') return extractStateDict(parseTree(bytes, options), options);
    // Deflated entries are inflated lazily: data.pkl and byteorder first, then only the
    // storages the chosen state dict references, each charged to the budget before inflating.
    const budget = budgetOf(options);
    const zip = new ZipArchive(bytes);
    for (const name of zip.entries.keys())
      if (/(^|\/)(data\.pkl|byteorder)$/.test(name)) await zip.readAsync(name, budget);
    const { value } = openTorchZip(zip, (name) => zip.read(name));
    const leaves = selectLeaves(value, options);
    for (const [, leaf] of leaves)
      if (isTensorRef(leaf) && leaf.storage.bytes === null && leaf.storage.entry !== undefined)
        attachStorage(leaf.storage, await zip.readAsync(leaf.storage.entry, budget));
    return decodeLeaves(leaves, budget, options.onProgress);
  } catch (e) {
    return onlyWeightsErrors(e);
  }
}

/**
 * Loads weights into a model in one call: reads the file ({@link readWeights}), makes
 * tensors on the current backend and calls the model's `loadStateDict`. Every missing,
 * unexpected and mis-shaped key is reported at once (a `StateDictError`), and the model is
 * unchanged after a failed load.
 * @param model - any core module (or anything with `loadStateDict`).
 * @param source - a file path (Node), or the file's bytes.
 * @param options - `strict` (default true), and which entry and prefix (see {@link StateDictOptions}).
 * @returns the keys left missing and unexpected (empty unless `strict: false`).
 */
export async function loadWeights(
  model: LoadsStateDict,
  source: WeightsSource,
  options: LoadWeightsOptions = {},
): Promise<nn.LoadStateDictResult> {
  const raw = await readWeights(source, options);
  return loadRawWeights(model, raw, options);
}

/**
 * Loads weights from bytes into a model synchronously — for constructors that take
 * `{weights}`. Like {@link loadWeights}, but without file paths or deflated zip entries
 * (PyTorch writes stored entries).
 * @param model - any core module.
 * @param bytes - the file's bytes: safetensors or a PyTorch checkpoint.
 * @param options - `strict` (default true), and which entry and prefix (see {@link StateDictOptions}).
 */
export function loadWeightsSync(
  model: LoadsStateDict,
  bytes: Uint8Array | ArrayBuffer,
  options: LoadWeightsOptions = {},
): nn.LoadStateDictResult {
  return loadRawWeights(model, parseWeights(bytes, options), options);
}

/**
 * Reads a safetensors file from a path (Node) or bytes, with its metadata.
 * @param source - a file path (Node), or the file's bytes.
 */
export async function readSafetensorsFile(source: WeightsSource): Promise<SafetensorsContents> {
  const bytes = typeof source === 'string' ? await readFileBytes(source) : asBytes(source);
  try {
    return readSafetensors(bytes);
  } catch (e) {
    return onlyWeightsErrors(e);
  }
}

/**
 * Loads a raw state dict (from {@link readWeights}, {@link parseWeights} or
 * {@link readSafetensors}) into a model; the tensors made for it are freed afterwards.
 * @param model - any core module.
 * @param raw - the raw tensors by key.
 * @param options - `strict` (default true).
 */
export function loadRawWeights(
  model: LoadsStateDict,
  raw: ReadonlyMap<string, RawTensor>,
  options: { strict?: boolean } = {},
): nn.LoadStateDictResult {
  const tensors = toTensors(raw);
  try {
    return model.loadStateDict(tensors, { strict: options.strict ?? true });
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
