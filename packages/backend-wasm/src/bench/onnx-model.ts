/**
 * One-node ONNX models for the kernels benchmark, so that ONNX Runtime Web runs exactly the
 * benchmark's shapes: a single Conv (+ Relu) or MatMul graph, written with test-support's
 * minimal `onnx.proto` writer.
 *
 * @module
 */
import { graph, initializer, intAttr, intsAttr, model, node, valueInfo } from '@kernelzoo/test-support/onnx';

/** A convolution row as an ONNX model: input `x` (NCHW), weights and bias as initializers. */
export interface OnnxConv {
  readonly inShape: readonly [number, number, number, number];
  readonly weight: Float32Array;
  readonly weightShape: readonly [number, number, number, number];
  readonly bias: Float32Array;
  readonly stride: number;
  readonly dilation: number;
  readonly pads: readonly [number, number];
  readonly groups: number;
  readonly outShape: readonly [number, number, number, number];
}

/** `Conv` (with bias) → `Relu`, the benchmark's fused conv + bias + ReLU, as ONNX model bytes. */
export function convReluModel(c: OnnxConv): Uint8Array {
  const conv = node(
    'Conv',
    ['x', 'w', 'b'],
    ['c'],
    [
      intsAttr('kernel_shape', [c.weightShape[2], c.weightShape[3]]),
      intsAttr('strides', [c.stride, c.stride]),
      intsAttr('dilations', [c.dilation, c.dilation]),
      intsAttr('pads', [c.pads[0], c.pads[1], c.pads[0], c.pads[1]]),
      intAttr('group', c.groups),
    ],
  );
  return model(
    graph({
      name: 'conv',
      nodes: [conv, node('Relu', ['c'], ['y'])],
      initializers: [initializer('w', c.weightShape, c.weight), initializer('b', [c.bias.length], c.bias)],
      input: valueInfo('x', c.inShape),
      output: valueInfo('y', c.outShape),
    }),
  );
}

/** `MatMul` of `a: [m, k]` (input) by `b: [k, n]` (an initializer), as ONNX model bytes. */
export function matmulModel(m: number, k: number, n: number, b: Float32Array): Uint8Array {
  return model(
    graph({
      name: 'matmul',
      nodes: [node('MatMul', ['a', 'b'], ['y'])],
      initializers: [initializer('b', [k, n], b)],
      input: valueInfo('a', [m, k]),
      output: valueInfo('y', [m, n]),
    }),
  );
}
