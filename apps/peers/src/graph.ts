/**
 * A network's forward as the list of kernel calls it made: each node names a {@link Backend}
 * kernel and holds its arguments as the backend received them, with tensors replaced by
 * indices into the graph's values. Recorded by {@link recordNetwork}, replayed by the peers'
 * runners (`onnx.ts`, `tfjs.ts`).
 *
 * @module
 */
import type { Backend, DType, Shape, TensorInfo, TypedArray } from '@kernelzoo/core';

/** The kernels of the {@link Backend} contract (its methods other than storage). */
export type KernelName = Exclude<
  keyof Backend,
  'name' | 'write' | 'read' | 'readSync' | 'disposeData' | 'memory' | 'dispose'
>;

/** An argument as recorded: a tensor becomes its value index, a list of tensors a list of them. */
export type RecordedArg<T> = T extends TensorInfo
  ? number
  : T extends readonly TensorInfo[]
    ? readonly number[]
    : T;

/** A kernel's parameter list with tensors recorded as value indices. */
export type RecordedArgs<P extends readonly unknown[]> = { readonly [I in keyof P]: RecordedArg<P[I]> };

/** One kernel call: which kernel, its arguments, and the value it made. */
export type KernelNode = {
  [K in KernelName]: {
    readonly kernel: K;
    readonly args: RecordedArgs<Parameters<Backend[K]>>;
    readonly output: number;
  };
}[KernelName];

/**
 * A view of a value under another shape (core's `reshape` keeps the buffer and changes the
 * shape a kernel sees): the row-major elements unchanged.
 */
export interface ReshapeNode {
  readonly kernel: 'reshape';
  readonly args: readonly [input: number, shape: Shape];
  readonly output: number;
}

/** A node of a {@link KernelGraph}. */
export type GraphNode = KernelNode | ReshapeNode;

/** A value of a {@link KernelGraph}: the input, a constant (with its data) or a node's output. */
export interface GraphValue {
  readonly shape: Shape;
  readonly dtype: DType;
  /** A constant's elements (weights, folded weights, scalars); null for the input and outputs of nodes. */
  readonly data: TypedArray | null;
}

/** A recorded forward: values, nodes in call order, the input and the output. */
export interface KernelGraph {
  readonly values: readonly GraphValue[];
  readonly nodes: readonly GraphNode[];
  /** Index of the network's input value. */
  readonly input: number;
  /** Index of the network's (first) output value. */
  readonly output: number;
}

/** Calls per kernel name in a graph. */
export function kernelCounts(graph: KernelGraph): Map<string, number> {
  const counts = new Map<string, number>();
  for (const n of graph.nodes) counts.set(n.kernel, (counts.get(n.kernel) ?? 0) + 1);
  return counts;
}
