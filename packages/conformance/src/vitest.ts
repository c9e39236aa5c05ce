/**
 * `@kernelzoo/conformance/vitest`: the suite as vitest `describe`/`it` blocks. This is the
 * only module of the package that imports `vitest` (an optional peer dependency); the main
 * entry, with `runConformance`, works without it.
 *
 * ```ts
 * // src/conformance.test.ts of a backend package
 * import { describeConformance } from '@kernelzoo/conformance/vitest';
 * import { setBackend } from '@kernelzoo/core';
 * import { registerMyBackend } from './index.js';
 *
 * describeConformance({
 *   name: 'mine',
 *   setup: async () => {
 *     registerMyBackend();
 *     await setBackend('mine');
 *   },
 * });
 * ```
 *
 * @module
 */
import { setBackend, setDebug } from '@kernelzoo/core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { ConformanceEnv } from './env.js';
import { validateGaps } from './run.js';
import { gapOf, makeContext, runCase } from './runner.js';
import { conformanceGroups } from './suite.js';
import { precisionFor } from './tolerances.js';

/**
 * Registers the conformance suite for one backend configuration as vitest `describe`/`it`
 * blocks: every kernel against the oracles (randomised shapes, edge cases, error cases, a
 * leak check per case), plus the engine and nn behaviour every backend must keep. Call it at
 * the top level of a test file. `setup` runs once before the cases; the engine's leak check
 * (`setDebug({ checkLeaks: true })`) is on while they run. `runConformance` (main entry) runs
 * the same cases without vitest.
 */
export function describeConformance(env: ConformanceEnv): void {
  const ctx = makeContext(env.name, precisionFor(env.name, env.precision));
  describe(`conformance: ${env.name}`, () => {
    beforeAll(async () => {
      await env.setup();
      await setBackend(env.name);
      setDebug({ checkLeaks: true });
    });
    afterAll(() => {
      setDebug({});
    });
    it('declares gaps only for kernels of the Backend interface, each with a reason', () => {
      validateGaps(env);
    });
    for (const [title, cases] of conformanceGroups(env.name))
      describe(title, () => {
        for (const c of cases) {
          const gap = gapOf(env, c.needs);
          const name = gap ? `${c.name} [gap '${gap.key}': must throw]` : c.name;
          it(name, async () => {
            await runCase(env, c, ctx);
          });
        }
      });
  });
}
