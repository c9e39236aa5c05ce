import { describe, expect, it } from 'vitest';
import {
  dispose,
  getBackendName,
  keep,
  memory,
  ready,
  registerBackend,
  setBackend,
  setDebug,
  tidy,
  traceShapes,
} from './engine.js';
import { BackendError, DisposedError, KernelzooError } from './errors.js';
import { conv2d } from './ops/conv.js';
import { tensor, zeros } from './ops/creation.js';
import { add } from './ops/elementwise.js';
import { reshape } from './ops/transform.js';
import { storageBackend } from './test-support/storage-backend.js';
import type { Shape } from './types.js';

describe('engine', () => {
  it('explains when no backend is registered', async () => {
    await expect(ready()).rejects.toThrow(/no backend is registered/);
    expect(() => zeros([2])).toThrow(BackendError);
  });

  it('registers, initialises and reports failures per backend', async () => {
    registerBackend(
      'broken',
      () => {
        throw new Error('no WebGL2 here');
      },
      5,
    );
    registerBackend('mem', () => storageBackend('mem'), 1);
    await expect(setBackend('broken')).rejects.toThrow(
      "backend 'broken' failed to initialise: no WebGL2 here",
    );
    await expect(setBackend('nope')).rejects.toThrow(
      /no backend named 'nope' is registered; registered: broken, mem/,
    );
    expect(() => registerBackend('mem', () => storageBackend('mem'))).toThrow(/already registered/);
    await ready(); // falls through to the next backend by priority
    expect(getBackendName()).toBe('mem');
  });

  it('tidy disposes what it made except what it returns or keeps', async () => {
    await setBackend('mem');
    const base = memory().numTensors;
    const a = tensor([1, 2, 3]);
    let kept = a;
    const out = tidy(() => {
      const b = add(a, a);
      kept = keep(add(b, a));
      const c = add(b, b);
      return { c, list: [add(c, a)] };
    });
    expect(memory().numTensors).toBe(base + 4);
    expect(Array.from(await out.c.data())).toEqual([4, 8, 12]);
    expect(Array.from(out.list[0].dataSync())).toEqual([5, 10, 15]);
    expect(Array.from(kept.dataSync())).toEqual([3, 6, 9]);
    dispose([a, out, kept]);
    expect(memory().numTensors).toBe(base);
    expect(memory().backends.mem.buffers).toBe(0);
    expect(() => a.dataSync()).toThrow(DisposedError);
  });

  it('refuses async functions in tidy and cleans up on throw', () => {
    const base = memory().numTensors;
    expect(() => tidy(() => Promise.resolve() as never)).toThrow(/returned a Promise/);
    expect(() =>
      tidy(() => {
        zeros([4]);
        throw new KernelzooError('boom');
      }),
    ).toThrow('boom');
    expect(memory().numTensors).toBe(base);
  });

  it('reshape shares the buffer and frees it with the last view', () => {
    const base = memory();
    const a = tensor([1, 2, 3, 4], [2, 2]);
    const v = reshape(a, [4]);
    expect(memory().numDataBuffers).toBe(base.numDataBuffers + 1);
    a.dispose();
    expect(Array.from(v.dataSync())).toEqual([1, 2, 3, 4]);
    v.dispose();
    expect(memory().numDataBuffers).toBe(base.numDataBuffers);
    expect(memory().numBytes).toBe(base.numBytes);
  });

  it('moves tensors to the active backend when used there, written with their shape', async () => {
    const writes: Shape[] = [];
    registerBackend('mem2', () => storageBackend('mem2', false, writes));
    await setBackend('mem');
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    await setBackend('mem2');
    const b = add(a, a);
    expect(a.backendName).toBe('mem2');
    // A backend that lays data out by shape (gpujs) must get the real shape, not a flat one.
    expect(writes[0]).toEqual([2, 3]);
    expect(Array.from(b.dataSync())).toEqual([2, 4, 6, 8, 10, 12]);
    expect(memory().backends.mem.buffers).toBe(0);
    dispose([a, b]);
    await setBackend('mem');
  });

  it('the leak check names a kernel that leaves buffers behind', async () => {
    registerBackend('leaky', () => storageBackend('leaky', true));
    await setBackend('leaky');
    const a = tensor([1]);
    setDebug({ checkLeaks: true });
    expect(() => add(a, a)).toThrow('add: the leaky kernel left 1 buffer(s) behind (leak check)');
    setDebug({});
    a.dispose();
    await setBackend('mem');
  });

  it('traces shapes and multiply-adds without running kernels', () => {
    const before = memory();
    const seen: [string, readonly number[], number][] = [];
    traceShapes(
      () =>
        tidy(() => {
          const x = zeros([2, 3, 8, 8]);
          const w = zeros([4, 3, 3, 3]);
          conv2d(x, w, { padding: 1 });
        }),
      (op, shape, macs) => seen.push([op, shape, macs]),
    );
    // 2 images × 4 output channels × 8 × 8 pixels × 3 input channels × 3 × 3 taps.
    expect(seen).toEqual([['conv2d', [2, 4, 8, 8], 2 * 4 * 64 * 27]]);
    expect(memory()).toEqual(before);
  });
});
