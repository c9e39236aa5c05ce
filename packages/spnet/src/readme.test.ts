import { readFile } from 'node:fs/promises';
import { getModel } from '@kernelzoo/core';
import { beforeAll, expect, it } from 'vitest';
import { exampleInput, segment } from '../examples/segment.ts';
import { useJs } from './test-support/helpers.js';

beforeAll(useJs); // the example's input is made before it selects the backend

it("README's usage example is examples/segment.ts, from its imports on", async () => {
  const example = await readFile(new URL('../examples/segment.ts', import.meta.url), 'utf8');
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
});

it('the example labels every pixel of a 1×3×64×64 input with spnet50_ade20k (seeded)', async () => {
  const x = exampleInput();
  const labels = await segment('spnet50_ade20k', x);
  expect(labels.shape).toEqual([1, 64, 64]);
  const n = getModel('spnet50_ade20k').numClasses;
  expect(Array.from(labels.dataSync()).every((v) => Number.isInteger(v) && v >= 0 && v < n)).toBe(true);
  x.dispose();
  labels.dispose();
}, 300_000);
