// CPU time per call of a mean over H×W of [1, 256, 28, 28] on backend-wasm (1 thread), beside a
// broadcast multiply of the same size: the "reductions fold in registers" figure of
// docs/benchmarks.md.   node scripts/profile/reduce-time.mjs   (after `pnpm build`)

import { registerWasmBackend } from '../../packages/backend-wasm/dist/index.js';
import { mean, mul, setBackend, tensor } from '../../packages/core/dist/index.js';

registerWasmBackend({ threads: 1 });
await setBackend('wasm');
const a = tensor(new Float32Array(256 * 28 * 28).fill(0.5), [1, 256, 28, 28]);
const b = tensor(new Float32Array(256).fill(2), [1, 256, 1, 1]);
const time = (name, fn) => {
  for (let i = 0; i < 5; i++) fn().dispose();
  const n = 50;
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn().dispose();
  const u = process.cpuUsage(c0);
  process.stdout.write(`${name}: ${((u.user + u.system) / 1000 / n).toFixed(3)} ms CPU per call\n`);
};
time('mean over H×W of [1,256,28,28]', () => mean(a, [2, 3], true));
time('mul [1,256,28,28] × [1,256,1,1]', () => mul(a, b));
process.exit(0);
