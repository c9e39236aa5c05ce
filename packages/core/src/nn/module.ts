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

/** A chain of modules folded into one kernel call (see {@link Module.registerFusion}). */
export interface FusedStep extends Disposable {
  /** Runs the whole chain on `x`. */
  forward(x: Tensor): Tensor;
}

/** The chain a module heads, found by {@link Module.eval}. */
interface ChainHead {
  /** The modules folded into the head, in call order. */
  readonly rest: readonly AnyModule[];
  /** e.g. `Conv2d 'layer1.0.conv1'`, for errors. */
  readonly label: string;
}

/**
 * Base class of every layer and network, shaped like PyTorch's `nn.Module`: parameters,
 * buffers and child modules registered by name, so {@link Module.stateDict} keys equal the
 * reference checkpoints' keys.
 *
 * A module defines {@link Module.forward}; everything runs it through {@link Module.call}, which
 * scopes the call (intermediates are freed when it returns) and is where `summary`, feature
 * capture ({@link captureFeatures}) and kernel traces (`traceKernels`) listen.
 *
 * Modules are inference-only. {@link Module.eval} turns on fusion: every chain
 * `Conv2d → BatchNorm2d → activation` declared with {@link Module.registerFusion} (a
 * `Sequential` declares its own) runs as one convolution with the BatchNorm folded into its
 * weights and the activation in its epilogue, prepared on first use; loading new weights drops
 * what was prepared.
 */
export abstract class Module<In extends unknown[] = [Tensor], Out = Tensor> {
  private readonly _parameters = new Map<string, Tensor | null>();
  private readonly _buffers = new Map<string, Tensor | null>();
  private readonly _optionalBuffers = new Set<string>();
  private readonly _children = new Map<string, AnyModule | null>();
  private readonly _cache = new Map<string, Disposable>();
  private readonly _fusions: (readonly string[])[] = [];
  private _chain: ChainHead | null = null;
  private _inference = false;

  /**
   * Computes the module's output from its inputs: what a subclass defines, as PyTorch's
   * `forward`. Run modules with {@link Module.call}, which calls this inside a scope.
   */
  protected abstract forward(...args: In): Out;

  /**
   * Runs the module: the way every module runs, children included (`this.conv1.call(x)`).
   * The forward runs in its own scope, so tensors it makes and does not return are freed when
   * it returns; the returned tensors belong to the caller's scope. In eval mode a module that
   * heads a declared fusion chain runs the folded chain, and the chain's other members pass its
   * output through. `summary`, feature capture and kernel traces hear every call.
   */
  call(...args: In): Out {
    const x = args[0];
    if (x instanceof Tensor && ENGINE.passThrough(x, this)) return ENGINE.callModule(this, () => x as Out);
    return ENGINE.callModule(this, () => {
      const chain = this._chain;
      if (
        chain &&
        x instanceof Tensor &&
        this.useFused &&
        !ENGINE.wantsOutput([this, ...chain.rest.slice(0, -1)])
      ) {
        const y = this.prepared('fused', () => this.foldChain(chain.rest)).forward(x);
        ENGINE.markFused(y, chain.label, chain.rest);
        return y as Out;
      }
      return this.forward(...args);
    });
  }

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

  /**
   * Declares that this module's forward runs its children `names` one after another on one
   * tensor — a convolution (or `Linear`), optionally its `BatchNorm2d`, optionally an
   * activation (`ReLU`, `Sigmoid` or `Identity`) — with nothing else reading the intermediate
   * results. In eval mode the chain then runs as one kernel: the BatchNorm folded into the
   * convolution's weights and the activation fused into its epilogue. State-dict keys do not
   * change. An activation module may be shared by several chains and also used on its own
   * (as a Bottleneck's `relu` after the residual sum): it passes a tensor through only where a
   * chain folded it in. Declare each chain once, in the constructor, after registering the
   * children:
   *
   * ```ts
   * this.registerFusion('conv1', 'bn1', 'relu');
   * this.registerFusion('conv3', 'bn3'); // the block's relu runs after the residual sum
   * ```
   *
   * An op that reads a chain's intermediate result throws, naming the chain.
   * A name may be a dotted path to a deeper descendant (`'conv1.6', 'bn1', 'relu'` for a deep
   * stem whose last convolution sits inside a `Sequential` and its BatchNorm outside).
   * @param names - child names or dotted paths: the head, then the modules folded into it, in
   *   call order.
   */
  protected registerFusion(...names: string[]): void {
    const op = `${this.typeName}.registerFusion`;
    if (names.length < 2)
      throw new ArgumentError(op, 'names', 'a head and at least one module to fold', describeNames(names));
    const members = names.map((n) => {
      const m = this.descendant(n);
      if (!m)
        throw new ArgumentError(
          op,
          'names',
          `names of registered children (${[...this._children.keys()].join(', ')})`,
          `'${n}'`,
        );
      return m;
    });
    const [head, ...rest] = members;
    const why = head.chainError(rest);
    if (why !== null)
      throw new ArgumentError(op, 'names', 'a foldable chain', `${describeNames(names)}: ${why}`);
    for (const chain of this._fusions)
      if (chain[0] === names[0])
        throw new ArgumentError(
          op,
          'names',
          `one chain per head ('${names[0]}' already heads ${describeNames(chain)})`,
          describeNames(names),
        );
    this._fusions.push([...names]);
  }

  /** The chains this module declared with {@link Module.registerFusion}, as child names. */
  get fusions(): readonly (readonly string[])[] {
    return this._fusions;
  }

  /**
   * For modules that can head a fused chain: why `rest` cannot be folded into this module, or
   * null when it can. The base class heads nothing.
   */
  protected chainError(_rest: readonly AnyModule[]): string | null {
    return `a ${this.typeName} cannot head a fused chain (Conv2d and Linear can)`;
  }

  /** Builds the folded chain (called once per weights, in eval mode); see {@link Module.chainError}. */
  protected foldChain(_rest: readonly AnyModule[]): FusedStep {
    throw new KernelzooError(`${this.typeName} cannot head a fused chain`);
  }

  /** The registered descendant at a dotted path of child names (`conv1.6`), or undefined. */
  private descendant(path: string): AnyModule | undefined {
    let m: AnyModule | undefined = this as AnyModule;
    for (const part of path.split('.')) m = m?._children.get(part) ?? undefined;
    return m === this ? undefined : m;
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
   * Switches this module and its descendants to inference mode with fusion: each chain
   * declared with {@link Module.registerFusion} runs as one folded convolution from its next
   * call on. The folded weights are made once, on a chain's first call; the convolution's
   * original weights then move off the backend into JavaScript memory (their `backendName` is
   * `host`), so the backend holds one copy, and `stateDict()` still returns the original values.
   * Returns `this`.
   */
  eval(): this {
    const modules = this.namedModules();
    for (const [, m] of modules) m._inference = true;
    for (const [path, m] of modules)
      for (const names of m._fusions) {
        const [head, ...rest] = names.map((n) => m.descendant(n)!);
        const label = `${head.typeName} '${path ? `${path}.` : ''}${names[0]}'`;
        head._chain = { rest, label };
      }
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
   * @param make - builds the value on first use; it must `keep` the tensors it holds (the
   *   call's scope frees everything else) and free them in its `dispose`.
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

function describeNames(names: readonly string[]): string {
  return `[${names.map((n) => `'${n}'`).join(', ')}]`;
}

/** A module of any signature. */
// biome-ignore lint/suspicious/noExplicitAny: modules of every signature live in one tree.
export type AnyModule = Module<any[], any>;
