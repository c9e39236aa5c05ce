import { ENGINE, traceShapes } from './engine.js';
import { ArgumentError } from './errors.js';
import type { AnyModule } from './nn/module.js';
import { zeros } from './ops/creation.js';
import { describe as describeValue } from './ops/validate.js';
import { Tensor } from './tensor.js';
import type { Shape } from './types.js';

/** One module call in a {@link ModelSummary}. */
export interface SummaryRow {
  /** Dotted path of the module (`''` for the root). */
  readonly name: string;
  /** The module's class name. */
  readonly type: string;
  /** Nesting depth (0 for the root). */
  readonly depth: number;
  /** Output shape(s). */
  readonly outputShapes: readonly Shape[];
  /** Parameter values held by the module and its descendants. */
  readonly parameters: number;
  /** Multiply-adds of the convolutions and matrix products run inside this call. */
  readonly multiplyAdds: number;
}

/** What {@link summary} returns: a row per module call plus totals, and a printable table. */
export interface ModelSummary {
  /** The input shape traced. */
  readonly inputShape: Shape;
  /** One row per module call, in call order (parents before children). */
  readonly rows: readonly SummaryRow[];
  /** Parameter values of the whole module. */
  readonly totalParameters: number;
  /** Multiply-adds of one forward pass. */
  readonly totalMultiplyAdds: number;
  /** The table as text (rows indented by depth, then totals). */
  toString(): string;
}

function shapesOf(out: unknown, into: Shape[] = []): Shape[] {
  if (out instanceof Tensor) into.push(out.shape);
  else if (Array.isArray(out)) for (const o of out) shapesOf(o, into);
  else if (out instanceof Map) for (const o of out.values()) shapesOf(o, into);
  else if (out !== null && typeof out === 'object') for (const o of Object.values(out)) shapesOf(o, into);
  return into;
}

/**
 * Per-layer output shapes, parameters and multiply-adds of `module` for an input of
 * `inputShape`, computed from shapes alone: the forward pass is traced with shape-only
 * tensors, so no kernel runs and no activation memory is allocated. Each row is one
 * `Module.call()` (a module called twice, as a shared activation, gives two rows); the
 * convolutions appear unfused, BatchNorm by BatchNorm, in eval mode too.
 */
export function summary(module: AnyModule, inputShape: Shape): ModelSummary {
  if (
    !Array.isArray(inputShape) ||
    inputShape.length === 0 ||
    inputShape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 1)
  )
    throw new ArgumentError(
      'summary',
      'inputShape',
      'a non-empty array of integers ≥ 1 (e.g. [1, 3, 224, 224])',
      describeValue(inputShape),
    );
  const names = new Map<AnyModule, string>();
  for (const [n, m] of module.namedModules()) if (!names.has(m)) names.set(m, n);
  const rows: {
    name: string;
    type: string;
    depth: number;
    outputShapes: Shape[];
    parameters: number;
    multiplyAdds: number;
  }[] = [];
  const open: (typeof rows)[number][] = [];
  const stop = ENGINE.listenToCalls({
    enter: (m) => {
      const mod = m as AnyModule;
      const row = {
        name: names.get(mod) ?? `(${mod.typeName}, not a registered child)`,
        type: mod.typeName,
        depth: open.length,
        outputShapes: [] as Shape[],
        parameters: mod.numParameters(),
        multiplyAdds: 0,
      };
      rows.push(row);
      open.push(row);
    },
    exit: (_m, out) => {
      const row = open.pop();
      if (row) row.outputShapes = shapesOf(out);
    },
  });
  try {
    ENGINE.tidy(() => {
      traceShapes(
        () => {
          module.call(zeros(inputShape));
        },
        (_op, _shape, macs) => {
          for (const r of open) r.multiplyAdds += macs;
        },
      );
    });
  } finally {
    stop();
  }
  const totalParameters = module.numParameters();
  const totalMultiplyAdds = rows.length > 0 ? rows[0].multiplyAdds : 0;
  return {
    inputShape: [...inputShape],
    rows,
    totalParameters,
    totalMultiplyAdds,
    toString: () => formatSummary(rows, totalParameters, totalMultiplyAdds),
  };
}

function formatSummary(rows: readonly SummaryRow[], params: number, macs: number): string {
  const header = ['layer', 'output shape', 'params', 'mult-adds'];
  const body = rows.map((r) => [
    `${'  '.repeat(r.depth)}${r.name || '(root)'} (${r.type})`,
    r.outputShapes.map((s) => `[${s.join(', ')}]`).join(' '),
    r.parameters.toLocaleString('en-US'),
    r.multiplyAdds.toLocaleString('en-US'),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const rule = '-'.repeat(widths.reduce((s, w) => s + w + 2, -2));
  return [
    line(header),
    rule,
    ...body.map(line),
    rule,
    `total parameters: ${params.toLocaleString('en-US')}`,
    `total multiply-adds: ${macs.toLocaleString('en-US')} (${(macs / 1e9).toFixed(3)} G = ÷ 10⁹; ${(macs / 2 ** 30).toFixed(2)} G = ÷ 2³⁰, the convention of HRNet's published GFLOPs)`,
  ].join('\n');
}
