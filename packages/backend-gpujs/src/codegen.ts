/**
 * Generates gpu.js kernel source. Every kernel is written for one set of shapes, with sizes
 * and strides inlined as literals, in the JavaScript subset gpu.js translates (plain `let`,
 * `for` with literal bounds, `if`, `Math.*`, the helper functions of `helpers.ts`).
 *
 * Index arithmetic is exact: a coordinate is found from the output thread `(x, y)` without
 * forming a flat index above 2²⁴ where the innermost length divides the row width, and input
 * reads are turned into `(row, column)` pairs the same way.
 *
 * @module
 */
import { BackendError, stridesOf } from '@kernelzoo/core';
import type { Layout } from './layout.js';

/** One kernel argument: its physical shape and layout. */
export interface ArgSpec {
  /** Physical shape (int32 tensors carry a trailing 2). */
  readonly shape: readonly number[];
  /** How it lies in its texture. */
  readonly layout: Layout;
}

/**
 * A movable read position in one argument: variables holding its flat index (one-row layout)
 * or its row and column.
 */
export interface Cursor {
  /** The argument read (`a<arg>`). */
  readonly arg: number;
  /** The variable with the flat index (one-row layout) or the column. */
  readonly index: string;
  /** The variable with the row, or `null` on the one-row layout. */
  readonly row: string | null;
  /** The layout's row width. */
  readonly width: number;
}

/** A number as a float literal of the kernel language. */
export function lit(v: number): string {
  if (Number.isNaN(v)) return 'kzNaN()';
  if (v === Number.POSITIVE_INFINITY) return 'kzInf()';
  if (v === Number.NEGATIVE_INFINITY) return '(0.0 - kzInf())';
  if (Object.is(v, -0)) return '(0.0 - 0.0)';
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return `${v}.0`;
  const s = Math.fround(v).toPrecision(9);
  return s.includes('e') || s.includes('.') ? s : `${s}.0`;
}

/** Flat indices are exact floats only below 2²⁴; a layout that needs them beyond is refused. */
function flatLimit(layout: Layout): void {
  if (layout.size > FLAT_LIMIT)
    throw new BackendError(
      `gpujs: a tensor of ${layout.size} values whose innermost dimension does not divide its texture rows (${layout.width} wide) needs flat indices past 2^24, which float kernels cannot address exactly`,
    );
}

const FLAT_LIMIT = 2 ** 24;

/** Builds the body of one kernel. */
export class KernelSource {
  private readonly lines: string[] = [];
  private n = 0;
  private indent = 1;

  /**
   * @param out - the output's physical shape and layout.
   * @param args - the inputs, in argument order (named `a0`, `a1`, …).
   */
  constructor(
    readonly out: ArgSpec,
    readonly args: readonly ArgSpec[],
  ) {}

  /** Adds a statement. */
  line(s: string): void {
    this.lines.push(`${'  '.repeat(this.indent)}${s}`);
  }

  /** Opens a block (`for (…) {`, `if (…) {`). */
  open(s: string): void {
    this.line(`${s} {`);
    this.indent++;
  }

  /** Closes a block. */
  close(): void {
    this.indent--;
    this.line('}');
  }

  /** Declares a float variable holding `expr` and returns its name. */
  let(expr: string, prefix = 't'): string {
    const name = `${prefix}${this.n++}`;
    this.line(`let ${name} = ${expr};`);
    return name;
  }

  /**
   * Declares the output coordinates (one float variable per physical dimension) for this
   * thread and returns their names. Threads past the end of the tensor return 0.
   */
  outCoords(): string[] {
    const { shape, layout } = this.out;
    const k = shape.length;
    const tx = this.let('kzF(this.thread.x)', 'tx');
    const coords = new Array<string>(k);
    const last = shape[k - 1];
    let q: string;
    if (layout.rows === 1) {
      if (k === 1) return [tx];
      q = this.let(`kzDiv(${tx}, ${lit(last)})`, 'q');
      coords[k - 1] = this.let(`${tx} - ${q} * ${lit(last)}`, 'c');
    } else {
      const ty = this.let('kzF(this.thread.y)', 'ty');
      const tail = layout.size - (layout.rows - 1) * layout.width;
      if (tail < layout.width)
        this.line(`if (${ty} > ${lit(layout.rows - 1.5)} && ${tx} > ${lit(tail - 0.5)}) { return 0.0; }`);
      if (layout.width % last === 0) {
        const per = layout.width / last;
        const qx = this.let(`kzDiv(${tx}, ${lit(last)})`, 'q');
        coords[k - 1] = this.let(`${tx} - ${qx} * ${lit(last)}`, 'c');
        q = this.let(`${ty} * ${lit(per)} + ${qx}`, 'q');
      } else {
        flatLimit(layout);
        const i = this.let(`${ty} * ${lit(layout.width)} + ${tx}`, 'i');
        q = this.let(`kzDiv(${i}, ${lit(last)})`, 'q');
        coords[k - 1] = this.let(`${i} - ${q} * ${lit(last)}`, 'c');
      }
    }
    for (let d = k - 2; d >= 1; d--) {
      const next = this.let(`kzDiv(${q}, ${lit(shape[d])})`, 'q');
      coords[d] = this.let(`${q} - ${next} * ${lit(shape[d])}`, 'c');
      q = next;
    }
    if (k >= 2) coords[0] = q;
    return coords;
  }

  /**
   * Reads argument `i` at physical coordinates `coords` (float expressions, one per
   * dimension); returns a variable holding the value.
   */
  read(i: number, coords: readonly string[]): string {
    return this.let(this.at(this.locate(i, coords)), 'v');
  }

  /**
   * Declares a {@link Cursor} on argument `i` at physical coordinates `coords`: the flat index
   * (one-row layout) or the `(row, column)` pair of that element, found with at most one
   * division. Advance it with {@link advance} and read through it with {@link at}, so a loop
   * over a strided axis needs no division per step.
   */
  locate(i: number, coords: readonly string[]): Cursor {
    const { shape, layout } = this.args[i];
    const k = shape.length;
    const strides = stridesOf(shape);
    const last = shape[k - 1];
    const outer: string[] = [];
    for (let d = 0; d < k - 1; d++) {
      if (shape[d] === 1) continue;
      const s = strides[d] / last;
      outer.push(s === 1 ? `(${coords[d]})` : `(${coords[d]}) * ${lit(s)}`);
    }
    const w = `(${coords[k - 1]})`;
    const q = outer.length === 0 ? null : outer.join(' + ');
    if (layout.rows === 1) {
      const idx = this.let(q === null ? w : `(${q}) * ${lit(last)} + ${w}`, 'j');
      return { arg: i, index: idx, row: null, width: layout.width };
    }
    if (layout.width % last === 0 && q !== null) {
      const per = layout.width / last;
      const qv = this.let(q, 'r');
      const row = this.let(`kzDiv(${qv}, ${lit(per)})`, 'r');
      const col = this.let(`(${qv} - ${row} * ${lit(per)}) * ${lit(last)} + ${w}`, 'j');
      return { arg: i, index: col, row, width: layout.width };
    }
    flatLimit(layout);
    const j = this.let(q === null ? w : `(${q}) * ${lit(last)} + ${w}`, 'j');
    const row = this.let(`kzDiv(${j}, ${lit(layout.width)})`, 'r');
    const col = this.let(`${j} - ${row} * ${lit(layout.width)}`, 'j');
    return { arg: i, index: col, row, width: layout.width };
  }

  /** A new cursor at the same place as `c` (its own variables, so both can move). */
  fork(c: Cursor): Cursor {
    return {
      arg: c.arg,
      index: this.let(c.index, 'j'),
      row: c.row === null ? null : this.let(c.row, 'r'),
      width: c.width,
    };
  }

  /**
   * Moves a cursor by `step` elements (any integer): on the row layout, the column moves by
   * `step mod width` with one carry into the row, so no division happens here.
   */
  advance(c: Cursor, step: number): void {
    if (step === 0) return;
    if (c.row === null) {
      this.line(`${c.index} += ${lit(step)};`);
      return;
    }
    const dr = Math.floor(step / c.width);
    const dc = step - dr * c.width;
    if (dc !== 0) this.line(`${c.index} += ${lit(dc)};`);
    if (dr !== 0) this.line(`${c.row} += ${lit(dr)};`);
    if (dc !== 0)
      this.line(
        `if (${c.index} > ${lit(c.width - 0.5)}) { ${c.index} -= ${lit(c.width)}; ${c.row} += 1.0; }`,
      );
  }

  /** The expression reading the element under a cursor. */
  at(c: Cursor): string {
    return c.row === null ? `a${c.arg}[${c.index}]` : `a${c.arg}[${c.row}][${c.index}]`;
  }

  /**
   * Reads argument `i` at the thread's own position (for an input with the output's layout
   * and element order).
   */
  readSame(i: number): string {
    return this.let(
      this.args[i].layout.rows === 1 ? `a${i}[this.thread.x]` : `a${i}[this.thread.y][this.thread.x]`,
      'v',
    );
  }

  /** The complete kernel function source. */
  source(): string {
    const params = this.args.map((_, i) => `a${i}`).join(', ');
    return `function(${params}) {\n${this.lines.join('\n')}\n}`;
  }
}

/** Row-major strides of a shape. */
export { stridesOf };
