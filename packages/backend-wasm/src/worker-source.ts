/**
 * The source of a pool worker, as a string: the pool starts workers from it (`eval` in Node's
 * `worker_threads`, a Blob URL in browsers), so no worker file has to be located at runtime.
 *
 * A worker instantiates the kernels module on the shared memory, gives the instance its slot
 * (`set_slot(tid)`: which scratch its kernels use), reports `ready`, then loops: wait for the
 * job counter to change (spinning `spin` loads first, then sleeping in `Atomics.wait`), claim
 * shares of the job from the claim counter and run them (`fn(...args, share, nt)`) until none is
 * left (one at most when stealing is off), counting each finished share, and waking the main
 * thread when the last is done. See `pool.ts` for the claim counter.
 *
 * Control block (Int32 words at `ctrl`): 0 job counter, 1 quit flag, 2 function index,
 * 3 share count, 4 argument count, 5 shares done, 6 error flag, 7 claim counter, 8 stealing
 * allowed, 9 workers paused; float64 arguments start at byte `ctrl + 64`; the job counters (one
 * Int32 per thread id, see `JOBS_OFFSET` in `pool.ts`) at byte `ctrl + 512`. A worker counts a
 * job when its shares returned a positive number of work units.
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
  instance.exports.set_slot(tid);
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
    if (Atomics.load(c, 9) !== 0) continue;
    // Read the job, then claim: a claim succeeds only while this job's shares remain, so the
    // arguments read are this job's (the next job's are written only after all are done).
    const nt = c[3];
    const n = c[4];
    const steal = c[8] !== 0;
    const fn = fns[c[2]];
    const a = [];
    for (let i = 0; i < n; i++) a.push(args[i]);
    a.push(0, nt);
    const tag = (seen & 0xfffff) << 11;
    let counted = false;
    for (;;) {
      const w = Atomics.load(c, 7);
      const next = w & 2047;
      if (w - next !== tag || next >= nt) break;
      if (Atomics.compareExchange(c, 7, w, w + 1) !== w) continue;
      a[n] = next;
      try {
        // Counted before the share is marked done, so the caller sees the count on return.
        if (fn(...a) > 0 && !counted) {
          Atomics.add(jobs, tid, 1);
          counted = true;
        }
      } catch (e) {
        Atomics.store(c, 6, 1);
      }
      if (Atomics.add(c, 5, 1) + 1 === nt) Atomics.notify(c, 5);
      if (!steal) break;
    }
  }
}
if (isNode) port.once('message', onMessage);
else self.onmessage = (e) => { self.onmessage = null; onMessage(e.data); };
`;
