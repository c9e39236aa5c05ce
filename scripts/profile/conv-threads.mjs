// One "same" convolution (3×3 unless told; 1×1 has no padding) on backend-wasm, repeated 200
// times on 1 and on 2 threads (alternating twice): median ms, GFLOP/s and the jobs each thread
// ran. The one-convolution thread-scaling figures of docs/benchmarks.md come from it:
//   node scripts/profile/conv-threads.mjs <channels> <height> <width> [output channels] [kernel] [groups]
// e.g. 32 64 48 (HRNet-W32's first branch), 1024 7 7 2048 1 (a ResNet-50 / SKNet-50 layer4
// 1×1), 128 56 56 128 3 32 (SKNet-50's first grouped 3×3). Run after `pnpm build`.

import { WasmBackend } from '../../packages/backend-wasm/dist/backend.js';
import { conv2dInfo, SeededRandom } from '../../packages/core/dist/index.js';

const [c, h, w, cout = c, k = 3, groups = 1] = process.argv.slice(2).map(Number);
if (
  !(c > 0 && h > 0 && w > 0 && cout > 0 && k > 0 && k % 2 === 1 && c % groups === 0 && cout % groups === 0)
) {
  process.stderr.write(
    'conv-threads: usage: conv-threads.mjs <channels> <height> <width> [output channels] [odd kernel size] [groups dividing both channel counts]\n',
  );
  process.exit(2);
}
const b = await WasmBackend.create({ threads: 2 });
// Values in [−0.5, 0.5) from core's seeded generator.
const rng = new SeededRandom(1);
const random = () => rng.next() - 0.5;
const put = (shape) => ({
  dataId: b.write(Float32Array.from({ length: shape.reduce((a, x) => a * x) }, random), shape, 'float32'),
  shape,
  dtype: 'float32',
});
const x = put([1, c, h, w]);
const weights = put([cout, c / groups, k, k]);
const info = conv2dInfo([1, c, h, w], [cout, c / groups, k, k], { padding: (k - 1) / 2, groups });
const gflop = (2 * cout * (c / groups) * k * k * h * w) / 1e9;
for (const threads of [1, 2, 1, 2]) {
  await b.setThreads(threads);
  const jobs0 = b.workerJobs();
  const t = [];
  for (let r = 0; r < 200; r++) {
    const t0 = performance.now();
    const y = b.conv2d(x, weights, null, info, 'relu');
    t.push(performance.now() - t0);
    b.disposeData(y.dataId);
  }
  t.sort((p, q) => p - q);
  const ms = t[t.length >> 1];
  const jobs = b.workerJobs().map((v, i) => v - (jobs0[i] ?? 0));
  process.stdout.write(
    `${k}×${k}${groups > 1 ? ` G=${groups}` : ''} ${c}×${h}×${w} → ${cout}, ${threads} thread(s): median ${ms.toFixed(3)} ms, ${(gflop / (ms / 1e3)).toFixed(1)} GFLOP/s, jobs per thread ${jobs.join('/')}\n`,
  );
}
b.dispose();
process.exit(0);
