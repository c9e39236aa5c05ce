// backend-wasm's max pooling on the ResNet/SKNet stem's shape (1 × 64 × 112 × 112, window 3,
// stride 2, padding 1): median and fastest of 50 calls after 20 warm-ups, on 1 or 2 threads.
// The max-pooling figures of docs/benchmarks.md come from it:
//   node scripts/profile/wasm-maxpool.mjs [threads]   (after `pnpm build`)

import { WasmBackend } from '../../packages/backend-wasm/dist/index.js';
import { SeededRandom } from '../../packages/core/dist/index.js';
import { timeCalls } from './timing.mjs';

const threads = Number(process.argv[2] ?? 1);
const b = await WasmBackend.create({ threads });
const shape = [1, 64, 112, 112];
const rng = new SeededRandom(1);
const x = Float32Array.from({ length: 64 * 112 * 112 }, () => rng.next() - 0.5);
const xi = { dataId: b.write(x, shape, 'float32'), shape, dtype: 'float32' };
const info = {
  batch: 1,
  channels: 64,
  inHeight: 112,
  inWidth: 112,
  outHeight: 56,
  outWidth: 56,
  kernelHeight: 3,
  kernelWidth: 3,
  strideHeight: 2,
  strideWidth: 2,
  dilationHeight: 1,
  dilationWidth: 1,
  padTop: 1,
  padBottom: 1,
  padLeft: 1,
  padRight: 1,
  countIncludePad: true,
};
const run = () => b.disposeData(b.pool2d(xi, 'max', info).dataId);
const times = timeCalls(run, 20, 50);
process.stdout.write(
  `maxPool2d 1×64×112×112, 3×3 stride 2 padding 1, ${threads} thread(s): median ${times[25].toFixed(3)} ms, fastest ${times[0].toFixed(3)} ms (50 calls)\n`,
);
b.dispose();
process.exit(0);
