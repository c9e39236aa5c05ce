/**
 * The worker pool: `worker_threads` in Node, Web Workers in browsers, all instantiating the
 * kernels module on one shared `WebAssembly.Memory`. A job is one kernel call split `nt` ways:
 * the main thread writes the arguments into a control block, bumps the job counter, runs share
 * 0 itself and waits (Atomics.wait where allowed, a spin on the browser's main thread) until
 * every worker has finished its share.
 *
 * Jobs are counted per thread, so tests can see that work really splits: a kernel's share
 * returns how many work units it held, and a thread whose share held at least one counts one
 * job — workers in an Int32 slot per thread id at `ctrl + JOBS_OFFSET` (written by the worker
 * itself), the calling thread (id 0) in slot 0 (written by `KernelContext`).
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
const PENDING = 5;
const ERROR = 6;

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
   * Runs export `fn` as `fn(...args, tid, nt)` for `tid` = 1 … nt−1 on the workers while the
   * caller runs `self(0, nt)`; returns when all are done.
   */
  run(fn: number, args: readonly number[], nt: number, self: () => void): void {
    const c = this.ctrl;
    const k = this.workers.length;
    for (let i = 0; i < args.length; i++) this.args[i] = args[i];
    c[FN] = fn;
    c[NT] = nt;
    c[NARGS] = args.length;
    c[ERROR] = 0;
    Atomics.store(c, PENDING, k);
    Atomics.add(c, 0, 1);
    Atomics.notify(c, 0);
    let error: unknown = null;
    try {
      self();
    } catch (e) {
      error = e;
    }
    for (let i = 0; i < SPIN && Atomics.load(c, PENDING) !== 0; i++);
    for (;;) {
      const v = Atomics.load(c, PENDING);
      if (v === 0) break;
      if (this.canBlock) Atomics.wait(c, PENDING, v, 50);
    }
    if (error !== null) throw error;
    if (c[ERROR] !== 0) throw new BackendError(`wasm backend: kernel '${this.names[fn]}' failed in a worker`);
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
