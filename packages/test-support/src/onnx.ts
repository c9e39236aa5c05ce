/**
 * A minimal protobuf writer for the few `onnx.proto` messages a plain inference model needs,
 * so tests and benchmarks can hand ONNX Runtime exactly the graph they mean without an ONNX
 * dependency. Field numbers are `onnx.proto`'s: ModelProto 1 ir_version, 7 graph, 8
 * opset_import (OperatorSetIdProto 1 domain, 2 version); GraphProto 1 node, 2 name,
 * 5 initializer, 11 input, 12 output; NodeProto 1 input, 2 output, 3 name, 4 op_type,
 * 5 attribute; AttributeProto 1 name, 2 f, 3 i, 4 s, 8 ints, 20 type; TensorProto 1 dims,
 * 2 data_type, 8 name, 9 raw_data (little-endian); ValueInfoProto 1 name, 2 type; TypeProto
 * 1 tensor_type; TypeProto.Tensor 1 elem_type, 2 shape; TensorShapeProto 1 dim; Dimension
 * 1 dim_value.
 *
 * @module
 */

/** `TensorProto.DataType.FLOAT`. */
export const ONNX_FLOAT = 1;
/** `TensorProto.DataType.INT32`. */
export const ONNX_INT32 = 6;
/** `TensorProto.DataType.INT64`. */
export const ONNX_INT64 = 7;

/** `AttributeProto.AttributeType.FLOAT`. */
export const ATTR_FLOAT = 1;
/** `AttributeProto.AttributeType.INT`. */
export const ATTR_INT = 2;
/** `AttributeProto.AttributeType.STRING`. */
export const ATTR_STRING = 3;
/** `AttributeProto.AttributeType.INTS`. */
export const ATTR_INTS = 7;

/** The IR version {@link model} writes (8: opsets up to 18). */
export const ONNX_IR_VERSION = 8;
/** The default-domain opset {@link model} imports unless told otherwise. */
export const ONNX_OPSET = 17;

/** Protobuf bytes being written: varints, fixed 32-bit floats, and length-delimited fields. */
export class Writer {
  private readonly parts: number[] = [];
  private readonly chunks: Uint8Array[] = [];

  private flush(): void {
    if (this.parts.length > 0) {
      this.chunks.push(Uint8Array.from(this.parts));
      this.parts.length = 0;
    }
  }

  /** A varint; a negative integer takes ten bytes as its 64-bit two's complement. */
  private varint(v: number): void {
    if (v < 0) {
      let n = BigInt.asUintN(64, BigInt(v));
      while (n >= 0x80n) {
        this.parts.push(Number(n & 0x7fn) | 0x80);
        n >>= 7n;
      }
      this.parts.push(Number(n));
      return;
    }
    let n = v;
    while (n >= 0x80) {
      this.parts.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.parts.push(n);
  }

  /** A varint field (wire type 0): an integer, enum or bool. */
  int(field: number, v: number): this {
    this.varint(field * 8);
    this.varint(v);
    return this;
  }

  /** A 32-bit float field (wire type 5). */
  float(field: number, v: number): this {
    this.varint(field * 8 + 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.parts.push(...b);
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

  /** The bytes written so far, as one array. */
  finish(): Uint8Array {
    this.flush();
    if (this.chunks.length === 1) return this.chunks[0]!;
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    this.chunks.length = 0;
    this.chunks.push(out);
    return out;
  }
}

/**
 * A `ValueInfoProto`: a graph input or output named `name` with a static `shape` and element
 * type `elemType` (a `TensorProto.DataType`, float by default).
 */
export function valueInfo(name: string, shape: readonly number[], elemType = ONNX_FLOAT): Writer {
  const dims = new Writer();
  for (const d of shape) dims.bytes(1, new Writer().int(1, d));
  const tensorType = new Writer().int(1, elemType).bytes(2, dims);
  return new Writer().bytes(1, name).bytes(2, new Writer().bytes(1, tensorType));
}

/** A `TensorProto` initializer of any element type from its little-endian bytes. */
export function rawInitializer(
  name: string,
  shape: readonly number[],
  dataType: number,
  raw: ArrayBufferView,
): Writer {
  const w = new Writer();
  for (const d of shape) w.int(1, d);
  return w
    .int(2, dataType)
    .bytes(8, name)
    .bytes(9, new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength));
}

/** A float32 `TensorProto` initializer (the values are referenced, not copied, until written). */
export function initializer(name: string, shape: readonly number[], values: Float32Array): Writer {
  return rawInitializer(name, shape, ONNX_FLOAT, values);
}

/** An int32 `TensorProto` initializer. */
export function int32Initializer(name: string, shape: readonly number[], values: Int32Array): Writer {
  return rawInitializer(name, shape, ONNX_INT32, values);
}

/**
 * An int64 `TensorProto` initializer (what Reshape's shape, Slice's starts/ends/axes/steps,
 * Pad's pads, Resize's sizes and ReduceSum's axes take). `values` are safe integers; a 1-D
 * initializer of their length unless `shape` is given.
 */
export function int64Initializer(
  name: string,
  values: readonly number[],
  shape: readonly number[] = [values.length],
): Writer {
  return rawInitializer(
    name,
    shape,
    ONNX_INT64,
    BigInt64Array.from(values, (v) => BigInt(v)),
  );
}

/** An `AttributeProto` of type INT. */
export function intAttr(name: string, v: number): Writer {
  return new Writer().bytes(1, name).int(3, v).int(20, ATTR_INT);
}

/** An `AttributeProto` of type INTS. */
export function intsAttr(name: string, v: readonly number[]): Writer {
  const w = new Writer().bytes(1, name);
  for (const x of v) w.int(8, x);
  return w.int(20, ATTR_INTS);
}

/** An `AttributeProto` of type FLOAT (stored as float32). */
export function floatAttr(name: string, v: number): Writer {
  return new Writer().bytes(1, name).float(2, v).int(20, ATTR_FLOAT);
}

/** An `AttributeProto` of type STRING (UTF-8). */
export function stringAttr(name: string, v: string): Writer {
  return new Writer().bytes(1, name).bytes(4, v).int(20, ATTR_STRING);
}

/**
 * A `NodeProto` of the default domain: `op` reading `inputs` (an empty name skips an optional
 * input) and writing `outputs`, with `attrs` from {@link intAttr} and its siblings.
 */
export function node(
  op: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attrs: readonly Writer[] = [],
): Writer {
  const w = new Writer();
  for (const i of inputs) w.bytes(1, i);
  for (const o of outputs) w.bytes(2, o);
  w.bytes(4, op);
  for (const a of attrs) w.bytes(5, a);
  return w;
}

/** What {@link graph} assembles: nodes in topological order, initializers, one input, one output. */
export interface OnnxGraph {
  /** The graph's name. */
  readonly name: string;
  /** Nodes from {@link node}, each after the nodes that make its inputs. */
  readonly nodes: readonly Writer[];
  /** Initializers from {@link initializer}, {@link int64Initializer} and the like. */
  readonly initializers: readonly Writer[];
  /** The graph's input, from {@link valueInfo}. */
  readonly input: Writer;
  /** The graph's output, from {@link valueInfo}. */
  readonly output: Writer;
}

/** A `GraphProto` from its parts. */
export function graph(g: OnnxGraph): Writer {
  const w = new Writer();
  for (const n of g.nodes) w.bytes(1, n);
  w.bytes(2, g.name);
  for (const i of g.initializers) w.bytes(5, i);
  return w.bytes(11, g.input).bytes(12, g.output);
}

/** A `ModelProto`'s bytes: IR version {@link ONNX_IR_VERSION}, `opset` of the default domain. */
export function model(graph: Writer, opset = ONNX_OPSET): Uint8Array {
  return new Writer()
    .int(1, ONNX_IR_VERSION)
    .bytes(7, graph)
    .bytes(8, new Writer().bytes(1, '').int(2, opset))
    .finish();
}
