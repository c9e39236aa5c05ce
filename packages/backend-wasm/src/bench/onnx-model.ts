/**
 * One-node ONNX models for the kernels benchmark: a minimal protobuf writer for the few
 * `onnx.proto` messages a single Conv (+ Relu) or MatMul graph needs, so that ONNX Runtime Web
 * runs exactly the benchmark's shapes. Field numbers are `onnx.proto`'s (ModelProto 1 ir_version,
 * 7 graph, 8 opset_import; GraphProto 1 node, 2 name, 5 initializer, 11 input, 12 output;
 * NodeProto 1 input, 2 output, 4 op_type, 5 attribute; AttributeProto 1 name, 3 i, 8 ints,
 * 20 type; TensorProto 1 dims, 2 data_type, 8 name, 9 raw_data; ValueInfoProto 1 name, 2 type;
 * TypeProto 1 tensor_type; TypeProto.Tensor 1 elem_type, 2 shape; TensorShapeProto 1 dim;
 * Dimension 1 dim_value).
 *
 * @module
 */

const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_INT = 2; // AttributeProto.AttributeType.INT
const ATTR_INTS = 7; // AttributeProto.AttributeType.INTS

/** Protobuf bytes being written: varints, and length-delimited fields of nested messages. */
class Writer {
  private readonly parts: number[] = [];
  private readonly chunks: Uint8Array[] = [];

  private flush(): void {
    if (this.parts.length > 0) {
      this.chunks.push(Uint8Array.from(this.parts));
      this.parts.length = 0;
    }
  }

  private varint(v: number): void {
    let n = v;
    while (n >= 0x80) {
      this.parts.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.parts.push(n);
  }

  /** A varint field (wire type 0). */
  int(field: number, v: number): this {
    this.varint(field * 8);
    this.varint(v);
    return this;
  }

  /** A length-delimited field (wire type 2): bytes, a string or a nested message. */
  bytes(field: number, v: Uint8Array | string | Writer): this {
    const b = typeof v === 'string' ? new TextEncoder().encode(v) : v instanceof Writer ? v.finish() : v;
    this.varint(field * 8 + 2);
    this.varint(b.length);
    this.flush();
    this.chunks.push(b);
    return this;
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

function valueInfo(name: string, shape: readonly number[]): Writer {
  const dims = new Writer();
  for (const d of shape) dims.bytes(1, new Writer().int(1, d));
  const tensorType = new Writer().int(1, FLOAT).bytes(2, dims);
  return new Writer().bytes(1, name).bytes(2, new Writer().bytes(1, tensorType));
}

function initializer(name: string, shape: readonly number[], values: Float32Array): Writer {
  const w = new Writer();
  for (const d of shape) w.int(1, d);
  return w
    .int(2, FLOAT)
    .bytes(8, name)
    .bytes(9, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

function intAttr(name: string, v: number): Writer {
  return new Writer().bytes(1, name).int(3, v).int(20, ATTR_INT);
}

function intsAttr(name: string, v: readonly number[]): Writer {
  const w = new Writer().bytes(1, name);
  for (const x of v) w.int(8, x);
  return w.int(20, ATTR_INTS);
}

function node(
  op: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attrs: Writer[] = [],
): Writer {
  const w = new Writer();
  for (const i of inputs) w.bytes(1, i);
  for (const o of outputs) w.bytes(2, o);
  w.bytes(4, op);
  for (const a of attrs) w.bytes(5, a);
  return w;
}

function model(graph: Writer): Uint8Array {
  // IR version 8, opset 17 of the default domain.
  return new Writer().int(1, 8).bytes(7, graph).bytes(8, new Writer().bytes(1, '').int(2, 17)).finish();
}

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
  const graph = new Writer()
    .bytes(1, conv)
    .bytes(1, node('Relu', ['c'], ['y']))
    .bytes(2, 'conv')
    .bytes(5, initializer('w', c.weightShape, c.weight))
    .bytes(5, initializer('b', [c.bias.length], c.bias))
    .bytes(11, valueInfo('x', c.inShape))
    .bytes(12, valueInfo('y', c.outShape));
  return model(graph);
}

/** `MatMul` of `a: [m, k]` (input) by `b: [k, n]` (an initializer), as ONNX model bytes. */
export function matmulModel(m: number, k: number, n: number, b: Float32Array): Uint8Array {
  const graph = new Writer()
    .bytes(1, node('MatMul', ['a', 'b'], ['y']))
    .bytes(2, 'matmul')
    .bytes(5, initializer('b', [k, n], b))
    .bytes(11, valueInfo('a', [m, k]))
    .bytes(12, valueInfo('y', [m, n]));
  return model(graph);
}
