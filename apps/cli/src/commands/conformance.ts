/**
 * `kernelzoo conformance`: `@kernelzoo/conformance`'s plain runner on the installed backends,
 * printing the kernel × backend table.
 *
 * @module
 */
import {
  type ConformanceProgress,
  type ConformanceReport,
  formatConformanceReport,
  GAPS_GROUP,
  runConformance,
} from '@kernelzoo/conformance';
import { getBackend, setBackend } from '@kernelzoo/core';
import { discoverBackends, type FoundBackend, gpuUnavailable } from '../backends.js';
import { createProgress } from '../progress.js';
import { CliError, type Io, toJson, UsageError } from '../util.js';

/** One backend's outcome of the `conformance` command. */
export interface ConformanceOutcome {
  /** The backend's registered name. */
  backend: string;
  /** Its report, when the suite ran. */
  report?: ConformanceReport;
  /** Why it was not run (gpu.js without a GPU). */
  skipped?: string;
  /** Why the suite could not start on it (its setup failed). */
  error?: string;
}

/**
 * The `conformance` command on `backends`: runs the suite on each (gpu.js in CPU emulation
 * skipped unless `named`), prints the kernel × backend table (or JSON) to `io.out`; returns 1
 * if any case failed or a backend could not start, else 0.
 */
export async function conformance(
  cmd: { named?: boolean; filter?: string; json?: boolean },
  backends: readonly FoundBackend[],
  io: Io,
): Promise<number> {
  const outcomes: ConformanceOutcome[] = [];
  const progress = createProgress(io, !cmd.json);
  for (const b of backends) {
    try {
      await setBackend(b.name);
      const skip = cmd.named ? null : gpuUnavailable(getBackend(), 'conformance');
      if (skip) {
        outcomes.push({ backend: b.name, skipped: skip });
        continue;
      }
    } catch (e) {
      outcomes.push({ backend: b.name, error: (e as Error).message });
      continue;
    }
    let groups = 0;
    progress.start(1, `conformance on ${b.name}`);
    const onProgress = (e: ConformanceProgress) => {
      if (e.kind === 'group') progress.update(Math.min(++groups, 1), `conformance on ${b.name}: ${e.group}`);
    };
    try {
      // discoverBackends registered it; the suite's setup has nothing left to do
      const report = await runConformance(
        { name: b.name, setup: async () => undefined },
        { filter: cmd.filter, onProgress },
      );
      outcomes.push({ backend: b.name, report });
    } catch (e) {
      outcomes.push({ backend: b.name, error: (e as Error).message });
    } finally {
      progress.stop();
    }
  }
  const reports = outcomes.flatMap((o) => (o.report ? [o.report] : []));
  const ok = outcomes.every((o) => o.error === undefined && (o.report?.ok ?? true));
  if (cmd.json) io.out(toJson({ ok, backends: outcomes }));
  else {
    if (reports.length > 0) io.out(`${formatConformanceReport(reports)}\n`);
    for (const o of outcomes)
      if (!o.report)
        io.out(`${o.backend}: ${o.skipped ? `skipped — ${o.skipped}` : `failed — ${o.error}`}\n`);
  }
  if (cmd.filter && reports.length > 0 && reports.every((r) => r.cases.every((c) => c.group === GAPS_GROUP)))
    throw new UsageError(`no case matches --filter '${cmd.filter}'`);
  if (!ok)
    throw new CliError(
      outcomes.some((o) => o.error)
        ? `the suite could not run on ${outcomes
            .filter((o) => o.error)
            .map((o) => o.backend)
            .join(', ')}`
        : 'conformance cases failed (listed above)',
    );
  return 0;
}

/** `kernelzoo conformance`. */
export async function conformanceCommand(
  opts: { backend?: string; filter?: string; json?: boolean },
  io: Io,
): Promise<number> {
  if (opts.filter === '') throw new UsageError('--filter needs a non-empty text');
  let backends = await discoverBackends();
  if (opts.backend) {
    if (!backends.some((b) => b.name === opts.backend))
      throw new UsageError(
        `unknown backend '${opts.backend}' (installed here: ${backends.map((b) => b.name).join(', ')})`,
      );
    backends = backends.filter((b) => b.name === opts.backend);
  }
  if (backends.length === 0)
    throw new UsageError('no backend package is installed (e.g. @kernelzoo/backend-js)');
  return conformance(
    { named: opts.backend !== undefined, filter: opts.filter, json: opts.json },
    backends,
    io,
  );
}
