// backend-wasm's 3×3 stride-1 convolutions by the im2col GEMM and by Winograd F(2×2, 3×3), on
// the same arrays, one thread: median ms of each (alternated, 2 rounds), the speed-up, and each
// path's largest error against a float64 direct convolution in units of ε·Σ|x·w| (ε = 2⁻²⁴,
// the measure of the conformance suite's accumulation bound). The figures of the "backend-wasm:
// Winograd F(2×2, 3×3)" section of docs/benchmarks.md come from it:
//   node scripts/profile/wasm-winograd.mjs [c h w [cout]]
// (default: HRNet-W32's 3×3 stride-1 shapes, then ResNet-50's). Run after `pnpm build`. The
// 8×6 row is forced through Winograd to show why it is not taken there (48 pixels).

import { WasmBackend } from '../../packages/backend-wasm/dist/backend.js';
import { setWinogradMode } from '../../packages/backend-wasm/dist/kernels/winograd.js';
import { oracle } from '../../packages/conformance/dist/index.js';
import { conv2dInfo, SeededRandom } from '../../packages/core/dist/index.js';
import { median } from './timing.mjs';

const args = process.argv.slice(2).map(Number);
const shapes =
  args.length >= 3
    ? [[args[0], args[1], args[2], args[3] ?? args[0]]]
    : [
        [32, 64, 48, 32],
        [64, 32, 24, 64],
        [64, 64, 48, 64],
        [256, 64, 48, 32],
        [128, 16, 12, 128],
        [256, 8, 6, 256],
        [64, 56, 56, 64],
        [128, 28, 28, 128],
        [256, 14, 14, 256],
      ];
const b = await WasmBackend.create({ threads: 1 });
// Values in [−0.5, 0.5) from core's seeded generator.
const rng = new SeededRandom(1);
const random = () => rng.next() - 0.5;
const put = (values, shape) => ({ dataId: b.write(values, shape, 'float32'), shape, dtype: 'float32' });

const rows = [];
for (const [c, h, w, cout] of shapes) {
  const xv = Float32Array.from({ length: c * h * w }, random);
  const wv = Float32Array.from({ length: cout * c * 9 }, random);
  const x = put(xv, [1, c, h, w]);
  const weights = put(wv, [cout, c, 3, 3]);
  const info = conv2dInfo([1, c, h, w], [cout, c, 3, 3], { padding: 1 });
  // The float64 convolution and Σ|x·w| per output: the conformance suite's oracle.
  const { values: exact, magnitude: mag } = oracle.accumulate.convolve(
    { shape: [1, c, h, w], dtype: 'float32', values: xv },
    { shape: [cout, c, 3, 3], dtype: 'float32', values: wv },
    { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1, bias: null },
  );
  const runs = Math.max(20, Math.min(400, Math.round(3e8 / (cout * c * 9 * h * w))));
  const ms = { gemm: [], winograd: [] };
  const err = { gemm: 0, winograd: 0 };
  for (let round = 0; round < 2; round++)
    for (const path of ['gemm', 'winograd']) {
      setWinogradMode(path === 'winograd' ? 'always' : 'never');
      for (let r = 0; r < runs; r++) {
        const t0 = performance.now();
        const y = b.conv2d(x, weights, null, info, 'linear');
        ms[path].push(performance.now() - t0);
        if (r === 0) {
          const got = b.readSync(y.dataId);
          for (let i = 0; i < got.length; i++)
            err[path] = Math.max(err[path], Math.abs(got[i] - exact[i]) / (2 ** -24 * mag[i]));
        }
        b.disposeData(y.dataId);
      }
    }
  const g = median(ms.gemm);
  const wi = median(ms.winograd);
  rows.push(
    `| ${c}×${h}×${w} → ${cout} | ${g.toFixed(3)} | ${wi.toFixed(3)} | ${(g / wi).toFixed(2)}× | ${err.gemm.toFixed(2)} | ${err.winograd.toFixed(2)} |`,
  );
  b.disposeData(x.dataId);
  b.disposeData(weights.dataId);
}
setWinogradMode('auto');
process.stdout.write(
  '| convolution | im2col GEMM ms | Winograd ms | speed-up | GEMM max err / (ε·Σ|x·w|) | Winograd max err / (ε·Σ|x·w|) |\n|---|---|---|---|---|---|\n',
);
process.stdout.write(`${rows.join('\n')}\n`);
b.dispose();
process.exit(0);
