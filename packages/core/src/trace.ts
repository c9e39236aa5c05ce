import { ENGINE, type KernelCall } from './engine.js';
import type { AnyModule } from './nn/module.js';

/** Calls and time of one kernel name in a {@link KernelTrace}. */
export interface KernelStat {
  /** The kernel's op name. */
  readonly kernel: string;
  /** How many times it ran. */
  readonly calls: number;
  /** Total milliseconds. */
  readonly ms: number;
}

/**
 * Every kernel call made while it recorded: name, input and output shapes, backend, time and
 * the module calls it ran inside — the profiler, and the proof of fusion (an eval-mode
 * Bottleneck without downsample runs three `conv2d` and no `batchNorm`). Made by
 * {@link traceKernels} or {@link startKernelTrace}. Recording costs one clock read per kernel.
 */
export class KernelTrace {
  private readonly recorded: KernelCall[] = [];
  private stopListening: (() => void) | null;

  /** @internal Starts recording; use {@link startKernelTrace}. */
  constructor() {
    this.stopListening = ENGINE.listenToKernels((c) => this.recorded.push(c));
  }

  /** The calls, in order. */
  get calls(): readonly KernelCall[] {
    return this.recorded;
  }

  /** Whether it is still recording. */
  get recording(): boolean {
    return this.stopListening !== null;
  }

  /** Stops recording (idempotent); returns `this`. */
  stop(): this {
    this.stopListening?.();
    this.stopListening = null;
    return this;
  }

  /** How many calls of `kernel` (e.g. `conv2d`) were recorded. */
  count(kernel: string): number {
    return this.recorded.reduce((n, c) => n + (c.kernel === kernel ? 1 : 0), 0);
  }

  /**
   * The most bytes any backend held just after a recorded call (outputs included): with the
   * bytes held before the traced work, the peak of what it allocated at once.
   */
  get peakBackendBytes(): number {
    return this.recorded.reduce((m, c) => Math.max(m, c.backendBytes), 0);
  }

  /** Total recorded kernel time in milliseconds. */
  get totalMs(): number {
    return this.recorded.reduce((s, c) => s + c.ms, 0);
  }

  /** Calls and time per kernel name, most time first. */
  byKernel(): KernelStat[] {
    const stats = new Map<string, { kernel: string; calls: number; ms: number }>();
    for (const c of this.recorded) {
      const s = stats.get(c.kernel) ?? { kernel: c.kernel, calls: 0, ms: 0 };
      s.calls++;
      s.ms += c.ms;
      stats.set(c.kernel, s);
    }
    return [...stats.values()].sort((a, b) => b.ms - a.ms);
  }

  /**
   * The dotted name of the innermost module a call ran in, relative to the outermost module
   * call (`''` when that module itself ran it; null outside any module call).
   */
  moduleName(call: KernelCall): string | null {
    const root = call.modules[0] as AnyModule | undefined;
    if (!root) return null;
    let names = this.names.get(root);
    if (!names) {
      names = new Map();
      for (const [n, m] of root.namedModules()) if (!names.has(m)) names.set(m, n);
      this.names.set(root, names);
    }
    const inner = call.modules[call.modules.length - 1];
    return names.get(inner as AnyModule) ?? `(${(inner as AnyModule).typeName})`;
  }

  private readonly names = new Map<AnyModule, Map<AnyModule, string>>();

  /** A table of {@link KernelTrace.byKernel}: kernel, calls, ms, share of the total. */
  toString(): string {
    const total = this.totalMs;
    const rows = this.byKernel().map((s) => [
      s.kernel,
      String(s.calls),
      s.ms.toFixed(2),
      total > 0 ? `${((100 * s.ms) / total).toFixed(1)} %` : '-',
    ]);
    const header = ['kernel', 'calls', 'ms', 'share'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) =>
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    return [
      line(header),
      ...rows.map(line),
      `total: ${this.recorded.length} calls, ${total.toFixed(2)} ms`,
    ].join('\n');
  }
}

/**
 * Starts recording every kernel call until `trace.stop()` — switchable at run time, around
 * synchronous or asynchronous work, with fusion on or off.
 */
export function startKernelTrace(): KernelTrace {
  return new KernelTrace();
}

/**
 * Runs `fn` (synchronous) while recording its kernel calls; returns its result and the trace.
 * The result's tensors are the caller's, as if `fn` had run directly.
 *
 * @example
 * ```ts
 * const [y, trace] = traceKernels(() => block.call(x));
 * trace.count('batchNorm'); // 0 in eval mode: every BatchNorm was folded
 * const table = trace.toString(); // kernel, calls, ms, share — a string, printed by no one but you
 * ```
 */
export function traceKernels<T>(fn: () => T): [T, KernelTrace] {
  const trace = new KernelTrace();
  try {
    return [fn(), trace];
  } finally {
    trace.stop();
  }
}
