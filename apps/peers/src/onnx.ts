/**
 * A recorded {@link KernelGraph} as an ONNX model (opset 17, NCHW) and its forward on ONNX
 * Runtime Web's wasm backend: each kernel call becomes the standard operators computing the
 * same thing (see `onnx-nodes.ts`), constants become initializers.
 *
 * @module
 */
import {
  graph as graphProto,
  initializer,
  int32Initializer,
  model,
  valueInfo,
} from '@kernelzoo/test-support/onnx';
import * as ort from 'onnxruntime-web';
import type { KernelGraph } from './graph.js';
import { emitNode, OnnxEmitter, onnxType } from './onnx-nodes.js';
import type { Runner } from './runner.js';

/**
 * The ONNX model bytes (IR 8, opset 17) computing `graph`: one input and one output named
 * `v<index>` after the graph's values, the graph's constants as initializers. Throws an Error
 * naming the kernel (and op) for a call ONNX cannot express.
 */
export function graphToOnnx(graph: KernelGraph): Uint8Array {
  const e = new OnnxEmitter(graph);
  graph.values.forEach((value, i) => {
    if (value.data === null) return;
    e.initializers.push(
      value.dtype === 'int32'
        ? int32Initializer(e.name(i), value.shape, value.data as Int32Array)
        : initializer(e.name(i), value.shape, value.data as Float32Array),
    );
  });
  for (const n of graph.nodes) emitNode(e, n);
  const input = graph.values[graph.input]!;
  const output = graph.values[graph.output]!;
  return model(
    graphProto({
      name: 'kernelzoo',
      nodes: e.nodes,
      initializers: e.initializers,
      input: valueInfo(e.name(graph.input), input.shape, onnxType(input.dtype)),
      output: valueInfo(e.name(graph.output), output.shape, onnxType(output.dtype)),
    }),
  );
}

/**
 * A {@link Runner} (named `ort-wasm <threads>T`) for `graph` on ONNX Runtime Web's wasm
 * execution provider: the model from {@link graphToOnnx} in one session, one `session.run` per
 * forward, the output as a Float32Array (an int32 output converted).
 *
 * It sets `ort.env.wasm.numThreads = threads` before creating the session, but ONNX Runtime
 * fixes its thread count when its wasm starts, at the first session of the process: later
 * runners get that first count whatever they ask. Use one thread count per process.
 */
export async function ortRunner(graph: KernelGraph, threads: number): Promise<Runner> {
  ort.env.wasm.numThreads = threads;
  const session = await ort.InferenceSession.create(graphToOnnx(graph), { executionProviders: ['wasm'] });
  const inputName = session.inputNames[0]!;
  const outputName = session.outputNames[0]!;
  const shape = [...graph.values[graph.input]!.shape];
  return {
    name: `ort-wasm ${threads}T`,
    async run(input: Float32Array): Promise<Float32Array> {
      const feeds = { [inputName]: new ort.Tensor('float32', input, shape) };
      const results = await session.run(feeds);
      const data = results[outputName]!.data;
      return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
    },
    dispose: () => session.release(),
  };
}
