import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';

// The README's browser example is browser-input.ts (type-checked; run in Chromium by
// browser-input.browser.test.ts), shown importing the package by name.
it("README's browser example is src/examples/browser-input.ts, importing '@kernelzoo/vision'", async () => {
  const example = await readFile(new URL('./browser-input.ts', import.meta.url), 'utf8');
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const shown = example.replace("from '../browser.js'", "from '@kernelzoo/vision'");
  expect(shown).not.toBe(example);
  expect(readme).toContain(`\`\`\`ts\n${shown}\`\`\``);
});
