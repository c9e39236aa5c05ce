import { nn, randomNormal } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { SPBlock, spnet50, stripFeatureNames } from './index.js';
import { randomizeBatchNorms, useJs } from './test-support/helpers.js';

beforeAll(useJs);

describe('strip pooling feature capture', () => {
  it('stripFeatureNames lists SPNet-50’s six SPM gates and two MPMs, every name a module of the network', () => {
    const net = nn.withoutInit(() => spnet50(150));
    const f = stripFeatureNames(net);
    expect(f.map((s) => [s.kind, s.module])).toEqual([
      ['SPBlock', 'pretrained.layer1.2.spm'],
      ['SPBlock', 'pretrained.layer2.3.spm'],
      ['SPBlock', 'pretrained.layer3.5.spm'],
      ['SPBlock', 'pretrained.layer4.0.spm'],
      ['SPBlock', 'pretrained.layer4.1.spm'],
      ['SPBlock', 'pretrained.layer4.2.spm'],
      ['StripPooling', 'head.strip_pool1'],
      ['StripPooling', 'head.strip_pool2'],
    ]);
    expect(f[1]).toEqual({
      module: 'pretrained.layer2.3.spm',
      kind: 'SPBlock',
      gate: 'pretrained.layer2.3.spm',
      rows: 'pretrained.layer2.3.spm.pool1',
      columns: 'pretrained.layer2.3.spm.pool2',
      pyramid: [],
    });
    expect(f[7]).toMatchObject({
      gate: null,
      rows: 'head.strip_pool2.pool4',
      columns: 'head.strip_pool2.pool3',
    });
    const names = new Set(net.namedModules().map(([n]) => n));
    for (const s of f)
      for (const n of [s.module, s.rows, s.columns, ...s.pyramid]) expect(names.has(n), n).toBe(true);
    net.dispose();
  });

  it('the captured SPM gate and strips of a fused (eval) SPBlock equal a float64 computation from the input and weights (within 1e-5)', () => {
    nn.manualSeed(5);
    const [C, H, W] = [6, 7, 9];
    const root = new nn.Sequential(new SPBlock(C));
    randomizeBatchNorms(root, 6);
    root.eval();
    const x = randomNormal([1, C, H, W], 0, 1, { seed: 7 });
    const [s] = stripFeatureNames(root);
    const [y, features] = nn.captureFeatures(root, [s.gate!, s.rows, s.columns], () => root.call(x));

    const xv = x.dataSync();
    const sd = root.stateDict();
    const v = (k: string) => Array.from(sd.get(`0.${k}`)!.dataSync());
    const bn = (p: string, c: number, t: number) => {
      const [g, b, m, r] = [v(`${p}.weight`), v(`${p}.bias`), v(`${p}.running_mean`), v(`${p}.running_var`)];
      return ((t - m[c]) / Math.sqrt(r[c] + 1e-5)) * g[c] + b[c];
    };
    const X = (c: number, h: number, w: number) => xv[(c * H + h) * W + w];
    const rows = Array.from({ length: C }, (_, c) =>
      Array.from(
        { length: H },
        (_, h) => Array.from({ length: W }, (_, w) => X(c, h, w)).reduce((a, b) => a + b) / W,
      ),
    );
    const cols = Array.from({ length: C }, (_, c) =>
      Array.from(
        { length: W },
        (_, w) => Array.from({ length: H }, (_, h) => X(c, h, w)).reduce((a, b) => a + b) / H,
      ),
    );
    const [w1, w2, w3, b3] = [v('conv1.weight'), v('conv2.weight'), v('conv3.weight'), v('conv3.bias')];
    // conv1: (3, 1) kernel, padding (1, 0) over the H × 1 strip; conv2: (1, 3), padding (0, 1) over 1 × W.
    const a1 = rows.map((_, c) =>
      Array.from({ length: H }, (_, h) => {
        let t = 0;
        for (let k = 0; k < C; k++)
          for (let d = 0; d < 3; d++) t += w1[(c * C + k) * 3 + d] * (rows[k][h + d - 1] ?? 0);
        return bn('bn1', c, t);
      }),
    );
    const a2 = cols.map((_, c) =>
      Array.from({ length: W }, (_, w) => {
        let t = 0;
        for (let k = 0; k < C; k++)
          for (let d = 0; d < 3; d++) t += w2[(c * C + k) * 3 + d] * (cols[k][w + d - 1] ?? 0);
        return bn('bn2', c, t);
      }),
    );
    const gate = new Float64Array(C * H * W);
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          let t = b3[c];
          for (let k = 0; k < C; k++) t += w3[c * C + k] * Math.max(0, a1[k][h] + a2[k][w]);
          gate[(c * H + h) * W + w] = 1 / (1 + Math.exp(-t));
        }
    const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      expect(a.length).toBe(b.length);
      let d = 0;
      for (let i = 0; i < a.length; i++) {
        const e = Math.abs(a[i] - b[i]);
        d = Number.isNaN(e) ? Number.POSITIVE_INFINITY : Math.max(d, e);
      }
      return d;
    };
    expect(features.get(s.rows).shape).toEqual([1, C, H, 1]);
    expect(features.get(s.columns).shape).toEqual([1, C, 1, W]);
    expect(maxDiff(features.get(s.rows).dataSync(), rows.flat())).toBeLessThanOrEqual(1e-6);
    expect(maxDiff(features.get(s.columns).dataSync(), cols.flat())).toBeLessThanOrEqual(1e-6);
    const captured = features.take(s.gate!);
    expect(captured.shape).toEqual([1, C, H, W]);
    expect(maxDiff(captured.dataSync(), gate)).toBeLessThanOrEqual(1e-5);
    // The gate is the module's output: what the forward returned.
    expect(maxDiff(captured.dataSync(), y.dataSync())).toBe(0);
    for (const t of [x, y, captured]) t.dispose();
    features.dispose();
    root.dispose();
  });
});
