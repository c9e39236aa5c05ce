import { beforeAll, describe, expect, it } from 'vitest';
import { memory, registerBackend, setBackend } from '../engine.js';
import { KernelzooError } from '../errors.js';
import { tensor } from '../ops/creation.js';
import { storageBackend } from '../test-support/storage-backend.js';
import { BatchNorm2d } from './batchnorm.js';
import { Sequential } from './containers.js';
import { Conv2d } from './conv.js';
import { manualSeed, withoutInit } from './init.js';

beforeAll(async () => {
  registerBackend('mem', () => storageBackend('mem'));
  await setBackend('mem');
});

describe('withoutInit', () => {
  it('builds modules whose parameters take no memory until weights are loaded', () => {
    const before = memory();
    const net = withoutInit(() => new Sequential(new Conv2d(3, 4, 3), new BatchNorm2d(4)));
    const built = memory();
    // Only BatchNorm's optional num_batches_tracked (one int32) is real.
    expect(built.numBytes - before.numBytes).toBe(4);
    expect(net.numParameters()).toBe(4 * 3 * 9 + 4 + 4 + 4);
    const dict = new Map(
      [...net.stateDict()]
        .filter(([k]) => !k.endsWith('num_batches_tracked'))
        .map(([k, t]) => [k, tensor(new Float32Array(t.size).fill(0.5), t.shape)]),
    );
    net.loadStateDict(dict);
    expect(Array.from(net.stateDict().get('0.weight')!.dataSync().slice(0, 2))).toEqual([0.5, 0.5]);
    for (const t of dict.values()) t.dispose();
    net.dispose();
  });

  it('an unloaded placeholder makes the op that reads it say so', () => {
    const conv = withoutInit(() => new Conv2d(1, 1, 1));
    const x = tensor([1], [1, 1, 1, 1]);
    expect(() => conv.call(x)).toThrow(KernelzooError);
    expect(() => conv.call(x)).toThrow(
      /built without initial values \(nn.withoutInit\) and no weights were loaded/,
    );
    x.dispose();
    conv.dispose();
  });

  it('leaves seeded initialisation as a plain build gives it', () => {
    manualSeed(3);
    const a = new Conv2d(2, 2, 1).stateDict().get('weight')!.dataSync();
    manualSeed(3);
    withoutInit(() => new Conv2d(2, 2, 1)).dispose();
    manualSeed(3);
    expect(new Conv2d(2, 2, 1).stateDict().get('weight')!.dataSync()).toEqual(a);
  });
});
