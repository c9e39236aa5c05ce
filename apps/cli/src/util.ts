/**
 * What every command shares: the two kinds of failure (bad usage → exit 2, failed work →
 * exit 1), option parsers that name the bad value and what would work, tables, statistics and
 * the output channels.
 *
 * @module
 */
import { InvalidArgumentError } from 'commander';

/** The command line itself is wrong (unknown model or backend, bad value): exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The command ran and failed (unreadable file, weights that do not fit, …): exit code 1. */
export class CliError extends Error {
  override name = 'CliError';
}

/** Where a command writes, and how it was asked to behave. */
export interface Io {
  /** Writes to stdout. */
  out(s: string): void;
  /** Writes to stderr. */
  err(s: string): void;
  /** Whether stderr is a terminal (progress is shown only then). */
  readonly interactive: boolean;
}

/** The process's own stdout and stderr. */
export function processIo(): Io {
  return {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    interactive: process.stderr.isTTY === true && process.env.KERNELZOO_NO_PROGRESS === undefined,
  };
}

/** A commander option parser: an integer ≥ `min`. */
export function intOption(min = 1) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`expected an integer ≥ ${min}, e.g. ${Math.max(min, 3)}`);
    return n;
  };
}

/** A commander option parser: a positive number. */
export function numberOption(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('expected a positive number, e.g. 0.75');
  return n;
}

/** A commander option parser: any finite number (a score threshold may be negative). */
export function scoreOption(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number, e.g. 0.3');
  return n;
}

/** A commander option parser: a comma-separated list of names, accumulated over repeats. */
export function listOption(v: string, previous: string[] | undefined): string[] {
  const items = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw new InvalidArgumentError('expected a comma-separated list, e.g. js,wasm');
  return [...(previous ?? []), ...items];
}

/** A commander option parser: comma-separated integers ≥ 1, accumulated over repeats. */
export function intListOption(v: string, previous: number[] | undefined): number[] {
  const parse = intOption(1);
  return [...(previous ?? []), ...v.split(',').map((s) => parse(s))];
}

/** Parses `N,C,H,W` (also `NxCxHxW`): four integers ≥ 1. */
export function shapeOption(v: string): [number, number, number, number] {
  const parts = v.split(/[,x×]/).map((s) => Number(s.trim()));
  if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 1))
    throw new InvalidArgumentError('expected N,C,H,W: four integers ≥ 1, e.g. 1,3,224,224');
  return parts as [number, number, number, number];
}

/** Parses `S` (square) or `H,W` (also `HxW`) into `[H, W]`, integers ≥ 1. */
export function sizeOption(v: string): [number, number] {
  const parts = v.split(/[,x×]/).map((s) => Number(s.trim()));
  if ((parts.length !== 1 && parts.length !== 2) || parts.some((n) => !Number.isInteger(n) || n < 1))
    throw new InvalidArgumentError('expected S or H,W: integers ≥ 1, e.g. 64 or 256,192');
  return parts.length === 1 ? [parts[0], parts[0]] : [parts[0], parts[1]];
}

/** Parses a person box `x,y,w,h` (pixels; w, h > 0), accumulated over repeats. */
export function boxOption(
  v: string,
  previous: [number, number, number, number][] | undefined,
): [number, number, number, number][] {
  const parts = v.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 4 || parts.some((n) => !Number.isFinite(n)) || parts[2] <= 0 || parts[3] <= 0)
    throw new InvalidArgumentError('expected x,y,w,h in pixels with w and h > 0, e.g. 10,20,100,200');
  return [...(previous ?? []), parts as [number, number, number, number]];
}

/**
 * Formats rows as an aligned text table. `align` gives each column's alignment (`l` or `r`);
 * by default the first column is left-aligned and the rest right-aligned.
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align?: string,
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const left = (i: number) => (align ? align[i] === 'l' : i === 0);
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (left(i) ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The median absolute deviation from the median. */
export function mad(xs: readonly number[]): number {
  const m = median(xs);
  return median(xs.map((x) => Math.abs(x - m)));
}

/** `1234567` → `1,234,567`. */
export function thousands(n: number): string {
  return n.toLocaleString('en-US');
}

/** `[1, 3, 224, 224]` → `[1, 3, 224, 224]` as text. */
export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** JSON with non-finite numbers as strings (JSON has no NaN or Infinity). */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`;
}

/** `a, b, c and 12 more` — at most `n` names of a list. */
export function someOf(names: readonly string[], n = 3): string {
  if (names.length <= n) return names.join(', ');
  return `${names.slice(0, n).join(', ')} and ${names.length - n} more`;
}
