import { registerJsBackend } from '@kernelzoo/backend-js';
import { setBackend } from '@kernelzoo/core';
import { referenceKeys as sharedReferenceKeys } from '@kernelzoo/test-support';

/** Registers backend-js and selects it (call in `beforeAll`). */
export async function useJs(): Promise<void> {
  registerJsBackend();
  await setBackend('js');
}

export { maxDifference as compare, randomizeBatchNorms } from '@kernelzoo/conformance';

/**
 * A reference key list (`shared/reference/keys/<name>.txt`) as `[key, shape]` with the
 * multi-GPU checkpoints' `module.` removed.
 */
export function referenceKeys(name: string): [string, number[]][] {
  return sharedReferenceKeys(name, { stripPrefix: 'module.' });
}

/** Parameters (BatchNorm statistics and counters excluded) of a key list. */
export function countParameters(keys: readonly [string, number[]][]): number {
  return keys
    .filter(([k]) => !/running_mean|running_var|num_batches_tracked/.test(k))
    .reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
}
