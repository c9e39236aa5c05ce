/**
 * nn behaviour every backend must keep: PyTorch state-dict keys, loadStateDict's reporting
 * and atomicity, fused inference equal to unfused, and `summary` without kernels.
 *
 * @module
 */
import {
  adaptiveAvgPool2d,
  type Backend,
  getBackend,
  memory,
  nn,
  reshape,
  StateDictError,
  summary,
  type Tensor,
  tensor,
  tidy,
} from '@kernelzoo/core';
import { expectClose, MismatchError } from '../compare.js';
import { KERNELS } from '../env.js';
import { CaseRandom, type HostTensor } from '../host.js';
import { tfjs } from '../oracle/index.js';
import type { Case } from '../runner.js';

function assert(cond: boolean, message: string): void {
  if (!cond) throw new MismatchError(message);
}

/** Sequential(Conv2d, BatchNorm2d, ReLU) features, then global pooling and a Linear head. */
class TinyNet extends nn.Module {
  readonly features: nn.Sequential;
  readonly fc: nn.Linear;

  constructor(cin = 3, mid = 4, classes = 2) {
    super();
    this.features = this.registerModule(
      'features',
      new nn.Sequential(new nn.Conv2d(cin, mid, 3, { padding: 1 }), new nn.BatchNorm2d(mid), new nn.ReLU()),
    );
    this.fc = this.registerModule('fc', new nn.Linear(mid, classes));
  }

  protected forward(x: Tensor): Tensor {
    const p = adaptiveAvgPool2d(this.features.call(x), 1);
    return this.fc.call(reshape(p, [p.shape[0], -1]));
  }
}

const TINY_KEYS = [
  'features.0.weight',
  'features.0.bias',
  'features.1.weight',
  'features.1.bias',
  'features.1.running_mean',
  'features.1.running_var',
  'features.1.num_batches_tracked',
  'fc.weight',
  'fc.bias',
];

function snapshot(m: nn.Module): Map<string, number[]> {
  return new Map([...m.stateDict()].map(([k, t]) => [k, Array.from(t.dataSync())]));
}

function sameSnapshot(a: Map<string, number[]>, b: Map<string, number[]>, what: string): void {
  assert(a.size === b.size, `${what}: ${a.size} vs ${b.size} keys`);
  for (const [k, v] of a) expectClose(b.get(k) ?? [], v, { rtol: 0, atol: 0 }, `${what}: ${k}`);
}

function host(t: Tensor): HostTensor {
  const v = t.dataSync();
  return { shape: [...t.shape], dtype: t.dtype, values: v };
}

/** The nn cases. */
export function nnCases(): Case[] {
  return [
    {
      name: 'stateDict keys and order equal PyTorch for Sequential(Conv2d, BatchNorm2d, ReLU) and a nested model',
      needs: [],
      run() {
        nn.manualSeed(1);
        const seq = new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.BatchNorm2d(4), new nn.ReLU());
        const net = new TinyNet();
        try {
          const seqKeys = [...seq.stateDict().keys()];
          const expected = [
            '0.weight',
            '0.bias',
            '1.weight',
            '1.bias',
            '1.running_mean',
            '1.running_var',
            '1.num_batches_tracked',
          ];
          assert(seqKeys.join() === expected.join(), `Sequential keys: [${seqKeys}] expected [${expected}]`);
          const keys = [...net.stateDict().keys()];
          assert(keys.join() === TINY_KEYS.join(), `nested keys: [${keys}] expected [${TINY_KEYS}]`);
          const shapes = [...net.stateDict().values()].map((t) => `[${t.shape}]`).join(' ');
          assert(shapes === '[4,3,3,3] [4] [4] [4] [4] [4] [] [2,4] [2]', `state-dict shapes: ${shapes}`);
          assert(
            net.stateDict().get('features.1.num_batches_tracked')!.dtype === 'int32',
            'num_batches_tracked is not int32',
          );
        } finally {
          seq.dispose();
          net.dispose();
        }
      },
    },
    {
      name: 'loadStateDict reports missing, unexpected and mis-shaped keys by name at once and changes nothing',
      needs: [],
      run(ctx) {
        nn.manualSeed(2);
        const net = new TinyNet();
        try {
          const before = snapshot(net);
          const dict = new Map(net.stateDict());
          dict.delete('features.1.running_var');
          dict.set('extra.weight', ctx.own(tensor([1, 2])));
          dict.set('fc.weight', ctx.own(tensor(new Float32Array(12), [3, 4])));
          dict.set('features.0.bias', ctx.own(tensor([9, 9, 9, 9])));
          let err: unknown = null;
          try {
            net.loadStateDict(dict);
          } catch (e) {
            err = e;
          }
          assert(err instanceof StateDictError, `expected a StateDictError, got ${String(err)}`);
          const e = err as StateDictError;
          assert(e.missing.join() === 'features.1.running_var', `missing: [${e.missing}]`);
          assert(e.unexpected.join() === 'extra.weight', `unexpected: [${e.unexpected}]`);
          assert(
            e.mismatched.map((m) => m.key).join() === 'fc.weight',
            `mismatched: ${JSON.stringify(e.mismatched)}`,
          );
          for (const k of ['features.1.running_var', 'extra.weight', 'fc.weight'])
            assert(e.message.includes(k), `the message does not name ${k}: ${e.message}`);
          sameSnapshot(before, snapshot(net), 'after a failed load');
          let nonStrict: unknown = null;
          try {
            net.loadStateDict(dict, { strict: false });
          } catch (x) {
            nonStrict = x;
          }
          assert(nonStrict instanceof StateDictError, 'strict: false accepted a mis-shaped key');
          sameSnapshot(before, snapshot(net), 'after a failed non-strict load');
        } finally {
          net.dispose();
        }
      },
    },
    {
      name: 'loadStateDict strict: false loads what fits and reports the rest; num_batches_tracked is optional',
      needs: ['cast'],
      run(ctx) {
        nn.manualSeed(3);
        const net = new TinyNet();
        try {
          const before = snapshot(net);
          const w = ctx.own(tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]));
          const res = net.loadStateDict({ 'fc.weight': w, bogus: ctx.own(tensor([0])) }, { strict: false });
          assert(res.unexpected.join() === 'bogus', `unexpected: [${res.unexpected}]`);
          const missing = TINY_KEYS.filter(
            (k) => k !== 'fc.weight' && k !== 'features.1.num_batches_tracked',
          );
          assert(res.missing.join() === missing.join(), `missing: [${res.missing}] expected [${missing}]`);
          w.dispose();
          expectClose(
            net.fc.weight.dataSync(),
            [1, 2, 3, 4, 5, 6, 7, 8],
            { rtol: 0, atol: 0 },
            'loaded fc.weight',
          );
          for (const k of TINY_KEYS.filter((k) => k !== 'fc.weight'))
            expectClose(
              net.stateDict().get(k)!.dataSync(),
              before.get(k)!,
              { rtol: 0, atol: 0 },
              `unchanged ${k}`,
            );
          const full = new Map(net.stateDict());
          full.delete('features.1.num_batches_tracked');
          const strict = net.loadStateDict(full);
          assert(
            strict.missing.length === 0 && strict.unexpected.length === 0,
            'strict load without num_batches_tracked reported keys',
          );
          const asFloat = ctx.own(tensor([5], []));
          net.loadStateDict({ 'features.1.num_batches_tracked': asFloat }, { strict: false });
          asFloat.dispose();
          const nbt = net.stateDict().get('features.1.num_batches_tracked')!;
          assert(
            nbt.dtype === 'int32' && nbt.dataSync()[0] === 5,
            'a float32 num_batches_tracked was not converted to int32',
          );
        } finally {
          net.dispose();
        }
      },
    },
    {
      name: 'eval() fused output (BatchNorm folded into conv, activations fused) equals unfused output and the oracle; reload invalidates',
      needs: [
        'conv2d',
        'batchNorm',
        'unary:relu',
        'unary:sigmoid',
        'unary:rsqrt',
        'binary:add',
        'binary:mul',
        'binary:sub',
        'matmul',
      ],
      run(ctx) {
        nn.manualSeed(4);
        const r = new CaseRandom(8000);
        const model = new nn.Sequential(
          new nn.Conv2d(3, 6, 3, { padding: 1, stride: 2 }),
          new nn.BatchNorm2d(6),
          new nn.ReLU(),
          new nn.Conv2d(6, 4, 1, { bias: false }),
          new nn.BatchNorm2d(4, { eps: 1e-3 }),
          new nn.Sigmoid(),
        );
        const head = new nn.Sequential(new nn.Linear(4, 3), new nn.ReLU());
        try {
          const stats = (c: number) => ({
            mean: r.floats([c]),
            var: r.floats([c], 0.2, 2),
            w: r.floats([c], 0.5, 1.5),
            b: r.floats([c]),
          });
          const s1 = stats(6);
          const s4 = stats(4);
          const load = (s1x: typeof s1, s4x: typeof s4) =>
            tidy(() => {
              model.loadStateDict(
                {
                  '1.running_mean': ctx.t(s1x.mean),
                  '1.running_var': ctx.t(s1x.var),
                  '1.weight': ctx.t(s1x.w),
                  '1.bias': ctx.t(s1x.b),
                  '4.running_mean': ctx.t(s4x.mean),
                  '4.running_var': ctx.t(s4x.var),
                  '4.weight': ctx.t(s4x.w),
                  '4.bias': ctx.t(s4x.b),
                },
                { strict: false },
              );
            });
          load(s1, s4);
          const x = r.floats([2, 3, 7, 7]);
          const oracle = () => {
            const sd = model.stateDict();
            const c0 = tfjs.conv2d(x, host(sd.get('0.weight')!), {
              stride: [2, 2],
              padding: [1, 1, 1, 1],
              dilation: [1, 1],
              groups: 1,
              bias: host(sd.get('0.bias')!),
            });
            const b1 = tfjs.batchNorm(
              c0,
              host(sd.get('1.running_mean')!),
              host(sd.get('1.running_var')!),
              host(sd.get('1.weight')!),
              host(sd.get('1.bias')!),
              1e-5,
            );
            const a1 = tfjs.unary('relu', b1);
            const c3 = tfjs.conv2d(a1, host(sd.get('3.weight')!), {
              stride: [1, 1],
              padding: [0, 0, 0, 0],
              dilation: [1, 1],
              groups: 1,
            });
            const b4 = tfjs.batchNorm(
              c3,
              host(sd.get('4.running_mean')!),
              host(sd.get('4.running_var')!),
              host(sd.get('4.weight')!),
              host(sd.get('4.bias')!),
              1e-3,
            );
            return tfjs.unary('sigmoid', b4);
          };
          const xt = ctx.t(x);
          const unfused = ctx.own(model.call(xt));
          ctx.check(unfused, oracle(), 'unfused Sequential vs oracle');
          model.eval();
          const fused = model.call(xt);
          ctx.check(fused, host(unfused), 'fused (eval) vs unfused');
          ctx.check(model.call(xt), host(unfused), 'fused, second call (prepared once)');
          load(stats(6), stats(4));
          ctx.check(model.call(xt), oracle(), 'fused after loading new statistics (prepared values dropped)');
          const v = r.floats([5, 4]);
          const h1 = ctx.own(head.call(ctx.t(v)));
          head.eval();
          ctx.check(head.call(ctx.t(v)), host(h1), 'Linear + ReLU fused vs unfused');
        } finally {
          model.dispose();
          head.dispose();
        }
      },
    },
    {
      name: 'summary gives hand-derived parameters and multiply-adds without running kernels or allocating buffers',
      needs: [],
      run() {
        nn.manualSeed(5);
        const net = new TinyNet(3, 8, 10);
        const b = getBackend() as unknown as Record<string, unknown>;
        const patched: [string, unknown, boolean][] = [];
        let calls = 0;
        for (const k of KERNELS) {
          const orig = b[k] as (...a: unknown[]) => unknown;
          patched.push([k, orig, Object.hasOwn(b, k)]);
          b[k] = (...args: unknown[]) => {
            calls++;
            return orig.apply(b as unknown as Backend, args);
          };
        }
        try {
          for (const evalMode of [false, true]) {
            if (evalMode) net.eval();
            const before = memory();
            const s = summary(net, [1, 3, 16, 16]);
            const after = memory();
            assert(calls === 0, `summary ran ${calls} kernel(s)`);
            assert(
              after.numDataBuffers === before.numDataBuffers &&
                after.numTensors === before.numTensors &&
                after.numBytes === before.numBytes,
              `summary allocated: buffers ${before.numDataBuffers} → ${after.numDataBuffers}, tensors ${before.numTensors} → ${after.numTensors}`,
            );
            // conv 8·3·3·3 + 8 = 224; BN 8 + 8 = 16; Linear 10·8 + 10 = 90.
            assert(s.totalParameters === 330, `parameters ${s.totalParameters}, expected 330`);
            // conv 1·8·16·16·(3·3·3) = 55296; Linear 1·10·8 = 80.
            assert(s.totalMultiplyAdds === 55376, `multiply-adds ${s.totalMultiplyAdds}, expected 55376`);
            const row = (n: string) => s.rows.find((x) => x.name === n);
            assert(
              row('features.0')?.multiplyAdds === 55296,
              `features.0 multiply-adds ${row('features.0')?.multiplyAdds}`,
            );
            assert(
              row('features.0')?.parameters === 224,
              `features.0 parameters ${row('features.0')?.parameters}`,
            );
            assert(
              `${row('features.0')?.outputShapes[0]}` === '1,8,16,16',
              `features.0 output ${row('features.0')?.outputShapes[0]}`,
            );
            assert(
              row('fc')?.multiplyAdds === 80 && `${row('fc')?.outputShapes[0]}` === '1,10',
              `fc row ${JSON.stringify(row('fc'))}`,
            );
            assert(
              s.rows[0].name === '' && s.rows[0].type === 'TinyNet',
              `root row ${JSON.stringify(s.rows[0])}`,
            );
          }
        } finally {
          for (const [k, orig, own] of patched) {
            if (own) b[k] = orig;
            else delete b[k];
          }
          net.dispose();
        }
      },
    },
  ];
}
