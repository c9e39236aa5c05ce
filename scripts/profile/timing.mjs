// The profile scripts' one way to time a synchronous call: `warmups` untimed calls, then `runs`
// timed ones; returns their times in ms, sorted (median: the middle one; fastest: the first).

/** Times `fn`: `warmups` calls first, then `runs` timed calls; their ms, shortest first. */
export function timeCalls(fn, warmups, runs) {
  for (let i = 0; i < warmups; i++) fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return times.sort((p, q) => p - q);
}
