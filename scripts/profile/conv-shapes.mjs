// Per-shape convolution time of a network's forward on backend-wasm (or backend-js), from the
// runtime trace (sum over 3 traced forwards ÷ 3): the HRNet shape tables of docs/benchmarks.md.
//   node scripts/profile/conv-shapes.mjs <hrnet|sknet|spnet> <threads|js>
// Run after `pnpm build`.

import { registerJsBackend } from '../../packages/backend-js/dist/index.js';
import { registerWasmBackend } from '../../packages/backend-wasm/dist/index.js';
import { setBackend, startKernelTrace } from '../../packages/core/dist/index.js';
import { networkForward } from './networks.mjs';

const [which = 'hrnet', threads = '1'] = process.argv.slice(2);
const backend = threads === 'js' ? 'js' : 'wasm';
if (backend === 'js') registerJsBackend();
else registerWasmBackend({ threads: Number(threads) });
await setBackend(backend);
const once = await networkForward(which, 'conv-shapes');
const REPS = 3;
const byShape = new Map();
let total = 0;
for (let r = 0; r < REPS; r++) {
  const trace = startKernelTrace();
  await once();
  trace.stop();
  for (const c of trace.calls) {
    total += c.ms;
    if (c.kernel !== 'conv2d') continue;
    const [xs, ws] = c.inputShapes;
    const stride = xs[2] === c.outputShape[2] ? '' : ` /${xs[2] / c.outputShape[2]}`;
    const key = `x [${xs.slice(1)}] w [${ws}]${stride}`;
    const macs = ws[0] * ws[1] * ws[2] * ws[3] * c.outputShape[2] * c.outputShape[3];
    const s = byShape.get(key) ?? { calls: 0, ms: 0, macs };
    s.calls++;
    s.ms += c.ms;
    byShape.set(key, s);
  }
}
process.stdout.write(
  `${which} on ${backend === 'js' ? 'js' : `wasm, ${threads} thread(s)`}: ${(total / REPS).toFixed(1)} ms in kernels per forward\n`,
);
for (const [key, s] of [...byShape].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12))
  process.stdout.write(
    `${(s.ms / REPS).toFixed(1).padStart(7)} ms  ×${s.calls / REPS}  ${((2 * s.macs * s.calls) / s.ms / 1e6).toFixed(1)} GFLOP/s  ${key}\n`,
  );
process.exit(0);
