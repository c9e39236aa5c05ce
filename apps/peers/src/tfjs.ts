/**
 * Replays a recorded {@link KernelGraph} in TensorFlow.js (its wasm or cpu backend), written the
 * way a TF.js user writes these networks: images in NHWC (TF.js's convolutions, pools and
 * resizes take only NHWC), convolution weights uploaded once as HWIO, fused convolutions with
 * bias and activation, grouped convolutions as depthwise or split/concat. The translations are
 * in `tfjs-conv.ts`, `tfjs-resample.ts` and `tfjs-kernels.ts`; layouts in `tfjs-layout.ts`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import type { GraphNode, KernelGraph } from './graph.js';
import type { Runner } from './runner.js';
import { Prepare, type Step, Values } from './tfjs-context.js';
import { conv2dStep } from './tfjs-conv.js';
import {
  argmaxStep,
  batchNormStep,
  binaryStep,
  castStep,
  concatStep,
  flipStep,
  matmulStep,
  padStep,
  reduceStep,
  reshapeStep,
  sliceStep,
  softmaxStep,
  transposeStep,
  unaryStep,
} from './tfjs-kernels.js';
import { adaptiveAvgPool2dStep, pool2dStep, resizeBilinearStep, resizeNearestStep } from './tfjs-resample.js';

/** The TF.js translation of one recorded node. */
function stepOf(p: Prepare, node: GraphNode): Step {
  switch (node.kernel) {
    case 'conv2d':
      return conv2dStep(p, ...node.args);
    case 'matmul':
      return matmulStep(p, ...node.args);
    case 'unary':
      return unaryStep(p, ...node.args);
    case 'binary':
      return binaryStep(p, ...node.args);
    case 'batchNorm':
      return batchNormStep(p, ...node.args);
    case 'pool2d':
      return pool2dStep(p, ...node.args);
    case 'adaptiveAvgPool2d':
      return adaptiveAvgPool2dStep(p, ...node.args);
    case 'resizeBilinear':
      return resizeBilinearStep(p, ...node.args);
    case 'resizeNearest':
      return resizeNearestStep(p, ...node.args);
    case 'reduce':
      return reduceStep(p, ...node.args);
    case 'softmax':
      return softmaxStep(p, ...node.args);
    case 'argmax':
      return argmaxStep(p, ...node.args);
    case 'concat':
      return concatStep(p, ...node.args);
    case 'slice':
      return sliceStep(p, ...node.args);
    case 'transpose':
      return transposeStep(p, ...node.args);
    case 'flip':
      return flipStep(p, ...node.args);
    case 'pad':
      return padStep(p, ...node.args);
    case 'cast':
      return castStep(p, ...node.args);
    case 'reshape':
      return reshapeStep(p, ...node.args);
    default:
      throw new Error(`tfjs: kernel ${(node as { kernel: string }).kernel} is not supported`);
  }
}

/** The value indices a node reads. */
function inputsOf(node: GraphNode): number[] {
  const present = (vs: readonly (number | null)[]) => vs.filter((v): v is number => v !== null);
  switch (node.kernel) {
    case 'conv2d':
    case 'matmul':
      return present(node.args.slice(0, 3) as (number | null)[]);
    case 'batchNorm':
      return present(node.args.slice(0, 5) as (number | null)[]);
    case 'unary':
    case 'reduce':
      return [node.args[1]];
    case 'binary':
      return [node.args[1], node.args[2]];
    case 'concat':
      return [...node.args[0]];
    default:
      return [node.args[0]];
  }
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * A {@link Runner} (`tfjs-wasm` or `tfjs-cpu`) for `graph` on TF.js's `backend`. Constants are
 * uploaded and converted (HWIO filters, NHWC broadcast operands, averaging matrices) here, once;
 * each run is one `tf.tidy` over the translated kernels, freeing every intermediate after its
 * last use, and returns the output in NCHW. TF.js runs in production mode (its Node.js banner
 * and debug checks off). Throws, naming the kernel and op, for what TF.js cannot express.
 */
export async function tfjsRunner(graph: KernelGraph, backend: 'wasm' | 'cpu'): Promise<Runner> {
  tf.enableProdMode();
  await tf.setBackend(backend);
  await tf.ready();
  const prepare = new Prepare(graph);
  let steps: Step[];
  try {
    steps = graph.nodes.map((node) => stepOf(prepare, node));
  } catch (e) {
    prepare.dispose();
    throw e;
  }
  // After node i, free the non-constant values it was the last to read.
  const lastUse = new Map<number, number>();
  graph.nodes.forEach((node, i) => {
    for (const v of inputsOf(node)) lastUse.set(v, i);
  });
  const freeAfter: number[][] = graph.nodes.map(() => []);
  for (const [v, i] of lastUse) if (v !== graph.output && !prepare.isConstant(v)) freeAfter[i]!.push(v);
  const inputShape = [...graph.values[graph.input]!.shape];

  return {
    name: `tfjs-${backend}`,
    async run(input: Float32Array): Promise<Float32Array> {
      if (tf.getBackend() !== backend) await tf.setBackend(backend);
      const out = tf.tidy(() => {
        const values = new Values(graph);
        values.set(graph.input, 'nat', tf.tensor(input, inputShape, 'float32'));
        graph.nodes.forEach((node, i) => {
          const [y, layout] = steps[i]!(values);
          const want = graph.values[node.output]!.shape;
          const got = layout === 'nhwc' ? [0, 3, 1, 2].map((a) => y.shape[a]!) : y.shape;
          if (!sameShape(got, want))
            throw new Error(`tfjs: ${node.kernel} gave [${got}] (${layout}), expected [${want}]`);
          values.set(node.output, layout, y);
          for (const v of freeAfter[i]!) values.free(v);
        });
        return values.get(graph.output, 'nat');
      });
      const data = await out.data();
      out.dispose();
      return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
    },
    async dispose(): Promise<void> {
      prepare.dispose();
    },
  };
}
