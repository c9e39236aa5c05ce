import { type Budget, budgetOf } from './budget.js';
import { quote, WeightsError } from './errors.js';
import { describeValue, kindOf } from './pickle.js';
import type { RawStateDict, RawTensor } from './raw.js';
import { copyLimitOf, DecodeContext, decodeTensorRef, isTensorRef, type TensorRef } from './torch.js';

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
  /**
   * The most bytes the load may allocate beyond the file itself — inflated zip entries and
   * converted or gathered tensor data — before it is refused with a `WeightsError`.
   * Default {@link DEFAULT_MAX_BYTES} (2 GiB).
   */
  maxBytes?: number;
  /**
   * Hears how far the load is: the file's bytes as they are read (file paths in Node), then
   * each tensor as it is decoded. For a progress bar on large checkpoints.
   */
  onProgress?: (progress: WeightsProgress) => void;
}

/** How far a weights load is (see {@link StateDictOptions.onProgress}). */
export interface WeightsProgress {
  /** `'read'`: bytes of the file read so far; `'decode'`: tensors decoded so far. */
  readonly phase: 'read' | 'decode';
  /** Bytes or tensors done. */
  readonly done: number;
  /** Bytes in the file or tensors in the state dict. */
  readonly total: number;
}

/** The prefixes wrappers add to every key, stripped by default when every key has them. */
export const WRAPPER_PREFIXES: readonly string[] = ['module.', 'model.'];

/**
 * The wrapper prefixes every key starts with, in the order they nest (e.g. `module.model.`),
 * in time linear in the keys' length.
 */
function wrapperPrefix(keys: readonly string[]): string {
  if (keys.length === 0) return '';
  const first = keys[0];
  // where the run of wrapper prefixes at the start of the first key may end
  const ends = [0];
  for (;;) {
    const at = ends[ends.length - 1];
    const next = WRAPPER_PREFIXES.find((p) => first.startsWith(p, at));
    if (next === undefined) break;
    ends.push(at + next.length);
  }
  let best = ends.length - 1;
  for (const k of keys) {
    if (best === 0) break;
    const limit = Math.min(k.length, ends[best]);
    let i = 0;
    while (i < limit && k.charCodeAt(i) === first.charCodeAt(i)) i++;
    while (best > 0 && ends[best] > i) best--;
  }
  return first.slice(0, ends[best]);
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

/** The most dict entries visited while flattening (aliased dicts are visited once per path). */
const MAX_FLATTEN_STEPS = 1 << 22;

/** The most keys a state dict may have. */
const MAX_KEYS = 1 << 20;

/** The most characters all of a state dict's keys may have together. */
const MAX_KEY_CHARS = 1 << 26;

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

/**
 * Whether a dict holds a tensor, at any depth; each dict's answer is computed once, so a
 * dict referenced from many places costs nothing more (no quadratic search).
 */
class TensorHolders {
  private readonly known = new Map<Map<unknown, unknown>, boolean>();

  holds(v: unknown, depth = 0): boolean {
    if (!(v instanceof Map)) return false;
    const k = this.known.get(v);
    if (k !== undefined) return k;
    if (depth > MAX_DEPTH) fail(`dicts nested deeper than ${MAX_DEPTH}`);
    this.known.set(v, false); // a dict inside itself adds nothing
    let found = false;
    for (const x of v.values())
      if (isLeaf(x) || this.holds(x, depth + 1)) {
        found = true;
        break;
      }
    this.known.set(v, found);
    return found;
  }
}

/** A dict key as a string: strings as they are, numbers and tuples rendered Python-like, bounded. */
function keyText(k: unknown): string {
  return typeof k === 'string' ? k : describeValue(k, 256, true);
}

function fail(message: string, key?: string): never {
  throw new WeightsError(message, { format: 'state-dict', key });
}

function topKeys(d: Map<unknown, unknown>): string {
  const ks: string[] = [];
  for (const k of d.keys()) {
    if (ks.length === 20) break;
    ks.push(typeof k === 'string' ? quote(k, 60) : describeValue(k, 60));
  }
  return d.size > 20 ? `${ks.join(', ')}, … (${d.size} in all)` : ks.join(', ');
}

/** Follows `options.key`, or finds the state dict automatically. */
function select(root: Map<unknown, unknown>, key: string | undefined): Map<unknown, unknown> {
  const holders = new TensorHolders();
  const holdsTensors = (v: unknown): boolean => holders.holds(v);
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
        fail(`no entry ${quote(key)} in the checkpoint; its top-level keys are ${topKeys(root)}`, key);
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
    fail(`several entries hold tensors (${topKeys(new Map(candidates))}); choose one with the 'key' option`);
  }
  return fail(`dicts nested deeper than ${MAX_DEPTH}`);
}

interface FlattenState {
  steps: number;
  chars: number;
  readonly out: [string, Leaf][];
  readonly path: Set<unknown>;
}

function flatten(d: Map<unknown, unknown>, prefix: string, st: FlattenState): void {
  if (st.path.size >= MAX_DEPTH) fail(`dicts nested deeper than ${MAX_DEPTH}`, prefix);
  if (st.path.has(d)) fail('the checkpoint refers to a dict from inside itself', prefix);
  st.path.add(d);
  for (const [k, v] of d) {
    if (++st.steps > MAX_FLATTEN_STEPS)
      fail(
        `flattening visits more than ${MAX_FLATTEN_STEPS} dict entries (dicts aliased many times?)`,
        prefix,
      );
    if (!isLeaf(v) && !(v instanceof Map)) continue; // numbers, strings, None, lists: not part of a state dict
    const name = prefix + keyText(k);
    if (isLeaf(v)) {
      st.chars += name.length;
      if (st.out.length >= MAX_KEYS || st.chars > MAX_KEY_CHARS)
        fail(`the state dict has more than ${MAX_KEYS} keys or ${MAX_KEY_CHARS} characters of keys`, name);
      st.out.push([name, v]);
    } else flatten(v as Map<unknown, unknown>, `${name}.`, st);
  }
  st.path.delete(d);
}

/**
 * Finds the state dict in an unpickled checkpoint and flattens it to dotted keys, prefix
 * stripped, without reading any tensor. @internal
 */
export function selectLeaves(tree: unknown, options: StateDictOptions = {}): [string, Leaf][] {
  if (!(tree instanceof Map)) fail(`the checkpoint holds ${kindOf(tree)}, not a dict of tensors`);
  const chosen = select(tree as Map<unknown, unknown>, options.key);
  const st: FlattenState = { steps: 0, chars: 0, out: [], path: new Set() };
  flatten(chosen, '', st);
  const leaves = st.out;
  if (leaves.length === 0) fail('the chosen dict holds no tensors', options.key);
  let prefix: string | false;
  if (options.stripPrefix === undefined) prefix = wrapperPrefix(leaves.map(([k]) => k)) || false;
  else prefix = options.stripPrefix;
  options.onPrefixStripped?.(prefix === false ? '' : prefix);
  const seen = new Map<string, string>();
  const out: [string, Leaf][] = [];
  for (const [k, leaf] of leaves) {
    const name = prefix !== false && prefix !== '' && k.startsWith(prefix) ? k.slice(prefix.length) : k;
    if (seen.has(name))
      fail(`two tensors map to ${quote(name)} once the prefix ${quote(String(prefix))} is stripped`, k);
    seen.set(name, k);
    out.push([name, leaf]);
  }
  return out;
}

/**
 * Reads the tensors of {@link selectLeaves}: each view checked against its storage, views
 * shared by several keys decoded once, copies charged to `budget`. @internal
 */
export function decodeLeaves(
  leaves: readonly [string, Leaf][],
  budget: Budget,
  onProgress?: (progress: WeightsProgress) => void,
): RawStateDict {
  const refs = leaves.map(([, l]) => l).filter(isTensorRef);
  const ctx = new DecodeContext(budget, copyLimitOf(refs));
  const out: RawStateDict = new Map();
  for (const [name, leaf] of leaves) {
    out.set(name, isTensorRef(leaf) ? decodeTensorRef(leaf, name, ctx) : leaf);
    onProgress?.({ phase: 'decode', done: out.size, total: leaves.length });
  }
  return out;
}

/**
 * Finds the state dict in an unpickled checkpoint (or a flat dict of raw tensors), flattens
 * nested dicts to dotted keys, strips a prefix, and reads each tensor.
 * @param tree - what a checkpoint reader returned: dicts as Maps, tensors as refs or raw tensors.
 * @param options - which entry holds the state dict, which prefix to strip, the memory budget.
 * @returns the tensors by key, in checkpoint order.
 */
export function extractStateDict(tree: unknown, options: StateDictOptions = {}): RawStateDict {
  return decodeLeaves(selectLeaves(tree, options), budgetOf(options), options.onProgress);
}
