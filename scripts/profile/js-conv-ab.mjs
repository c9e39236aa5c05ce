// Two builds of backend-js on one convolution, in one process, as conv-ab.mjs does for
// backend-wasm: calls alternate between the builds (samples of ~40 ms, at most 20 convolutions;
// 40 each after 10 warm-up pairs), so the host's drift reaches both alike. Prints each build's
// median and fastest ms per convolution, the median of the per-pair ratios A / B, and the
// largest difference between their outputs relative to the largest output (a change of
// summation order moves the last bits). The K-block figures of docs/benchmarks.md ("Ninth
// round") come from it.
//   node scripts/profile/js-conv-ab.mjs <dist A> <dist B> <channels> <height> <width> <output channels>
//     [kernel] [stride]
// Each dist is a copy of a build's packages/backend-js/dist placed inside
// packages/backend-js/node_modules/ (e.g. node_modules/.ab/base), where its imports resolve.
// e.g. … 64 128 96 64 3 2 (HRNet-W32's second stem convolution), … 32 64 48 64 3 2.

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { conv2dInfo, SeededRandom } from '../../packages/core/dist/index.js';
import { alternatePairs, median } from './timing.mjs';

const [distA, distB, ...rest] = process.argv.slice(2);
const [c, h, w, cout, k = 3, stride = 1] = rest.map(Number);
if (
  distA === undefined ||
  distB === undefined ||
  !(c > 0 && h > 0 && w > 0 && cout > 0 && k % 2 === 1 && stride > 0)
) {
  process.stderr.write(
    'js-conv-ab: usage: js-conv-ab.mjs <dist A> <dist B> <channels> <height> <width> <output channels> [odd kernel] [stride]\n',
  );
  process.exit(2);
}
const create = async (dist) => {
  const { JsBackend } = await import(pathToFileURL(resolve(dist, 'backend.js')).href);
  return new JsBackend();
};
const builds = [await create(distA), await create(distB)];
// Values in [−0.5, 0.5) from core's seeded generator, the same for both builds.
const rng = new SeededRandom(1);
const random = () => rng.next() - 0.5;
const xShape = [1, c, h, w];
const wShape = [cout, c, k, k];
const xs = Float32Array.from({ length: c * h * w }, random);
const ws = Float32Array.from({ length: wShape.reduce((p, q) => p * q) }, random);
const info = conv2dInfo(xShape, wShape, { padding: (k - 1) / 2, stride });
const inputs = builds.map((b) => [
  { dataId: b.write(xs.slice(), xShape, 'float32'), shape: xShape, dtype: 'float32' },
  { dataId: b.write(ws.slice(), wShape, 'float32'), shape: wShape, dtype: 'float32' },
]);
const once = (i) =>
  builds[i].disposeData(builds[i].conv2d(inputs[i][0], inputs[i][1], null, info, 'linear').dataId);
// Samples of ~40 ms (at most 20 convolutions), 40 pairs after 10 warm-up pairs.
const timed = alternatePairs(
  () => once(0),
  () => once(1),
  80,
);
const ms = [timed.a, timed.b];
const outputs = builds.map((b, i) =>
  b.readSync(b.conv2d(inputs[i][0], inputs[i][1], null, info, 'linear').dataId),
);
let largest = 0;
let worst = 0;
for (let i = 0; i < outputs[0].length; i++) {
  largest = Math.max(largest, Math.abs(outputs[0][i]));
  worst = Math.max(worst, Math.abs(outputs[0][i] - outputs[1][i]));
}
const label = `${k}×${k}${stride > 1 ? `/${stride}` : ''} ${c}×${h}×${w} → ${cout} (K ${c * k * k})`;
const fmt = (v) => `median ${median(v).toFixed(3)} ms, fastest ${Math.min(...v).toFixed(3)}`;
process.stdout.write(
  `${label}: A ${fmt(ms[0])} | B ${fmt(ms[1])} | A / B ${median(timed.ratios).toFixed(3)} (median of 40 pairs) | ` +
    `largest difference ${(worst / largest).toExponential(1)} of the largest output\n`,
);
