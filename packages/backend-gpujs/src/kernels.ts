/**
 * Kernel source generators, one per kernel of the `Backend` interface. Each takes physical
 * argument specs and the op's parameters and returns the {@link KernelSource} to run.
 *
 * @module
 */
import type {
  Activation,
  BinaryOp,
  Conv2dInfo,
  MatMulInfo,
  Pool2dInfo,
  ResizeInfo,
  UnaryOp,
} from '@kernelzoo/core';
import { type ArgSpec, type Cursor, KernelSource, lit } from './codegen.js';

const LIMB = 65536;

/** Code that returns the float value `v` after the fused activation. */
function activate(k: KernelSource, v: string, activation: Activation): void {
  if (activation === 'relu') k.line(`if (${v} > 0.0 || kzIsNaN(${v}) > 0.5) { return ${v}; }\n  return 0.0;`);
  else if (activation === 'sigmoid') k.line(`return kzSigmoid(${v});`);
  else k.line(`return ${v};`);
}

/** Returns limb `limb` (0 = high, 1 = low) of the integer value held in float `r`, wrapped to int32. */
function returnLimb(k: KernelSource, r: string, limb: string): void {
  const hi = k.let(`Math.floor(${r} / ${lit(LIMB)})`, 'h');
  returnLimbs(k, hi, `${r} - ${hi} * ${lit(LIMB)}`, limb);
}

/** Returns limb `limb` of the int32 whose halves are `hi` (any integer, wrapped) and `lo` (0…65535). */
function returnLimbs(k: KernelSource, hi: string, lo: string, limb: string): void {
  k.line(
    `if (${limb} < 0.5) { return ${hi} - ${lit(LIMB)} * Math.floor((${hi} + 32768.0) / ${lit(LIMB)}); }`,
  );
  k.line(`return ${lo};`);
}

/** Reads the int32 value at logical coordinates `coords` of argument `i` (physical shape has a trailing 2). */
function readInt(k: KernelSource, i: number, coords: readonly string[]): string {
  const hi = k.read(i, [...coords, '0.0']);
  const lo = k.read(i, [...coords, '1.0']);
  return k.let(`${hi} * ${lit(LIMB)} + ${lo}`, 'n');
}

/** Reads a value of either dtype at logical coordinates. */
function readValue(k: KernelSource, i: number, coords: readonly string[], isInt: boolean): string {
  return isInt ? readInt(k, i, coords) : k.read(i, coords);
}

/** Broadcast coordinates of an input of logical `shape` inside an output of logical rank `rank`. */
function broadcastCoords(shape: readonly number[], outCoords: readonly string[]): string[] {
  if (shape.length === 0) return ['0.0'];
  const off = outCoords.length - shape.length;
  return shape.map((d, i) => (d === 1 ? '0.0' : outCoords[off + i]));
}

function unaryExpr(op: UnaryOp, v: string): string {
  switch (op) {
    case 'neg':
      return `0.0 - ${v}`;
    case 'abs':
      return `Math.abs(${v})`;
    case 'exp':
      return `kzExp(${v})`;
    case 'log':
      return `kzLog(${v})`;
    case 'sqrt':
      return `Math.sqrt(${v})`;
    case 'rsqrt':
      return `1.0 / Math.sqrt(${v})`;
    case 'square':
      return `${v} * ${v}`;
    case 'reciprocal':
      return `1.0 / ${v}`;
    case 'relu':
      return `Math.max(${v}, 0.0)`;
    case 'sigmoid':
      return `kzSigmoid(${v})`;
    case 'tanh':
      return `kzTanh(${v})`;
  }
}

/** Elementwise function of one tensor; `x` and the output share their physical spec. */
export function unary(op: UnaryOp, x: ArgSpec, isInt: boolean): KernelSource {
  const k = new KernelSource(x, [x]);
  if (!isInt) {
    const v = k.readSame(0);
    if (op === 'relu') activate(k, v, 'relu');
    else if (op === 'neg') k.line(`return -${v};`);
    else k.line(`return ${unaryExpr(op, v)};`);
    return k;
  }
  const c = k.outCoords();
  const logical = c.slice(0, -1);
  const v = readInt(k, 0, logical);
  if (op === 'square') {
    const [hi, lo] = exactIntSquare(k, v);
    returnLimbs(k, hi, lo, c[c.length - 1]);
    return k;
  }
  const r = k.let(op === 'neg' ? `0.0 - ${v}` : unaryExpr(op, v), 'r');
  returnLimb(k, r, c[c.length - 1]);
  return k;
}

/**
 * The square of an int32 held in float `v`, modulo 2³², as a float that `returnLimb` splits
 * exactly: computed from 12-bit pieces so no product loses bits.
 */
function exactIntSquare(k: KernelSource, v: string): [string, string] {
  return exactIntProduct(k, v, v);
}

function binaryExpr(op: BinaryOp, a: string, b: string, isInt: boolean): string {
  switch (op) {
    case 'add':
      return `${a} + ${b}`;
    case 'sub':
      return `${a} - ${b}`;
    case 'mul':
      return `${a} * ${b}`;
    case 'div':
      return isInt
        ? `kzDiv(Math.abs(${a}), Math.abs(${b})) * (((${a} < 0.0) == (${b} < 0.0)) ? 1.0 : -1.0)`
        : `${a} / ${b}`;
    case 'maximum':
      return `Math.max(${a}, ${b})`;
    case 'minimum':
      return `Math.min(${a}, ${b})`;
    case 'pow':
      return `kzPow(${a}, ${b})`;
  }
}

/** Elementwise function of two tensors broadcast to `outShape` (logical shapes given). */
export function binary(
  op: BinaryOp,
  aShape: readonly number[],
  a: ArgSpec,
  bShape: readonly number[],
  b: ArgSpec,
  outShape: readonly number[],
  out: ArgSpec,
  isInt: boolean,
): KernelSource {
  const k = new KernelSource(out, [a, b]);
  const sameA = !isInt && sameLayout(a, out);
  const sameB = !isInt && sameLayout(b, out);
  let c: string[] = [];
  if (isInt || !sameA || !sameB) c = k.outCoords();
  const logical = isInt ? c.slice(0, -1) : outShape.length === 0 ? ['0.0'] : c;
  const va = sameA ? k.readSame(0) : readValue(k, 0, broadcastCoords(aShape, logical), isInt);
  const vb = sameB ? k.readSame(1) : readValue(k, 1, broadcastCoords(bShape, logical), isInt);
  if (!isInt && (op === 'maximum' || op === 'minimum'))
    k.line(`if (kzIsNaN(${va}) + kzIsNaN(${vb}) > 0.5) { return kzNaN(); }`);
  if (isInt && op === 'mul') {
    const [hi, lo] = exactIntProduct(k, va, vb);
    returnLimbs(k, hi, lo, c[c.length - 1]);
  } else if (isInt) {
    const r = k.let(binaryExpr(op, va, vb, true), 'r');
    returnLimb(k, r, c[c.length - 1]);
  } else k.line(`return ${binaryExpr(op, va, vb, false)};`);
  return k;
}

/** The product of two int32 values held in floats, modulo 2³², exactly (see {@link exactIntSquare}). */
function exactIntProduct(k: KernelSource, x: string, y: string): [string, string] {
  const s = k.let(`((${x} < 0.0) == (${y} < 0.0)) ? 1.0 : -1.0`, 'm');
  const ax = k.let(`Math.abs(${x})`, 'm');
  const ay = k.let(`Math.abs(${y})`, 'm');
  const xh = k.let(`Math.floor(${ax} / 4096.0)`, 'm');
  const xl = k.let(`${ax} - ${xh} * 4096.0`, 'm');
  const yh = k.let(`Math.floor(${ay} / 4096.0)`, 'm');
  const yl = k.let(`${ay} - ${yh} * 4096.0`, 'm');
  // |x|·|y| = xh·yh·2²⁴ + (xh·yl + xl·yh)·2¹² + xl·yl, every piece exact in float32.
  const cross = k.let(`${xh} * ${yl} + ${xl} * ${yh}`, 'm');
  const crossHi = k.let(`Math.floor(${cross} / 16.0)`, 'm');
  const crossLo = k.let(`${cross} - ${crossHi} * 16.0`, 'm');
  const low = k.let(`${xl} * ${yl} + ${crossLo} * 4096.0`, 'm');
  const carry = k.let(`Math.floor(${low} / 65536.0)`, 'm');
  const h0 = k.let(`${xh} * ${yh} * 256.0 + ${crossHi} + ${carry}`, 'm');
  const high = k.let(`${h0} - 65536.0 * Math.floor(${h0} / 65536.0)`, 'm');
  const lo = k.let(`${low} - ${carry} * 65536.0`, 'm');
  // Negate modulo 2³² when the signs differ: −(H·2¹⁶ + L) is (65535 − H)·2¹⁶ + (65536 − L) for
  // L > 0 and (65536 − H)·2¹⁶ for L = 0.
  k.open(`if (${s} < 0.0)`);
  k.open(`if (${lo} > 0.5)`);
  k.line(`${high} = 65535.0 - ${high};`);
  k.line(`${lo} = 65536.0 - ${lo};`);
  k.close();
  k.open('else');
  k.line(`${high} = 65536.0 - ${high};`);
  k.close();
  k.close();
  return [high, lo];
}

function sameLayout(a: ArgSpec, b: ArgSpec): boolean {
  return (
    a.shape.length === b.shape.length &&
    a.shape.every((d, i) => d === b.shape[i]) &&
    a.layout.width === b.layout.width
  );
}

/** Batch-norm inference over `[N, C, ...]`. */
export function batchNorm(
  x: ArgSpec,
  params: readonly ArgSpec[],
  hasScale: boolean,
  hasOffset: boolean,
  eps: number,
): KernelSource {
  const k = new KernelSource(x, [x, ...params]);
  const c = k.outCoords();
  const v = k.read(0, c);
  const ch = [c[1]];
  const mean = k.read(1, ch);
  const variance = k.read(2, ch);
  let idx = 3;
  const scale = hasScale ? k.read(idx++, ch) : '1.0';
  const offset = hasOffset ? k.read(idx++, ch) : '0.0';
  k.line(`return (${v} - ${mean}) / Math.sqrt(${variance} + ${lit(eps)}) * ${scale} + ${offset};`);
  return k;
}

/**
 * Direct 2-D convolution with fused bias and activation. One output value per thread; its
 * coordinates are found once. For each kernel tap inside the input, one cursor on the input
 * and one on the weight are placed (one division each on the row layout) and the loop over the
 * group's input channels, innermost, only adds the channel strides. A 1×1 convolution with
 * stride 1 and no padding has no tap loops and no bounds tests.
 */
export function conv2d(
  x: ArgSpec,
  w: ArgSpec,
  bias: ArgSpec | null,
  out: ArgSpec,
  info: Conv2dInfo,
  activation: Activation,
): KernelSource {
  const k = new KernelSource(out, bias ? [x, w, bias] : [x, w]);
  const [n, oc, oy, ox] = k.outCoords();
  const cg = info.inChannels / info.groups;
  const ocg = info.outChannels / info.groups;
  const taps = info.kernelHeight * info.kernelWidth;
  const plane = info.inHeight * info.inWidth;
  const c0 = info.groups === 1 ? '0.0' : k.let(`kzDiv(${oc}, ${lit(ocg)}) * ${lit(cg)}`, 'g');
  k.line('let s = 0.0;');
  /** The channel loop for one tap: cursors at channel c0 of the input and channel 0 of the weight. */
  const channels = (cx: Cursor, cw: Cursor): void => {
    const unroll = cg % 4 === 0 && cg >= 8 ? 4 : 1;
    if (cg > 1) k.open(`for (let ic = 0; ic < ${cg / unroll}; ic++)`);
    for (let u = 0; u < unroll; u++) {
      k.line(`s += ${k.at(cx)} * ${k.at(cw)};`);
      if (cg > 1) {
        k.advance(cx, plane);
        k.advance(cw, taps);
      }
    }
    if (cg > 1) k.close();
  };
  const pointwise =
    info.kernelHeight === 1 &&
    info.kernelWidth === 1 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.padTop === 0 &&
    info.padLeft === 0 &&
    info.inHeight === info.outHeight &&
    info.inWidth === info.outWidth;
  if (pointwise) {
    channels(k.locate(0, [n, c0, oy, ox]), k.locate(1, [oc, '0.0', '0.0', '0.0']));
  } else {
    // A bound test is emitted only where some output reaches outside the input on that side.
    const needTop = info.padTop > 0;
    const needBottom =
      (info.outHeight - 1) * info.strideHeight - info.padTop + (info.kernelHeight - 1) * info.dilationHeight >
      info.inHeight - 1;
    const needLeft = info.padLeft > 0;
    const needRight =
      (info.outWidth - 1) * info.strideWidth - info.padLeft + (info.kernelWidth - 1) * info.dilationWidth >
      info.inWidth - 1;
    const y0 = k.let(`${oy} * ${lit(info.strideHeight)} - ${lit(info.padTop)}`, 'y');
    const x0 = k.let(`${ox} * ${lit(info.strideWidth)} - ${lit(info.padLeft)}`, 'x');
    const w0 = k.locate(1, [oc, '0.0', '0.0', '0.0']);
    const bounds = (v: string, lo: boolean, hi: boolean, size: number): string | null => {
      const conds = [...(lo ? [`${v} > -0.5`] : []), ...(hi ? [`${v} < ${lit(size - 0.5)}`] : [])];
      return conds.length === 0 ? null : conds.join(' && ');
    };
    k.open(`for (let ky = 0; ky < ${info.kernelHeight}; ky++)`);
    const iy = k.let(`${y0} + kzF(ky) * ${lit(info.dilationHeight)}`, 'y');
    const yIn = bounds(iy, needTop, needBottom, info.inHeight);
    k.open(`for (let kx = 0; kx < ${info.kernelWidth}; kx++)`);
    const ix = k.let(`${x0} + kzF(kx) * ${lit(info.dilationWidth)}`, 'x');
    const xIn = bounds(ix, needLeft, needRight, info.inWidth);
    const cond = [yIn, xIn].filter((c) => c !== null).join(' && ');
    if (cond !== '') k.open(`if (${cond})`);
    channels(k.locate(0, [n, c0, iy, ix]), k.fork(w0));
    if (cond !== '') k.close();
    k.advance(w0, 1);
    k.close();
    k.close();
  }
  if (bias) {
    const b = k.read(2, [oc]);
    k.line(`s += ${b};`);
  }
  activate(k, 's', activation);
  return k;
}

/**
 * Batched matrix product with transposes, broadcast batch, bias and activation: one output per
 * thread, the k loop walking cursors on both operands.
 */
export function matmul(
  a: ArgSpec,
  b: ArgSpec,
  bias: ArgSpec | null,
  out: ArgSpec,
  info: MatMulInfo,
  activation: Activation,
): KernelSource {
  const k = new KernelSource(out, bias ? [a, b, bias] : [a, b]);
  const c = k.outCoords();
  const batch = c.length === 3 ? c[0] : '0.0';
  const i = c[c.length - 2];
  const j = c[c.length - 1];
  const aBatch = info.aBatch === 1 ? '0.0' : batch;
  const bBatch = info.bBatch === 1 ? '0.0' : batch;
  k.line('let s = 0.0;');
  // Cursors at kk = 0, advanced by the k-axis stride of each operand (no division per step).
  const ac = info.transposeA ? ['0.0', i] : [i, '0.0'];
  const bc = info.transposeB ? [j, '0.0'] : ['0.0', j];
  const ca = k.locate(0, a.shape.length === 3 ? [aBatch, ...ac] : ac);
  const cb = k.locate(1, b.shape.length === 3 ? [bBatch, ...bc] : bc);
  const aStep = info.transposeA ? info.m : 1;
  const bStep = info.transposeB ? 1 : info.n;
  const unroll = info.k % 4 === 0 && info.k >= 8 ? 4 : 1;
  k.open(`for (let kk = 0; kk < ${info.k / unroll}; kk++)`);
  for (let u = 0; u < unroll; u++) {
    k.line(`s += ${k.at(ca)} * ${k.at(cb)};`);
    k.advance(ca, aStep);
    k.advance(cb, bStep);
  }
  k.close();
  if (bias) {
    const bb = k.read(2, [j]);
    k.line(`s += ${bb};`);
  }
  activate(k, 's', activation);
  return k;
}

/** Max or average pooling. */
export function pool2d(x: ArgSpec, out: ArgSpec, type: 'max' | 'avg', info: Pool2dInfo): KernelSource {
  const k = new KernelSource(out, [x]);
  const [n, ch, oy, ox] = k.outCoords();
  const y0 = k.let(`${oy} * ${lit(info.strideHeight)} - ${lit(info.padTop)}`, 'y');
  const x0 = k.let(`${ox} * ${lit(info.strideWidth)} - ${lit(info.padLeft)}`, 'x');
  if (type === 'max') {
    k.line('let m = 0.0 - kzInf();');
    k.open(`for (let ky = 0; ky < ${info.kernelHeight}; ky++)`);
    const iy = k.let(`${y0} + kzF(ky) * ${lit(info.dilationHeight)}`, 'y');
    k.open(`if (${iy} > -0.5 && ${iy} < ${lit(info.inHeight - 0.5)})`);
    k.open(`for (let kx = 0; kx < ${info.kernelWidth}; kx++)`);
    const ix = k.let(`${x0} + kzF(kx) * ${lit(info.dilationWidth)}`, 'x');
    k.open(`if (${ix} > -0.5 && ${ix} < ${lit(info.inWidth - 0.5)})`);
    const v = k.read(0, [n, ch, iy, ix]);
    k.line(`if (${v} > m || kzIsNaN(${v}) > 0.5) { m = ${v}; }`);
    for (let i = 0; i < 4; i++) k.close();
    k.line('return m;');
    return k;
  }
  const y1 = k.let(
    `Math.min(${y0} + ${lit(info.kernelHeight)}, ${lit(info.inHeight + info.padBottom)})`,
    'y',
  );
  const x1 = k.let(`Math.min(${x0} + ${lit(info.kernelWidth)}, ${lit(info.inWidth + info.padRight)})`, 'x');
  const span = k.let(`(${y1} - ${y0}) * (${x1} - ${x0})`, 'p');
  const ya = k.let(`Math.max(${y0}, 0.0)`, 'y');
  const yb = k.let(`Math.min(${y1}, ${lit(info.inHeight)})`, 'y');
  const xa = k.let(`Math.max(${x0}, 0.0)`, 'x');
  const xb = k.let(`Math.min(${x1}, ${lit(info.inWidth)})`, 'x');
  k.line('let s = 0.0;');
  k.open(`for (let ky = 0; ky < ${info.kernelHeight}; ky++)`);
  const iy = k.let(`${y0} + kzF(ky)`, 'y');
  k.open(`if (${iy} > ${ya} - 0.5 && ${iy} < ${yb} - 0.5)`);
  k.open(`for (let kx = 0; kx < ${info.kernelWidth}; kx++)`);
  const ix = k.let(`${x0} + kzF(kx)`, 'x');
  k.open(`if (${ix} > ${xa} - 0.5 && ${ix} < ${xb} - 0.5)`);
  const v = k.read(0, [n, ch, iy, ix]);
  k.line(`s += ${v};`);
  for (let i = 0; i < 4; i++) k.close();
  const count = info.countIncludePad ? span : `(${yb} - ${ya}) * (${xb} - ${xa})`;
  k.line(`return s / (${count});`);
  return k;
}

/** PyTorch's adaptive average pooling. */
export function adaptiveAvgPool2d(x: ArgSpec, out: ArgSpec, info: ResizeInfo): KernelSource {
  const k = new KernelSource(out, [x]);
  const [n, ch, oy, ox] = k.outCoords();
  const win = (inn: number, o: number) => {
    let m = 1;
    for (let i = 0; i < o; i++) m = Math.max(m, Math.ceil(((i + 1) * inn) / o) - Math.floor((i * inn) / o));
    return m;
  };
  const ya = k.let(`kzDiv(${oy} * ${lit(info.inHeight)}, ${lit(info.outHeight)})`, 'y');
  const yb = k.let(
    `kzDiv((${oy} + 1.0) * ${lit(info.inHeight)} + ${lit(info.outHeight - 1)}, ${lit(info.outHeight)})`,
    'y',
  );
  const xa = k.let(`kzDiv(${ox} * ${lit(info.inWidth)}, ${lit(info.outWidth)})`, 'x');
  const xb = k.let(
    `kzDiv((${ox} + 1.0) * ${lit(info.inWidth)} + ${lit(info.outWidth - 1)}, ${lit(info.outWidth)})`,
    'x',
  );
  k.line('let s = 0.0;');
  k.open(`for (let ky = 0; ky < ${win(info.inHeight, info.outHeight)}; ky++)`);
  const iy = k.let(`${ya} + kzF(ky)`, 'y');
  k.open(`if (${iy} < ${yb} - 0.5)`);
  k.open(`for (let kx = 0; kx < ${win(info.inWidth, info.outWidth)}; kx++)`);
  const ix = k.let(`${xa} + kzF(kx)`, 'x');
  k.open(`if (${ix} < ${xb} - 0.5)`);
  const v = k.read(0, [n, ch, iy, ix]);
  k.line(`s += ${v};`);
  for (let i = 0; i < 4; i++) k.close();
  k.line(`return s / ((${yb} - ${ya}) * (${xb} - ${xa}));`);
  return k;
}

/** Bilinear resize with PyTorch's `align_corners` rule. */
export function resizeBilinear(
  x: ArgSpec,
  out: ArgSpec,
  info: ResizeInfo,
  alignCorners: boolean,
): KernelSource {
  const k = new KernelSource(out, [x]);
  const [n, ch, oy, ox] = k.outCoords();
  const src = (o: string, inn: number, outn: number, p: string): string => {
    if (alignCorners) {
      const scale = outn > 1 ? (inn - 1) / (outn - 1) : 0;
      return k.let(`${o} * ${lit(scale)}`, p);
    }
    return k.let(`Math.max(0.0, (${o} + 0.5) * ${lit(inn / outn)} - 0.5)`, p);
  };
  const sy = src(oy, info.inHeight, info.outHeight, 'y');
  const sx = src(ox, info.inWidth, info.outWidth, 'x');
  const y0 = k.let(`Math.min(Math.floor(${sy}), ${lit(info.inHeight - 1)})`, 'y');
  const x0 = k.let(`Math.min(Math.floor(${sx}), ${lit(info.inWidth - 1)})`, 'x');
  const y1 = k.let(`Math.min(${y0} + 1.0, ${lit(info.inHeight - 1)})`, 'y');
  const x1 = k.let(`Math.min(${x0} + 1.0, ${lit(info.inWidth - 1)})`, 'x');
  const ly = k.let(`${sy} - ${y0}`, 'l');
  const lx = k.let(`${sx} - ${x0}`, 'l');
  const v00 = k.read(0, [n, ch, y0, x0]);
  const v01 = k.read(0, [n, ch, y0, x1]);
  const v10 = k.read(0, [n, ch, y1, x0]);
  const v11 = k.read(0, [n, ch, y1, x1]);
  k.line(
    `return (1.0 - ${ly}) * ((1.0 - ${lx}) * ${v00} + ${lx} * ${v01}) + ${ly} * ((1.0 - ${lx}) * ${v10} + ${lx} * ${v11});`,
  );
  return k;
}

/** Nearest resize, PyTorch `mode='nearest'`. */
export function resizeNearest(x: ArgSpec, out: ArgSpec, info: ResizeInfo): KernelSource {
  const k = new KernelSource(out, [x]);
  const [n, ch, oy, ox] = k.outCoords();
  const sy = k.let(
    `Math.min(kzDiv(${oy} * ${lit(info.inHeight)}, ${lit(info.outHeight)}), ${lit(info.inHeight - 1)})`,
    'y',
  );
  const sx = k.let(
    `Math.min(kzDiv(${ox} * ${lit(info.inWidth)}, ${lit(info.outWidth)}), ${lit(info.inWidth - 1)})`,
    'x',
  );
  const v = k.read(0, [n, ch, sy, sx]);
  k.line(`return ${v};`);
  return k;
}

/** Opens nested loops over `dims` (one per listed axis) and returns the loop coordinates. */
function loops(k: KernelSource, dims: readonly number[], prefix: string): string[] {
  const vars: string[] = [];
  dims.forEach((d, i) => {
    k.open(`for (let ${prefix}${i} = 0; ${prefix}${i} < ${d}; ${prefix}${i}++)`);
    vars.push(k.let(`kzF(${prefix}${i})`, 'f'));
  });
  return vars;
}

/** Sum, mean or max over `axes` of logical `shape`. */
export function reduce(
  op: 'sum' | 'mean' | 'max',
  shape: readonly number[],
  x: ArgSpec,
  axes: readonly number[],
  out: ArgSpec,
  isInt: boolean,
  outInt: boolean,
): KernelSource {
  const k = new KernelSource(out, [x]);
  const c = k.outCoords();
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const keptCoords = outInt ? c.slice(0, -1) : c;
  const count = axes.reduce((p, a) => p * shape[a], 1);
  k.line(op === 'max' ? 'let s = 0.0 - kzInf();' : 'let s = 0.0;');
  const lv = loops(
    k,
    axes.map((a) => shape[a]),
    'r',
  );
  const coords = shape.map((_, d) => {
    const ai = axes.indexOf(d);
    return ai >= 0 ? lv[ai] : keptCoords[kept.indexOf(d)];
  });
  const v = readValue(k, 0, coords.length === 0 ? ['0.0'] : coords, isInt);
  if (op === 'max') k.line(`if (${v} > s || kzIsNaN(${v}) > 0.5) { s = ${v}; }`);
  else k.line(`s += ${v};`);
  for (let i = 0; i < axes.length; i++) k.close();
  if (op === 'mean') k.line(`s = s / ${lit(count)};`);
  if (outInt) returnLimb(k, 's', c[c.length - 1]);
  else k.line('return s;');
  return k;
}

/** Softmax along `axis` (cursors walk the axis: no division per step). */
export function softmax(shape: readonly number[], x: ArgSpec, axis: number): KernelSource {
  const k = new KernelSource(x, [x]);
  const c = k.outCoords();
  const len = shape[axis];
  const step = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const start = k.locate(
    0,
    c.map((v, d) => (d === axis ? '0.0' : v)),
  );
  const c1 = k.fork(start);
  k.line('let m = 0.0 - kzInf();');
  k.open(`for (let j = 0; j < ${len}; j++)`);
  k.line(`m = Math.max(m, ${k.at(c1)});`);
  k.advance(c1, step);
  k.close();
  k.line('let s = 0.0;');
  k.open(`for (let j2 = 0; j2 < ${len}; j2++)`);
  k.line(`s += Math.exp(${k.at(start)} - m);`);
  k.advance(start, step);
  k.close();
  const v = k.read(0, c);
  k.line(`return Math.exp(${v} - m) / s;`);
  return k;
}

/** Index of the first maximum along `axis`; int32 output. A cursor walks the axis for float input. */
export function argmax(
  shape: readonly number[],
  x: ArgSpec,
  axis: number,
  out: ArgSpec,
  isInt: boolean,
): KernelSource {
  const k = new KernelSource(out, [x]);
  const c = k.outCoords();
  const keptCoords = c.slice(0, -1);
  const at = (j: string) => {
    const r: string[] = [];
    let o = 0;
    for (let d = 0; d < shape.length; d++) r.push(d === axis ? j : keptCoords[o++]);
    return r;
  };
  const pick = (v: string) =>
    k.line(`if (kzIsNaN(best) < 0.5 && (${v} > best || kzIsNaN(${v}) > 0.5)) { best = ${v}; bi = kzF(j); }`);
  if (isInt) {
    const first = readInt(k, 0, at('0.0'));
    k.line(`let best = ${first};`);
    k.line('let bi = 0.0;');
    k.open(`for (let j = 1; j < ${shape[axis]}; j++)`);
    pick(readInt(k, 0, at('kzF(j)')));
    k.close();
  } else {
    const step = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
    const cur = k.locate(0, at('0.0'));
    k.line(`let best = ${k.at(cur)};`);
    k.line('let bi = 0.0;');
    k.open(`for (let j = 1; j < ${shape[axis]}; j++)`);
    k.advance(cur, step);
    pick(k.let(k.at(cur), 'v'));
    k.close();
  }
  returnLimb(k, 'bi', c[c.length - 1]);
  return k;
}

/** Joins inputs (physical specs) along physical `axis`. */
export function concat(xs: readonly ArgSpec[], axis: number, out: ArgSpec): KernelSource {
  const k = new KernelSource(out, xs);
  const c = k.outCoords();
  k.line('let res = 0.0;');
  let off = 0;
  xs.forEach((x, i) => {
    const end = off + x.shape[axis];
    const last = i === xs.length - 1;
    if (!last) k.open(`if (${c[axis]} < ${lit(end - 0.5)})`);
    const coords = c.map((v, d) => (d === axis && off > 0 ? `(${v} - ${lit(off)})` : v));
    const v = k.read(i, coords);
    k.line(`res = ${v};`);
    if (!last) {
      k.close();
      k.open('else');
    }
    off = end;
  });
  for (let i = 0; i < xs.length - 1; i++) k.close();
  k.line('return res;');
  return k;
}

/** The block at `begin` (physical coordinates). */
export function slice(x: ArgSpec, begin: readonly number[], out: ArgSpec): KernelSource {
  const k = new KernelSource(out, [x]);
  const c = k.outCoords();
  const v = k.read(
    0,
    c.map((cv, d) => (begin[d] === 0 ? cv : `${cv} + ${lit(begin[d])}`)),
  );
  k.line(`return ${v};`);
  return k;
}

/** Permutes dimensions (physical `perm`). */
export function transpose(x: ArgSpec, perm: readonly number[], out: ArgSpec): KernelSource {
  const k = new KernelSource(out, [x]);
  const c = k.outCoords();
  const inCoords = new Array<string>(perm.length);
  perm.forEach((p, i) => {
    inCoords[p] = c[i];
  });
  const v = k.read(0, inCoords);
  k.line(`return ${v};`);
  return k;
}

/** Reverses physical `axes`: along each, the read coordinate runs from the far end. */
export function flip(x: ArgSpec, axes: readonly number[], out: ArgSpec): KernelSource {
  const k = new KernelSource(out, [x]);
  const c = k.outCoords();
  const v = k.read(
    0,
    c.map((cv, d) => (axes.includes(d) ? `${lit(x.shape[d] - 1)} - ${cv}` : cv)),
  );
  k.line(`return ${v};`);
  return k;
}

/** Constant padding (physical paddings); `fill(c)` gives the pad value's expression for output coordinates `c`. */
export function pad(
  x: ArgSpec,
  paddings: readonly (readonly [number, number])[],
  out: ArgSpec,
  fill: (c: readonly string[]) => string,
): KernelSource {
  const k = new KernelSource(out, [x]);
  const c = k.outCoords();
  const conds: string[] = [];
  paddings.forEach(([before], d) => {
    if (before > 0) conds.push(`${c[d]} < ${lit(before - 0.5)}`);
    if (before > 0 || paddings[d][1] > 0) conds.push(`${c[d]} > ${lit(before + x.shape[d] - 0.5)}`);
  });
  if (conds.length > 0) k.line(`if (${conds.join(' || ')}) { return ${fill(c)}; }`);
  const v = k.read(
    0,
    c.map((cv, d) => (paddings[d][0] === 0 ? cv : `${cv} - ${lit(paddings[d][0])}`)),
  );
  k.line(`return ${v};`);
  return k;
}

/** float32 → int32 (truncating) or int32 → float32. */
export function cast(x: ArgSpec, out: ArgSpec, toInt: boolean): KernelSource {
  const k = new KernelSource(out, [x]);
  const c = k.outCoords();
  if (toInt) {
    const v = k.read(0, c.slice(0, -1));
    const t = k.let(`kzTrunc(${v})`, 'r');
    returnLimb(k, t, c[c.length - 1]);
  } else {
    const v = readInt(k, 0, c);
    k.line(`return ${v};`);
  }
  return k;
}

/** A plain copy (same physical spec). */
export function copy(x: ArgSpec): KernelSource {
  const k = new KernelSource(x, [x]);
  const v = k.readSame(0);
  k.line(`return ${v};`);
  return k;
}
