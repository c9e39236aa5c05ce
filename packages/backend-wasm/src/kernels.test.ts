import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setDirectThresholds, WasmBackend } from './backend.js';
import { kernelCases } from './cases.js';

for (const threads of [1, 2]) {
  describe(`wasm kernels vs js reference, ${threads} thread(s)`, () => {
    let b: WasmBackend;
    beforeAll(async () => {
      b = await WasmBackend.create({ threads });
    });
    afterAll(() => b.dispose());
    for (const c of kernelCases()) it(c.name, () => c.run(b));
    it('reports the build it runs', () => {
      expect(b.variant).toMatch(/^(relaxed-)?simd\+threads$/);
    });
    it('leaves no buffers behind', () => {
      if (b.memory().buffers !== 0) throw new Error(`${b.memory().buffers} buffers left`);
    });
  });
}

// Every convolution through each path: the GEMM (implicit im2col) and the direct kernel.
for (const [path, grouped, dense] of [
  ['GEMM', 0, 0],
  ['direct', 1 << 20, 1 << 20],
] as const) {
  describe(`wasm conv2d, every case through the ${path} path, 2 threads`, () => {
    let b: WasmBackend;
    beforeAll(async () => {
      b = await WasmBackend.create({ threads: 2 });
      setDirectThresholds(grouped, dense);
    });
    afterAll(() => {
      setDirectThresholds(64, 0);
      b.dispose();
    });
    for (const c of kernelCases().filter((k) => k.name.startsWith('conv2d'))) it(c.name, () => c.run(b));
  });
}
