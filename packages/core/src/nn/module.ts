import { ENGINE } from '../engine.js';
import { ArgumentError, KernelzooError, type ShapeMismatch, StateDictError } from '../errors.js';
import { cast, reshape } from '../ops/transform.js';
import { Tensor } from '../tensor.js';
import { shapesEqual } from '../util/shape.js';

/** A state dict: PyTorch-style dotted keys (`convs.0.1.running_mean`) to tensors, in order. */
export type StateDict = Map<string, Tensor>;

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /**
   * Refuse missing and unexpected keys (default true). Mis-shaped keys are always refused.
   */
  strict?: boolean;
}

/** What {@link Module.loadStateDict} did not use or did not find (non-strict loads). */
export interface LoadStateDictResult {
  /** Keys the module has that the dict lacked (left unchanged). */
  readonly missing: readonly string[];
  /** Keys the dict had that the module lacks (ignored). */
  readonly unexpected: readonly string[];
}

/** Something a module caches for inference and frees when its weights change. */
export interface Disposable {
  /** Frees what it holds. */
  dispose(): void;
}

/**
 * Base class of every layer and network, shaped like PyTorch's `nn.Module`: parameters,
 * buffers and child modules registered by name, so {@link Module.stateDict} keys equal the
 * reference checkpoints' keys.
 *
 * Modules are inference-only. {@link Module.eval} turns on inference preparation: on the next
 * forward, containers fold BatchNorm into the preceding convolution and fuse activations,
 * once; loading new weights drops what was prepared.
 */
export abstract class Module<In extends unknown[] = [Tensor], Out = Tensor> {
  private readonly _parameters = new Map<string, Tensor | null>();
  private readonly _buffers = new Map<string, Tensor | null>();
  private readonly _optionalBuffers = new Set<string>();
  private readonly _children = new Map<string, AnyModule | null>();
  private readonly _cache = new Map<string, Disposable>();
  private _inference = false;

  /** Computes the module's output. */
  abstract forward(...args: In): Out;

  /** The module's class name, as shown by `summary`. */
  get typeName(): string {
    return this.constructor.name;
  }

  // ---- registration ----

  /** Registers (or replaces) a parameter; the tensor is kept alive beyond any `tidy`. */
  protected registerParameter(name: string, t: Tensor | null): void {
    this.checkName(name);
    if (t) ENGINE.keep(t);
    this._parameters.set(name, t);
  }

  /**
   * Registers (or replaces) a buffer (state that is not a parameter, e.g. running statistics).
   * An `optional` buffer may be absent from a state dict (like `num_batches_tracked`, which
   * checkpoints from PyTorch < 0.4.1 lack).
   */
  protected registerBuffer(name: string, t: Tensor | null, optional = false): void {
    this.checkName(name);
    if (t) ENGINE.keep(t);
    this._buffers.set(name, t);
    if (optional) this._optionalBuffers.add(name);
  }

  /** Registers a child module under `name` and returns it. */
  protected registerModule<M extends AnyModule | null>(name: string, m: M): M {
    this.checkName(name);
    this._children.set(name, m);
    return m;
  }

  private checkName(name: string): void {
    if (name === '' || name.includes('.'))
      throw new ArgumentError(this.typeName, 'name', 'a non-empty name without dots', `'${name}'`);
  }

  /** A registered parameter by name (throws if it is absent or null). */
  protected param(name: string): Tensor {
    const t = this._parameters.get(name);
    if (!t) throw new KernelzooError(`${this.typeName}: no parameter '${name}'`);
    return t;
  }

  /** A registered parameter by name, or null. */
  protected paramOrNull(name: string): Tensor | null {
    return this._parameters.get(name) ?? null;
  }

  /** A registered buffer by name (throws if it is absent or null). */
  protected buffer(name: string): Tensor {
    const t = this._buffers.get(name);
    if (!t) throw new KernelzooError(`${this.typeName}: no buffer '${name}'`);
    return t;
  }

  // ---- traversal ----

  /** Direct children, by name, in registration order (null entries skipped). */
  namedChildren(): [string, AnyModule][] {
    return [...this._children].filter((e): e is [string, AnyModule] => e[1] !== null);
  }

  /** This module and every descendant, with dotted names ('' for this one), pre-order. */
  namedModules(prefix = ''): [string, AnyModule][] {
    const out: [string, AnyModule][] = [[prefix, this as AnyModule]];
    for (const [n, c] of this.namedChildren()) out.push(...c.namedModules(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  /** Every parameter with its dotted name, in PyTorch's order. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this._parameters) if (t) out.push([prefix + n, t]);
    for (const [n, c] of this.namedChildren()) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  /** Every buffer with its dotted name, in PyTorch's order. */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this._buffers) if (t) out.push([prefix + n, t]);
    for (const [n, c] of this.namedChildren()) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  /** The number of parameter values (elements), over all descendants. */
  numParameters(): number {
    return this.namedParameters().reduce((s, [, t]) => s + t.size, 0);
  }

  /**
   * Parameters and buffers by dotted key, in PyTorch's `state_dict()` order: a module's own
   * parameters, then its buffers, then each child's. The tensors are the module's own (do not
   * dispose them).
   */
  stateDict(): StateDict {
    const out: StateDict = new Map();
    this.collectState('', out);
    return out;
  }

  private collectState(prefix: string, out: StateDict): void {
    for (const [n, t] of this._parameters) if (t) out.set(prefix + n, t);
    for (const [n, t] of this._buffers) if (t) out.set(prefix + n, t);
    for (const [n, c] of this.namedChildren()) c.collectState(`${prefix}${n}.`, out);
  }

  private collectSlots(
    prefix: string,
    out: Map<string, { owner: AnyModule; kind: 'p' | 'b'; name: string; optional: boolean }>,
  ): void {
    for (const [n, t] of this._parameters)
      if (t) out.set(prefix + n, { owner: this as AnyModule, kind: 'p', name: n, optional: false });
    for (const [n, t] of this._buffers)
      if (t)
        out.set(prefix + n, {
          owner: this as AnyModule,
          kind: 'b',
          name: n,
          optional: this._optionalBuffers.has(n),
        });
    for (const [n, c] of this.namedChildren()) c.collectSlots(`${prefix}${n}.`, out);
  }

  /**
   * Loads parameters and buffers by key. Every missing, unexpected and mis-shaped key is
   * reported at once in a {@link StateDictError}, and on any error nothing changes. Tensors of
   * another dtype are converted. The module shares the given tensors' data (it never copies),
   * so disposing the dict afterwards is safe.
   */
  loadStateDict(
    dict: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
    options: LoadStateDictOptions = {},
  ): LoadStateDictResult {
    const strict = options.strict ?? true;
    const entries = dict instanceof Map ? [...dict.entries()] : Object.entries(dict);
    const given = new Map<string, Tensor>();
    for (const [k, t] of entries) {
      if (!(t instanceof Tensor) || t.isDisposed)
        throw new ArgumentError(
          'loadStateDict',
          k,
          'a live Tensor',
          t instanceof Tensor ? 'a disposed tensor' : typeof t,
        );
      given.set(k, t);
    }
    const slots = new Map<string, { owner: AnyModule; kind: 'p' | 'b'; name: string; optional: boolean }>();
    this.collectSlots('', slots);
    const missing: string[] = [];
    const mismatched: ShapeMismatch[] = [];
    const current = this.stateDict();
    for (const [k, slot] of slots) {
      const t = given.get(k);
      if (!t) {
        if (!slot.optional) missing.push(k);
        continue;
      }
      const cur = current.get(k)!;
      if (!shapesEqual(cur.shape, t.shape)) mismatched.push({ key: k, expected: cur.shape, got: t.shape });
    }
    const unexpected = [...given.keys()].filter((k) => !slots.has(k));
    if (mismatched.length > 0 || (strict && (missing.length > 0 || unexpected.length > 0)))
      throw new StateDictError(this.typeName, missing, unexpected, mismatched);
    for (const [k, slot] of slots) {
      const t = given.get(k);
      if (!t) continue;
      const cur = current.get(k)!;
      const next = ENGINE.tidy(() => (t.dtype === cur.dtype ? reshape(t, t.shape) : cast(t, cur.dtype)));
      slot.owner.replaceTensor(slot.kind, slot.name, next);
    }
    this.invalidate();
    return { missing, unexpected };
  }

  private replaceTensor(kind: 'p' | 'b', name: string, t: Tensor): void {
    const map = kind === 'p' ? this._parameters : this._buffers;
    const old = map.get(name);
    ENGINE.keep(t);
    map.set(name, t);
    if (old && old !== t) {
      ENGINE.unkeep(old);
      old.dispose();
    }
  }

  // ---- inference preparation ----

  /**
   * Switches this module and its descendants to inference mode: the next forward prepares
   * fused kernels (BatchNorm folded into convolutions, activations fused) once. Returns `this`.
   */
  eval(): this {
    for (const [, m] of this.namedModules()) m._inference = true;
    return this;
  }

  /** Whether {@link Module.eval} was called. */
  get isEval(): boolean {
    return this._inference;
  }

  /** Whether forward should use prepared (fused) computation: in eval mode and not tracing shapes. */
  protected get useFused(): boolean {
    return this._inference && !ENGINE.tracing;
  }

  /**
   * A value prepared once for inference and kept until weights change (then disposed).
   * @param key - the cache slot.
   * @param make - builds the value; runs inside a `tidy`, and returned tensors are kept.
   */
  protected prepared<T extends Disposable>(key: string, make: () => T): T {
    let v = this._cache.get(key) as T | undefined;
    if (!v) {
      v = make();
      this._cache.set(key, v);
    }
    return v;
  }

  /** Drops every prepared value in this module and its descendants. */
  invalidate(): void {
    for (const [, m] of this.namedModules()) {
      for (const v of m._cache.values()) v.dispose();
      m._cache.clear();
    }
  }

  /** Frees every parameter, buffer and prepared value of this module and its descendants. */
  dispose(): void {
    this.invalidate();
    for (const [, m] of this.namedModules()) {
      for (const map of [m._parameters, m._buffers])
        for (const [n, t] of map) {
          if (t) {
            ENGINE.unkeep(t);
            t.dispose();
          }
          map.set(n, null);
        }
    }
  }
}

/** A module of any signature. */
// biome-ignore lint/suspicious/noExplicitAny: modules of every signature live in one tree.
export type AnyModule = Module<any[], any>;
