import { nn, type Tensor } from '@kernelzoo/core';
import { loadModel } from '@kernelzoo/weights';
import { beforeAll, describe, expect, it } from 'vitest';
import { type SPNet, spnet50 } from './index.js';
import { assembleCheckpoint, readLayout } from './test-support/checkpoint/assemble.ts';
import { useJs } from './test-support/helpers.js';

// A training checkpoint in the real format — the zip torch.save writes for tool/train.py's
// {'epoch', 'state_dict', 'optimizer'} with every key 'module.'-prefixed and the aux head's
// auxlayer.* keys — made from test-support/checkpoint/layout.json (PyTorch's own data.pkl and
// entry list, see checkpoint.py) with our seeded SPNet-50 weights written into its storages.

beforeAll(useJs);

const sameValues = (a: Tensor, b: Tensor) => {
  const [x, y] = [a.dataSync(), b.dataSync()];
  return x.length === y.length && x.every((v, i) => v === y[i]);
};

describe('a training checkpoint loads into the inference network', () => {
  it("spnet50_ade20k from train_epoch_120.pth: module. stripped, the aux head's 8 auxlayer.* keys dropped and reported, every other key loaded", async () => {
    const layout = readLayout();
    nn.manualSeed(120);
    const trained = spnet50(150, { aux: true });
    const state = trained.stateDict();
    const bytes = assembleCheckpoint(layout, state);
    const auxKeys = layout.storages
      .map((s) => s.key.slice('module.'.length))
      .filter((k) => k.startsWith('auxlayer.'));
    expect(auxKeys).toHaveLength(8); // conv5.0 weight, conv5.1 BN (5 with the counter), conv5.4 weight and bias

    const { model, missing, unexpected, strippedPrefix } = await loadModel('spnet50_ade20k', bytes);
    const net = model as SPNet;
    expect(net.auxlayer).toBeNull();
    expect(strippedPrefix).toBe('module.');
    expect(missing).toEqual([]);
    // Reported, not printed: exactly the dropped aux keys.
    expect([...unexpected].sort()).toEqual([...auxKeys].sort());
    // Every key of the inference network holds the checkpoint's values.
    const loaded = net.stateDict();
    expect([...loaded.keys()]).toEqual([...state.keys()].filter((k) => !k.startsWith('auxlayer.')));
    for (const k of [
      'pretrained.conv1.0.weight',
      'pretrained.layer4.2.spm.conv3.bias',
      'head.score_layer.4.weight',
    ])
      expect(sameValues(loaded.get(k)!, state.get(k)!), k).toBe(true);
    net.dispose();
    trained.dispose();
  }, 120_000);

  it('only auxlayer.* is dropped: another unknown key still fails a strict load, and a network with the aux head loads those keys', () => {
    nn.manualSeed(7);
    const withAux = nn.withoutInit(() => spnet50(5, { aux: true }));
    const inference = nn.withoutInit(() => spnet50(5));
    const sd = new Map(withAux.stateDict());
    const extra = sd.get('auxlayer.conv5.4.bias')!;
    expect(() => inference.loadStateDict(new Map([...sd, ['head.extra', extra]]))).toThrow(/head\.extra/);
    expect(inference.loadStateDict(sd).unexpected).toEqual(
      [...sd.keys()].filter((k) => k.startsWith('auxlayer.')),
    );
    expect(withAux.loadStateDict(sd).unexpected).toEqual([]);
    inference.dispose();
    withAux.dispose();
  });
});
