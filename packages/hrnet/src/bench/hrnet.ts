/**
 * `pnpm bench` for `@kernelzoo/hrnet`: whole-network forwards (eval mode, fusion on, seeded
 * weights) on backend-js and backend-wasm — pose W32 at 256×192 (the registered input), cls W18
 * at 224×224 and seg W48 at a reduced 256×512 (the registered 1024×2048 takes minutes on the
 * CPU backends). Prints a Markdown table of the median milliseconds per forward and the
 * multiply-adds per second.
 *
 * Usage: node dist/bench/hrnet.js [--runs=N] (timed runs per cell, default 3, after one warm-up)
 *   [--only=substring] (rows whose name contains it) [--backends=js,wasm] (add gpujs for gpu.js's
 *   Node fallback) [--threads=N] (wasm threads)
 *
 * @module
 */
import { availableParallelism, cpus } from 'node:os';
import { registerGpujsBackend } from '@kernelzoo/backend-gpujs';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { registerWasmBackend } from '@kernelzoo/backend-wasm';
import { getBackendName, memory, nn, randomNormal, setBackend, summary } from '@kernelzoo/core';
import { hrnet_w18_cls, hrnet_w32_pose, hrnet_w48_seg } from '../index.js';

interface Row {
  readonly name: string;
  readonly build: () => nn.AnyModule;
  readonly input: [number, number, number, number];
}

const ROWS: readonly Row[] = [
  { name: 'pose W32 256×192', build: () => hrnet_w32_pose(), input: [1, 3, 256, 192] },
  { name: 'cls W18 224×224', build: () => hrnet_w18_cls(), input: [1, 3, 224, 224] },
  { name: 'seg W48 256×512', build: () => hrnet_w48_seg(), input: [1, 3, 256, 512] },
];

function arg(name: string): string | undefined {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a?.slice(name.length + 3);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const runs = Number(arg('runs') ?? 3);
  const only = arg('only');
  const backends = (arg('backends') ?? 'js,wasm').split(',');
  const threads = arg('threads') === undefined ? undefined : Number(arg('threads'));
  registerJsBackend();
  registerWasmBackend(threads === undefined ? {} : { threads });
  if (backends.includes('gpujs')) registerGpujsBackend();
  const rows = ROWS.filter((r) => !only || r.name.includes(only));
  const results = new Map<string, Map<string, number>>();
  for (const backend of backends) {
    await setBackend(backend);
    for (const row of rows) {
      nn.manualSeed(1);
      const net = row.build().eval();
      const x = randomNormal(row.input, 0, 1, { seed: 1 });
      const times: number[] = [];
      for (let i = 0; i <= runs; i++) {
        const t0 = performance.now();
        const y = net.call(x);
        await y.data();
        const ms = performance.now() - t0;
        y.dispose();
        if (i > 0) times.push(ms); // the first run prepares the folded weights
      }
      x.dispose();
      net.dispose();
      const m = median(times);
      if (!results.has(row.name)) results.set(row.name, new Map());
      results.get(row.name)!.set(getBackendName(), m);
      process.stderr.write(
        `${row.name} on ${backend}: ${m.toFixed(0)} ms (tensors live: ${memory().numTensors})\n`,
      );
    }
  }
  const macs = new Map(
    rows.map((r) => [r.name, summary(nn.withoutInit(r.build), r.input).totalMultiplyAdds]),
  );
  const header = [
    'network',
    'multiply-adds',
    ...backends.map((b) => `${b} ms`),
    ...backends.map((b) => `${b} GMAC/s`),
  ];
  const lines = [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
  ];
  for (const row of rows) {
    const r = results.get(row.name)!;
    const g = macs.get(row.name)!;
    lines.push(
      `| ${row.name} | ${(g / 1e9).toFixed(2)} G | ${backends.map((b) => r.get(b)!.toFixed(0)).join(' | ')} | ${backends
        .map((b) => (g / 1e6 / r.get(b)!).toFixed(1))
        .join(' | ')} |`,
    );
  }
  console.log(
    `median of ${runs} runs after one warm-up, batch 1, eval (fused), seeded weights; ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} logical CPUs, Node ${process.version}${threads === undefined ? '' : `, wasm threads ${threads}`}`,
  );
  console.log(lines.join('\n'));
}

await main();
