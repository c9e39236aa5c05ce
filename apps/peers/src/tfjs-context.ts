/**
 * What the TF.js runner's kernel translations share: {@link Values}, the tensors of one forward
 * (each value in the layouts asked for so far), and {@link Prepare}, which turns a recorded
 * value into a getter, converting constants once when the runner is made.
 *
 * @module
 */
import type { Shape } from '@kernelzoo/core';
import * as tf from '@tensorflow/tfjs-core';
import type { KernelGraph } from './graph.js';
import { type Layout, natToNhwc, nhwcToNat } from './tfjs-layout.js';

/** The tensors of one forward: per value, the layouts made so far. */
export class Values {
  private readonly slots: Partial<Record<Layout, tf.Tensor>>[];

  constructor(private readonly graph: KernelGraph) {
    this.slots = graph.values.map(() => ({}));
  }

  /** Sets value `v`'s tensor in `layout` (a new result: any other layout is dropped). */
  set(v: number, layout: Layout, t: tf.Tensor): void {
    this.slots[v] = { [layout]: t };
  }

  /** Value `v` in `layout`, converting (once per forward) from the layout it has. */
  get(v: number, layout: Layout): tf.Tensor {
    const slot = this.slots[v]!;
    const have = slot[layout];
    if (have) return have;
    const shape = this.graph.values[v]!.shape;
    const made =
      layout === 'nhwc'
        ? natToNhwc(this.need(slot.nat, v), shape)
        : nhwcToNat(this.need(slot.nhwc, v), shape);
    slot[layout] = made;
    return made;
  }

  /** Value `v` in whichever layout it has (natural first), for layout-free elementwise kernels. */
  any(v: number): [tf.Tensor, Layout] {
    const slot = this.slots[v]!;
    if (slot.nat) return [slot.nat, 'nat'];
    return [this.need(slot.nhwc, v), 'nhwc'];
  }

  /** Frees value `v`'s tensors (after its last use). */
  free(v: number): void {
    const slot = this.slots[v]!;
    slot.nat?.dispose();
    slot.nhwc?.dispose();
    this.slots[v] = {};
  }

  private need(t: tf.Tensor | undefined, v: number): tf.Tensor {
    if (!t) throw new Error(`tfjs: value ${v} used before it was computed`);
    return t;
  }
}

/** Reads a tensor (or tensors) for one kernel call in a forward. */
export type Getter<T = tf.Tensor> = (values: Values) => T;

/** What a translated kernel call gives: the output tensor and its layout. */
export type StepResult = readonly [tf.Tensor, Layout];

/** A translated kernel call. */
export type Step = (values: Values) => StepResult;

/**
 * Turns recorded values into getters for the translated kernels. A constant's form (natural,
 * NHWC, a convolution's HWIO filters, …) is made here, once, and kept until
 * {@link Prepare.dispose}; any other value's form is made per forward from its tensor.
 */
export class Prepare {
  private readonly kept: tf.Tensor[] = [];
  private readonly cache = new Map<string, unknown>();

  constructor(readonly graph: KernelGraph) {}

  /** The recorded shape of value `v`. */
  shape(v: number): Shape {
    return this.graph.values[v]!.shape;
  }

  /** Whether value `v` is a constant. */
  isConstant(v: number): boolean {
    return this.graph.values[v]!.data !== null;
  }

  /** Value `v` in `layout`. */
  use(v: number, layout: Layout): Getter {
    if (!this.isConstant(v)) return (values) => values.get(v, layout);
    return this.derive(v, `layout:${layout}`, (nat) =>
      layout === 'nat' ? nat : natToNhwc(nat, this.shape(v)),
    );
  }

  /**
   * A form of value `v` made by `make` from its natural tensor, cached under `key` for a
   * constant (made now, once), made per forward otherwise.
   */
  derive<T extends tf.Tensor | tf.Tensor[]>(v: number, key: string, make: (nat: tf.Tensor) => T): Getter<T> {
    if (!this.isConstant(v)) return (values) => make(values.get(v, 'nat'));
    const id = `${v}|${key}`;
    let made = this.cache.get(id) as T | undefined;
    if (made === undefined) {
      const value = this.graph.values[v]!;
      made = tf.tidy(() => make(tf.tensor(value.data!, [...value.shape], value.dtype)));
      this.keep(made);
      this.cache.set(id, made);
    }
    const fixed = made;
    return () => fixed;
  }

  /** Keeps tensors made for the runner (averaging matrices, indices) until {@link Prepare.dispose}. */
  keep<T extends tf.Tensor | tf.Tensor[]>(made: T): T {
    for (const t of Array.isArray(made) ? made : [made]) this.kept.push(tf.keep(t));
    return made;
  }

  /** Frees every tensor made here. */
  dispose(): void {
    tf.dispose(this.kept);
    this.kept.length = 0;
    this.cache.clear();
  }
}
