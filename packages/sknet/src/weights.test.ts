import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { memory, nn, randomNormal, StateDictError, setBackend, tidy } from '@kernelzoo/core';
import { fromTensors, loadWeights, writeSafetensors } from '@kernelzoo/weights';
import { beforeAll, describe, expect, it } from 'vitest';
import { SKConv } from './skconv.js';

const arch = { features: 8, M: 2, G: 2, r: 2, L: 4 };

async function safetensorsOf(m: SKConv): Promise<Uint8Array> {
  return writeSafetensors(await fromTensors(m.stateDict()));
}

describe('SKConv weights', () => {
  beforeAll(async () => {
    registerJsBackend();
    await setBackend('js');
  });

  it('loads a safetensors file, a state dict or a path into identical outputs', async () => {
    nn.manualSeed(1);
    const source = new SKConv(arch);
    const bytes = await safetensorsOf(source);
    const x = randomNormal([2, 8, 5, 7], 0, 1, { seed: 3 });
    const expected = await tidy(() => source.call(x)).data();

    nn.manualSeed(2); // different initial weights, replaced by the load
    // One loading path (@kernelzoo/weights) for bytes and paths; a state dict loads directly.
    const fromBytes = new SKConv(arch);
    await loadWeights(fromBytes, bytes);
    const fromDict = new SKConv(arch);
    fromDict.loadStateDict(source.stateDict());
    const dir = await mkdtemp(join(tmpdir(), 'kz-sknet-'));
    await writeFile(join(dir, 'sk.safetensors'), bytes);
    const fromPath = nn.withoutInit(() => new SKConv(arch));
    await loadWeights(fromPath, join(dir, 'sk.safetensors'));
    for (const m of [fromBytes, fromDict, fromPath]) {
      // Same weights, same kernels, same order: bit-identical.
      expect(await tidy(() => m.call(x)).data()).toEqual(expected);
    }
  });

  it('reports every mismatched key and changes nothing', async () => {
    const other = await safetensorsOf(new SKConv({ ...arch, features: 4 }));
    const sk = new SKConv(arch);
    const before = memory().numTensors;
    let err: unknown;
    try {
      await loadWeights(sk, other);
    } catch (e) {
      err = e;
    }
    sk.dispose();
    expect(err).toBeInstanceOf(StateDictError);
    const keys = (err as StateDictError).mismatched.map((m) => m.key);
    expect(keys).toContain('convs.0.0.weight');
    expect(keys).toContain('fcs.1.bias');
    expect(memory().numTensors).toBeLessThan(before);
  });
});
