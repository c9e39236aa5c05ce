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
import { conv2dInfo } from '../../packages/core/dist/index.js';

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
let seed = 1;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648 - 0.5;
};
const put = (values, shape) => ({ dataId: b.write(values, shape, 'float32'), shape, dtype: 'float32' });

/** The float64 convolution and Σ|x·w| per output (padding 1, no bias). */
function reference(x, w, c, h, wd, cout) {
  const exact = new Float64Array(cout * h * wd);
  const mag = new Float64Array(cout * h * wd);
  for (let o = 0; o < cout; o++)
    for (let y = 0; y < h; y++)
      for (let z = 0; z < wd; z++) {
        let s = 0;
        let a = 0;
        for (let i = 0; i < c; i++)
          for (let ky = 0; ky < 3; ky++) {
            const iy = y + ky - 1;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < 3; kx++) {
              const ix = z + kx - 1;
              if (ix < 0 || ix >= wd) continue;
              const t = x[(i * h + iy) * wd + ix] * w[((o * c + i) * 3 + ky) * 3 + kx];
              s += t;
              a += Math.abs(t);
            }
          }
        exact[(o * h + y) * wd + z] = s;
        mag[(o * h + y) * wd + z] = a;
      }
  return { exact, mag };
}

const rows = [];
for (const [c, h, w, cout] of shapes) {
  const xv = Float32Array.from({ length: c * h * w }, random);
  const wv = Float32Array.from({ length: cout * c * 9 }, random);
  const x = put(xv, [1, c, h, w]);
  const weights = put(wv, [cout, c, 3, 3]);
  const info = conv2dInfo([1, c, h, w], [cout, c, 3, 3], { padding: 1 });
  const { exact, mag } = reference(xv, wv, c, h, w, cout);
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
  const median = (t) => t.sort((p, q) => p - q)[t.length >> 1];
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
