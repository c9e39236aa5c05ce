/**
 * Plain host-side tensors: the currency of the oracles, independent of any engine.
 *
 * @module
 */
import { SeededRandom, sizeFromShape } from '@kernelzoo/core';

/** A tensor as plain values: row-major, with its shape and dtype. */
export interface HostTensor {
  /** Outermost first. */
  readonly shape: readonly number[];
  /** `float32` or `int32`. */
  readonly dtype: 'float32' | 'int32';
  /** Row-major values. */
  readonly values: Float32Array | Int32Array;
}

/** A float32 host tensor from values (copied and rounded to float32). */
export function host(values: ArrayLike<number>, shape: readonly number[]): HostTensor {
  return { shape: [...shape], dtype: 'float32', values: Float32Array.from(values) };
}

/** An int32 host tensor from values (copied). */
export function hostInt(values: ArrayLike<number>, shape: readonly number[]): HostTensor {
  return { shape: [...shape], dtype: 'int32', values: Int32Array.from(values) };
}

/** Seeded random data for the cases: equal seeds give equal tensors everywhere. */
export class CaseRandom {
  private readonly rng: SeededRandom;

  /** @param seed - the seed. */
  constructor(seed: number) {
    this.rng = new SeededRandom(seed);
  }

  /** A float in [min, max). */
  uniform(min = 0, max = 1): number {
    return this.rng.uniform(min, max);
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return this.rng.int(min, max);
  }

  /** One of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.rng.int(0, items.length - 1)];
  }

  /** True with probability `p`. */
  chance(p = 0.5): boolean {
    return this.rng.next() < p;
  }

  /** A float32 host tensor uniform in [min, max). */
  floats(shape: readonly number[], min = -1, max = 1): HostTensor {
    const v = new Float32Array(sizeFromShape(shape));
    for (let i = 0; i < v.length; i++) v[i] = this.rng.uniform(min, max);
    return { shape: [...shape], dtype: 'float32', values: v };
  }

  /** An int32 host tensor uniform in [min, max]. */
  ints(shape: readonly number[], min = -9, max = 9): HostTensor {
    const v = new Int32Array(sizeFromShape(shape));
    for (let i = 0; i < v.length; i++) v[i] = this.rng.int(min, max);
    return { shape: [...shape], dtype: 'int32', values: v };
  }
}
