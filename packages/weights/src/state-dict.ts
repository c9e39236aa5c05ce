import { WeightsError } from './errors.js';
import { kindOf } from './pickle.js';
import type { RawStateDict, RawTensor } from './raw.js';
import { isTensorRef, readTensorRef, type TensorRef } from './torch.js';

/** Options choosing the state dict inside a checkpoint and how its keys are named. */
export interface StateDictOptions {
  /**
   * The entry of the checkpoint that holds the state dict, e.g. `'state_dict'`, `'model'` or
   * a dotted path `'model.ema'`. On a flat dict (safetensors) it selects the keys under
   * `key.` and strips that prefix; `''` means the top level itself, nested dicts flattened to
   * dotted keys. Default: found automatically — the top level when it holds tensors, else the
   * first of {@link WRAPPER_KEYS} holding tensors, else the only entry holding tensors, else
   * (when every entry is a dict of tensors) all of them with dotted keys.
   */
  key?: string;
  /**
   * A prefix to strip from every key that has it, or `false` to keep keys as they are.
   * Default: the wrapper prefixes of {@link WRAPPER_PREFIXES} that every key starts with,
   * stripped in turn (`module.` that `DataParallel` adds, `model.` that HRNet-seg's
   * checkpoints carry, or both).
   */
  stripPrefix?: string | false;
  /** Hears the prefix that was stripped (`''` when none), to report it. */
  onPrefixStripped?: (prefix: string) => void;
}

/** The prefixes wrappers add to every key, stripped by default when every key has them. */
export const WRAPPER_PREFIXES: readonly string[] = ['module.', 'model.'];

/** The wrapper prefixes every key starts with, in the order they nest (e.g. `module.model.`). */
function wrapperPrefix(keys: readonly string[]): string {
  let prefix = '';
  for (;;) {
    const next = WRAPPER_PREFIXES.find((p) => keys.every((k) => k.startsWith(prefix + p)));
    if (next === undefined) return prefix;
    prefix += next;
  }
}

/** The entries of a checkpoint tried, in order, as the holder of its state dict. */
export const WRAPPER_KEYS: readonly string[] = [
  'state_dict',
  'model_state_dict',
  'model',
  'state_dict_ema',
  'model_ema',
  'net',
  'network',
  'params',
  'weights',
];

/** The largest nesting of dicts followed. */
const MAX_DEPTH = 64;

type Leaf = TensorRef | RawTensor;

function isRawTensor(v: unknown): v is RawTensor {
  return (
    v !== null &&
    typeof v === 'object' &&
    'data' in v &&
    (v.data instanceof Float32Array || v.data instanceof Int32Array) &&
    'shape' in v
  );
}

function isLeaf(v: unknown): v is Leaf {
  return isTensorRef(v) || isRawTensor(v);
}

/** Whether a dict holds a tensor, at any depth. */
function holdsTensors(v: unknown, seen = new Set<unknown>(), depth = 0): boolean {
  if (!(v instanceof Map) || seen.has(v) || depth > MAX_DEPTH) return false;
  seen.add(v);
  for (const x of v.values()) if (isLeaf(x) || holdsTensors(x, seen, depth + 1)) return true;
  return false;
}

function fail(message: string, key?: string): never {
  throw new WeightsError(message, { format: 'state-dict', key });
}

function topKeys(d: Map<unknown, unknown>): string {
  const ks = [...d.keys()].map((k) => `'${String(k)}'`);
  return ks.length > 20 ? `${ks.slice(0, 20).join(', ')}, … (${ks.length} in all)` : ks.join(', ');
}

/** Follows `options.key`, or finds the state dict automatically. */
function select(root: Map<unknown, unknown>, key: string | undefined): Map<unknown, unknown> {
  if (key === '') return root;
  if (key !== undefined) {
    if (root.has(key)) {
      const v = root.get(key);
      if (!(v instanceof Map)) fail(`entry is ${kindOf(v)}, not a dict of tensors`, key);
      return v;
    }
    let cur: unknown = root;
    for (const part of key.split('.')) {
      if (!(cur instanceof Map) || !cur.has(part)) {
        // On a flat dict: the keys under `key.`, prefix stripped.
        const flat = new Map<unknown, unknown>();
        for (const [k, v] of root)
          if (typeof k === 'string' && k.startsWith(`${key}.`)) flat.set(k.slice(key.length + 1), v);
        if (flat.size > 0) return flat;
        fail(`no entry '${key}' in the checkpoint; its top-level keys are ${topKeys(root)}`, key);
      }
      cur = cur.get(part);
    }
    if (!(cur instanceof Map)) fail(`entry is ${kindOf(cur)}, not a dict of tensors`, key);
    return cur;
  }
  let cur = root;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const values = [...cur.values()];
    if (values.some(isLeaf)) return cur;
    const wrapper = WRAPPER_KEYS.find((k) => holdsTensors(cur.get(k)));
    if (wrapper !== undefined) {
      cur = cur.get(wrapper) as Map<unknown, unknown>;
      continue;
    }
    const candidates = [...cur].filter(([, v]) => holdsTensors(v));
    if (candidates.length === 0)
      fail(`no tensors found in the checkpoint; its top-level keys are ${topKeys(cur)}`);
    if (candidates.length === 1) {
      cur = candidates[0][1] as Map<unknown, unknown>;
      continue;
    }
    if (candidates.length === values.length) return cur; // a nested dict of tensors
    fail(
      `several entries hold tensors (${candidates.map(([k]) => `'${String(k)}'`).join(', ')}); choose one with the 'key' option`,
    );
  }
  return fail(`dicts nested deeper than ${MAX_DEPTH}`);
}

function flatten(d: Map<unknown, unknown>, prefix: string, out: [string, Leaf][], path: Set<unknown>): void {
  if (path.size >= MAX_DEPTH) fail(`dicts nested deeper than ${MAX_DEPTH}`, prefix);
  if (path.has(d)) fail('the checkpoint refers to a dict from inside itself', prefix);
  path.add(d);
  for (const [k, v] of d) {
    const name = prefix + String(k);
    if (isLeaf(v)) out.push([name, v]);
    else if (v instanceof Map) flatten(v, `${name}.`, out, path);
    // other values (numbers, strings, None, lists) are not part of a state dict
  }
  path.delete(d);
}

/**
 * Finds the state dict in an unpickled checkpoint (or a flat dict of raw tensors), flattens
 * nested dicts to dotted keys, strips a prefix, and reads each tensor.
 * @param tree - what a checkpoint reader returned: dicts as Maps, tensors as refs or raw tensors.
 * @param options - which entry holds the state dict, and which prefix to strip.
 * @returns the tensors by key, in checkpoint order.
 */
export function extractStateDict(tree: unknown, options: StateDictOptions = {}): RawStateDict {
  if (!(tree instanceof Map)) fail(`the checkpoint holds ${kindOf(tree)}, not a dict of tensors`);
  const chosen = select(tree as Map<unknown, unknown>, options.key);
  const leaves: [string, Leaf][] = [];
  flatten(chosen, '', leaves, new Set());
  if (leaves.length === 0) fail('the chosen dict holds no tensors', options.key);
  let prefix: string | false;
  if (options.stripPrefix === undefined) prefix = wrapperPrefix(leaves.map(([k]) => k)) || false;
  else prefix = options.stripPrefix;
  options.onPrefixStripped?.(prefix === false ? '' : prefix);
  const out: RawStateDict = new Map();
  for (const [k, leaf] of leaves) {
    const name = prefix !== false && prefix !== '' && k.startsWith(prefix) ? k.slice(prefix.length) : k;
    if (out.has(name))
      fail(`two tensors map to '${name}' once the prefix '${String(prefix)}' is stripped`, k);
    out.set(name, isTensorRef(leaf) ? readTensorRef(leaf, k) : leaf);
  }
  return out;
}
