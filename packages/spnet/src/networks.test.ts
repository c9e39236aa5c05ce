import { getModel, listModels, nn, randomNormal, summary } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { SPBlock, SPNet, spnet50, spnet101 } from './index.js';
import {
  compare,
  countParameters,
  randomizeBatchNorms,
  referenceKeys,
  useJs,
} from './test-support/helpers.js';

beforeAll(useJs);

const LONG = 300_000;
const listed = (net: nn.Module) => [...net.stateDict()].map(([k, t]) => [k, [...t.shape]]);

describe('keys, shapes and parameter counts equal the reference checkpoints (without module.)', () => {
  const cases: [string, () => SPNet, number, number][] = [
    ['spnet50_ade20k', () => spnet50(150, { aux: true }), 556, 47_838_124],
    ['spnet101_ade20k', () => spnet101(150, { aux: true }), 862, 66_830_252],
    ['spnet101_cityscapes', () => spnet101(19, { aux: true }), 862, 66_729_382],
  ];
  for (const [name, make, keys, params] of cases) {
    it(`${name}: ${keys} keys, ${params.toLocaleString('en')} parameters (aux included)`, () => {
      const ref = referenceKeys(name);
      expect(ref.length).toBe(keys);
      expect(countParameters(ref)).toBe(params);
      const net = nn.withoutInit(make); // placeholders: no parameter memory, no random numbers
      expect(listed(net)).toEqual(ref);
      expect(net.numParameters()).toBe(params);
      net.dispose();
    });
  }

  it('without the auxiliary head (the default): no auxlayer.* keys, the aux head’s parameters fewer', () => {
    const withAux = nn.withoutInit(() => spnet101(19, { aux: true }));
    const net = nn.withoutInit(() => spnet101(19));
    const keys = [...net.stateDict().keys()];
    expect(keys.some((k) => k.startsWith('auxlayer.'))).toBe(false);
    const aux = countParameters(
      referenceKeys('spnet101_cityscapes').filter(([k]) => k.startsWith('auxlayer.')),
    );
    expect(aux).toBe(1024 * 256 * 9 + 2 * 256 + 256 * 19 + 19);
    expect(net.numParameters()).toBe(withAux.numParameters() - aux);
    expect(net.auxlayer).toBeNull();
    withAux.dispose();
    net.dispose();
  });

  it('strip pooling modules sit at SPNet’s placement (ResNet-101: layer1.2, layer2.3, layer3.22, layer4.0/1/2)', () => {
    const at = (net: nn.Module) =>
      net
        .namedModules()
        .filter(([, m]) => m instanceof SPBlock)
        .map(([n]) => n);
    const n101 = nn.withoutInit(() => spnet101(19));
    expect(at(n101)).toEqual([
      'pretrained.layer1.2.spm',
      'pretrained.layer2.3.spm',
      'pretrained.layer3.22.spm',
      'pretrained.layer4.0.spm',
      'pretrained.layer4.1.spm',
      'pretrained.layer4.2.spm',
    ]);
    const n50 = nn.withoutInit(() => spnet50(150));
    expect(at(n50)).toEqual([
      'pretrained.layer1.2.spm',
      'pretrained.layer2.3.spm',
      'pretrained.layer3.5.spm',
      'pretrained.layer4.0.spm',
      'pretrained.layer4.1.spm',
      'pretrained.layer4.2.spm',
    ]);
    n101.dispose();
    n50.dispose();
  });

  it('any nclass: the classifier and the aux classifier follow it', () => {
    const net = nn.withoutInit(() => new SPNet({ nclass: 7, depth: 50, aux: true }));
    const sd = net.stateDict();
    expect(sd.get('head.score_layer.4.weight')!.shape).toEqual([7, 512, 1, 1]);
    expect(sd.get('auxlayer.conv5.4.bias')!.shape).toEqual([7]);
    net.dispose();
    expect(() => new SPNet({ nclass: 0 })).toThrow(/nclass/);
  });
});

describe('registered ids', () => {
  it('spnet50_ade20k, spnet101_ade20k, spnet101_cityscapes: segmentation, SPNet’s test pre-processing', () => {
    const ids = listModels({ task: 'segmentation' })
      .filter((e) => e.package === '@kernelzoo/spnet')
      .map((e) => e.id);
    expect(ids).toEqual(['spnet50_ade20k', 'spnet101_ade20k', 'spnet101_cityscapes']);
    const ade = getModel('spnet101_ade20k');
    expect([ade.numClasses, ade.labels, ade.inputSize]).toEqual([150, 'ade20k-150', [480, 480]]);
    const cs = getModel('spnet101_cityscapes');
    expect([cs.numClasses, cs.labels, cs.inputSize]).toEqual([19, 'cityscapes-19', [768, 768]]);
    expect(cs.preprocessing).toEqual({
      mean: [0.485 * 255, 0.456 * 255, 0.406 * 255],
      std: [0.229 * 255, 0.224 * 255, 0.225 * 255],
      scale: 255,
      resize: 'long-side',
      interpolation: 'bilinear',
    });
    for (const id of ids) {
      const e = getModel(id);
      expect(e.reference.parametersSource).toBe('computed');
      expect(e.reference.gflops).toBe('computed');
      expect(e.reference.source).toBe('Andrew-Qibin/SPNet models/spnet.py');
      const net = nn.withoutInit(() => e.build());
      // The inference network: no auxiliary head.
      expect((net as SPNet).auxlayer, id).toBeNull();
      expect(net.numParameters(), id).toBe(e.reference.parameters);
      expect((net as SPNet).nclass).toBe(e.numClasses);
      net.dispose();
    }
  });
});

describe('multiply-adds (computed: SPNet publishes none)', () => {
  /** The head's multiply-adds at a `s × s` map, by hand from models.md §2.1's layer list. */
  function headMacs(s: number, nclass: number): number {
    const hw = s * s;
    const ic = 256;
    const mpm =
      2 * 1024 * ic * hw + // conv1_1, conv1_2
      ic * ic * 9 * hw + // conv2_0
      ic * ic * 9 * 400 + // conv2_1 at 20×20
      ic * ic * 9 * 144 + // conv2_2 at 12×12
      ic * ic * 3 * s * 2 + // conv2_3 on 1×s, conv2_4 on s×1
      2 * ic * ic * 9 * hw + // conv2_5, conv2_6
      2 * ic * 1024 * hw; // conv3
    return 2048 * 1024 * hw + 2 * mpm + 1024 * 512 * 9 * hw + 512 * nclass * hw;
  }

  const cases: [string, () => SPNet, number, number, number][] = [
    ['spnet50_ade20k', () => spnet50(150, { aux: true }), 480, 150, 143_115_190_272],
    ['spnet101_ade20k', () => spnet101(150, { aux: true }), 480, 150, 211_298_844_672],
    ['spnet101_cityscapes', () => spnet101(19, { aux: true }), 768, 19, 538_957_578_240],
  ];
  for (const [id, make, crop, nclass, total] of cases) {
    it(`${id} at its ${crop}×${crop} crop: ${(total / 1e9).toFixed(2)} G multiply-adds (convolutions; the aux head does not run)`, () => {
      const net = nn.withoutInit(make);
      const s = summary(net, [1, 3, crop, crop]);
      const row = (n: string) => s.rows.find((r) => r.name === n)!;
      expect(row('head').multiplyAdds).toBe(headMacs(crop / 8, nclass));
      expect(row('head').outputShapes).toEqual([[1, nclass, crop / 8, crop / 8]]);
      expect(s.rows.some((r) => r.name.startsWith('auxlayer'))).toBe(false);
      expect(row('pretrained.layer3.1.spm') ?? null).toBe(null);
      expect(s.totalMultiplyAdds).toBe(total);
      net.dispose();
    });
  }

  it('the strip pooling gates run inside the backbone at SPNet-50’s placement (summary rows)', () => {
    const net = nn.withoutInit(() => spnet50(150));
    const s = summary(net, [1, 3, 64, 64]);
    const gates = s.rows.filter((r) => r.name.endsWith('.spm')).map((r) => [r.name, r.outputShapes[0]]);
    expect(gates).toEqual([
      ['pretrained.layer1.2.spm', [1, 64, 16, 16]],
      ['pretrained.layer2.3.spm', [1, 128, 8, 8]],
      ['pretrained.layer3.5.spm', [1, 256, 8, 8]],
      ['pretrained.layer4.0.spm', [1, 512, 8, 8]],
      ['pretrained.layer4.1.spm', [1, 512, 8, 8]],
      ['pretrained.layer4.2.spm', [1, 512, 8, 8]],
    ]);
    net.dispose();
  });
});

describe('whole network forward', () => {
  it('shapes at 1×3×64×64 (traced by summary): layer4 [2048, 8²], head [150, 8²], output [150, 64²]', () => {
    const net = nn.withoutInit(() => spnet50(150));
    const s = summary(net, [1, 3, 64, 64]);
    const out = (n: string) => s.rows.find((r) => r.name === n)?.outputShapes;
    expect(out('head')).toEqual([[1, 150, 8, 8]]);
    expect(out('head.strip_pool1')).toEqual([[1, 1024, 8, 8]]);
    expect(out('head.strip_pool1.pool1')).toEqual([[1, 256, 20, 20]]);
    expect(out('head.strip_pool1.pool2')).toEqual([[1, 256, 12, 12]]);
    expect(s.rows[0].outputShapes).toEqual([[1, 150, 64, 64]]);
    net.dispose();
  });

  it(
    'SPNet-50 at 1×3×64×64 gives 1×150×64×64; eval (fused) equals unfused within 1e-4, randomised BatchNorms; aux never runs',
    () => {
      nn.manualSeed(21);
      const net = spnet50(150, { aux: true });
      randomizeBatchNorms(net, 22);
      const x = randomNormal([1, 3, 64, 64], 0, 1, { seed: 23 });
      const [unfused, feats] = nn.captureFeatures(net, ['auxlayer', 'head'], () => net.call(x));
      expect(unfused.shape).toEqual([1, 150, 64, 64]);
      expect(feats.getAll('auxlayer')).toEqual([]);
      expect(feats.get('head').shape).toEqual([1, 150, 8, 8]);
      net.eval();
      const fused = net.call(x);
      const d = compare(fused, unfused);
      expect(d.maxRef).toBeGreaterThan(0);
      expect(d.maxDiff).toBeLessThanOrEqual(1e-4 * Math.max(1, d.maxRef));
      for (const t of [x, unfused, fused]) t.dispose();
      feats.dispose();
      net.dispose();
    },
    LONG,
  );
});
