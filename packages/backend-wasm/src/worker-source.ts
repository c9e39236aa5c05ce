/**
 * The source of a pool worker, as a string: the pool starts workers from it (`eval` in Node's
 * `worker_threads`, a Blob URL in browsers), so no worker file has to be located at runtime.
 *
 * A worker instantiates the kernels module on the shared memory, reports `ready`, then loops:
 * wait for the job counter to change (spinning `spin` loads first, then sleeping in
 * `Atomics.wait`), run its share of the job (`fn(...args, tid, nt)`), and decrement the pending
 * count, waking the main thread when it reaches zero.
 *
 * Control block (Int32 words at `ctrl`): 0 job counter, 1 quit flag, 2 function index,
 * 3 thread count, 4 argument count, 5 workers still running, 6 error flag; float64 arguments
 * start at byte `ctrl + 64`; the job counters (one Int32 per thread id, see `JOBS_OFFSET` in
 * `pool.ts`) at byte `ctrl + 512`. A worker counts a job when its share returned a positive
 * number of work units.
 *
 * @module
 */

/** JavaScript run by each pool worker. */
export const WORKER_SOURCE = `
const isNode = typeof process !== 'undefined' && process.versions != null && process.versions.node != null && typeof self === 'undefined';
let port;
if (isNode) port = require('node:worker_threads').parentPort;
function post(m) { if (isNode) port.postMessage(m); else self.postMessage(m); }
function onMessage(msg) {
  const { module, memory, ctrl, tid, names, spin: SPIN } = msg;
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const fns = names.map((n) => instance.exports[n]);
  const c = new Int32Array(memory.buffer, ctrl, 16);
  const args = new Float64Array(memory.buffer, ctrl + 64, 32);
  const jobs = new Int32Array(memory.buffer, ctrl + 512, tid + 1);
  let seen = Atomics.load(c, 0);
  post('ready');
  for (;;) {
    // Kernel calls come in bursts (a network's layers): spin a little before sleeping, so the
    // next call finds this worker awake instead of paying a futex wake-up.
    for (let i = 0; i < SPIN && Atomics.load(c, 0) === seen; i++);
    Atomics.wait(c, 0, seen);
    seen = Atomics.load(c, 0);
    if (Atomics.load(c, 1) !== 0) break;
    const nt = c[3];
    try {
      if (tid < nt) {
        const n = c[4];
        const a = [];
        for (let i = 0; i < n; i++) a.push(args[i]);
        a.push(tid, nt);
        if (fns[c[2]](...a) > 0) Atomics.add(jobs, tid, 1);
      }
    } catch (e) {
      Atomics.store(c, 6, 1);
    }
    if (Atomics.sub(c, 5, 1) === 1) Atomics.notify(c, 5);
  }
}
if (isNode) port.once('message', onMessage);
else self.onmessage = (e) => { self.onmessage = null; onMessage(e.data); };
`;
