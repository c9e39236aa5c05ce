/**
 * `describeConformance`: registers the suite's vitest blocks for one backend.
 *
 * @module
 */
import { setBackend, setDebug } from '@kernelzoo/core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { convCases, matmulCases } from './cases/conv.js';
import { batchNormCases, binaryCases, unaryCases } from './cases/elementwise.js';
import { engineCases } from './cases/engine.js';
import { errorCases } from './cases/errors.js';
import { largeCases } from './cases/large.js';
import { flipCases, layoutCases, reduceCases, softmaxArgmaxCases } from './cases/layout.js';
import { moduleCases } from './cases/modules.js';
import { nnCases } from './cases/nn.js';
import { adaptiveCases, poolCases, resizeCases } from './cases/spatial.js';
import { type ConformanceEnv, KERNELS } from './env.js';
import { type Case, gapOf, makeContext, runCase } from './runner.js';
import { precisionFor } from './tolerances.js';

/** Every group of cases, by title. */
export function conformanceGroups(backend: string): [string, Case[]][] {
  return [
    ['conv2d', convCases()],
    ['matmul', matmulCases()],
    ['long sums (accumulation bound)', largeCases()],
    ['unary', unaryCases()],
    ['binary', binaryCases()],
    ['batchNorm', batchNormCases()],
    ['pool2d', poolCases()],
    ['adaptiveAvgPool2d', adaptiveCases()],
    ['resize', resizeCases()],
    ['reduce', reduceCases()],
    ['softmax and argmax', softmaxArgmaxCases()],
    ['concat, slice, transpose, pad, cast', layoutCases()],
    ['flip', flipCases()],
    ['argument errors', errorCases()],
    ['engine', engineCases(backend)],
    ['nn', nnCases()],
    ['modules: call, fusion, capture, trace', moduleCases()],
  ];
}

/**
 * Registers the conformance suite for one backend configuration as vitest `describe`/`it`
 * blocks: every kernel against the oracles (randomised shapes, edge cases, error cases, a
 * leak check per case), plus the engine and nn behaviour every backend must keep. Call it at
 * the top level of a test file. `setup` runs once before the cases; the engine's leak check
 * (`setDebug({ checkLeaks: true })`) is on while they run.
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
      for (const [key, reason] of Object.entries(env.gaps ?? {})) {
        const kernel = key.split(':')[0];
        if (!(KERNELS as readonly string[]).includes(kernel))
          throw new Error(`gap '${key}': '${kernel}' is not a kernel (kernels: ${KERNELS.join(', ')})`);
        if (typeof reason !== 'string' || reason.trim() === '')
          throw new Error(`gap '${key}' gives no reason`);
      }
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
