// backend-js's GEMM-bound convolutions of the kernels table (HRNet-W32's stem 3×3/2, 64 → 64
// channels on 128×96, and SKNet-50's two 1×1 rows) against a plain GEMM of the same product with
// B a stored matrix: the difference is what the convolution adds to its product (for the stem,
// gathering the im2col matrix into the GEMM's panels; a 1×1's B is its input as it lies).
// Alternating rounds of 15 calls each (after 5 warm-ups), medians; multiply-adds per second
// inside each. (Before the ninth round this was js-strided.mjs, the stem only.)
//   node scripts/profile/js-conv-product.mjs   (after `pnpm build`)

import { gemm, StridedMatrix } from '../../packages/backend-js/dist/gemm.js';
import { gemmConv } from '../../packages/backend-js/dist/kernels/conv2d.js';
import { conv2dInfo, SeededRandom } from '../../packages/core/dist/index.js';
import { median, timeCalls } from './timing.mjs';

const ROWS = [
  { name: 'HRNet-W32 stem 3×3/2', c: 64, h: 128, w: 96, cout: 64, kernel: 3, stride: 2, padding: 1 },
  { name: 'SKNet-50 1×1', c: 256, h: 56, w: 56, cout: 128, kernel: 1, stride: 1, padding: 0 },
  { name: 'SKNet-50 1×1', c: 512, h: 14, w: 14, cout: 1024, kernel: 1, stride: 1, padding: 0 },
];
// Values in [−0.5, 0.5) from core's seeded generator.
const rng = new SeededRandom(1);
const random = () => rng.next() - 0.5;

for (const { name, c, h, w, cout, kernel, stride, padding } of ROWS) {
  const info = conv2dInfo([1, c, h, w], [cout, c, kernel, kernel], { stride, padding });
  const [m, n, k] = [cout, info.outHeight * info.outWidth, c * kernel * kernel];
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
  const rate = (ms) => ((m * n * k) / (ms / 1e3) / 1e9).toFixed(2);
  const [mc, mp] = [median(rounds.conv), median(rounds.product)];
  process.stdout.write(
    `${name} ${c}×${h}×${w} → ${cout} (M ${m}, N ${n}, K ${k}): convolution ${mc.toFixed(2)} ms (${rate(mc)} GMAC/s), ` +
      `the same product from a stored B ${mp.toFixed(2)} ms (${rate(mp)} GMAC/s); the convolution's own part ${(((mc - mp) / mc) * 100).toFixed(1)} %\n`,
  );
}
