import { registerJsBackend } from '@kernelzoo/backend-js';
import { randomizeBatchNorms as randomize } from '@kernelzoo/conformance';
import { type nn, setBackend } from '@kernelzoo/core';
import { referenceKeys as sharedReferenceKeys } from '@kernelzoo/test-support';

/** Registers backend-js and selects it (call in `beforeAll`). */
export async function useJs(): Promise<void> {
  registerJsBackend();
  await setBackend('js');
}

export { maxDifference } from '@kernelzoo/conformance';

/**
 * conformance's `randomizeBatchNorms` for modules of any signature (a HighResolutionModule takes
 * and returns lists): seeded non-trivial BatchNorm statistics, so folding is exercised.
 */
export function randomizeBatchNorms(module: nn.AnyModule, seed: number, gain = 1): void {
  randomize(module as nn.Module, seed, gain);
}

/** A reference key list (`shared/reference/keys/<name>.txt`) as `[key, shape]`. */
export function referenceKeys(name: string): [string, number[]][] {
  return sharedReferenceKeys(name);
}

/** Parameters (BatchNorm statistics and counters excluded) of a key list. */
export function countParameters(keys: readonly [string, number[]][]): number {
  return keys
    .filter(([k]) => !/running_mean|running_var|num_batches_tracked/.test(k))
    .reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
}
