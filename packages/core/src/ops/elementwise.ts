import type { BinaryActivation, BinaryOp, UnaryOp } from '../backend.js';
import { ENGINE } from '../engine.js';
import { ArgumentError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { broadcastShapes, formatShape } from '../util/shape.js';
import { scalar } from './creation.js';
import { checkDtype, checkTensor } from './validate.js';

const INT_UNARY: ReadonlySet<UnaryOp> = new Set(['neg', 'abs', 'square', 'relu']);

/** Applies an elementwise function of one argument. */
export function unary(op: UnaryOp, x: Tensor): Tensor {
  checkTensor(op, 'x', x);
  if (!INT_UNARY.has(op)) checkDtype(op, 'x', x, ['float32']);
  return ENGINE.run(op, [x], x.shape, x.dtype, 0, (b, [xi]) => b.unary(op, xi));
}

/** −x. */
export const neg = (x: Tensor): Tensor => unary('neg', x);
/** |x|. */
export const abs = (x: Tensor): Tensor => unary('abs', x);
/** eˣ. */
export const exp = (x: Tensor): Tensor => unary('exp', x);
/** Natural logarithm. */
export const log = (x: Tensor): Tensor => unary('log', x);
/** Square root. */
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
/** 1 / √x. */
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x);
/** x². */
export const square = (x: Tensor): Tensor => unary('square', x);
/** 1 / x. */
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x);
/** max(x, 0). */
export const relu = (x: Tensor): Tensor => unary('relu', x);
/** 1 / (1 + e⁻ˣ). */
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
/** Hyperbolic tangent. */
export const tanh = (x: Tensor): Tensor => unary('tanh', x);

/**
 * Applies an elementwise function of two arguments with NumPy/PyTorch broadcasting. A number
 * stands for a scalar of the other argument's dtype.
 */
export function binary(op: BinaryOp, a: Tensor | number, b: Tensor | number): Tensor {
  return binaryThen(op, a, b, 'linear');
}

/** {@link binary}, then `activation` on each result (float32 only, unless `linear`). */
function binaryThen(
  op: BinaryOp,
  a: Tensor | number,
  b: Tensor | number,
  activation: BinaryActivation,
): Tensor {
  if (typeof a === 'number' && typeof b === 'number')
    throw new ArgumentError(op, 'a', 'at least one Tensor', 'two numbers');
  const ta = typeof a === 'number' ? null : checkTensor(op, 'a', a);
  const tb = typeof b === 'number' ? null : checkTensor(op, 'b', b);
  const dtype = (ta ?? tb)!.dtype;
  if (ta && tb && ta.dtype !== tb.dtype)
    throw new ArgumentError(op, 'b', `the dtype of 'a' (${ta.dtype})`, `${tb.dtype} tensor`);
  if (op === 'pow' || activation !== 'linear') checkDtype(op, 'a', (ta ?? tb)!, ['float32']);
  const made: Tensor[] = [];
  const x = ta ?? made[made.push(scalar(a as number, dtype)) - 1];
  const y = tb ?? made[made.push(scalar(b as number, dtype)) - 1];
  const outShape = broadcastShapes(x.shape, y.shape);
  if (outShape === null)
    throw new ArgumentError(
      op,
      'b',
      `a shape that broadcasts with ${formatShape(x.shape)}`,
      `shape ${formatShape(y.shape)}`,
    );
  try {
    return ENGINE.run(op, [x, y], outShape, dtype, 0, (be, [ai, bi]) =>
      activation === 'linear' ? be.binary(op, ai, bi, outShape) : be.binary(op, ai, bi, outShape, activation),
    );
  } finally {
    for (const t of made) t.dispose();
  }
}

/** a + b (broadcasting). */
export const add = (a: Tensor | number, b: Tensor | number): Tensor => binary('add', a, b);

/**
 * `relu(a + b)` (broadcasting, float32) in one kernel: a residual block's sum and ReLU without
 * the sum's tensor in between. Equal to `relu(add(a, b))`: ReLU applies to the rounded float32
 * sum, and keeps NaN. `linear` is a plain {@link add}.
 */
export function addActivation(a: Tensor, b: Tensor, activation: BinaryActivation): Tensor {
  if (activation !== 'linear' && activation !== 'relu')
    throw new ArgumentError('add', 'activation', "'linear' or 'relu'", String(activation));
  return binaryThen('add', a, b, activation);
}
/** a − b (broadcasting). */
export const sub = (a: Tensor | number, b: Tensor | number): Tensor => binary('sub', a, b);
/** a · b (broadcasting). */
export const mul = (a: Tensor | number, b: Tensor | number): Tensor => binary('mul', a, b);
/** a / b (broadcasting; integer division truncates toward zero). */
export const div = (a: Tensor | number, b: Tensor | number): Tensor => binary('div', a, b);
/** max(a, b) elementwise (broadcasting). */
export const maximum = (a: Tensor | number, b: Tensor | number): Tensor => binary('maximum', a, b);
/** min(a, b) elementwise (broadcasting). */
export const minimum = (a: Tensor | number, b: Tensor | number): Tensor => binary('minimum', a, b);
/** aᵇ elementwise (broadcasting, float32). */
export const pow = (a: Tensor | number, b: Tensor | number): Tensor => binary('pow', a, b);
