import {
  adaptiveAvgPool2d,
  add,
  batchNorm,
  concat,
  conv2d,
  getBackend,
  keep,
  maxPool2d,
  memory,
  randomUniform,
  resizeBilinear,
  setBackend,
  sum,
  tidy,
} from '@kernelzoo/core';
import { expect, it } from 'vitest';
import type { WasmBackend } from './backend.js';
import { getThreads, registerWasmBackend, setThreads, wasmFeatures } from './index.js';

it('keeps memory flat over 1000 forward passes in Chromium with 2 Web Worker threads', async () => {
  expect(wasmFeatures().threadsUnavailable).toBeNull();
  registerWasmBackend({ threads: 2 });
  await setBackend('wasm');
  await setThreads(2);
  expect(getThreads()).toBe(2);
  const [x, w1, w2, mean, variance] = tidy(() =>
    [
      randomUniform([1, 8, 24, 20], -1, 1, { seed: 1 }),
      randomUniform([16, 8, 3, 3], -1, 1, { seed: 2 }),
      randomUniform([16, 4, 3, 3], -1, 1, { seed: 3 }),
      randomUniform([16], -1, 1, { seed: 4 }),
      randomUniform([16], 0.5, 1, { seed: 5 }),
    ].map((t) => keep(t)),
  );
  const backend = getBackend() as WasmBackend;
  const baseline = memory().numTensors;
  let heap = 0;
  for (let i = 0; i < 1000; i++) {
    const y = tidy(() => {
      const a = conv2d(x, w1, { padding: 1, activation: 'relu' });
      const b = batchNorm(conv2d(a, w2, { padding: 2, dilation: 2, groups: 4 }), mean, variance);
      const up = resizeBilinear(maxPool2d(add(a, b), 2, { stride: 2 }), [24, 20], false);
      return sum(concat([add(up, adaptiveAvgPool2d(up, 1)), a], 1));
    });
    expect(Number.isFinite(y.dataSync()[0])).toBe(true);
    y.dispose();
    if (i === 20) heap = backend.heapStats().memoryBytes;
  }
  expect(memory().numTensors).toBe(baseline);
  expect(backend.heapStats().memoryBytes).toBe(heap);
  for (const t of [x, w1, w2, mean, variance]) t.dispose();
  expect(backend.memory()).toEqual({ buffers: 0, bytes: 0 });
}, 120_000);
