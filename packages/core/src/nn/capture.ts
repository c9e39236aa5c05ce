import { ENGINE } from '../engine.js';
import { ArgumentError, KernelzooError } from '../errors.js';
import { Tensor } from '../tensor.js';
import type { AnyModule } from './module.js';

/**
 * A module's output as captured: the same structure (a tensor, or arrays, maps or objects of
 * them) with every tensor replaced by the captured handle.
 */
export type CapturedOutput = unknown;

/**
 * Named intermediate outputs read during one forward pass — the role of PyTorch's forward
 * hooks and timm's `forward_features`. Made by {@link captureFeatures}.
 *
 * **Ownership**: every captured tensor is a new handle on the output's data (no copy), kept
 * alive past the forward's scopes and owned by this object. Free them all with
 * {@link Features.dispose} (or `using`), or take one with {@link Features.take}, after which the
 * caller owns it.
 */
export class Features {
  private readonly outputs = new Map<string, CapturedOutput[]>();
  private disposed = false;

  /** @param names - the module names asked for, in order. @internal */
  constructor(readonly names: readonly string[]) {
    for (const n of names) this.outputs.set(n, []);
  }

  /** @internal Records one call's output of module `name`. */
  record(name: string, output: unknown): void {
    this.outputs.get(name)?.push(captureTensors(output));
  }

  /**
   * The output of module `name` — its last call's, when it ran more than once (a shared
   * activation). Throws if it did not run or its output is not a single tensor.
   */
  get(name: string): Tensor {
    const out = this.last(name);
    if (!(out instanceof Tensor))
      throw new KernelzooError(
        `Features.get: '${name}' returned a ${describeOutput(out)}, not one tensor; use getOutput`,
      );
    return out;
  }

  /** The tensors module `name` returned on its last call (a list output, as HRNet stages return). */
  getList(name: string): Tensor[] {
    const out = this.last(name);
    const list = out instanceof Tensor ? [out] : Array.isArray(out) ? out : null;
    if (!list?.every((t) => t instanceof Tensor))
      throw new KernelzooError(
        `Features.getList: '${name}' returned a ${describeOutput(out)}, not a list of tensors`,
      );
    return list as Tensor[];
  }

  /** Module `name`'s last output as it was returned (tensors replaced by the captured handles). */
  getOutput(name: string): CapturedOutput {
    return this.last(name);
  }

  /** Every call's output of module `name`, in call order. */
  getAll(name: string): readonly CapturedOutput[] {
    this.check(name);
    return this.outputs.get(name)!;
  }

  /**
   * Like {@link Features.get}, handing the tensor to the caller: this object no longer
   * disposes it, and it belongs to the enclosing `tidy` (if any) like any tensor made there.
   */
  take(name: string): Tensor {
    const t = this.get(name);
    const calls = this.outputs.get(name)!;
    calls[calls.length - 1] = null;
    return ENGINE.release(t);
  }

  /** Frees every captured tensor not taken. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const calls of this.outputs.values()) for (const out of calls) freeTensors(out);
    this.outputs.clear();
  }

  /** For `using features = captureFeatures(...)`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  private check(name: string): void {
    if (this.disposed) throw new KernelzooError(`Features: '${name}' was read after dispose()`);
    if (!this.outputs.has(name))
      throw new ArgumentError(
        'Features',
        'name',
        `one of the captured names (${this.names.join(', ')})`,
        `'${name}'`,
      );
  }

  private last(name: string): CapturedOutput {
    const calls = this.getAll(name);
    if (calls.length === 0)
      throw new KernelzooError(`Features: module '${name}' did not run in the captured forward`);
    return calls[calls.length - 1];
  }
}

/**
 * Runs `fn` (typically `() => net.call(x)`) and captures the outputs of the modules of `root`
 * named in `names` (dotted paths as in `namedModules()`, e.g. `layer1.0.conv2.softmax`).
 * Returns `fn`'s result and the {@link Features}, which own the captured tensors.
 *
 * A module inside a fused chain (see `Module.registerFusion`) keeps its exact output: while it
 * is captured, its chain runs unfused.
 *
 * @example
 * ```ts
 * const [y, features] = captureFeatures(net, ['layer1.0.conv2.softmax'], () => net.call(x));
 * const attention = features.take('layer1.0.conv2.softmax'); // [N, M, C], now yours
 * features.dispose();
 * ```
 */
export function captureFeatures<T>(root: AnyModule, names: readonly string[], fn: () => T): [T, Features] {
  const byModule = new Map<AnyModule, string[]>();
  const all = new Map(root.namedModules());
  for (const n of names) {
    const m = all.get(n);
    if (!m) {
      const known = [...all.keys()].filter((k) => k !== '');
      const near = known.filter((k) => k.endsWith(n.split('.').pop() ?? n)).slice(0, 8);
      throw new ArgumentError(
        'captureFeatures',
        'names',
        `names of ${root.typeName}'s modules${near.length ? ` (e.g. ${near.join(', ')})` : ` (${known.slice(0, 8).join(', ')}, …)`}`,
        `'${n}'`,
      );
    }
    byModule.set(m, [...(byModule.get(m) ?? []), n]);
  }
  const features = new Features([...names]);
  const stop = ENGINE.listenToCalls({
    wants: (m) => byModule.has(m as AnyModule),
    exit: (m, out) => {
      for (const n of byModule.get(m as AnyModule) ?? []) features.record(n, out);
    },
  });
  try {
    return [fn(), features];
  } catch (e) {
    features.dispose();
    throw e;
  } finally {
    stop();
  }
}

function captureTensors(out: unknown): CapturedOutput {
  if (out instanceof Tensor) return ENGINE.keep(ENGINE.view(out, out.shape));
  if (Array.isArray(out)) return out.map(captureTensors);
  if (out instanceof Map) return new Map([...out].map(([k, v]) => [k, captureTensors(v)]));
  if (out !== null && typeof out === 'object')
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, captureTensors(v)]));
  return out;
}

function freeTensors(out: unknown): void {
  if (out instanceof Tensor) {
    ENGINE.unkeep(out);
    out.dispose();
  } else if (Array.isArray(out)) for (const o of out) freeTensors(o);
  else if (out instanceof Map) for (const o of out.values()) freeTensors(o);
  else if (out !== null && typeof out === 'object') for (const o of Object.values(out)) freeTensors(o);
}

function describeOutput(out: unknown): string {
  if (Array.isArray(out)) return `list of ${out.length}`;
  if (out === null || out === undefined) return String(out);
  return typeof out === 'object' ? 'object' : typeof out;
}
