import { afterAll, beforeAll, describe, it } from 'vitest';
import { WasmBackend } from './backend.js';
import { kernelCases } from './cases.js';

for (const threads of [1, 2]) {
  describe(`wasm kernels vs js reference, ${threads} thread(s)`, () => {
    let b: WasmBackend;
    beforeAll(async () => {
      b = await WasmBackend.create({ threads });
    });
    afterAll(() => b.dispose());
    for (const c of kernelCases()) it(c.name, () => c.run(b));
    it('leaves no buffers behind', () => {
      if (b.memory().buffers !== 0) throw new Error(`${b.memory().buffers} buffers left`);
    });
  });
}
