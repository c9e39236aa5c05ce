// Times one network's forward on backend-wasm (or backend-js) in this process: median and fastest
// of N runs after two warm-ups. The A/B figures of docs/benchmarks.md ("pool threads spin", the K
// block, backend-js's micro-kernel) come from it:
//   node scripts/profile/network-time.mjs <hrnet|sknet|spnet> <threads|js> <spin loads> [runs] [K block]
// (spin 0 = the workers sleep at once, the behaviour before; 32768 = the default; K block: the
// GEMM's largest K block, 256 by default, at most 512; spin and K block are backend-wasm's and
// ignored for js). Run after `pnpm build`.

import { registerJsBackend } from '../../packages/backend-js/dist/index.js';
import { registerWasmBackend } from '../../packages/backend-wasm/dist/index.js';
import { setKBlock } from '../../packages/backend-wasm/dist/kernels/gemm.js';
import { setSpin } from '../../packages/backend-wasm/dist/pool.js';
import { setBackend } from '../../packages/core/dist/index.js';
import { networkForward } from './networks.mjs';

const [which = 'hrnet', threads = '1', spin = '32768', runs = '7', kblock = '256'] = process.argv.slice(2);
const backend = threads === 'js' ? 'js' : 'wasm';
if (backend === 'js') registerJsBackend();
else {
  setSpin(Number(spin));
  setKBlock(Number(kblock));
  registerWasmBackend({ threads: Number(threads) });
}
await setBackend(backend);
const once = await networkForward(which, 'network-time');
const t = [];
for (let i = 0; i < Number(runs); i++) {
  const t0 = performance.now();
  await once();
  t.push(performance.now() - t0);
}
t.sort((a, b) => a - b);
process.stdout.write(
  `${which} on ${backend === 'js' ? 'js' : `wasm, ${threads} thread(s), spin ${spin}, K block ${kblock}`}: median ${t[t.length >> 1].toFixed(1)} ms, fastest ${t[0].toFixed(1)} ms (${runs} runs)\n`,
);
process.exit(0);
