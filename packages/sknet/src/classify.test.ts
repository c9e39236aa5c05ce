import { fileURLToPath } from 'node:url';
import { registerWasmBackend } from '@kernelzoo/backend-wasm';
import { memory, setBackend } from '@kernelzoo/core';
import { IMAGENET_1K_LABELS, readImage } from '@kernelzoo/vision';
import { loadModel } from '@kernelzoo/weights';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifyImage } from '../examples/classify-image.ts';
import './index.js';

// The README's example (examples/classify-image.ts) end to end on a real photograph — vision's
// chelsea.png (451×300) through timm's eval transform at 224, the network, softmax top-5 with
// ImageNet-1k names, and the per-stage attention. No trained weights are stored here, so the
// network is seeded (loadModel without a source): the test holds the pipeline, not the class.
const CHELSEA = fileURLToPath(new URL('../../vision/fixtures/chelsea.png', import.meta.url));

beforeAll(async () => {
  registerWasmBackend();
  await setBackend('wasm');
});

describe('classification end to end through @kernelzoo/vision', () => {
  it('skresnet18 (seeded) on chelsea: top-5 with ImageNet names, probabilities, attention per stage', async () => {
    const before = memory().numTensors;
    const image = await readImage(CHELSEA);
    expect([image.width, image.height]).toEqual([451, 300]);
    const { model, entry } = await loadModel('skresnet18', undefined, { seed: 18 });
    expect(entry.inputSize).toEqual([224, 224]);
    const { top5, probabilities, attention } = await classifyImage(model, image, entry);

    // One row of 1000 probabilities summing to 1.
    expect(probabilities).toHaveLength(1000);
    expect(probabilities.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 12);

    expect(top5).toHaveLength(5);
    for (const p of top5) {
      expect(Number.isInteger(p.index) && p.index >= 0 && p.index < 1000).toBe(true);
      expect(p.label).toBe(IMAGENET_1K_LABELS[p.index]);
      expect(p.label.length).toBeGreaterThan(0);
      expect(p.probability).toBeGreaterThan(0);
      expect(p.probability).toBeLessThanOrEqual(1);
      expect(p.probability).toBeCloseTo(probabilities[p.index], 15);
    }
    // Most probable first, and no class outside the top 5 above its last.
    for (let i = 1; i < 5; i++) expect(top5[i].probability).toBeLessThanOrEqual(top5[i - 1].probability);
    expect(Math.max(...probabilities.filter((_, i) => !top5.some((p) => p.index === i)))).toBeLessThanOrEqual(
      top5[4].probability,
    );
    const p0 = top5[0];
    // p_i / p_0 = exp(logit_i − logit_0): the probabilities are a softmax of the logits.
    for (const p of top5)
      expect(p.probability / p0.probability).toBeCloseTo(Math.exp(p.logit - p0.logit), 10);

    // The per-stage attention: four stages, skresnet18's 2 blocks each, finite differences in [−1, 1].
    expect(attention.map((s) => s.stage)).toEqual([0, 1, 2, 3]);
    for (const s of attention) {
      expect(s.units).toHaveLength(2);
      expect(Math.abs(s.meanDifference)).toBeLessThanOrEqual(1);
    }

    model.dispose();
    expect(memory().numTensors).toBe(before);
  }, 120_000);
});
