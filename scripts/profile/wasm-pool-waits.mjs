// How long the calling thread waits for the pool's workers during a network's forward on
// backend-wasm: for each pool job, the time the caller spent in it beyond running its own
// shares. Per forward (6 after two warm-ups): the forward's time, the waits' sum, and the jobs
// whose wait passed 0.1 ms with the kernel, the gap since the previous job and the caller's own
// share time. The pool-wait observations of docs/benchmarks.md ("Seventh round") come from it:
//   node scripts/profile/wasm-pool-waits.mjs <hrnet|sknet|spnet|skresnet18> [threads]
// Run after `pnpm build`. (It wraps ThreadPool.run, so it runs against any build's dist.)

import { registerWasmBackend } from '../../packages/backend-wasm/dist/index.js';
import { ThreadPool } from '../../packages/backend-wasm/dist/pool.js';
import { setBackend } from '../../packages/core/dist/index.js';
import { networkForward } from './networks.mjs';

const [which = 'hrnet', threads = '2'] = process.argv.slice(2);
const jobs = [];
let on = false;
let lastEnd = 0;
const { run } = ThreadPool.prototype;
ThreadPool.prototype.run = function (fn, args, nt, self) {
  if (!on) return run.call(this, fn, args, nt, self);
  let own = 0;
  const t0 = performance.now();
  const result = run.call(this, fn, args, nt, (...s) => {
    const a = performance.now();
    try {
      return self(...s);
    } finally {
      own += performance.now() - a;
    }
  });
  const t1 = performance.now();
  jobs.push({ kernel: this.names[fn], gap: t0 - lastEnd, own, wait: t1 - t0 - own });
  lastEnd = t1;
  return result;
};
registerWasmBackend({ threads: Number(threads) });
await setBackend('wasm');
const forward = await networkForward(which, 'wasm-pool-waits');
const us = (ms) => `${(ms * 1000).toFixed(0)} µs`;
for (let r = 0; r < 6; r++) {
  jobs.length = 0;
  on = true;
  lastEnd = performance.now();
  const t0 = performance.now();
  await forward();
  const ms = performance.now() - t0;
  on = false;
  const waits = jobs.reduce((s, j) => s + j.wait, 0);
  const long = jobs.filter((j) => j.wait > 0.1);
  process.stdout.write(
    `forward ${ms.toFixed(1)} ms, ${jobs.length} jobs, waits ${waits.toFixed(2)} ms; ${long.length} over 0.1 ms${
      long.length
        ? `: ${long.map((j) => `${j.kernel} ${us(j.wait)} (gap ${us(j.gap)}, own ${us(j.own)})`).join('; ')}`
        : ''
    }\n`,
  );
}
process.exit(0);
