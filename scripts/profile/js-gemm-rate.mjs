// backend-js's GEMM on a cache-resident product (120 × 192 × 256, repeated): multiply-adds per
// second, the ceiling of its GEMM-bound convolutions (1×1, strided) in the "backend-js ≥ 5×
// TensorFlow.js cpu" rows of docs/benchmarks.md, with the micro-tile the GEMM picks (3 × 2) and
// with the 2 × 2 one forced (gemm.ts's SMALL_ROWS_GAIN is their ratio); then the arithmetic
// ceiling of scalar JavaScript on this machine, which no GEMM can pass.
//   node scripts/profile/js-gemm-rate.mjs   (after `pnpm build`)

import { gemm, StridedMatrix, setMicroRows } from '../../packages/backend-js/dist/gemm.js';
import { SeededRandom } from '../../packages/core/dist/index.js';

const [m, n, k] = [120, 192, 256];
// Values in [−0.5, 0.5) from core's seeded generator.
const rng = new SeededRandom(1);
const random = () => rng.next() - 0.5;
const a = Float32Array.from({ length: m * k }, random);
const bm = new StridedMatrix(Float32Array.from({ length: k * n }, random), 0, n, 1);
const c = new Float32Array(m * n);
const run = () => gemm(m, n, k, a, 0, k, 1, bm, c, 0, n);
for (const [rows, label] of [
  [0, 'as picked (3 × 2 tiles)'],
  [2, '2 × 2 tiles forced'],
]) {
  setMicroRows(rows);
  for (let i = 0; i < 50; i++) run();
  const rates = [];
  for (let r = 0; r < 7; r++) {
    const reps = 20;
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) run();
    rates.push((m * n * k * reps) / ((performance.now() - t0) / 1e3) / 1e9);
  }
  rates.sort((p, q) => p - q);
  process.stdout.write(
    `backend-js gemm ${m}×${n}×${k}, ${label}: median ${rates[3].toFixed(2)} GMAC/s (range ${rates[0].toFixed(2)}–${rates[6].toFixed(2)}, 7 × 20 products)\n`,
  );
}
setMicroRows(0);

// The arithmetic ceiling of scalar JavaScript here: 8 independent multiply-add chains on
// doubles, no loads (V8 emits a multiply and an add; it never fuses them).
function chains(n, x, y) {
  let c0 = 0;
  let c1 = 0;
  let c2 = 0;
  let c3 = 0;
  let c4 = 0;
  let c5 = 0;
  let c6 = 0;
  let c7 = 0;
  for (let i = 0; i < n; i++) {
    c0 += x * y;
    c1 += x * x;
    c2 += y * y;
    c3 += y * x;
    c4 += x * y;
    c5 += y * y;
    c6 += x * x;
    c7 += y * x;
    x += 1e-9;
  }
  return c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7;
}
for (let i = 0; i < 5; i++) chains(1e6, 1.1, 1.2);
const peaks = [];
for (let r = 0; r < 7; r++) {
  const n = 2e7;
  const t0 = performance.now();
  chains(n, 1.1, 1.2);
  peaks.push((8 * n) / ((performance.now() - t0) / 1e3) / 1e9);
}
peaks.sort((p, q) => p - q);
process.stdout.write(
  `scalar multiply-add chains without loads: median ${peaks[3].toFixed(2)} GMAC/s (range ${peaks[0].toFixed(2)}–${peaks[6].toFixed(2)})\n`,
);
