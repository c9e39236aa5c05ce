import { registerJsBackend } from '@kernelzoo/backend-js';
import { setBackend, tensor } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { IMAGENET_1K_LABELS } from './imagenet-1k.js';
import { classify, softmaxRow, topK } from './postprocess.js';

describe('softmax / top-k', () => {
  it('softmax sums to one and survives large logits', () => {
    const p = softmaxRow([1000, 1000, 999]);
    expect(p[0]).toBeCloseTo(p[1], 15);
    expect(p[0] + p[1] + p[2]).toBeCloseTo(1, 15);
    expect(p[2] / p[0]).toBeCloseTo(Math.exp(-1), 12);
  });

  it('orders by logit, ties by index, and names the classes', () => {
    const r = topK([0, 3, 1, 3], 3, ['a', 'b', 'c', 'd']);
    expect(r.map((x) => [x.index, x.label])).toEqual([
      [1, 'b'],
      [3, 'd'],
      [2, 'c'],
    ]);
    expect(topK([1, 2], 5).length).toBe(2);
    expect(() => topK([1, 2], 0)).toThrow(/'k'/);
    expect(() => topK([1, 2], 1, ['a'])).toThrow(/2 names/);
    expect(() => topK([1, Number.NaN], 1)).toThrow(/NaN at 1/);
  });
});

describe('classify', () => {
  beforeAll(async () => {
    registerJsBackend();
    await setBackend('js');
  });

  it('reads [N, 1000] logits and returns ImageNet names', async () => {
    const logits = new Float32Array(2000);
    logits[281] = 9; // tabby
    logits[1000 + 1] = 5; // goldfish
    const t = tensor(logits, [2, 1000]);
    const [a, b] = await classify(t, { k: 2, labels: IMAGENET_1K_LABELS });
    expect(a[0]).toMatchObject({ index: 281, label: 'tabby' });
    expect(b[0]).toMatchObject({ index: 1, label: 'goldfish' });
    t.dispose();
  });
});

describe('IMAGENET_1K_LABELS', () => {
  it('has 1000 names in the standard order', () => {
    expect(IMAGENET_1K_LABELS.length).toBe(1000);
    expect(IMAGENET_1K_LABELS[0]).toBe('tench');
    expect(IMAGENET_1K_LABELS[207]).toBe('golden retriever');
    expect(IMAGENET_1K_LABELS[999]).toBe('toilet tissue');
  });
});
