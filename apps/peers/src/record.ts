/**
 * Records a network's forward as a {@link KernelGraph}: a {@link Backend} that runs every
 * kernel on another backend and notes the call.
 *
 * @module
 */
import {
  type Backend,
  type BackendMemory,
  type DataId,
  type DType,
  dispose,
  nn,
  randomNormal,
  registerBackend,
  type Shape,
  setBackend,
  type Tensor,
  type TensorInfo,
  type TypedArray,
} from '@kernelzoo/core';
import type { GraphNode, GraphValue, KernelGraph, KernelName } from './graph.js';

function isTensorInfo(v: unknown): v is TensorInfo {
  return typeof v === 'object' && v !== null && 'dataId' in v && 'shape' in v && 'dtype' in v;
}

const sameShape = (a: Shape, b: Shape) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * A backend that runs every kernel on `inner` and, between {@link RecordingBackend.start} and
 * {@link RecordingBackend.stop}, notes each call. A tensor a recorded call uses that no
 * recorded call made is a constant (its values are read then), except the declared input.
 */
export class RecordingBackend implements Backend {
  readonly name: string;
  private values: GraphValue[] = [];
  private nodes: GraphNode[] = [];
  private byId = new Map<DataId, number>();
  private input: DataId | null = null;
  private recording = false;

  constructor(
    /** The backend that computes. */
    readonly inner: Backend,
    name = 'record',
  ) {
    this.name = name;
  }

  /** Starts a new recording; `input` is the network's input buffer. */
  start(input: DataId): void {
    this.values = [];
    this.nodes = [];
    this.byId = new Map();
    this.input = input;
    this.recording = true;
  }

  /** Stops recording; `output` is the buffer of the network's output. */
  stop(output: DataId): KernelGraph {
    this.recording = false;
    const input = this.byId.get(this.input!);
    const out = this.byId.get(output);
    if (input === undefined) throw new Error('record: no recorded kernel read the input');
    if (out === undefined) throw new Error('record: no recorded kernel made the output');
    return { values: this.values, nodes: this.nodes, input, output: out };
  }

  private add(v: GraphValue): number {
    this.values.push(v);
    return this.values.length - 1;
  }

  /** The value a kernel's tensor argument refers to, under the shape the kernel sees. */
  private ref(t: TensorInfo): number {
    let i = this.byId.get(t.dataId);
    if (i === undefined) {
      const data = t.dataId === this.input ? null : this.inner.readSync(t.dataId);
      i = this.add({ shape: [...t.shape], dtype: t.dtype, data });
      this.byId.set(t.dataId, i);
    }
    if (sameShape(this.values[i]!.shape, t.shape)) return i;
    const view = this.add({ shape: [...t.shape], dtype: t.dtype, data: null });
    this.nodes.push({ kernel: 'reshape', args: [i, [...t.shape]], output: view });
    return view;
  }

  private note<K extends KernelName>(kernel: K, args: Parameters<Backend[K]>, out: TensorInfo): TensorInfo {
    if (!this.recording) return out;
    const recorded = args.map((a) => {
      if (isTensorInfo(a)) return this.ref(a);
      if (Array.isArray(a) && a.length > 0 && isTensorInfo(a[0]))
        return a.map((t: TensorInfo) => this.ref(t));
      return a;
    });
    const output = this.add({ shape: [...out.shape], dtype: out.dtype, data: null });
    this.byId.set(out.dataId, output);
    this.nodes.push({ kernel, args: recorded, output } as unknown as GraphNode);
    return out;
  }

  // ---- storage: the inner backend's ----
  write(values: TypedArray, shape: Shape, dtype: DType): DataId {
    return this.inner.write(values, shape, dtype);
  }
  read(dataId: DataId): Promise<TypedArray> {
    return this.inner.read(dataId);
  }
  readSync(dataId: DataId): TypedArray {
    return this.inner.readSync(dataId);
  }
  disposeData(dataId: DataId): void {
    this.inner.disposeData(dataId);
  }
  memory(): BackendMemory {
    return this.inner.memory();
  }
  dispose(): void {
    this.inner.dispose();
  }

  // ---- kernels: run on the inner backend, noted ----
  conv2d(...a: Parameters<Backend['conv2d']>): TensorInfo {
    return this.note('conv2d', a, this.inner.conv2d(...a));
  }
  matmul(...a: Parameters<Backend['matmul']>): TensorInfo {
    return this.note('matmul', a, this.inner.matmul(...a));
  }
  unary(...a: Parameters<Backend['unary']>): TensorInfo {
    return this.note('unary', a, this.inner.unary(...a));
  }
  binary(...a: Parameters<Backend['binary']>): TensorInfo {
    return this.note('binary', a, this.inner.binary(...a));
  }
  batchNorm(...a: Parameters<Backend['batchNorm']>): TensorInfo {
    return this.note('batchNorm', a, this.inner.batchNorm(...a));
  }
  pool2d(...a: Parameters<Backend['pool2d']>): TensorInfo {
    return this.note('pool2d', a, this.inner.pool2d(...a));
  }
  adaptiveAvgPool2d(...a: Parameters<Backend['adaptiveAvgPool2d']>): TensorInfo {
    return this.note('adaptiveAvgPool2d', a, this.inner.adaptiveAvgPool2d(...a));
  }
  resizeBilinear(...a: Parameters<Backend['resizeBilinear']>): TensorInfo {
    return this.note('resizeBilinear', a, this.inner.resizeBilinear(...a));
  }
  resizeNearest(...a: Parameters<Backend['resizeNearest']>): TensorInfo {
    return this.note('resizeNearest', a, this.inner.resizeNearest(...a));
  }
  reduce(...a: Parameters<Backend['reduce']>): TensorInfo {
    return this.note('reduce', a, this.inner.reduce(...a));
  }
  softmax(...a: Parameters<Backend['softmax']>): TensorInfo {
    return this.note('softmax', a, this.inner.softmax(...a));
  }
  argmax(...a: Parameters<Backend['argmax']>): TensorInfo {
    return this.note('argmax', a, this.inner.argmax(...a));
  }
  concat(...a: Parameters<Backend['concat']>): TensorInfo {
    return this.note('concat', a, this.inner.concat(...a));
  }
  slice(...a: Parameters<Backend['slice']>): TensorInfo {
    return this.note('slice', a, this.inner.slice(...a));
  }
  transpose(...a: Parameters<Backend['transpose']>): TensorInfo {
    return this.note('transpose', a, this.inner.transpose(...a));
  }
  flip(...a: Parameters<Backend['flip']>): TensorInfo {
    return this.note('flip', a, this.inner.flip(...a));
  }
  pad(...a: Parameters<Backend['pad']>): TensorInfo {
    return this.note('pad', a, this.inner.pad(...a));
  }
  cast(...a: Parameters<Backend['cast']>): TensorInfo {
    return this.note('cast', a, this.inner.cast(...a));
  }
}

/** A recorded forward and what kernelzoo computed for it. */
export interface RecordedNetwork {
  readonly graph: KernelGraph;
  /** The input the forward ran on (normal, seed 1). */
  readonly input: Float32Array;
  /** kernelzoo's output for it. */
  readonly output: Float32Array;
}

let recorders = 0;

/**
 * Builds a network on a recording backend over `inner`, runs one forward to fold its weights
 * (eval mode), and records a second on a seeded normal input of `shape`. The network's first
 * output (of an array) is the graph's output.
 */
export async function recordNetwork(
  build: () => nn.AnyModule,
  shape: Shape,
  inner: Backend,
): Promise<RecordedNetwork> {
  const rec = new RecordingBackend(inner, `record-${++recorders}`);
  registerBackend(rec.name, () => rec, 0);
  await setBackend(rec.name);
  const model = build().eval();
  const x = randomNormal(shape, 0, 1, { seed: 1 });
  const first = (y: unknown) => (Array.isArray(y) ? y[0] : y) as Tensor;
  const call = () => model.call(x) as unknown;
  const fold = call();
  await first(fold).data();
  dispose(fold as Tensor);
  rec.start(x.record!.dataId);
  const y = call();
  const out = first(y);
  const graph = rec.stop(out.record!.dataId);
  const output = (await out.data()) as Float32Array;
  const input = (await x.data()) as Float32Array;
  dispose(y as Tensor);
  x.dispose();
  model.dispose();
  return { graph, input, output };
}

/** A module whose forward is a function (constants it makes are recorded as such). */
class FunctionModule extends nn.Module {
  constructor(private readonly f: (x: Tensor) => Tensor) {
    super();
  }
  protected forward(x: Tensor): Tensor {
    return this.f(x);
  }
}

/**
 * {@link recordNetwork} for a plain function of the input: the small graphs of the replay tests.
 * `f` runs twice (the folding forward, then the recorded one), so the constants it makes must
 * be deterministic (seeded).
 */
export function recordFunction(
  f: (x: Tensor) => Tensor,
  shape: Shape,
  inner: Backend,
): Promise<RecordedNetwork> {
  return recordNetwork(() => new FunctionModule(f), shape, inner);
}
