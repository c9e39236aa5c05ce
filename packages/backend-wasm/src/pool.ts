/**
 * The worker pool: `worker_threads` in Node, Web Workers in browsers, all instantiating the
 * kernels module on one shared `WebAssembly.Memory`. A job is one kernel call split into `nt`
 * shares. The main thread writes the arguments into a control block and bumps the job counter;
 * then every thread, the caller included, claims shares from a shared counter and runs them
 * until none is left, and the caller waits (Atomics.wait where allowed, a spin on the
 * browser's main thread) until every share is done. A worker that starts late (asleep, or not
 * scheduled: scripts/profile/wasm-pool-waits.mjs shows such waits) finds its share run by the
 * caller instead of making the caller wait for it.
 *
 * The claim counter holds the job's number beside the next share, so a worker that looks at a
 * job after it ended cannot claim a share of it (or of the next one, with the old arguments):
 * `(job & 0xfffff) << 11 | next share`, 11 bits being enough for fewer than {@link MAX_SHARES} shares.
 *
 * Each thread keeps its own scratch whatever share it runs: the kernels index scratch by the
 * slot `set_slot` gave their instance (the thread id), and the share only partitions the work.
 *
 * Jobs are counted per thread, so tests can see that work really splits: a kernel's share
 * returns how many work units it held, and a thread whose shares of a job held at least one
 * unit counts one job — workers in an Int32 slot per thread id at `ctrl + JOBS_OFFSET` (written
 * by the worker itself), the calling thread (id 0) in slot 0 (written by `KernelContext`).
 *
 * @module
 */
import { BackendError } from '@kernelzoo/core';
import { WORKER_SOURCE } from './worker-source.js';

interface PoolWorker {
  terminate(): void;
}

const QUIT = 1;
const FN = 2;
const NT = 3;
const NARGS = 4;
/** Shares of the current job finished. */
const DONE = 5;
const ERROR = 6;
/** The claim counter: `(job & JOB_MASK) << SHARE_BITS | next share`. */
const CLAIM = 7;
/** 0: a thread runs at most one share of a job (see {@link setStealing}). */
const STEAL = 8;
/** Non-zero: workers skip jobs (see {@link pauseWorkers}). */
const PAUSE = 9;
const SHARE_BITS = 11;
const JOB_MASK = 0xfffff;
/** One more than the most shares a job may have (the claim counter's share bits). */
export const MAX_SHARES = 1 << SHARE_BITS;

/**
 * Loads a waiting thread spins on before it sleeps in `Atomics.wait` (tens of microseconds): a
 * worker between two kernel calls of a network, and the caller waiting for the workers' shares,
 * stay awake across the short gaps instead of paying a futex wake-up each time.
 */
let SPIN = 1 << 15;

/** @internal Benchmark hook: the spin before sleeping (0: sleep at once). Takes effect for workers started afterwards. */
export function setSpin(loads: number): void {
  SPIN = Math.max(0, Math.floor(loads));
}

let stealing = true;

/**
 * @internal Test hook: `false` makes every thread run at most one share of a job, so each
 * thread of a job split `threads` ways runs exactly one share and the per-thread job counts
 * are deterministic (the conformance suite's `splits` check); `true` (the default) lets a
 * thread that finished its share run the shares no thread has claimed yet.
 */
export function setStealing(on: boolean): void {
  stealing = on;
}

/** Largest number of float64 arguments a pooled call may take. */
export const MAX_ARGS = 30;

/**
 * Byte offset, from the control block, of the job counters: one Int32 per thread id (0 is
 * the calling thread), each counting the jobs in which that thread's share was not empty.
 */
export const JOBS_OFFSET = 512;

let blobUrl: string | null = null;

async function spawn(message: Record<string, unknown>): Promise<PoolWorker> {
  const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;
  if (isNode && typeof (globalThis as { Worker?: unknown }).Worker === 'undefined') {
    const spec = 'node:worker_threads';
    const wt = (await import(/* @vite-ignore */ spec)) as typeof import('node:worker_threads');
    const w = new wt.Worker(WORKER_SOURCE, { eval: true });
    const ready = new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    });
    w.postMessage(message);
    await ready;
    w.unref();
    return w;
  }
  if (blobUrl === null) blobUrl = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const w = new Worker(blobUrl);
  const ready = new Promise<void>((resolve, reject) => {
    w.onmessage = () => resolve();
    w.onerror = (e) => reject(new Error(e.message));
  });
  w.postMessage(message);
  await ready;
  w.onmessage = null;
  return w;
}

/** Workers sharing the kernels' memory, and the protocol to run a kernel across them. */
export class ThreadPool {
  private readonly workers: PoolWorker[] = [];
  private readonly ctrl: Int32Array;
  private readonly args: Float64Array;
  private readonly canBlock: boolean;

  /**
   * @param module - the compiled threads build of the kernels.
   * @param memory - the shared memory.
   * @param ctrlAddress - the byte address of the control block (256 bytes).
   * @param names - the exports a job may name, by index.
   * @param main - the main thread's exports, to run share 0.
   */
  constructor(
    private readonly module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
    private readonly ctrlAddress: number,
    private readonly names: readonly string[],
  ) {
    this.ctrl = new Int32Array(memory.buffer, ctrlAddress, 16);
    this.args = new Float64Array(memory.buffer, ctrlAddress + 64, MAX_ARGS + 2);
    let canBlock = true;
    try {
      Atomics.wait(this.ctrl, 15, 1, 0);
    } catch {
      canBlock = false;
    }
    this.canBlock = canBlock;
  }

  /** Workers in the pool (threads minus the main one). */
  get size(): number {
    return this.workers.length;
  }

  /** Grows or shrinks the pool to `n` workers. */
  async resize(n: number): Promise<void> {
    while (this.workers.length > n) this.stop(this.workers.pop()!);
    while (this.workers.length < n) {
      const w = await spawn({
        module: this.module,
        memory: this.memory,
        ctrl: this.ctrlAddress,
        tid: this.workers.length + 1,
        names: this.names,
        spin: SPIN,
      });
      this.workers.push(w);
    }
  }

  /**
   * Runs export `fn` as `fn(...args, share, nt)` for `share` = 0 … nt−1, each share on the
   * first thread to claim it: the workers run theirs with their own instances, the caller with
   * `self(share)`, which returns the share's work units. Returns whether the caller's shares
   * held any, once every share is done.
   */
  run(fn: number, args: readonly number[], nt: number, self: (share: number) => number): boolean {
    if (nt >= MAX_SHARES)
      throw new BackendError(`wasm backend: a job may have at most ${MAX_SHARES - 1} shares, got ${nt}`);
    const c = this.ctrl;
    for (let i = 0; i < args.length; i++) this.args[i] = args[i];
    const job = (c[0] + 1) | 0;
    const tag = (job & JOB_MASK) << SHARE_BITS;
    c[FN] = fn;
    c[NT] = nt;
    c[NARGS] = args.length;
    c[ERROR] = 0;
    c[STEAL] = stealing ? 1 : 0;
    Atomics.store(c, DONE, 0);
    Atomics.store(c, CLAIM, tag);
    Atomics.store(c, 0, job);
    Atomics.notify(c, 0);
    let error: unknown = null;
    let units = 0;
    for (;;) {
      const share = claimShare(c, tag, nt);
      if (share < 0) break;
      try {
        units += self(share);
      } catch (e) {
        error ??= e;
      }
      Atomics.add(c, DONE, 1);
      if (!stealing) break;
    }
    for (let i = 0; i < SPIN && Atomics.load(c, DONE) < nt; i++);
    for (;;) {
      const v = Atomics.load(c, DONE);
      if (v >= nt) break;
      if (this.canBlock) Atomics.wait(c, DONE, v, 50);
    }
    if (error !== null) throw error;
    if (c[ERROR] !== 0) throw new BackendError(`wasm backend: kernel '${this.names[fn]}' failed in a worker`);
    return units > 0;
  }

  /**
   * @internal Test hook: while `true`, workers take no share of any job (the caller runs them
   * all, as when the workers start late). Only with stealing on: with it off the caller runs one
   * share and would wait for the others forever.
   */
  pauseWorkers(paused: boolean): void {
    Atomics.store(this.ctrl, PAUSE, paused ? 1 : 0);
  }

  /** Stops every worker. */
  terminate(): void {
    for (const w of this.workers) this.stop(w);
    this.workers.length = 0;
  }

  private stop(w: PoolWorker): void {
    w.terminate();
  }

  /** Tells all workers to quit (before terminating them). */
  quitAll(): void {
    Atomics.store(this.ctrl, QUIT, 1);
    Atomics.add(this.ctrl, 0, 1);
    Atomics.notify(this.ctrl, 0);
  }
}

/**
 * Claims the next share of the job tagged `tag` (see the module's claim counter), or returns −1
 * when all `nt` are claimed or the job is over. The workers' copy is in `worker-source.ts`.
 */
function claimShare(c: Int32Array, tag: number, nt: number): number {
  for (;;) {
    const w = Atomics.load(c, CLAIM);
    const next = w & (MAX_SHARES - 1);
    if (w - next !== tag || next >= nt) return -1;
    if (Atomics.compareExchange(c, CLAIM, w, w + 1) === w) return next;
  }
}
