import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';

// The README's usage example is examples/estimate-pose.ts (type-checked, run by pose-example.test.ts).
it("README's usage example is examples/estimate-pose.ts, from its imports on", async () => {
  const example = await readFile(new URL('../examples/estimate-pose.ts', import.meta.url), 'utf8');
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  const body = example.slice(example.indexOf('import { registerWasmBackend }'));
  expect(readme).toContain(`\`\`\`ts\n${body}\`\`\``);
});
