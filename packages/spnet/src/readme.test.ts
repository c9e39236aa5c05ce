import { readFile } from 'node:fs/promises';
import { getModel, nn, randomNormal } from '@kernelzoo/core';
import { spnet50 } from '@kernelzoo/spnet';
import { beforeAll, expect, it } from 'vitest';
import { exampleInput, segment } from '../examples/segment.ts';
import { lastGate } from '../examples/strip-features.ts';
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

it("README's feature capture example is examples/strip-features.ts; it returns SPNet-50's last gate in (0, 1)", async () => {
  const example = await readFile(new URL('../examples/strip-features.ts', import.meta.url), 'utf8');
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
  nn.manualSeed(3);
  const net = spnet50(4).eval();
  const x = randomNormal([1, 3, 40, 24], 0, 1, { seed: 4 });
  const { logits, gate } = lastGate(net, x);
  expect(logits.shape).toEqual([1, 4, 40, 24]);
  expect(gate.shape).toEqual([1, 512, 5, 3]);
  expect(Array.from(gate.dataSync()).every((v) => v > 0 && v < 1)).toBe(true);
  for (const t of [x, logits, gate]) t.dispose();
  net.dispose();
}, 60_000);
