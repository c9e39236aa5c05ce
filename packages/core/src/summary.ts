import { ENGINE, traceShapes } from './engine.js';
import { ArgumentError } from './errors.js';
import type { AnyModule } from './nn/module.js';
import { zeros } from './ops/creation.js';
import { checkRank } from './ops/validate.js';
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
 * tensors, so no kernel runs and no activation memory is allocated.
 */
export function summary(module: AnyModule, inputShape: Shape): ModelSummary {
  const probe = ENGINE.tidy(() =>
    traceShapes(
      () => zeros(inputShape),
      () => undefined,
    ),
  );
  checkRank('summary', 'inputShape', probe, probe.rank);
  if (!Array.isArray(inputShape) || inputShape.some((d) => !Number.isInteger(d) || d < 1))
    throw new ArgumentError('summary', 'inputShape', 'an array of integers ≥ 1', String(inputShape));
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
  const stack: (typeof rows)[number][] = [];
  const originals = new Map<AnyModule, AnyModule['forward']>();
  for (const m of names.keys()) {
    const orig = m.forward;
    originals.set(m, orig);
    // Instance-level wrapper, removed again below.
    m.forward = (...args: unknown[]) => {
      const name = names.get(m)!;
      const row = {
        name,
        type: m.typeName,
        depth: stack.length,
        outputShapes: [] as Shape[],
        parameters: m.numParameters(),
        multiplyAdds: 0,
      };
      rows.push(row);
      stack.push(row);
      try {
        const out = orig.apply(m, args);
        row.outputShapes = shapesOf(out);
        return out;
      } finally {
        stack.pop();
      }
    };
  }
  try {
    ENGINE.tidy(() => {
      traceShapes(
        () => module.forward(zeros(inputShape)),
        (_op, _shape, macs) => {
          for (const r of stack) r.multiplyAdds += macs;
        },
      );
    });
  } finally {
    for (const [m] of originals) delete (m as { forward?: unknown }).forward;
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
    `total multiply-adds: ${macs.toLocaleString('en-US')} (${(macs / 1e9).toFixed(3)} G)`,
  ].join('\n');
}
