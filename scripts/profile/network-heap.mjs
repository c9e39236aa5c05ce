// The WebAssembly memory of one network on backend-wasm, after building it and after each
// forward: its size (which never shrinks), the bytes the allocator has handed out, and the
// tensors' bytes. The memory figures of docs/benchmarks.md ("Memory of a forward") come from it:
//   node scripts/profile/network-heap.mjs <hrnet|sknet|spnet> [forwards] [threads]
// (hrnet = HRNet-W32 pose at 256×192, sknet = SKNet-50 at 224², spnet = SPNet-50 ADE20K at
// 480²; seeded weights, eval mode). Run after `pnpm build`.

import { registerWasmBackend } from '../../packages/backend-wasm/dist/index.js';
import { getBackend, randomNormal, setBackend } from '../../packages/core/dist/index.js';
import { buildNetwork } from './networks.mjs';

const [which = 'hrnet', forwards = '5', threads = '1'] = process.argv.slice(2);
registerWasmBackend({ threads: Number(threads) });
await setBackend('wasm');
const backend = getBackend();
const mib = (n) => (n / 2 ** 20).toFixed(1);
const show = (when) => {
  const h = backend.heapStats();
  process.stdout.write(
    `${which} ${when}: memory ${mib(h.memoryBytes)} MiB, allocated ${mib(h.usedBytes)} MiB, tensors ${mib(backend.memory().bytes)} MiB\n`,
  );
};
show('start');
const { net, shape } = buildNetwork(which, 'network-heap');
show('built');
const x = randomNormal(shape, 0, 1, { seed: 1 });
for (let i = 1; i <= Number(forwards); i++) {
  const y = net.call(x);
  await y.data();
  y.dispose();
  show(`forward ${i}`);
}
process.exit(0);
