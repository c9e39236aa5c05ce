/**
 * The engine: the backend registry, the active backend, `tidy` scopes, memory counts and the
 * dispatch of ops to kernels. One engine per process (module-level singleton).
 *
 * @module
 */
import type { Backend } from './backend.js';
import { BackendError, KernelzooError } from './errors.js';
import { HostStorage, type Storage } from './host-storage.js';
import { type DataRecord, setTensorOwner, Tensor, type TensorOwner } from './tensor.js';
import type { DType, Shape, TensorInfo, TypedArray } from './types.js';
import { bytesPerElement, formatShape, shapesEqual, sizeFromShape } from './util/shape.js';

/** Makes a backend; may be async (e.g. to compile WebAssembly). */
export type BackendFactory = () => Backend | Promise<Backend>;

/** Live tensors, buffers and bytes for one backend. */
export interface BackendMemoryInfo {
  /** Live (undisposed) tensors whose data this backend holds. */
  readonly tensors: number;
  /** Buffers the backend holds (reshaped views share one). */
  readonly buffers: number;
  /** Bytes the backend holds. */
  readonly bytes: number;
}

/** What {@link memory} reports. */
export interface MemoryInfo {
  /** Live tensors over all backends. */
  readonly numTensors: number;
  /** Live buffers over all backends. */
  readonly numDataBuffers: number;
  /** Bytes over all backends. */
  readonly numBytes: number;
  /**
   * The same per initialised backend, by name, plus `host` while original weights are parked
   * in JavaScript memory (see `Module.eval`).
   */
  readonly backends: Readonly<Record<string, BackendMemoryInfo>>;
}

/** Anything `tidy` may return: tensors, or arrays/objects/maps of them, or nothing. */
export type TensorContainer =
  | Tensor
  // biome-ignore lint/suspicious/noConfusingVoidType: tidy(() => { ... }) returns void.
  | void
  | null
  | undefined
  | number
  | string
  | boolean
  | readonly TensorContainer[]
  | ReadonlyMap<unknown, TensorContainer>
  | { readonly [key: string]: TensorContainer };

/** Called for each op run while shapes are traced (see {@link traceShapes}). */
export type TraceListener = (op: string, outShape: Shape, multiplyAdds: number) => void;

/** One kernel call, as a kernel trace hears it (see `traceKernels`). */
export interface KernelCall {
  /** The op that ran the kernel, e.g. `conv2d`, `batchNorm`, `add`, `relu`. */
  readonly kernel: string;
  /** The name of the backend that ran it. */
  readonly backend: string;
  /** The shapes of its tensor inputs, in order. */
  readonly inputShapes: readonly Shape[];
  /** The shape of its output. */
  readonly outputShape: Shape;
  /**
   * Wall time of the kernel call in milliseconds. Synchronous backends (js, wasm) finish the
   * work inside the call; a GPU backend that keeps results on the device may only queue it.
   */
  readonly ms: number;
  /** The modules whose `call()` was open when the kernel ran, outermost first. */
  readonly modules: readonly object[];
  /** Bytes the backend held just after the call, its output included (its `memory().bytes`). */
  readonly backendBytes: number;
}

/** Hears every kernel call while registered (see `traceKernels`). */
export type KernelListener = (call: KernelCall) => void;

/**
 * Hears module calls made through `Module.call()` — the hook that `summary`, feature capture
 * and kernel traces use. @internal
 */
export interface ModuleCallListener {
  /** A module's call began. */
  enter?(module: object): void;
  /** A module's call returned `output` (its tensors stay alive until the caller's scope ends). */
  exit?(module: object, output: unknown): void;
  /** Whether this listener needs `module`'s own output (so a fused chain must not skip it). */
  wants?(module: object): boolean;
}

/** Modules that still have to "run" on a fused output (they were folded into it). */
interface PendingChain {
  readonly head: string;
  readonly rest: readonly object[];
}

/** Engine checks for development and tests. */
export interface DebugOptions {
  /** After every kernel, check it created exactly one buffer (no leaked temporaries). */
  checkLeaks?: boolean;
}

interface Registration {
  factory: BackendFactory;
  priority: number;
}

class Engine implements TensorOwner {
  private readonly registry = new Map<string, Registration>();
  private readonly instances = new Map<string, Backend>();
  private readonly initErrors = new Map<string, string>();
  private readonly pending = new Map<string, Promise<Backend>>();
  private active: Backend | null = null;
  private readonly scopes: Tensor[][] = [];
  private readonly kept = new WeakSet<Tensor>();
  private readonly live = new Set<Tensor>();
  private readonly records = new Set<DataRecord>();
  private tracer: TraceListener[] = [];
  private readonly host = new HostStorage();
  private readonly moduleStack: object[] = [];
  private callListeners: ModuleCallListener[] = [];
  private kernelListeners: KernelListener[] = [];
  private readonly pendingChains = new WeakMap<Tensor, PendingChain>();
  debug: DebugOptions = {};

  register(name: string, factory: BackendFactory, priority: number): void {
    if (this.registry.has(name))
      throw new BackendError(`registerBackend: a backend named '${name}' is already registered`);
    this.registry.set(name, { factory, priority });
  }

  registered(): string[] {
    return [...this.registry.entries()].sort((a, b) => b[1].priority - a[1].priority).map(([n]) => n);
  }

  async init(name: string): Promise<Backend> {
    const existing = this.instances.get(name);
    if (existing) return existing;
    const reg = this.registry.get(name);
    if (!reg) {
      const known = this.registered();
      throw new BackendError(
        `setBackend: no backend named '${name}' is registered; registered: ${known.length ? known.join(', ') : 'none (import a backend package, e.g. @kernelzoo/backend-js, and register it)'}`,
      );
    }
    let p = this.pending.get(name);
    if (!p) {
      p = Promise.resolve()
        .then(() => reg.factory())
        .then(
          (b) => {
            this.instances.set(name, b);
            this.initErrors.delete(name);
            return b;
          },
          (e: unknown) => {
            const why = e instanceof Error ? e.message : String(e);
            this.initErrors.set(name, why);
            throw new BackendError(`backend '${name}' failed to initialise: ${why}`);
          },
        )
        .finally(() => this.pending.delete(name));
      this.pending.set(name, p);
    }
    return p;
  }

  async setBackend(name: string): Promise<void> {
    this.active = await this.init(name);
  }

  async ready(): Promise<Backend> {
    if (this.active) return this.active;
    const names = this.registered();
    if (names.length === 0)
      throw new BackendError(
        'ready: no backend is registered; import a backend package (e.g. @kernelzoo/backend-js) and call its register function',
      );
    const failures: string[] = [];
    for (const n of names) {
      try {
        this.active = await this.init(n);
        return this.active;
      } catch (e) {
        failures.push(`${n}: ${this.initErrors.get(n) ?? String(e)}`);
      }
    }
    throw new BackendError(`ready: no backend could be initialised. ${failures.join('; ')}`);
  }

  backend(): Backend {
    if (this.active) return this.active;
    // Initialise the highest-priority backend synchronously when its factory is synchronous.
    for (const n of this.registered()) {
      const reg = this.registry.get(n)!;
      try {
        const b = reg.factory();
        if (b instanceof Promise) {
          b.then(
            (inst) => this.instances.set(n, inst),
            () => undefined,
          );
          throw new BackendError(
            `backend '${n}' initialises asynchronously: call \`await setBackend('${n}')\` or \`await ready()\` before running ops`,
          );
        }
        this.instances.set(n, b);
        this.active = b;
        return b;
      } catch (e) {
        if (e instanceof BackendError) throw e;
        this.initErrors.set(n, e instanceof Error ? e.message : String(e));
      }
    }
    throw new BackendError(
      'no backend is active: import a backend package (e.g. @kernelzoo/backend-js), register it and call `await setBackend(name)`',
    );
  }

  find(name: string): Backend | undefined {
    return this.instances.get(name);
  }

  // ---- tensors and scopes ----

  private track(t: Tensor): Tensor {
    this.live.add(t);
    const scope = this.scopes[this.scopes.length - 1];
    if (scope) scope.push(t);
    return t;
  }

  /** Wraps a new buffer into a tensor. */
  wrap(backend: Backend, info: TensorInfo): Tensor {
    const record: DataRecord = {
      backend,
      dataId: info.dataId,
      refCount: 1,
      bytes: sizeFromShape(info.shape) * bytesPerElement(info.dtype),
    };
    this.records.add(record);
    return this.track(new Tensor(info.shape, info.dtype, record));
  }

  /** A tensor of new values on the active backend (or shape-only while tracing). */
  makeTensor(values: TypedArray, shape: Shape, dtype: DType): Tensor {
    if (this.tracer.length > 0) return this.track(new Tensor(shape, dtype, null));
    const b = this.backend();
    return this.wrap(b, { dataId: b.write(values, shape, dtype), shape, dtype });
  }

  /** A shape-only parameter placeholder: no values until weights replace it. */
  placeholder(shape: Shape, dtype: DType): Tensor {
    return this.track(new Tensor(shape, dtype, null, true));
  }

  /** A new tensor sharing `x`'s buffer under another shape of the same size. */
  view(x: Tensor, shape: Shape): Tensor {
    const r = x.record;
    if (r === null) return this.track(new Tensor(shape, x.dtype, null));
    x.liveRecord('reshape');
    r.refCount++;
    return this.track(new Tensor(shape, x.dtype, r));
  }

  disposeTensor(t: Tensor): void {
    if (t.isDisposed) return;
    this.live.delete(t);
    const r = t.record;
    t.markDisposed();
    if (r === null) return;
    r.refCount--;
    if (r.refCount === 0) {
      r.backend.disposeData(r.dataId);
      this.records.delete(r);
    }
  }

  keep<T extends Tensor>(t: T): T {
    this.kept.add(t);
    return t;
  }

  unkeep(t: Tensor): void {
    this.kept.delete(t);
  }

  /** Ends a `keep`: the tensor joins the innermost open scope, like a tensor made there. */
  release(t: Tensor): Tensor {
    this.kept.delete(t);
    const scope = this.scopes[this.scopes.length - 1];
    if (scope) scope.push(t);
    return t;
  }

  isKept(t: Tensor): boolean {
    return this.kept.has(t);
  }

  tidy<T extends TensorContainer>(fn: () => T): T {
    this.scopes.push([]);
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.endScope(new Set());
      throw e;
    }
    if (result instanceof Promise) {
      this.endScope(new Set());
      throw new KernelzooError(
        'tidy: the function returned a Promise; tidy only works with synchronous functions (await outside it)',
      );
    }
    const survivors = new Set<Tensor>();
    collectTensors(result, survivors);
    this.endScope(survivors);
    return result;
  }

  private endScope(survivors: Set<Tensor>): void {
    const scope = this.scopes.pop()!;
    const parent = this.scopes[this.scopes.length - 1];
    for (const t of scope) {
      if (t.isDisposed) continue;
      if (survivors.has(t)) {
        if (parent) parent.push(t);
      } else if (!this.kept.has(t)) {
        this.disposeTensor(t);
      }
    }
  }

  memory(): MemoryInfo {
    const per: Record<string, { tensors: number; buffers: number; bytes: number }> = {};
    for (const [name, b] of this.instances) {
      const m = b.memory();
      per[name] = { tensors: 0, buffers: m.buffers, bytes: m.bytes };
    }
    // Key by instance: two instances of one backend class may share `name` but not a registration.
    const registeredName = new Map<Storage, string>();
    for (const [name, b] of this.instances) registeredName.set(b, name);
    const host = this.host.memory();
    if (host.buffers > 0) {
      per.host = { tensors: 0, buffers: host.buffers, bytes: host.bytes };
      registeredName.set(this.host, 'host');
    }
    let numTensors = 0;
    for (const t of this.live) {
      if (t.record === null) continue;
      numTensors++;
      const entry = per[registeredName.get(t.record.backend) ?? t.record.backend.name];
      if (entry) entry.tensors++;
    }
    let bytes = 0;
    for (const r of this.records) bytes += r.bytes;
    return { numTensors, numDataBuffers: this.records.size, numBytes: bytes, backends: per };
  }

  // ---- dispatch ----

  get tracing(): boolean {
    return this.tracer.length > 0;
  }

  traceShapes<T>(fn: () => T, listener: TraceListener): T {
    this.tracer.push(listener);
    try {
      return fn();
    } finally {
      this.tracer.pop();
    }
  }

  /**
   * Runs one kernel for op `op`: moves inputs to the active backend if needed, calls `kernel`
   * with their records, checks the output against the shape core derived, and wraps it.
   */
  run(
    op: string,
    inputs: readonly Tensor[],
    outShape: Shape,
    outDtype: DType,
    multiplyAdds: number,
    kernel: (backend: Backend, infos: TensorInfo[]) => TensorInfo,
  ): Tensor {
    if (this.tracer.length > 0) {
      for (const x of inputs) if (x.isDisposed) x.liveRecord(op);
      for (const l of this.tracer) l(op, outShape, multiplyAdds);
      return this.track(new Tensor(outShape, outDtype, null));
    }
    const b = this.backend();
    const infos = inputs.map((x) => {
      const r = x.liveRecord(op);
      const pending = this.pendingChains.get(x);
      if (pending) throw this.pendingError(op, pending);
      if (r.backend !== b) this.move(r, b, x.shape, x.dtype);
      return { dataId: r.dataId, shape: x.shape, dtype: x.dtype };
    });
    const before = this.debug.checkLeaks ? b.memory().buffers : 0;
    const timed = this.kernelListeners.length > 0;
    const t0 = timed ? performance.now() : 0;
    const out = kernel(b, infos);
    const ms = timed ? performance.now() - t0 : 0;
    if (this.debug.checkLeaks) {
      const after = b.memory().buffers;
      if (after !== before + 1) {
        b.disposeData(out.dataId);
        throw new KernelzooError(
          `${op}: the ${b.name} kernel left ${after - before - 1} buffer(s) behind (leak check)`,
        );
      }
    }
    if (!shapesEqual(out.shape, outShape) || out.dtype !== outDtype) {
      b.disposeData(out.dataId);
      throw new KernelzooError(
        `${op}: the ${b.name} kernel returned ${out.dtype} ${formatShape(out.shape)}, expected ${outDtype} ${formatShape(outShape)} (a backend bug)`,
      );
    }
    if (timed) {
      const call: KernelCall = {
        kernel: op,
        backend: b.name,
        inputShapes: inputs.map((x) => x.shape),
        outputShape: out.shape,
        ms,
        modules: [...this.moduleStack],
        backendBytes: b.memory().bytes,
      };
      for (const l of this.kernelListeners) l(call);
    }
    return this.wrap(b, out);
  }

  /**
   * Moves a buffer to another storage, written with the shape of the tensor that uses it so a
   * backend that lays data out by shape (gpujs's textures) gets the real layout.
   */
  private move(r: DataRecord, to: Backend | HostStorage, shape: Shape, dtype: DType): void {
    const values = r.backend.readSync(r.dataId);
    r.backend.disposeData(r.dataId);
    r.dataId = to.write(values, shape, dtype);
    r.backend = to;
  }

  /**
   * Moves a tensor's buffer (shared by its views) off its backend into JavaScript memory, where
   * no kernel reads it; the next op that uses it moves it back. Used for original weights
   * whose folded copy is what runs.
   */
  park(t: Tensor): void {
    const r = t.record;
    if (r === null || t.isDisposed || r.backend === this.host) return;
    this.move(r, this.host, t.shape, t.dtype);
  }

  // ---- module calls ----

  /**
   * Runs one module call: `fn` (the module's forward) in its own scope, with the module on the
   * call stack and the module-call listeners told before and after.
   */
  callModule<T>(module: object, fn: () => T): T {
    this.moduleStack.push(module);
    try {
      for (const l of this.callListeners) l.enter?.(module);
      const out = this.tidy(fn as () => TensorContainer) as T;
      for (const l of this.callListeners) l.exit?.(module, out);
      return out;
    } finally {
      this.moduleStack.pop();
    }
  }

  /** Adds a module-call listener until the returned function is called. */
  listenToCalls(l: ModuleCallListener): () => void {
    this.callListeners = [...this.callListeners, l];
    return () => {
      this.callListeners = this.callListeners.filter((x) => x !== l);
    };
  }

  /** Adds a kernel listener until the returned function is called. */
  listenToKernels(l: KernelListener): () => void {
    this.kernelListeners = [...this.kernelListeners, l];
    return () => {
      this.kernelListeners = this.kernelListeners.filter((x) => x !== l);
    };
  }

  /** Whether some listener needs the output of one of `modules`. */
  wantsOutput(modules: readonly object[]): boolean {
    for (const l of this.callListeners) if (l.wants && modules.some((m) => l.wants!(m))) return true;
    return false;
  }

  /**
   * Marks `t` as the output of a fused chain whose `rest` modules were folded into it: each of
   * them, called on it in order, passes it through; any op that reads it before is an error.
   */
  markFused(t: Tensor, head: string, rest: readonly object[]): void {
    if (rest.length > 0) this.pendingChains.set(t, { head, rest });
  }

  /**
   * If `module` is the next folded member of the chain that made `t`, consumes it and returns
   * true: the call passes `t` through.
   */
  passThrough(t: Tensor, module: object): boolean {
    const p = this.pendingChains.get(t);
    if (!p || p.rest[0] !== module) return false;
    if (p.rest.length === 1) this.pendingChains.delete(t);
    else this.pendingChains.set(t, { head: p.head, rest: p.rest.slice(1) });
    return true;
  }

  private pendingError(op: string, p: PendingChain): KernelzooError {
    const names = p.rest.map((m) => (m as { typeName?: string }).typeName ?? 'module').join(' → ');
    return new KernelzooError(
      `${op}: read the output of a fused ${p.head} before its folded ${names} ran. A block that ` +
        'declares a chain with registerFusion(conv, bn, act) must call those children in order on ' +
        'that output and use nothing in between; fix the block or drop the declaration',
    );
  }
}

function collectTensors(c: unknown, into: Set<Tensor>): void {
  if (c instanceof Tensor) into.add(c);
  else if (Array.isArray(c)) for (const v of c) collectTensors(v, into);
  else if (c instanceof Map) for (const v of c.values()) collectTensors(v, into);
  else if (c !== null && typeof c === 'object') for (const v of Object.values(c)) collectTensors(v, into);
}

/** The process-wide engine. @internal */
export const ENGINE = new Engine();
setTensorOwner(ENGINE);

/**
 * Registers a backend factory under `name`. Higher `priority` is tried first by {@link ready}.
 * Nothing is constructed until the backend is first needed.
 */
export function registerBackend(name: string, factory: BackendFactory, priority = 1): void {
  ENGINE.register(name, factory, priority);
}

/** The names of the registered backends, highest priority first. */
export function registeredBackends(): string[] {
  return ENGINE.registered();
}

/**
 * Makes `name` the active backend, initialising it if needed. Tensors on other backends move
 * to it when next used. Throws a `BackendError` saying why if it cannot start.
 */
export async function setBackend(name: string): Promise<void> {
  await ENGINE.setBackend(name);
}

/**
 * Resolves once a backend is active: the one set with {@link setBackend}, or else the
 * highest-priority registered backend that initialises. Throws listing why each one failed.
 */
export async function ready(): Promise<Backend> {
  return ENGINE.ready();
}

/** The active backend (initialising a synchronous one if none is active yet). */
export function getBackend(): Backend {
  return ENGINE.backend();
}

/** The name of the active backend. */
export function getBackendName(): string {
  return ENGINE.backend().name;
}

/**
 * Runs `fn` and disposes every tensor it made, except those it returns (in arrays, objects or
 * maps) and those passed to {@link keep}. `fn` must be synchronous.
 */
export function tidy<T extends TensorContainer>(fn: () => T): T {
  return ENGINE.tidy(fn);
}

/** Keeps a tensor alive past the end of the enclosing `tidy`. */
export function keep<T extends Tensor>(t: T): T {
  return ENGINE.keep(t);
}

/** Disposes every tensor in a container (tensor, array, object or map of them). */
export function dispose(container: TensorContainer): void {
  const ts = new Set<Tensor>();
  collectTensors(container, ts);
  for (const t of ts) t.dispose();
}

/** Live tensors, buffers and bytes, in total and per initialised backend. */
export function memory(): MemoryInfo {
  return ENGINE.memory();
}

/**
 * Turns engine checks on or off. `checkLeaks` makes every kernel call verify that it left no
 * temporary buffers behind (the conformance suite turns it on).
 */
export function setDebug(options: DebugOptions): void {
  ENGINE.debug = { ...options };
}

/**
 * Runs `fn` with every op computing shapes only: no kernel runs, no data is allocated, and
 * `listener` hears each op's name, output shape and multiply-adds. Used by `summary`.
 */
export function traceShapes<T>(fn: () => T, listener: TraceListener): T {
  return ENGINE.traceShapes(fn, listener);
}
