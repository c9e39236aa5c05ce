/**
 * `infer`'s auxiliary output, in process: no registered network is built with an auxiliary
 * head (SPNet's inference network drops it), so a small network of SPNet's shape stands in.
 */
import { registerJsBackend } from '@kernelzoo/backend-js';
import { interpolate, nn, randomNormal, setBackend, type Tensor } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { auxOutput } from './commands/infer.js';

class Backbone extends nn.Module {
  readonly layer3 = this.registerModule('layer3', new nn.Conv2d(3, 4, 3, { stride: 2, padding: 1 }));
  protected forward(x: Tensor): Tensor {
    return this.layer3.call(x);
  }
}

class WithAux extends nn.Module {
  readonly pretrained = this.registerModule('pretrained', new Backbone());
  readonly head = this.registerModule('head', new nn.Conv2d(4, 2, 1));
  readonly auxlayer = this.registerModule('auxlayer', new nn.Conv2d(4, 2, 1));
  protected forward(x: Tensor): Tensor {
    return this.head.call(this.pretrained.call(x));
  }
}

beforeAll(async () => {
  registerJsBackend();
  await setBackend('js');
});

describe('auxOutput', () => {
  it("gives the network's output and auxlayer(layer3) upsampled to the input, as the reference's forward", async () => {
    nn.manualSeed(3);
    const net = new WithAux().eval();
    const x = randomNormal([2, 3, 10, 6], 0, 1, { seed: 4 });
    const [out, aux] = auxOutput(net, x, (t) => net.call(t));
    expect(out.shape).toEqual([2, 2, 5, 3]);
    expect(aux?.shape).toEqual([2, 2, 10, 6]);
    const c3 = net.pretrained.call(x);
    const a = net.auxlayer.call(c3);
    const expected = interpolate(a, { size: [10, 6], mode: 'bilinear', alignCorners: true });
    expect([...(await aux!.data())]).toEqual([...(await expected.data())]);
    expect([...(await out.data())]).toEqual([...(await net.head.call(c3).data())]);
    for (const t of [out, aux!, c3, a, expected, x]) t.dispose();
  });

  it('gives null for a network without an auxiliary head', () => {
    nn.manualSeed(3);
    const net = new Backbone().eval();
    const x = randomNormal([1, 3, 8, 8], 0, 1, { seed: 4 });
    const [out, aux] = auxOutput(net, x, (t) => net.call(t));
    expect(aux).toBeNull();
    out.dispose();
    x.dispose();
  });
});
