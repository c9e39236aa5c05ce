// backend-wasm's allocator on a network's own allocation pattern: records every alloc and
// release from the backend's start (weights, folding, three forwards), then replays the whole
// sequence on a fresh Allocator over its own memory, 25 times after 3 warm-up replays, and
// prints the median time the third forward's part of a replay takes (one forward's allocator
// work, from the state the weights and earlier forwards left), the calls in it, and the memory
// size a replay reaches. The allocator figures of docs/benchmarks.md come from it:
//   node scripts/profile/wasm-allocator.mjs <hrnet|sknet|spnet> [threads]
// Run after `pnpm build`.

import { Allocator } from '../../packages/backend-wasm/dist/allocator.js';
import { registerWasmBackend } from '../../packages/backend-wasm/dist/index.js';
import { setBackend } from '../../packages/core/dist/index.js';
import { networkForward } from './networks.mjs';

const [which = 'hrnet', threads = '1'] = process.argv.slice(2);
// The trace: [bytes, longLived] for an allocation, [-ptr] for a release of the block the
// allocation that returned ptr got (replayed through the allocation's index).
const trace = [];
let recording = true;
const ids = new Map();
const { alloc, release } = Allocator.prototype;
Allocator.prototype.alloc = function (bytes, what, longLived = false) {
  const ptr = alloc.call(this, bytes, what, longLived);
  if (recording) {
    ids.set(ptr, trace.length);
    trace.push(['a', bytes, longLived]);
  }
  return ptr;
};
Allocator.prototype.release = function (ptr) {
  if (recording && ids.has(ptr)) {
    trace.push(['r', ids.get(ptr)]);
    ids.delete(ptr);
  }
  release.call(this, ptr);
};
registerWasmBackend({ threads: Number(threads) });
await setBackend('wasm');
const once = await networkForward(which, 'wasm-allocator');
const start = trace.length;
await once();
const end = trace.length;
recording = false;
Allocator.prototype.alloc = alloc;
Allocator.prototype.release = release;

const allocs = trace.slice(start, end).filter((e) => e[0] === 'a').length;
const got = new Array(trace.length);
let memoryBytes = 0;
const run = (a, from, to) => {
  for (let i = from; i < to; i++) {
    const e = trace[i];
    if (e[0] === 'a') got[i] = a.alloc(e[1], 'replay', e[2]);
    else a.release(got[e[1]]);
  }
};
// One replay: everything up to the third forward untimed, then its part timed (ms).
const replay = () => {
  const a = new Allocator(new WebAssembly.Memory({ initial: 1, maximum: 65536 }), 64, 65536);
  run(a, 0, start);
  const t0 = performance.now();
  run(a, start, end);
  const ms = performance.now() - t0;
  memoryBytes = a.memoryBytes;
  return ms;
};
for (let i = 0; i < 3; i++) replay();
const t = [];
for (let i = 0; i < 25; i++) t.push(replay());
t.sort((p, q) => p - q);
process.stdout.write(
  `${which}, ${threads} thread(s): one forward's ${allocs} allocations and ${end - start - allocs} releases, replayed after the rest: median ${(t[12] * 1000).toFixed(0)} µs (fastest ${(t[0] * 1000).toFixed(0)}), memory ${(memoryBytes / 2 ** 20).toFixed(1)} MiB\n`,
);
process.exit(0);
