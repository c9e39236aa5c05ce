import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WasmBackend } from './backend.js';
import { kernelCases } from './cases.js';
import { wasmFeatures } from './features.js';

it('has SIMD, relaxed SIMD and threads in cross-origin isolated Chromium', async () => {
  const f = wasmFeatures();
  expect(f.simd).toBe(true);
  expect(f.relaxedSimd).toBe(true);
  expect(f.threads).toBe(true);
  const b = await WasmBackend.create({ threads: 2 });
  expect(b.variant).toBe('relaxed-simd+threads');
  b.dispose();
});

for (const [label, options] of [
  ['single-threaded (private memory), relaxed SIMD', { singleThreaded: true }],
  ['2 threads (shared memory, Web Workers), relaxed SIMD', { threads: 2 }],
  ['2 threads, plain SIMD128 build', { threads: 2, relaxedSimd: false }],
] as const) {
  describe(`wasm kernels vs the conformance oracles in Chromium, ${label}`, () => {
    let b: WasmBackend;
    beforeAll(async () => {
      b = await WasmBackend.create(options);
    });
    afterAll(() => b.dispose());
    for (const c of kernelCases()) it(c.name, () => c.run(b));
  });
}
