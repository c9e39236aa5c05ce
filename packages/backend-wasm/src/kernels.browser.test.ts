import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WasmBackend } from './backend.js';
import { kernelCases } from './cases.js';
import { wasmFeatures } from './features.js';

it('has SIMD and threads in cross-origin isolated Chromium', () => {
  const f = wasmFeatures();
  expect(f.simd).toBe(true);
  expect(f.threads).toBe(true);
});

for (const [label, options] of [
  ['single-threaded (private memory)', { singleThreaded: true }],
  ['2 threads (shared memory, Web Workers)', { threads: 2 }],
] as const) {
  describe(`wasm kernels vs js reference in Chromium, ${label}`, () => {
    let b: WasmBackend;
    beforeAll(async () => {
      b = await WasmBackend.create(options);
    });
    afterAll(() => b.dispose());
    for (const c of kernelCases()) it(c.name, () => c.run(b));
  });
}
