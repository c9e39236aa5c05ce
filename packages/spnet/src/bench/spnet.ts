/**
 * `pnpm bench` for `@kernelzoo/spnet`: whole-network forwards of `spnet50_ade20k` (eval mode,
 * fusion on, seeded weights and BatchNorm statistics: 150 classes, no aux head) at 512×512 on backend-js and
 * backend-wasm. Prints a Markdown table of the median (and fastest) milliseconds per forward and
 * the multiply-adds per second, then the largest difference between the backends' logits.
 *
 * Usage: node dist/bench/spnet.js [--runs=N] (timed runs per backend, default 3, after one
 *   warm-up) [--size=S] (the input S×S, default 512) [--js-size=S] (js's input when js at the
 *   full size takes too long; the difference is then not computed) [--backends=js,wasm]
 *   [--threads=N] (wasm threads). Other arguments (those `pnpm bench` passes to every package)
 *   are ignored.
 *
 * @module
 */
import { availableParallelism, cpus } from 'node:os';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { registerWasmBackend } from '@kernelzoo/backend-wasm';
import { randomizeBatchNorms } from '@kernelzoo/conformance';
import { getBackend, memory, nn, randomNormal, setBackend, summary } from '@kernelzoo/core';
import { spnet50 } from '../index.js';

function arg(name: string): string | undefined {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a?.slice(name.length + 3);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Result {
  readonly backend: string;
  /** The backend's build and threads where it states them (wasm). */
  readonly config: string;
  readonly size: number;
  readonly times: number[];
  readonly macs: number;
  readonly output: Float32Array;
}

async function run(backend: string, size: number, runs: number): Promise<Result> {
  await setBackend(backend);
  const be = getBackend() as unknown as { variant?: string; getThreads?: () => number };
  const config = be.variant === undefined ? '' : ` (${be.variant}, ${be.getThreads?.() ?? 1} thread(s))`;
  const before = memory().numTensors;
  nn.manualSeed(1);
  const net = spnet50(150);
  // Seeded BatchNorm statistics too: with the constructor's (mean 0, variance 1) the features
  // fade through the backbone and the logits are little more than the classifier's bias, which
  // would make the backends' difference meaningless.
  randomizeBatchNorms(net, 2);
  net.eval();
  const macs = summary(net, [1, 3, size, size]).totalMultiplyAdds;
  const x = randomNormal([1, 3, size, size], 0, 1, { seed: 2 });
  const times: number[] = [];
  let output = new Float32Array(0);
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    const y = net.call(x);
    const data = (await y.data()) as Float32Array;
    const t = performance.now() - t0;
    if (i > 0) times.push(t);
    if (i === runs) output = Float32Array.from(data);
    y.dispose();
    process.stderr.write(
      `${backend} ${size}×${size}: ${i === 0 ? 'warm-up' : `run ${i}`} ${t.toFixed(0)} ms\n`,
    );
  }
  x.dispose();
  net.dispose();
  if (memory().numTensors !== before)
    throw new Error(`${backend}: ${memory().numTensors - before} tensors leaked`);
  return { backend, config, size, times, macs, output };
}

async function main(): Promise<void> {
  const runs = Number(arg('runs') ?? 3);
  const size = Number(arg('size') ?? 512);
  const jsSize = Number(arg('js-size') ?? size);
  const backends = (arg('backends') ?? 'js,wasm').split(',');
  const threads = arg('threads') === undefined ? undefined : Number(arg('threads'));
  registerJsBackend();
  registerWasmBackend(threads === undefined ? {} : { threads });
  const results: Result[] = [];
  for (const b of backends) results.push(await run(b, b === 'js' ? jsSize : size, runs));

  const lines = [
    `spnet50_ade20k (seeded weights and BatchNorm statistics, eval, 150 classes), ${runs} timed runs after one warm-up; ${cpus()[0]?.model ?? 'CPU'}, ${availableParallelism()} cores available`,
    '',
    '| Backend | Input | Median ms | Fastest ms | G multiply-adds | GMAC/s |',
    '| ------- | ----- | --------: | ---------: | --------------: | -----: |',
  ];
  for (const r of results) {
    const m = median(r.times);
    lines.push(
      `| ${r.backend}${r.config} | 1×3×${r.size}×${r.size} | ${m.toFixed(0)} | ${Math.min(...r.times).toFixed(0)} | ${(r.macs / 1e9).toFixed(2)} | ${(r.macs / 1e6 / m).toFixed(2)} |`,
    );
  }
  const [a, b] = results;
  if (a && b && a.size === b.size) {
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < a.output.length; i++) {
      const d = Math.abs(a.output[i] - b.output[i]);
      diff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(diff, d);
      scale = Math.max(scale, Math.abs(a.output[i]));
    }
    lines.push(
      '',
      `max |${a.backend} − ${b.backend}| over the logits: ${diff.toExponential(2)} (max |logit| ${scale.toFixed(3)}, relative ${(diff / scale).toExponential(2)})`,
    );
  } else if (a && b) lines.push('', 'inputs differ: no difference between the backends computed');
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
