import { beforeAll, describe, expect, it } from 'vitest';
import { ENGINE, memory, registerBackend, setBackend, traceShapes } from '../engine.js';
import { ArgumentError, KernelzooError } from '../errors.js';
import { tensor } from '../ops/creation.js';
import { add } from '../ops/elementwise.js';
import { summary } from '../summary.js';
import type { Tensor } from '../tensor.js';
import { storageBackend } from '../test-support/storage-backend.js';
import { traceKernels } from '../trace.js';
import { ReLU, Sigmoid } from './activation.js';
import { BatchNorm2d } from './batchnorm.js';
import { captureFeatures } from './capture.js';
import { Sequential } from './containers.js';
import { Conv2d } from './conv.js';
import { residualSum } from './fusion.js';
import { withoutInit } from './init.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

// The storage backend runs one kernel, `binary` (add); everything else here needs no kernel.
beforeAll(async () => {
  registerBackend('mem', () => storageBackend('mem'));
  await setBackend('mem');
});

/** Adds its input to itself twice; the first sum is an intermediate its call must free. */
class Twice extends Module {
  protected forward(x: Tensor): Tensor {
    const once = add(x, x);
    return add(once, x);
  }
}

class Pair extends Module {
  readonly a = this.registerModule('a', new Twice());
  readonly b = this.registerModule('b', new Twice());
  protected forward(x: Tensor): Tensor {
    return this.b.call(this.a.call(x));
  }
}

/** A block declaring chains through a constructor callback, to test registerFusion's checks. */
class Block extends Module {
  readonly conv = this.registerModule('conv', new Conv2d(2, 4, 1));
  readonly bn = this.registerModule('bn', new BatchNorm2d(4));
  readonly bn3 = this.registerModule('bn3', new BatchNorm2d(3));
  readonly relu = this.registerModule('relu', new ReLU());
  readonly sig = this.registerModule('sig', new Sigmoid());
  readonly fc = this.registerModule('fc', new Linear(4, 2));
  constructor(...chain: string[]) {
    super();
    this.registerFusion(...chain);
  }
  protected forward(x: Tensor): Tensor {
    return x;
  }
}

describe('Module.call', () => {
  it('frees a forward’s intermediates when the call returns, at every level', () => {
    const x = tensor([1, 2, 3]);
    const base = memory().numTensors;
    const y = new Pair().call(x);
    expect(y.dataSync()).toEqual(new Float32Array([9, 18, 27]));
    expect(memory().numTensors).toBe(base + 1);
    y.dispose();
    x.dispose();
  });

  it('a trace names the module each kernel ran in, relative to the outermost call', () => {
    const x = tensor([1, 2]);
    const pair = new Pair();
    const held = memory().backends.mem.bytes;
    const [y, trace] = traceKernels(() => pair.call(x));
    // Bytes the backend held after each call, beyond what it held before: each Twice adds an
    // 8-byte intermediate and its 8-byte output, and frees the intermediate when its call ends.
    expect(trace.calls.map((c) => c.backendBytes - held)).toEqual([8, 16, 16, 24]);
    expect(trace.peakBackendBytes - held).toBe(24);
    expect(trace.calls.map((c) => c.kernel)).toEqual(['add', 'add', 'add', 'add']);
    expect(trace.calls.map((c) => trace.moduleName(c))).toEqual(['a', 'a', 'b', 'b']);
    expect(trace.calls[0]).toMatchObject({ backend: 'mem', inputShapes: [[2], [2]], outputShape: [2] });
    expect(trace.byKernel()).toEqual([expect.objectContaining({ kernel: 'add', calls: 4 })]);
    expect(trace.toString()).toMatch(/^kernel\s+calls\s+ms\s+share\nadd\s+4/);
    expect(trace.recording).toBe(false);
    add(x, x).dispose(); // after the trace: not recorded
    expect(trace.calls.length).toBe(4);
    y.dispose();
    x.dispose();
  });
});

describe('registerFusion', () => {
  it('accepts conv → bn → act, conv → act, conv → bn and Linear → act', () => {
    for (const chain of [
      ['conv', 'bn', 'relu'],
      ['conv', 'sig'],
      ['conv', 'bn'],
      ['fc', 'relu'],
    ])
      expect(new Block(...chain).fusions).toEqual([chain]);
  });

  it('refuses chains it cannot fold, saying why', () => {
    const cases: [string[], RegExp][] = [
      [['conv'], /a head and at least one module to fold/],
      [['conv', 'nope'], /names of registered children \(conv, bn, bn3, relu, sig, fc\).*got 'nope'/],
      [['conv', 'bn3'], /BatchNorm2d has 3 features, the convolution 4 output channels/],
      [['relu', 'sig'], /a ReLU cannot head a fused chain/],
      [['conv', 'relu', 'bn'], /nothing can follow the activation \(got BatchNorm2d\)/],
      [['fc', 'bn'], /a BatchNorm2d can only be folded into a Conv2d/],
      [['conv', 'fc'], /Linear is not foldable/],
    ];
    for (const [chain, message] of cases) {
      expect(() => new Block(...chain), chain.join()).toThrow(ArgumentError);
      expect(() => new Block(...chain), chain.join()).toThrow(message);
    }
  });

  it('accepts dotted paths to deeper descendants (a deep stem: conv1.6 → bn1 → relu)', () => {
    class Stem extends Module {
      readonly conv1 = this.registerModule(
        'conv1',
        new Sequential(new Conv2d(3, 4, 3), new ReLU(), new Conv2d(4, 8, 3)),
      );
      readonly bn1 = this.registerModule('bn1', new BatchNorm2d(8));
      readonly relu = this.registerModule('relu', new ReLU());
      constructor(head: string) {
        super();
        this.registerFusion(head, 'bn1', 'relu');
      }
      protected forward(x: Tensor): Tensor {
        return this.relu.call(this.bn1.call(this.conv1.call(x)));
      }
    }
    expect(new Stem('conv1.2').fusions).toEqual([['conv1.2', 'bn1', 'relu']]);
    expect(() => new Stem('conv1.9')).toThrow(/got 'conv1.9'/);
    expect(() => new Stem('conv1.0')).toThrow(
      /BatchNorm2d has 8 features, the convolution 4 output channels/,
    );
  });

  it('Sequential declares its own chains', () => {
    const seq = new Sequential(
      new Conv2d(3, 4, 3),
      new BatchNorm2d(4),
      new ReLU(),
      new Conv2d(4, 4, 1),
      new Sigmoid(),
      new Conv2d(4, 5, 1),
      new BatchNorm2d(4), // does not match 5 channels: not folded
      new Linear(4, 2),
      new ReLU(),
    );
    expect(seq.fusions).toEqual([
      ['0', '1', '2'],
      ['3', '4'],
      ['7', '8'],
    ]);
    seq.dispose();
  });
});

/** A residual ending: `relu(x + y)`, the sum and the ReLU fused in eval mode. */
class Residual extends Module<[Tensor, Tensor]> {
  readonly relu = this.registerModule('relu', new ReLU());
  protected forward(x: Tensor, y: Tensor): Tensor {
    return residualSum(this, x, y, this.relu);
  }
}

describe('residualSum', () => {
  it('in eval mode runs the sum and its ReLU as one add kernel, and the ReLU module still hears its call', () => {
    const block = new Residual().eval();
    const x = tensor([1, -2, 3, -4]);
    const y = tensor([-3, 1, 0.5, 4]);
    const [[out, features], trace] = traceKernels(() =>
      captureFeatures(block, ['relu'], () => block.call(x, y)),
    );
    // The storage backend has no relu kernel: the ReLU ran inside the add.
    expect(trace.calls.map((c) => c.kernel)).toEqual(['add']);
    expect(out.dataSync()).toEqual(new Float32Array([0, 0, 3.5, 0]));
    expect(features.get('relu').dataSync()).toEqual(new Float32Array([0, 0, 3.5, 0]));
    for (const t of [out, x, y]) t.dispose();
    features.dispose();
  });
});

describe('captureFeatures', () => {
  it('refuses a name the module does not have and reports modules that did not run', () => {
    const pair = new Pair();
    const x = tensor([1]);
    const base = memory().numTensors;
    expect(() => captureFeatures(pair, ['c'], () => pair.call(x))).toThrow(
      /names of Pair's modules.*got 'c'/,
    );
    const [y, f] = captureFeatures(pair, ['a', 'b'], () => pair.a.call(x));
    expect(f.get('a').dataSync()).toEqual(new Float32Array([3]));
    expect(() => f.get('b')).toThrow(/module 'b' did not run/);
    expect(() => f.get('x')).toThrow(/one of the captured names \(a, b\)/);
    f.dispose();
    expect(() => f.get('a')).toThrow(KernelzooError);
    y.dispose();
    expect(memory().numTensors).toBe(base);
    x.dispose();
  });
});

describe('summary', () => {
  const live = () => (ENGINE as unknown as { live: Set<Tensor> }).live.size;

  it('states both GFLOPs conventions: 2³⁰ multiply-adds read 1.074 G by ÷ 10⁹ and 1.00 G by ÷ 2³⁰ (HRNet’s)', () => {
    const conv = withoutInit(() => new Conv2d(1024, 1024, 1, { bias: false }));
    const s = summary(conv, [1, 1024, 32, 32]);
    expect(s.totalMultiplyAdds).toBe(2 ** 30);
    expect(s.toString()).toContain(
      "total multiply-adds: 1,073,741,824 (1.074 G = ÷ 10⁹; 1.00 G = ÷ 2³⁰, the convention of HRNet's published GFLOPs)",
    );
    conv.dispose();
  });

  it('checks the input shape before using it', () => {
    for (const bad of [[], [1, 0, 2], [2.5], 'x', null])
      expect(() => summary(new Pair(), bad as never)).toThrow(
        /summary: argument 'inputShape' must be a non-empty array of integers ≥ 1/,
      );
  });

  it('leaves no tensor behind, shape-only ones included, and names rows by module', () => {
    const before = live();
    const s = summary(new Pair(), [2, 3]);
    expect(live()).toBe(before);
    expect(s.rows.map((r) => [r.name, r.type, r.depth, r.outputShapes])).toEqual([
      ['', 'Pair', 0, [[2, 3]]],
      ['a', 'Twice', 1, [[2, 3]]],
      ['b', 'Twice', 1, [[2, 3]]],
    ]);
    expect(
      traceShapes(
        () => live(),
        () => undefined,
      ),
    ).toBe(before);
  });
});
