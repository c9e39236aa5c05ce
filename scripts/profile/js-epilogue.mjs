// backend-js's convolutions with and without their fused epilogue (bias + ReLU against linear,
// no bias) through the backend's kernel on three shapes: SKNet-50's 1×1 56×56×256→128 and
// 14×14×512→1024, and HRNet-W32's stem 3×3/2 128×96×64 (medians of 15 calls after 5, three
// rounds each). The epilogue figures of docs/benchmarks.md ("Sixth round") come from it:
//   node scripts/profile/js-epilogue.mjs   (after `pnpm build`)

import { JsBackend } from '../../packages/backend-js/dist/index.js';
import { conv2dInfo, SeededRandom } from '../../packages/core/dist/index.js';
import { timeCalls } from './timing.mjs';

const be = new JsBackend();
const rng = new SeededRandom(1);
const random = (n) => Float32Array.from({ length: n }, () => rng.next() - 0.5);
// Median of 15 calls after 5 warm-ups.
const median = (f) => timeCalls(f, 5, 15)[7];
// [C, H, W, O, kernel, stride]
for (const [c, h, w, o, k, s] of [
  [256, 56, 56, 128, 1, 1],
  [512, 14, 14, 1024, 1, 1],
  [64, 128, 96, 64, 3, 2],
]) {
  const put = (v, shape) => ({ dataId: be.write(v, shape, 'float32'), shape, dtype: 'float32' });
  const x = put(random(c * h * w), [1, c, h, w]);
  const wt = put(random(o * c * k * k), [o, c, k, k]);
  const bias = put(random(o), [o]);
  const info = conv2dInfo([1, c, h, w], [o, c, k, k], { stride: s, padding: (k - 1) / 2 });
  const fused = [];
  const plain = [];
  for (let round = 0; round < 3; round++) {
    fused.push(median(() => be.disposeData(be.conv2d(x, wt, bias, info, 'relu').dataId)));
    plain.push(median(() => be.disposeData(be.conv2d(x, wt, null, info, 'linear').dataId)));
  }
  process.stdout.write(
    `${c}×${h}×${w} → ${o}, ${k}×${k}/${s}: bias + ReLU ${fused.map((t) => t.toFixed(2)).join(' / ')} ms, linear ${plain.map((t) => t.toFixed(2)).join(' / ')} ms\n`,
  );
  for (const t of [x, wt, bias]) be.disposeData(t.dataId);
}
