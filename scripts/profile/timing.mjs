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

/** The middle value of `values` (the upper one of an even count). */
export function median(values) {
  return [...values].sort((p, q) => p - q)[values.length >> 1];
}

/**
 * Times two calls against each other, alternating, so the host's drift reaches both alike:
 * samples of as many calls as fill about `pairMs` per pair of samples (at most 20 a sample),
 * 10 warm-up pairs, then `pairs` timed pairs. Returns each call's ms per call, sample by sample
 * (`a`, `b`), and the per-pair ratios `a / b`.
 */
export function alternatePairs(callA, callB, pairMs, pairs = 40) {
  const t0 = performance.now();
  callA();
  callB();
  const reps = Math.max(1, Math.min(20, Math.round(pairMs / (performance.now() - t0))));
  const sample = (call) => {
    const start = performance.now();
    for (let r = 0; r < reps; r++) call();
    return (performance.now() - start) / reps;
  };
  for (let r = 0; r < 10; r++) sample(callA) + sample(callB);
  const a = [];
  const b = [];
  const ratios = [];
  for (let r = 0; r < pairs; r++) {
    a.push(sample(callA));
    b.push(sample(callB));
    ratios.push(a[r] / b[r]);
  }
  return { a, b, ratios };
}
