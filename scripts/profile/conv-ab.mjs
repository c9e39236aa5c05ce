// Two builds of backend-wasm on one convolution, in one process: calls alternate between the
// builds (samples of ~20 ms, at most 20 convolutions; 40 each after 10 warm-up pairs), so the host's
// minute-to-minute drift reaches both alike. Prints each build's median and fastest ms per
// convolution, the median of the per-pair ratios A / B, and whether both gave the same bits.
// The A/B figures of docs/benchmarks.md ("Eighth round") come from it.
//   node scripts/profile/conv-ab.mjs <dist A> <dist B> <channels> <height> <width> <output channels>
//     [kernel] [groups] [dilation] [threads]
// Each dist is a copy of a build's packages/backend-wasm/dist placed inside
// packages/backend-wasm/node_modules/ (e.g. node_modules/.ab/base), where its imports resolve.
// e.g. … 128 56 56 128 3 32 (SKNet-50's first grouped 3×3), … 128 56 56 128 3 32 2 (its dilated one).

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { conv2dInfo, SeededRandom } from '../../packages/core/dist/index.js';
import { alternatePairs, median } from './timing.mjs';

const [distA, distB, ...rest] = process.argv.slice(2);
const [c, h, w, cout, k = 3, groups = 1, dilation = 1, threads = 1] = rest.map(Number);
if (distA === undefined || distB === undefined || !(c > 0 && h > 0 && w > 0 && cout > 0 && k % 2 === 1)) {
  process.stderr.write(
    'conv-ab: usage: conv-ab.mjs <dist A> <dist B> <channels> <height> <width> <output channels> [odd kernel] [groups] [dilation] [threads]\n',
  );
  process.exit(2);
}
const create = async (dist) => {
  const { WasmBackend } = await import(pathToFileURL(resolve(dist, 'backend.js')).href);
  return WasmBackend.create({ threads });
};
const builds = [await create(distA), await create(distB)];
// Values in [−0.5, 0.5) from core's seeded generator, the same for both builds.
const rng = new SeededRandom(1);
const random = () => rng.next() - 0.5;
const xShape = [1, c, h, w];
const wShape = [cout, c / groups, k, k];
const xs = Float32Array.from({ length: c * h * w }, random);
const ws = Float32Array.from({ length: wShape.reduce((p, q) => p * q) }, random);
const info = conv2dInfo(xShape, wShape, { padding: (dilation * (k - 1)) / 2, groups, dilation });
const inputs = builds.map((b) => [
  { dataId: b.write(xs.slice(), xShape, 'float32'), shape: xShape, dtype: 'float32' },
  { dataId: b.write(ws.slice(), wShape, 'float32'), shape: wShape, dtype: 'float32' },
]);
const once = (i) =>
  builds[i].disposeData(builds[i].conv2d(inputs[i][0], inputs[i][1], null, info, 'relu').dataId);
// Samples of ~20 ms (at most 20 convolutions), 40 pairs after 10 warm-up pairs.
const timed = alternatePairs(
  () => once(0),
  () => once(1),
  40,
);
const ms = [timed.a, timed.b];
const outputs = builds.map((b, i) =>
  b.readSync(b.conv2d(inputs[i][0], inputs[i][1], null, info, 'relu').dataId),
);
const same =
  outputs[0].length === outputs[1].length && outputs[0].every((v, i) => Object.is(v, outputs[1][i]));
const label = `${k}×${k}${groups > 1 ? ` G=${groups}` : ''}${dilation > 1 ? ` d=${dilation}` : ''} ${c}×${h}×${w} → ${cout}, ${threads} thread(s)`;
const fmt = (v) => `median ${median(v).toFixed(3)} ms, fastest ${Math.min(...v).toFixed(3)}`;
process.stdout.write(
  `${label}: A ${fmt(ms[0])} | B ${fmt(ms[1])} | A / B ${median(timed.ratios).toFixed(3)} (median of 40 pairs) | ${same ? 'same bits' : 'results differ'}\n`,
);
for (const b of builds) b.dispose();
process.exit(0);
