import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { KernelzooError, memory, nn, registerModel, StateDictError, setBackend } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from './model.js';
import { fromTensors } from './raw.js';
import { writeSafetensors } from './safetensors.js';

const build = () =>
  new nn.Sequential(new nn.Conv2d(3, 4, 3, { bias: false }), new nn.BatchNorm2d(4), new nn.ReLU());

beforeAll(async () => {
  registerJsBackend();
  await setBackend('js');
  registerModel({
    id: 'test_block',
    package: '@kernelzoo/weights (test)',
    description: 'conv-bn-relu',
    task: 'classification',
    inputSize: [8, 8],
    numClasses: 4,
    labels: 'none',
    preprocessing: {
      mean: [0, 0, 0],
      std: [1, 1, 1],
      scale: 1,
      resize: 'shorter-side',
      interpolation: 'bilinear',
    },
    reference: { parameters: 124, parametersSource: 'computed', gflops: 'computed', source: 'test' },
    build,
  });
});

/** A checkpoint of the block with seeded values, keys under `prefix`, as safetensors bytes. */
async function checkpoint(prefix: string): Promise<{ bytes: Uint8Array; values: Map<string, number[]> }> {
  nn.manualSeed(42);
  const src = build();
  const values = new Map([...src.stateDict()].map(([k, t]) => [k, Array.from(t.dataSync())]));
  const raw = await fromTensors(src.stateDict());
  src.dispose();
  return { bytes: writeSafetensors(new Map([...raw].map(([k, v]) => [prefix + k, v]))), values };
}

describe('loadModel', () => {
  it('loads every kind of source, strips and reports wrapper prefixes, and returns the net in eval mode', async () => {
    const { bytes, values } = await checkpoint('module.model.');
    const dir = await mkdtemp(join(tmpdir(), 'kz-model-'));
    const path = join(dir, 'block.safetensors');
    await writeFile(path, bytes);
    const sources = [
      ['path', path],
      ['bytes', bytes],
      ['ArrayBuffer', bytes.slice().buffer],
      ['Blob', new Blob([bytes.slice()])],
      ['Response', new Response(bytes.slice())],
    ] as const;
    for (const [what, source] of sources) {
      const { model, entry, strippedPrefix, missing } = await loadModel('test_block', source);
      expect(strippedPrefix, what).toBe('module.model.');
      expect(missing, what).toEqual([]);
      expect(entry.id).toBe('test_block');
      expect(model.isEval, what).toBe(true);
      for (const [k, t] of model.stateDict())
        expect(Array.from(t.dataSync()), `${what} ${k}`).toEqual(values.get(k));
      model.dispose();
    }
    const from = (await loadModel('test_block', bytes)).model;
    const { model, strippedPrefix } = await loadModel('test_block', from.stateDict());
    expect(strippedPrefix).toBe('');
    expect(Array.from(model.stateDict().get('0.weight')!.dataSync())).toEqual(values.get('0.weight'));
    model.dispose();
    from.dispose();
  });

  it('without weights: seeded values, equal for equal seeds', async () => {
    const a = (await loadModel('test_block', undefined, { seed: 7 })).model;
    const b = (await loadModel('test_block', undefined, { seed: 7 })).model;
    expect(a.stateDict().get('0.weight')!.dataSync()).toEqual(b.stateDict().get('0.weight')!.dataSync());
    a.dispose();
    b.dispose();
  });

  it('a failed load frees what it built and says why', async () => {
    const { bytes } = await checkpoint('');
    const base = memory();
    await expect(loadModel('test_block', new Uint8Array(bytes.subarray(0, 40)))).rejects.toThrow(
      KernelzooError,
    );
    const partial = await checkpoint('');
    const truncated = writeSafetensors(new Map());
    await expect(loadModel('test_block', truncated)).rejects.toThrow(KernelzooError);
    await expect(loadModel('test_block', partial.bytes, { strict: true, stripPrefix: '0.' })).rejects.toThrow(
      StateDictError,
    );
    await expect(loadModel('no_such_net', bytes)).rejects.toThrow(/no model 'no_such_net' is registered/);
    expect(memory().numTensors).toBe(base.numTensors);
    expect(memory().numBytes).toBe(base.numBytes);
  });
});
