// backend-js's 3×3, 1×3 and 3×1 stride-1 convolutions on the kernels' own arrays: the im2col
// GEMM against Winograd F(4×4, 3×3) or F(4, 3), per shape (HRNet-W32's by default; `spnet` for
// SPNet-50's dilated ones, `strips` for its 1×3 and 3×1 ones), medians of 7 calls, and the
// largest difference between the two relative to the output's largest magnitude. A shape is
// [C, H, W, O, groups = 1, dilation = 1, kh = 3, kw = 3], padded to keep H × W.
//   node scripts/profile/js-winograd.mjs [spnet | strips | '[[C,H,W,O,G,D,KH,KW], …]']   (after `pnpm build`)

import { gemmConv } from '../../packages/backend-js/dist/kernels/conv2d.js';
import { useWinograd, winogradConv2d } from '../../packages/backend-js/dist/kernels/winograd.js';
import { conv2dInfo, SeededRandom } from '../../packages/core/dist/index.js';
import { timeCalls } from './timing.mjs';

const HRNET = [
  [32, 64, 48, 32],
  [64, 32, 24, 64],
  [128, 16, 12, 128],
  [256, 8, 6, 256],
  [64, 64, 48, 64],
  [256, 64, 48, 32],
];
// SPNet-50 at 512²: layer3 (dilation 2) and layer4 (dilation 4) at 64 × 64.
const SPNET = [
  [256, 64, 64, 256, 1, 2],
  [512, 64, 64, 512, 1, 4],
];
// The kernels table's SPNet 1×3 and 3×1 rows, then SPNet-50's strip-pooling convolutions at
// 512² (SPBlock's 3×1 over an H × 1 strip and 1×3 over a 1 × W one, per stage).
const STRIPS = [
  [512, 64, 64, 512, 1, 1, 1, 3],
  [512, 64, 64, 512, 1, 1, 3, 1],
  [64, 128, 1, 64, 1, 1, 3, 1],
  [64, 1, 128, 64, 1, 1, 1, 3],
  [128, 64, 1, 128, 1, 1, 3, 1],
  [256, 64, 1, 256, 1, 1, 3, 1],
  [512, 1, 64, 512, 1, 1, 1, 3],
];
const which = process.argv[2];
const shapes = which === 'spnet' ? SPNET : which === 'strips' ? STRIPS : which ? JSON.parse(which) : HRNET;
// Values in [−0.5, 0.5) from core's seeded generator.
const rng = new SeededRandom(1);
const random = () => rng.next() - 0.5;
// Median of 7 calls.
const median = (f) => timeCalls(f, 0, 7)[3];
process.stdout.write(
  '| x (C×H×W) → O, groups, dilation, kernel | Winograd chosen | im2col GEMM ms | Winograd ms | ratio | max diff / max |y| |\n|---|---|---:|---:|---:|---:|\n',
);
for (const [c, h, w, o, groups = 1, d = 1, kh = 3, kw = 3] of shapes) {
  const [ph, pw] = [kh === 3 ? d : 0, kw === 3 ? d : 0];
  const info = conv2dInfo([1, c, h, w], [o, c / groups, kh, kw], {
    padding: [ph, ph, pw, pw],
    groups,
    dilation: d,
  });
  const x = Float32Array.from({ length: c * h * w }, random);
  const wt = Float32Array.from({ length: (o * c * kh * kw) / groups }, random);
  const a = new Float32Array(o * h * w);
  const b = new Float32Array(o * h * w);
  // Each call gets a zeroed output, as conv2d's fresh array (the GEMM accumulates into it).
  const im2col = () => gemmConv(x, wt, a.fill(0), info);
  const winograd = () => winogradConv2d(x, wt, b.fill(0), info);
  for (let i = 0; i < 3; i++) {
    im2col();
    winograd();
  }
  const tg = median(im2col);
  const tw = median(winograd);
  let diff = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    max = Math.max(max, Math.abs(a[i]));
  }
  process.stdout.write(
    `| ${c}×${h}×${w} → ${o}, ${groups}, ${d}, ${kh}×${kw} | ${useWinograd(info) ? 'yes' : 'no'} | ${tg.toFixed(2)} | ${tw.toFixed(2)} | ${(tg / tw).toFixed(2)}× | ${(diff / max).toExponential(1)} |\n`,
  );
}
