// Times one network's forward on backend-wasm in this process: median and fastest of N runs after
// two warm-ups. The A/B figures of docs/benchmarks.md ("pool threads spin") come from it:
//   node scripts/profile/network-time.mjs <hrnet|sknet> <threads> <spin loads> [runs]
// (spin 0 = the workers sleep at once, the behaviour before; 32768 = the default). Run after
// `pnpm build`.

import { registerWasmBackend } from '../../packages/backend-wasm/dist/index.js';
import { setSpin } from '../../packages/backend-wasm/dist/pool.js';
import { nn, setBackend, tensor } from '../../packages/core/dist/index.js';
import { hrnetPose } from '../../packages/hrnet/dist/index.js';
import { sknet50 } from '../../packages/sknet/dist/index.js';

const [which = 'hrnet', threads = '1', spin = '32768', runs = '7'] = process.argv.slice(2);
setSpin(Number(spin));
registerWasmBackend({ threads: Number(threads) });
await setBackend('wasm');
nn.manualSeed(0);
const net = (which === 'hrnet' ? hrnetPose({ width: 32 }) : sknet50()).eval();
const shape = which === 'hrnet' ? [1, 3, 256, 192] : [1, 3, 224, 224];
const x = tensor(new Float32Array(shape.reduce((a, b) => a * b)).fill(0.1), shape);
const once = async () => {
  const y = net.call(x);
  await y.data();
  y.dispose();
};
await once();
await once();
const t = [];
for (let i = 0; i < Number(runs); i++) {
  const t0 = performance.now();
  await once();
  t.push(performance.now() - t0);
}
t.sort((a, b) => a - b);
process.stdout.write(
  `${which} on wasm, ${threads} thread(s), spin ${spin}: median ${t[t.length >> 1].toFixed(1)} ms, fastest ${t[0].toFixed(1)} ms (${runs} runs)\n`,
);
process.exit(0);
