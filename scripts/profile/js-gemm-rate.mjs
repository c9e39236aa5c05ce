// backend-js's GEMM on a cache-resident product (120 × 192 × 256, repeated): multiply-adds per
// second, the ceiling figure of the "backend-js ≥ 5× TensorFlow.js cpu" row of
// docs/benchmarks.md (a network's js forward can at most approach it).
//   node scripts/profile/js-gemm-rate.mjs   (after `pnpm build`)

import { gemm, StridedMatrix } from '../../packages/backend-js/dist/gemm.js';

const [m, n, k] = [120, 192, 256];
let seed = 1;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648 - 0.5;
};
const a = Float32Array.from({ length: m * k }, random);
const bm = new StridedMatrix(Float32Array.from({ length: k * n }, random), 0, n, 1);
const c = new Float32Array(m * n);
const run = () => gemm(m, n, k, a, 0, k, 1, bm, c, 0, n);
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
  `backend-js gemm ${m}×${n}×${k}: median ${rates[3].toFixed(2)} GMAC/s (range ${rates[0].toFixed(2)}–${rates[6].toFixed(2)}, 7 × 20 products)\n`,
);
