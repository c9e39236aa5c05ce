/**
 * The ONNX nodes (opset 17, NCHW) for each recorded kernel call: one or a few standard
 * operators per {@link GraphNode}, with the extra constants they need (Slice bounds, Resize
 * sizes, averaging matrices) as initializers. Used by {@link graphToOnnx}.
 *
 * @module
 */
import type { Activation, BinaryOp, DType, Pool2dInfo, ResizeInfo, UnaryOp } from '@kernelzoo/core';
import {
  floatAttr,
  initializer,
  int32Initializer,
  int64Initializer,
  intAttr,
  intsAttr,
  node,
  ONNX_FLOAT,
  ONNX_INT32,
  stringAttr,
  type Writer,
} from '@kernelzoo/test-support/onnx';
import type { GraphNode, KernelGraph } from './graph.js';
import { adaptiveAverageMatrix, nearestIndices } from './pytorch-rules.js';

/** The ONNX element type (`TensorProto.DataType`) of a kernelzoo dtype. */
export function onnxType(dtype: DType): number {
  return dtype === 'int32' ? ONNX_INT32 : ONNX_FLOAT;
}

/** A graph's nodes and initializers being written; values are named `v<index>`. */
export class OnnxEmitter {
  /** The nodes written, in order. */
  readonly nodes: Writer[] = [];
  /** The initializers written: the graph's constants and the helpers' own. */
  readonly initializers: Writer[] = [];
  private fresh = 0;

  constructor(
    /** The graph being translated. */
    readonly graph: KernelGraph,
  ) {}

  /** The ONNX name of graph value `v`. */
  name(v: number): string {
    return `v${v}`;
  }

  /** The shape of graph value `v`. */
  shape(v: number): readonly number[] {
    return this.graph.values[v]!.shape;
  }

  /** A new intermediate name (never a graph value's). */
  temp(hint: string): string {
    return `${hint}_${this.fresh++}`;
  }

  /** Writes one node. */
  op(
    type: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attrs: readonly Writer[] = [],
  ): void {
    this.nodes.push(node(type, inputs, outputs, attrs));
  }

  /** A new 1-D int64 initializer; returns its name. */
  int64(values: readonly number[]): string {
    const name = this.temp('i64');
    this.initializers.push(int64Initializer(name, values));
    return name;
  }

  /** A new float32 initializer; returns its name. */
  float32(values: Float32Array, shape: readonly number[]): string {
    const name = this.temp('f32');
    this.initializers.push(initializer(name, shape, values));
    return name;
  }

  /** A new scalar initializer of `dtype`; returns its name. */
  scalar(value: number, dtype: DType): string {
    const name = this.temp('s');
    this.initializers.push(
      dtype === 'int32'
        ? int32Initializer(name, [], Int32Array.of(value))
        : initializer(name, [], Float32Array.of(value)),
    );
    return name;
  }
}

const UNARY: Partial<Record<UnaryOp, string>> = {
  neg: 'Neg',
  abs: 'Abs',
  exp: 'Exp',
  log: 'Log',
  sqrt: 'Sqrt',
  reciprocal: 'Reciprocal',
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
};

const BINARY: Record<BinaryOp, string> = {
  add: 'Add',
  sub: 'Sub',
  mul: 'Mul',
  div: 'Div',
  maximum: 'Max',
  minimum: 'Min',
  pow: 'Pow',
};

/** Writes `out = activation(pre)`; `pre` is `out` itself when the activation is linear. */
function activate(e: OnnxEmitter, pre: string, activation: Activation, out: string): void {
  if (activation === 'relu') e.op('Relu', [pre], [out]);
  else if (activation === 'sigmoid') e.op('Sigmoid', [pre], [out]);
}

/** The permutation swapping the last two of `rank` axes. */
function swapLast(rank: number): number[] {
  const p = Array.from({ length: rank }, (_, i) => i);
  [p[rank - 2], p[rank - 1]] = [p[rank - 1]!, p[rank - 2]!];
  return p;
}

/**
 * Extra padding after the input that makes the floor output-size formula give the recorded
 * output size (ceil mode: the last window reaches past the padding and is clipped).
 */
function ceilExtra(
  inSize: number,
  padBefore: number,
  padAfter: number,
  k: number,
  s: number,
  d: number,
  out: number,
) {
  const extra = Math.max(0, (out - 1) * s + d * (k - 1) + 1 - (inSize + padBefore + padAfter));
  if (Math.floor((inSize + padBefore + padAfter + extra - d * (k - 1) - 1) / s) + 1 !== out)
    throw new Error(`onnx: pool2d output length ${out} is not reachable from input ${inSize}`);
  return extra;
}

function pool(e: OnnxEmitter, x: string, type: 'max' | 'avg', p: Pool2dInfo, out: string): void {
  const eh = ceilExtra(
    p.inHeight,
    p.padTop,
    p.padBottom,
    p.kernelHeight,
    p.strideHeight,
    p.dilationHeight,
    p.outHeight,
  );
  const ew = ceilExtra(
    p.inWidth,
    p.padLeft,
    p.padRight,
    p.kernelWidth,
    p.strideWidth,
    p.dilationWidth,
    p.outWidth,
  );
  const pads = [p.padTop, p.padLeft, p.padBottom + eh, p.padRight + ew];
  const window = [
    intsAttr('kernel_shape', [p.kernelHeight, p.kernelWidth]),
    intsAttr('strides', [p.strideHeight, p.strideWidth]),
  ];
  // ONNX Runtime requires each pad to be smaller than the window.
  const padsFit =
    pads[0]! < p.kernelHeight &&
    pads[2]! < p.kernelHeight &&
    pads[1]! < p.kernelWidth &&
    pads[3]! < p.kernelWidth;
  if (type === 'max') {
    const dilations = intsAttr('dilations', [p.dilationHeight, p.dilationWidth]);
    if (padsFit) {
      e.op('MaxPool', [x], [out], [...window, dilations, intsAttr('pads', pads)]);
    } else {
      // Explicit -∞ padding: every window holds a real element, so the maximum is unchanged.
      const padded = e.temp('maxpad');
      const all = [0, 0, pads[0]!, pads[1]!, 0, 0, pads[2]!, pads[3]!];
      e.op('Pad', [x, e.int64(all), e.scalar(Number.NEGATIVE_INFINITY, 'float32')], [padded]);
      e.op('MaxPool', [padded], [out], [...window, dilations]);
    }
    return;
  }
  if (!padsFit)
    throw new Error('onnx: kernel pool2d (avg) with padding as large as the window is not expressible');
  if (!p.countIncludePad || (eh === 0 && ew === 0)) {
    const include = intAttr('count_include_pad', p.countIncludePad ? 1 : 0);
    e.op('AveragePool', [x], [out], [...window, intsAttr('pads', pads), include]);
    return;
  }
  // count_include_pad with a clipped last window: the real padding as zeros (counted), the
  // clipped part as ONNX padding that is not counted.
  const padded = e.temp('avgpad');
  const real = [0, 0, p.padTop, p.padLeft, 0, 0, p.padBottom, p.padRight];
  e.op('Pad', [x, e.int64(real), e.scalar(0, 'float32')], [padded]);
  e.op(
    'AveragePool',
    [padded],
    [out],
    [...window, intsAttr('pads', [0, 0, eh, ew]), intAttr('count_include_pad', 0)],
  );
}

function adaptiveAvgPool(e: OnnxEmitter, x: string, r: ResizeInfo, out: string): void {
  const rows = r.outHeight !== r.inHeight;
  const cols = r.outWidth !== r.inWidth;
  if (!rows && !cols) e.op('Identity', [x], [out]);
  let cur = x;
  if (rows) {
    // A_h [outH, inH] · X: NumPy matmul broadcasting over batch and channels.
    const a = e.float32(adaptiveAverageMatrix(r.inHeight, r.outHeight), [r.outHeight, r.inHeight]);
    const next = cols ? e.temp('pool_h') : out;
    e.op('MatMul', [a, cur], [next]);
    cur = next;
  }
  if (cols) {
    const a = adaptiveAverageMatrix(r.inWidth, r.outWidth);
    const t = new Float32Array(a.length); // A_wᵀ: [inW, outW]
    for (let i = 0; i < r.outWidth; i++)
      for (let j = 0; j < r.inWidth; j++) t[j * r.outWidth + i] = a[i * r.inWidth + j]!;
    e.op('MatMul', [cur, e.float32(t, [r.inWidth, r.outWidth])], [out]);
  }
}

function resizeNearest(e: OnnxEmitter, x: string, r: ResizeInfo, out: string): void {
  if (r.outHeight % r.inHeight === 0 && r.outWidth % r.inWidth === 0) {
    // Integer factors: ONNX Runtime's dst / (out/in) is exact, so `asymmetric` + `floor` is
    // PyTorch's rule.
    const sizes = e.int64([r.batch, r.channels, r.outHeight, r.outWidth]);
    e.op(
      'Resize',
      [x, '', '', sizes],
      [out],
      [
        stringAttr('mode', 'nearest'),
        stringAttr('coordinate_transformation_mode', 'asymmetric'),
        stringAttr('nearest_mode', 'floor'),
      ],
    );
    return;
  }
  // Other ratios: ONNX Runtime divides by a float32 scale, which can land just below an
  // integer (14 → 2: dst 1 reads row 6 in ONNX Runtime 1.30 where PyTorch reads row 7; no
  // integer factor was seen to differ), so the rows and columns are gathered by PyTorch's
  // indices instead.
  let cur = x;
  if (r.outHeight !== r.inHeight) {
    const next = r.outWidth === r.inWidth ? out : e.temp('near_h');
    e.op('Gather', [cur, e.int64(nearestIndices(r.inHeight, r.outHeight))], [next], [intAttr('axis', 2)]);
    cur = next;
  }
  if (r.outWidth !== r.inWidth)
    e.op('Gather', [cur, e.int64(nearestIndices(r.inWidth, r.outWidth))], [out], [intAttr('axis', 3)]);
}

/** Writes the ONNX nodes computing one recorded node's output (named `v<output>`). */
export function emitNode(e: OnnxEmitter, n: GraphNode): void {
  const out = e.name(n.output);
  const v = (i: number) => e.name(i);
  switch (n.kernel) {
    case 'conv2d': {
      const [x, w, b, c, activation] = n.args;
      const pre = activation === 'linear' ? out : e.temp('conv');
      e.op(
        'Conv',
        b === null ? [v(x), v(w)] : [v(x), v(w), v(b)],
        [pre],
        [
          intsAttr('kernel_shape', [c.kernelHeight, c.kernelWidth]),
          intsAttr('strides', [c.strideHeight, c.strideWidth]),
          intsAttr('dilations', [c.dilationHeight, c.dilationWidth]),
          intsAttr('pads', [c.padTop, c.padLeft, c.padBottom, c.padRight]),
          intAttr('group', c.groups),
        ],
      );
      activate(e, pre, activation, out);
      return;
    }
    case 'matmul': {
      const [a, b, bias, m, activation] = n.args;
      const pre = activation === 'linear' ? out : e.temp('matmul');
      const ra = e.shape(a).length;
      const rb = e.shape(b).length;
      if (ra === 2 && rb === 2) {
        const inputs = bias === null ? [v(a), v(b)] : [v(a), v(b), v(bias)];
        e.op(
          'Gemm',
          inputs,
          [pre],
          [intAttr('transA', m.transposeA ? 1 : 0), intAttr('transB', m.transposeB ? 1 : 0)],
        );
      } else {
        let ia = v(a);
        let ib = v(b);
        if (m.transposeA) {
          ia = e.temp('mt_a');
          e.op('Transpose', [v(a)], [ia], [intsAttr('perm', swapLast(ra))]);
        }
        if (m.transposeB) {
          ib = e.temp('mt_b');
          e.op('Transpose', [v(b)], [ib], [intsAttr('perm', swapLast(rb))]);
        }
        const prod = bias === null ? pre : e.temp('mm');
        e.op('MatMul', [ia, ib], [prod]);
        if (bias !== null) e.op('Add', [prod, v(bias)], [pre]);
      }
      activate(e, pre, activation, out);
      return;
    }
    case 'unary': {
      const [op, x] = n.args;
      if (op === 'rsqrt') {
        const s = e.temp('sqrt');
        e.op('Sqrt', [v(x)], [s]);
        e.op('Reciprocal', [s], [out]);
      } else if (op === 'square') {
        e.op('Mul', [v(x), v(x)], [out]);
      } else {
        const type = UNARY[op];
        if (type === undefined) throw new Error(`onnx: kernel unary, op '${op}' has no ONNX mapping`);
        e.op(type, [v(x)], [out]);
      }
      return;
    }
    case 'binary': {
      const [op, a, b, , activation] = n.args;
      const type = BINARY[op];
      if (type === undefined) throw new Error(`onnx: kernel binary, op '${op}' has no ONNX mapping`);
      if (activation === 'relu') {
        // A residual block's fused sum and ReLU: Add, then Relu (ORT fuses them where it can).
        const sum = e.temp('sum');
        e.op(type, [v(a), v(b)], [sum]);
        e.op('Relu', [sum], [out]);
        return;
      }
      e.op(type, [v(a), v(b)], [out]); // ONNX broadcasts like NumPy
      return;
    }
    case 'batchNorm': {
      const [x, mean, variance, scale, offset, eps] = n.args;
      const channels = e.shape(x)[1];
      if (channels === undefined) throw new Error('onnx: kernel batchNorm needs an input of rank ≥ 2');
      const perChannel = (i: number | null, fill: number): string => {
        if (i === null) return e.float32(new Float32Array(channels).fill(fill), [channels]);
        if (e.shape(i).length === 1) return v(i);
        const flat = e.temp('bn');
        e.op('Reshape', [v(i), e.int64([channels])], [flat]);
        return flat;
      };
      e.op(
        'BatchNormalization',
        [v(x), perChannel(scale, 1), perChannel(offset, 0), perChannel(mean, 0), perChannel(variance, 1)],
        [out],
        [floatAttr('epsilon', eps)],
      );
      return;
    }
    case 'pool2d': {
      const [x, type, p] = n.args;
      pool(e, v(x), type, p, out);
      return;
    }
    case 'adaptiveAvgPool2d': {
      const [x, r] = n.args;
      adaptiveAvgPool(e, v(x), r, out);
      return;
    }
    case 'resizeBilinear': {
      const [x, r, alignCorners] = n.args;
      // PyTorch's half-pixel rule has no special case for an output length of 1;
      // `pytorch_half_pixel` reads 0 there, `half_pixel` (equal elsewhere) does not.
      const single = r.outHeight === 1 || r.outWidth === 1;
      const mode = alignCorners ? 'align_corners' : single ? 'half_pixel' : 'pytorch_half_pixel';
      const sizes = e.int64([r.batch, r.channels, r.outHeight, r.outWidth]);
      e.op(
        'Resize',
        [v(x), '', '', sizes],
        [out],
        [stringAttr('mode', 'linear'), stringAttr('coordinate_transformation_mode', mode)],
      );
      return;
    }
    case 'resizeNearest': {
      const [x, r] = n.args;
      resizeNearest(e, v(x), r, out);
      return;
    }
    case 'reduce': {
      const [op, x, axes] = n.args;
      const keep = intAttr('keepdims', 0);
      if (op === 'sum') {
        e.op('ReduceSum', [v(x), e.int64(axes)], [out], [keep]);
      } else if (op === 'max') {
        e.op('ReduceMax', [v(x)], [out], [intsAttr('axes', axes), keep]);
      } else {
        let input = v(x);
        if (e.graph.values[x]!.dtype === 'int32') {
          input = e.temp('mean_f');
          e.op('Cast', [v(x)], [input], [intAttr('to', ONNX_FLOAT)]);
        }
        e.op('ReduceMean', [input], [out], [intsAttr('axes', axes), keep]);
      }
      return;
    }
    case 'softmax': {
      const [x, axis] = n.args;
      e.op('Softmax', [v(x)], [out], [intAttr('axis', axis)]);
      return;
    }
    case 'argmax': {
      const [x, axis] = n.args;
      const idx = e.temp('argmax'); // int64 in ONNX, int32 in kernelzoo
      e.op(
        'ArgMax',
        [v(x)],
        [idx],
        [intAttr('axis', axis), intAttr('keepdims', 0), intAttr('select_last_index', 0)],
      );
      e.op('Cast', [idx], [out], [intAttr('to', ONNX_INT32)]);
      return;
    }
    case 'concat': {
      const [xs, axis] = n.args;
      e.op('Concat', xs.map(v), [out], [intAttr('axis', axis)]);
      return;
    }
    case 'slice': {
      const [x, begin, size] = n.args;
      const ends = begin.map((b, i) => b + size[i]!);
      const axes = begin.map((_, i) => i);
      e.op('Slice', [v(x), e.int64(begin), e.int64(ends), e.int64(axes)], [out]);
      return;
    }
    case 'transpose': {
      const [x, perm] = n.args;
      e.op('Transpose', [v(x)], [out], [intsAttr('perm', perm)]);
      return;
    }
    case 'flip': {
      const [x, axes] = n.args;
      const shape = e.shape(x);
      const flipped = axes.filter((a) => shape[a]! > 1);
      if (flipped.length === 0) {
        e.op('Identity', [v(x)], [out]);
        return;
      }
      // A step of −1 from the last element to before the first (INT64_MIN as `ends`).
      const starts = e.int64(flipped.map(() => -1));
      const ends = e.int64(flipped.map(() => -(2 ** 63)));
      const steps = e.int64(flipped.map(() => -1));
      e.op('Slice', [v(x), starts, ends, e.int64(flipped), steps], [out]);
      return;
    }
    case 'pad': {
      const [x, paddings, value] = n.args;
      const pads = [...paddings.map((p) => p[0]), ...paddings.map((p) => p[1])];
      const dtype = e.graph.values[x]!.dtype;
      e.op('Pad', [v(x), e.int64(pads), e.scalar(value, dtype)], [out], [stringAttr('mode', 'constant')]);
      return;
    }
    case 'cast': {
      const [x, dtype] = n.args;
      e.op('Cast', [v(x)], [out], [intAttr('to', onnxType(dtype))]);
      return;
    }
    case 'reshape': {
      const [x, shape] = n.args;
      e.op('Reshape', [v(x), e.int64(shape)], [out]);
      return;
    }
    default: {
      const kernel: never = n;
      throw new Error(`onnx: kernel ${(kernel as GraphNode).kernel} has no ONNX mapping`);
    }
  }
}
