/**
 * `kernelzoo seed`: the seed example — one SKConv in eval mode on a seeded random input, timed
 * on every installed backend (the README's main command runs it).
 *
 * @module
 */
import { getBackend, memory, nn, randomNormal, setBackend } from '@kernelzoo/core';
import { SKConv } from '@kernelzoo/sknet';
import { discoverBackends, gpuUnavailable } from '../backends.js';
import { createProgress } from '../progress.js';
import { SEED } from '../seed-example.js';
import { formatTable, type Io, median, toJson, UsageError } from '../util.js';

/** One backend's result of the seed example. */
export interface SeedResult {
  backend: string;
  outputShape: readonly number[];
  timesMs: number[];
  meanAbs: number;
}

/** Runs the seed example on the active backend; `onRun` hears each finished run. */
export async function runSeed(
  backend: string,
  batch: number,
  warmup: number,
  runs: number,
  onRun: (done: number) => void = () => undefined,
): Promise<SeedResult> {
  nn.manualSeed(0);
  const sk = new SKConv({ features: SEED.features, M: SEED.M, G: SEED.G, r: SEED.r }).eval();
  const x = randomNormal([batch, SEED.features, SEED.size, SEED.size], 0, 1, { seed: 42 });
  const timesMs: number[] = [];
  let outputShape: readonly number[] = [];
  let meanAbs = 0;
  try {
    for (let i = 0; i < warmup + runs; i++) {
      const t0 = performance.now();
      const y = sk.call(x);
      const values = await y.data(); // waits for lazy backends too
      const ms = performance.now() - t0;
      outputShape = y.shape;
      y.dispose();
      let s = 0;
      for (let j = 0; j < values.length; j++) s += Math.abs(values[j]);
      meanAbs = s / values.length;
      if (i >= warmup) timesMs.push(ms);
      onRun(i + 1);
    }
  } finally {
    x.dispose();
    sk.dispose();
  }
  return { backend, outputShape, timesMs, meanAbs };
}

/** `kernelzoo seed`. */
export async function seedCommand(
  opts: { batch: number; runs?: number; warmup?: number; backend?: string; json?: boolean },
  io: Io,
): Promise<number> {
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
  const shape = [opts.batch, SEED.features, SEED.size, SEED.size];
  const progress = createProgress(io, !opts.json);
  const rows: string[][] = [];
  const results: Record<string, unknown>[] = [];
  for (const b of backends) {
    const warmup = opts.warmup ?? b.warmup;
    const runs = opts.runs ?? b.runs;
    try {
      await setBackend(b.name);
      const skip = opts.backend ? null : gpuUnavailable(getBackend());
      if (skip) {
        rows.push([b.name, 'skipped', '-', '-', '-', '-']);
        results.push({ backend: b.name, skipped: skip });
        continue;
      }
      progress.start(warmup + runs, `seed on ${b.name}`);
      const r = await runSeed(b.name, opts.batch, warmup, runs, (n) => progress.update(n));
      progress.stop();
      const med = median(r.timesMs);
      rows.push([
        r.backend,
        `[${r.outputShape.join(', ')}]`,
        String(warmup),
        String(runs),
        med.toFixed(1),
        r.meanAbs.toPrecision(6),
      ]);
      results.push({
        backend: b.name,
        outputShape: r.outputShape,
        warmup,
        runs,
        times_ms: r.timesMs,
        median_ms: med,
        meanAbs: r.meanAbs,
      });
    } catch (e) {
      progress.stop();
      rows.push([b.name, 'failed', String(warmup), String(runs), '-', '-']);
      results.push({ backend: b.name, error: (e as Error).message });
    }
  }
  const failed = results.filter((r) => 'error' in r);
  if (opts.json) io.out(toJson({ example: { ...SEED, input: shape }, results }));
  else {
    io.out(
      `seed: SKConv(features ${SEED.features}, M ${SEED.M}, G ${SEED.G}, r ${SEED.r}) on [${shape.join(', ')}]\n`,
    );
    io.out(`${formatTable(['backend', 'output shape', 'warm-up', 'runs', 'median ms', 'mean |V|'], rows)}\n`);
    for (const r of results) {
      if ('skipped' in r) io.out(`${r.backend}: skipped — ${r.skipped}\n`);
      if ('error' in r) io.out(`${r.backend}: failed — ${r.error}\n`);
    }
  }
  const leaked = memory().numTensors;
  if (leaked !== 0) io.err(`note: ${leaked} tensors still live\n`);
  return failed.length ? 1 : 0;
}
