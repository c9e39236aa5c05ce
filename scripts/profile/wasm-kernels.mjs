// Where a forward's time goes on backend-wasm, by exported wasm kernel: each parallel kernel's
// calls through the worker pool and on the calling thread alone (below the parallel threshold),
// in ms per forward (mean of 7 forwards after two warm-ups), beside the exports the backend calls
// directly on the calling thread (weight packing, checks: "caller …"), the backend's methods
// (their JavaScript included) and the time outside the backend. It wraps the backend's internals, so
// it measures them as they run in a network; the 1- and 2-thread profiles of docs/benchmarks.md
// ("Seventh round") come from it:
//   node scripts/profile/wasm-kernels.mjs <hrnet|sknet|spnet> <threads>
// Run after `pnpm build`.

import { WasmBackend } from '../../packages/backend-wasm/dist/backend.js';
import { KernelContext } from '../../packages/backend-wasm/dist/context.js';
import { registerWasmBackend } from '../../packages/backend-wasm/dist/index.js';
import { ThreadPool } from '../../packages/backend-wasm/dist/pool.js';
import { getBackend, setBackend } from '../../packages/core/dist/index.js';
import { networkForward } from './networks.mjs';

const [which = 'hrnet', threads = '1'] = process.argv.slice(2);
const RUNS = 7;
let on = false;
const acc = new Map();
const add = (key, ms) => {
  const a = acc.get(key) ?? [0, 0];
  a[0] += ms;
  a[1]++;
  acc.set(key, a);
};
// Backend methods, outermost calls only.
let depth = 0;
for (const name of Object.getOwnPropertyNames(WasmBackend.prototype)) {
  const d = Object.getOwnPropertyDescriptor(WasmBackend.prototype, name);
  if (name === 'constructor' || typeof d.value !== 'function') continue;
  const f = d.value;
  WasmBackend.prototype[name] = function (...args) {
    if (!on || depth > 0) return f.apply(this, args);
    depth++;
    const t0 = performance.now();
    try {
      return f.apply(this, args);
    } finally {
      depth--;
      add(`backend.${name}`, performance.now() - t0);
    }
  };
}
const { run } = ThreadPool.prototype;
ThreadPool.prototype.run = function (fn, ...rest) {
  if (!on) return run.call(this, fn, ...rest);
  const t0 = performance.now();
  try {
    return run.call(this, fn, ...rest);
  } finally {
    add(`pool ${this.names[fn]}`, performance.now() - t0);
  }
};
const { serial } = KernelContext.prototype;
KernelContext.prototype.serial = function (fn, args) {
  if (!on) return serial.call(this, fn, args);
  const t0 = performance.now();
  try {
    return serial.call(this, fn, args);
  } finally {
    add(`one thread ${fn}`, performance.now() - t0);
  }
};

registerWasmBackend({ threads: Number(threads) });
await setBackend('wasm');
// The exports called outside the pool (`…_run` kernels go through par/serial, timed above).
const ctx = getBackend().ctx;
const direct = { ...ctx.exports };
for (const [name, f] of Object.entries(ctx.exports)) {
  if (typeof f !== 'function' || name.endsWith('_run')) continue;
  direct[name] = (...args) => {
    if (!on) return f(...args);
    const t0 = performance.now();
    try {
      return f(...args);
    } finally {
      add(`caller ${name}`, performance.now() - t0);
    }
  };
}
ctx.exports = direct;
const once = await networkForward(which, 'wasm-kernels');
let total = 0;
for (let r = 0; r < RUNS; r++) {
  on = true;
  const t0 = performance.now();
  await once();
  total += performance.now() - t0;
  on = false;
}
const rows = [...acc].sort((p, q) => q[1][0] - p[1][0]);
const backend = rows.filter(([k]) => k.startsWith('backend.')).reduce((s, [, [ms]]) => s + ms, 0);
const out = [
  `${which} on wasm, ${threads} thread(s): forward ${(total / RUNS).toFixed(1)} ms (mean of ${RUNS}), in backend methods ${(backend / RUNS).toFixed(1)} ms, outside them ${((total - backend) / RUNS).toFixed(1)} ms`,
];
for (const [key, [ms, calls]] of rows)
  out.push(
    `  ${key.padEnd(28)} ${(ms / RUNS).toFixed(2).padStart(8)} ms  ${String(calls / RUNS).padStart(5)} calls`,
  );
process.stdout.write(`${out.join('\n')}\n`);
process.exit(0);
