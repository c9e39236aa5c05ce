// AssemblyScript: the thread slot of this instance. Every thread instantiates the module on
// the shared memory, and globals are per instance: `set_slot(tid)` gives a worker's instance
// its thread id (the main thread's stays 0). Kernels index their per-thread scratch by SLOT,
// not by the share they run, since a thread may run any share of a job (see pool.ts).

/** This instance's thread id. */
export let SLOT: i32 = 0;

/** Sets this instance's thread id (once, when a pool worker starts). */
export function set_slot(slot: i32): void {
  SLOT = slot;
}
