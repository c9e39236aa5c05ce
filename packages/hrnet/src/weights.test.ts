import { getModel, StateDictError } from '@kernelzoo/core';
import { loadModel, writeSafetensors } from '@kernelzoo/weights';
import { beforeAll, describe, expect, it } from 'vitest';
import { HRNET_SEG_MODELS, type SegHighResolutionNet } from './index.js';
import { referenceKeys, useJs } from './test-support/helpers.js';

beforeAll(useJs);

/**
 * A safetensors file with HRNet-seg W48's keys as its published checkpoints carry them
 * (`model.` + key: the training wrapper `FullModel(model, loss)`), zeros except a marker in
 * `last_layer.3.bias`. Plus, optionally, the loss's class weights that `FullModel` also saves.
 */
function segCheckpoint(withLoss: boolean): Uint8Array {
  const tensors = new Map<
    string,
    { dtype: 'float32' | 'int32'; shape: number[]; data: Float32Array | Int32Array }
  >();
  for (const [k, shape] of referenceKeys('seg_hrnet_w48_cityscapes')) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (k.endsWith('num_batches_tracked'))
      tensors.set(`model.${k}`, { dtype: 'int32', shape, data: new Int32Array(n) });
    else {
      const data = new Float32Array(n);
      if (k.endsWith('running_var')) data.fill(1);
      if (k === 'last_layer.3.bias') for (let i = 0; i < n; i++) data[i] = i + 0.5;
      tensors.set(`model.${k}`, { dtype: 'float32', shape, data });
    }
  }
  if (withLoss)
    tensors.set('loss.criterion.weight', {
      dtype: 'float32',
      shape: [19],
      data: new Float32Array(19).fill(1),
    });
  return writeSafetensors(tensors);
}

describe("hrnet_w48_seg loads HRNet-seg's checkpoints through @kernelzoo/weights", () => {
  it('the model. prefix every key carries is stripped (as tools/test.py’s k[6:]) and reported', async () => {
    const { model, strippedPrefix, entry } = await loadModel('hrnet_w48_seg', segCheckpoint(false));
    expect(strippedPrefix).toBe('model.');
    expect(entry).toBe(getModel('hrnet_w48_seg'));
    expect(entry).toBe(HRNET_SEG_MODELS[0]);
    expect(model.isEval).toBe(true);
    const bias = (model as SegHighResolutionNet).last_layer.stateDict().get('3.bias')!;
    expect(Array.from(bias.dataSync())).toEqual(Array.from({ length: 19 }, (_, i) => i + 0.5));
    model.dispose();
  }, 60_000);

  it('with the loss’s class weights beside model.* (train.py’s file): model.* loads without its prefix, loss.* is dropped and reported, even strict', async () => {
    const bytes = segCheckpoint(true);
    const { model, strippedPrefix, unexpected, missing } = await loadModel('hrnet_w48_seg', bytes);
    // The loader strips nothing (not every key has the prefix); the network takes model.* as tools/test.py's k[6:].
    expect(strippedPrefix).toBe('');
    expect(unexpected).toEqual(['loss.criterion.weight']);
    expect(missing).toEqual([]);
    const bias = (model as SegHighResolutionNet).last_layer.stateDict().get('3.bias')!;
    expect(Array.from(bias.dataSync())).toEqual(Array.from({ length: 19 }, (_, i) => i + 0.5));
    model.dispose();
    // { key: 'model' } (the keys under model.) still works too.
    const viaKey = await loadModel('hrnet_w48_seg', bytes, { key: 'model' });
    expect(viaKey.unexpected).toEqual([]);
    viaKey.model.dispose();
  }, 60_000);

  it('only loss.* beside model.* is dropped: another stray key still fails a strict load', async () => {
    const seg = await loadModel('hrnet_w48_seg');
    const sd = new Map([...seg.model.stateDict()].map(([k, t]) => [`model.${k}`, t]));
    sd.set('loss.criterion.weight', sd.get('model.last_layer.3.bias')!);
    sd.set('optimizer.step', sd.get('model.last_layer.3.bias')!);
    expect(() => seg.model.loadStateDict(sd)).toThrow(StateDictError);
    seg.model.dispose();
  }, 60_000);
});
