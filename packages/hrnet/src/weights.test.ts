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

  it('with the loss’s class weights beside model.*: a strict load refuses, { key: "model" } takes model.* only', async () => {
    const bytes = segCheckpoint(true);
    // Not every key has the prefix, so none is stripped: every model key is missing.
    await expect(loadModel('hrnet_w48_seg', bytes)).rejects.toThrow(StateDictError);
    const { model, strippedPrefix } = await loadModel('hrnet_w48_seg', bytes, { key: 'model' });
    expect(strippedPrefix).toBe('');
    const bias = (model as SegHighResolutionNet).last_layer.stateDict().get('3.bias')!;
    expect(bias.dataSync()[18]).toBe(18.5);
    model.dispose();
  }, 60_000);
});
