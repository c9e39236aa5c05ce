// backend-js's strided convolution of the kernels table (HRNet-W32's stem 3×3/2, 64 → 64 channels
// on 128×96) against a plain GEMM of the same product (M 64, N 3,072, K 576, B a stored matrix):
// the difference is what gathering the im2col matrix into the GEMM's panels costs. Alternating
// rounds of 15 calls each (after 5 warm-ups), medians; multiply-adds per second inside each.
//   node scripts/profile/js-strided.mjs   (after `pnpm build`)

import { gemm, StridedMatrix } from '../../packages/backend-js/dist/gemm.js';
import { gemmConv } from '../../packages/backend-js/dist/kernels/conv2d.js';
import { conv2dInfo, SeededRandom } from '../../packages/core/dist/index.js';
import { timeCalls } from './timing.mjs';

const [c, h, w, cout] = [64, 128, 96, 64];
const info = conv2dInfo([1, c, h, w], [cout, c, 3, 3], { stride: 2, padding: 1 });
const [m, n, k] = [cout, info.outHeight * info.outWidth, c * 9];
// Values in [−0.5, 0.5) from core's seeded generator.
const rng = new SeededRandom(1);
const random = () => rng.next() - 0.5;
const x = Float32Array.from({ length: c * h * w }, random);
const weights = Float32Array.from({ length: m * k }, random);
const b = new StridedMatrix(Float32Array.from({ length: k * n }, random), 0, n, 1);
const out = new Float32Array(m * n);
const conv = () => gemmConv(x, weights, out.fill(0), info);
const product = () => gemm(m, n, k, weights, 0, k, 1, b, out.fill(0), 0, n);
const rounds = { conv: [], product: [] };
for (let r = 0; r < 5; r++) {
  rounds.conv.push(...timeCalls(conv, 5, 15));
  rounds.product.push(...timeCalls(product, 5, 15));
}
const median = (v) => [...v].sort((p, q) => p - q)[v.length >> 1];
const rate = (ms) => ((m * n * k) / (ms / 1e3) / 1e9).toFixed(2);
const [mc, mp] = [median(rounds.conv), median(rounds.product)];
process.stdout.write(
  `3×3/2 ${c}×${h}×${w} → ${cout} (M ${m}, N ${n}, K ${k}): convolution ${mc.toFixed(2)} ms (${rate(mc)} GMAC/s), ` +
    `the same product from a stored B ${mp.toFixed(2)} ms (${rate(mp)} GMAC/s); the gather ${(((mc - mp) / mc) * 100).toFixed(1)} % of the convolution\n`,
);
