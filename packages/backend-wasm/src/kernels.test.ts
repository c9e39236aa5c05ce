import type { Conv2dInfo, TensorInfo } from '@kernelzoo/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WasmBackend } from './backend.js';
import { kernelCases } from './cases.js';
import { setParallelThreshold } from './context.js';
import { setConvPath, setDirectThresholds } from './kernels/conv2d.js';
import { compare, floats, rng } from './test-util.js';

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

// Every convolution through each path: the GEMM with packed B (implicit im2col), the GEMM
// with B read in place from a padded input (unpacked), and the direct kernel.
for (const [path, grouped, dense, convPath] of [
  ['packed GEMM', 0, 0, 'packed'],
  ['unpacked GEMM', 0, 0, 'unpacked'],
  ['direct', 1 << 20, 1 << 20, 'auto'],
] as const) {
  for (const threads of [1, 2]) {
    describe(`wasm conv2d, every case through the ${path} path, ${threads} thread(s)`, () => {
      let b: WasmBackend;
      beforeAll(async () => {
        b = await WasmBackend.create({ threads });
        setDirectThresholds(grouped, dense);
        setConvPath(convPath);
        if (threads > 1) setParallelThreshold(0);
      });
      afterAll(() => {
        setDirectThresholds(64, 0);
        setConvPath('auto');
        setParallelThreshold(1 << 16);
        b.dispose();
      });
      for (const c of kernelCases().filter((k) => k.name.startsWith('conv2d'))) it(c.name, () => c.run(b));
      it('leaves no buffers behind', () => {
        if (b.memory().buffers !== 0) throw new Error(`${b.memory().buffers} buffers left`);
      });
    });
  }
}

describe('wasm conv2d packed-weight cache', () => {
  const info: Conv2dInfo = {
    batch: 1,
    inChannels: 8,
    inHeight: 9,
    inWidth: 11,
    outChannels: 12,
    outHeight: 9,
    outWidth: 11,
    kernelHeight: 3,
    kernelWidth: 3,
    strideHeight: 1,
    strideWidth: 1,
    dilationHeight: 1,
    dilationWidth: 1,
    padTop: 1,
    padBottom: 1,
    padLeft: 1,
    padRight: 1,
    groups: 1,
  };
  for (const path of ['packed', 'unpacked'] as const) {
    it(`reuses packed weights until they are disposed (${path} path)`, async () => {
      const b = await WasmBackend.create({ threads: 1 });
      setConvPath(path);
      try {
        const r = rng(5);
        const x = floats(r, [1, 8, 9, 11]);
        const put = (h: ReturnType<typeof floats>): TensorInfo => ({
          dataId: b.write(h.values.slice(), h.shape, 'float32'),
          shape: h.shape,
          dtype: 'float32',
        });
        const xi = put(x);
        let used = -1;
        for (let round = 0; round < 4; round++) {
          // A fresh weight buffer each round, most likely at the address of the last one.
          const wh = floats(r, [12, 8, 3, 3]);
          const w = put(wh);
          const y1 = b.conv2d(xi, w, null, info, 'linear');
          const y2 = b.conv2d(xi, w, null, info, 'linear'); // from the cache
          expect(b.readSync(y2.dataId)).toEqual(b.readSync(y1.dataId));
          b.disposeData(y1.dataId);
          b.disposeData(y2.dataId);
          compare(b, [x, wh], (be, [xx, ww]) => be.conv2d(xx!, ww!, null, info, 'linear'), `round ${round}`);
          b.disposeData(w.dataId);
          // Disposing the weights frees their packed copy: the heap does not grow.
          if (round === 0) used = b.heapStats().usedBytes;
          else expect(b.heapStats().usedBytes).toBe(used);
        }
        b.disposeData(xi.dataId);
        expect(b.memory().buffers).toBe(0);
      } finally {
        setConvPath('auto');
        b.dispose();
      }
    });
  }
});
