/**
 * The module API every backend must keep: `Module.call()` scopes, fusion of named
 * conv/bn/act children declared with `registerFusion` (proved by a kernel trace), original
 * weights parked off the backend, feature capture with exact values inside fused chains, the
 * error for a misdeclared chain, and no leak over 1000 eval forwards.
 *
 * @module
 */
import { add, KernelzooError, memory, nn, type Tensor, tidy, traceKernels } from '@kernelzoo/core';
import { expectClose, MismatchError } from '../compare.js';
import { CaseRandom, type HostTensor } from '../host.js';
import { tfjs } from '../oracle/index.js';
import type { Case, CaseContext } from '../runner.js';

function assert(cond: boolean, message: string): void {
  if (!cond) throw new MismatchError(message);
}

/**
 * A ResNet Bottleneck as torchvision writes it: named children `conv1`/`bn1`, `conv2`/`bn2`,
 * `conv3`/`bn3` and one `relu` shared by three places, the last after the residual sum.
 */
class Bottleneck extends nn.Module {
  readonly conv1: nn.Conv2d;
  readonly bn1: nn.BatchNorm2d;
  readonly conv2: nn.Conv2d;
  readonly bn2: nn.BatchNorm2d;
  readonly conv3: nn.Conv2d;
  readonly bn3: nn.BatchNorm2d;
  readonly relu: nn.ReLU;

  constructor(channels: number, width: number) {
    super();
    this.conv1 = this.registerModule('conv1', new nn.Conv2d(channels, width, 1, { bias: false }));
    this.bn1 = this.registerModule('bn1', new nn.BatchNorm2d(width));
    this.conv2 = this.registerModule('conv2', new nn.Conv2d(width, width, 3, { padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new nn.BatchNorm2d(width));
    this.conv3 = this.registerModule('conv3', new nn.Conv2d(width, channels, 1, { bias: false }));
    this.bn3 = this.registerModule('bn3', new nn.BatchNorm2d(channels));
    this.relu = this.registerModule('relu', new nn.ReLU());
    this.registerFusion('conv1', 'bn1', 'relu');
    this.registerFusion('conv2', 'bn2', 'relu');
    this.registerFusion('conv3', 'bn3');
  }

  protected forward(x: Tensor): Tensor {
    let out = this.relu.call(this.bn1.call(this.conv1.call(x)));
    out = this.relu.call(this.bn2.call(this.conv2.call(out)));
    out = this.bn3.call(this.conv3.call(out));
    return this.relu.call(add(out, x));
  }
}

/** A block whose declared chain is broken by its forward (it reads the conv's output). */
class MisdeclaredBlock extends nn.Module {
  readonly conv: nn.Conv2d;
  readonly bn: nn.BatchNorm2d;

  constructor() {
    super();
    this.conv = this.registerModule('conv', new nn.Conv2d(2, 2, 1));
    this.bn = this.registerModule('bn', new nn.BatchNorm2d(2));
    this.registerFusion('conv', 'bn');
  }

  protected forward(x: Tensor): Tensor {
    return this.bn.call(add(this.conv.call(x), 1));
  }
}

function host(t: Tensor): HostTensor {
  return { shape: [...t.shape], dtype: t.dtype, values: t.dataSync() };
}

/** A Bottleneck with seeded random weights and non-trivial BatchNorm statistics. */
function randomBottleneck(ctx: CaseContext, r: CaseRandom, channels: number, width: number): Bottleneck {
  nn.manualSeed(r.int(0, 1e6));
  const block = new Bottleneck(channels, width);
  tidy(() => {
    const dict = new Map<string, Tensor>();
    for (const [bn, c] of [
      ['bn1', width],
      ['bn2', width],
      ['bn3', channels],
    ] as const) {
      dict.set(`${bn}.weight`, ctx.t(r.floats([c], 0.5, 1.5)));
      dict.set(`${bn}.bias`, ctx.t(r.floats([c], -0.5, 0.5)));
      dict.set(`${bn}.running_mean`, ctx.t(r.floats([c], -0.5, 0.5)));
      dict.set(`${bn}.running_var`, ctx.t(r.floats([c], 0.3, 2)));
    }
    block.loadStateDict(dict, { strict: false });
  });
  return block;
}

/** The block's intermediates computed by the tfjs oracle from its state dict. */
function oracleBottleneck(block: Bottleneck, x: HostTensor) {
  const sd = block.stateDict();
  const h = (k: string) => host(sd.get(k)!);
  const conv = (input: HostTensor, key: string, pad: number) =>
    tfjs.conv2d(input, h(`${key}.weight`), {
      stride: [1, 1],
      padding: [pad, pad, pad, pad],
      dilation: [1, 1],
      groups: 1,
    });
  const bn = (input: HostTensor, key: string) =>
    tfjs.batchNorm(
      input,
      h(`${key}.running_mean`),
      h(`${key}.running_var`),
      h(`${key}.weight`),
      h(`${key}.bias`),
      1e-5,
    );
  const conv1 = conv(x, 'conv1', 0);
  const bn1 = bn(conv1, 'bn1');
  const a1 = tfjs.unary('relu', bn1);
  const a2 = tfjs.unary('relu', bn(conv(a1, 'conv2', 1), 'bn2'));
  const conv3 = conv(a2, 'conv3', 0);
  const out = tfjs.unary('relu', tfjs.binary('add', bn(conv3, 'bn3'), x));
  return { conv1, bn1, conv3, out };
}

/** One form of chain `Module` fuses, built as a `Sequential`. */
interface FusedForm {
  label: string;
  conv?: {
    cin: number;
    cout: number;
    k: number;
    stride: number;
    dilation: number;
    groups: number;
    bias: boolean;
  };
  linear?: { inF: number; outF: number };
  bn: boolean;
  act: 'relu' | 'sigmoid' | 'identity' | null;
}

const FUSED_FORMS: FusedForm[] = [
  { label: 'Conv2d → BatchNorm2d → ReLU', conv: conv(), bn: true, act: 'relu' },
  { label: 'Conv2d → BatchNorm2d → Sigmoid', conv: conv(), bn: true, act: 'sigmoid' },
  { label: 'Conv2d → BatchNorm2d → Identity', conv: conv(), bn: true, act: 'identity' },
  { label: 'Conv2d → BatchNorm2d', conv: conv(), bn: true, act: null },
  { label: 'Conv2d → ReLU', conv: conv({ bias: true }), bn: false, act: 'relu' },
  { label: 'Conv2d → Sigmoid', conv: conv({ bias: true }), bn: false, act: 'sigmoid' },
  { label: 'Conv2d (bias) → BatchNorm2d → ReLU', conv: conv({ bias: true }), bn: true, act: 'relu' },
  {
    label: 'grouped, strided, dilated Conv2d (bias) → BatchNorm2d → ReLU',
    conv: conv({ cin: 6, cout: 4, groups: 2, stride: 2, dilation: 2, bias: true }),
    bn: true,
    act: 'relu',
  },
  { label: 'Linear → ReLU', linear: { inF: 7, outF: 5 }, bn: false, act: 'relu' },
  { label: 'Linear → Sigmoid', linear: { inF: 7, outF: 5 }, bn: false, act: 'sigmoid' },
];

function conv(over: Partial<NonNullable<FusedForm['conv']>> = {}): NonNullable<FusedForm['conv']> {
  return { cin: 3, cout: 4, k: 3, stride: 1, dilation: 1, groups: 1, bias: false, ...over };
}

function fusedFormCase(form: FusedForm, seed: number): Case {
  return {
    name: `fused ${form.label} equals the oracle and runs as one kernel`,
    needs: form.conv ? ['conv2d', 'batchNorm', 'unary'] : ['matmul', 'unary'],
    preset: form.act === 'sigmoid' ? 'transcendental' : undefined,
    run(ctx) {
      const r = new CaseRandom(seed);
      nn.manualSeed(seed);
      const layers: nn.Module[] = [];
      const c = form.conv;
      if (c)
        layers.push(
          new nn.Conv2d(c.cin, c.cout, c.k, {
            stride: c.stride,
            dilation: c.dilation,
            padding: c.dilation,
            groups: c.groups,
            bias: c.bias,
          }),
        );
      else layers.push(new nn.Linear(form.linear!.inF, form.linear!.outF));
      if (form.bn) layers.push(new nn.BatchNorm2d(c!.cout, { eps: 1e-3 }));
      if (form.act === 'relu') layers.push(new nn.ReLU());
      if (form.act === 'sigmoid') layers.push(new nn.Sigmoid());
      if (form.act === 'identity') layers.push(new nn.Identity());
      const seq = new nn.Sequential(...layers);
      try {
        if (form.bn)
          tidy(() => {
            seq.loadStateDict(
              {
                '1.weight': ctx.t(r.floats([c!.cout], 0.5, 1.5)),
                '1.bias': ctx.t(r.floats([c!.cout])),
                '1.running_mean': ctx.t(r.floats([c!.cout])),
                '1.running_var': ctx.t(r.floats([c!.cout], 0.2, 2)),
              },
              { strict: false },
            );
          });
        const sd = seq.stateDict();
        const h = (k: string) => host(sd.get(k)!);
        const x = c ? r.floats([2, c.cin, 7, 6]) : r.floats([3, form.linear!.inF]);
        let e = c
          ? tfjs.conv2d(x, h('0.weight'), {
              stride: [c.stride, c.stride],
              padding: [c.dilation, c.dilation, c.dilation, c.dilation],
              dilation: [c.dilation, c.dilation],
              groups: c.groups,
              bias: c.bias ? h('0.bias') : null,
            })
          : tfjs.matmul(x, h('0.weight'), { transposeB: true, bias: h('0.bias') });
        if (form.bn)
          e = tfjs.batchNorm(e, h('1.running_mean'), h('1.running_var'), h('1.weight'), h('1.bias'), 1e-3);
        if (form.act === 'relu' || form.act === 'sigmoid') e = tfjs.unary(form.act, e);
        seq.eval();
        const xt = ctx.t(x);
        ctx.check(seq.call(xt), e, `${form.label}, first eval call (folds)`);
        const [y, trace] = traceKernels(() => seq.call(xt));
        ctx.check(y, e, `${form.label}, fused`);
        const kernels = trace.calls.map((k) => k.kernel).join();
        assert(kernels === (c ? 'conv2d' : 'matmul'), `${form.label} ran [${kernels}], expected one kernel`);
      } finally {
        seq.dispose();
      }
    },
  };
}

/** The module-API cases. */
export function moduleCases(): Case[] {
  return [
    ...FUSED_FORMS.map((f, i) => fusedFormCase(f, 810 + i)),
    {
      name: 'a Bottleneck with named conv/bn/relu children runs 3 conv2d and no batchNorm in eval (trace), equal to unfused and the oracle',
      needs: ['conv2d', 'batchNorm', 'binary', 'unary'],
      run(ctx) {
        const r = new CaseRandom(801);
        const block = randomBottleneck(ctx, r, 8, 4);
        try {
          const x = r.floats([2, 8, 5, 6]);
          const expected = oracleBottleneck(block, x).out;
          const xt = ctx.t(x);
          const [unfused, t1] = traceKernels(() => ctx.own(block.call(xt)));
          ctx.check(unfused, expected, 'unfused Bottleneck vs oracle');
          const seen = (t: typeof t1) =>
            ['conv2d', 'batchNorm', 'relu', 'add'].map((k) => `${k}×${t.count(k)}`).join(' ');
          assert(seen(t1) === 'conv2d×3 batchNorm×3 relu×3 add×1', `unfused kernels: ${seen(t1)}`);
          const original = new Map([...block.stateDict()].map(([k, t]) => [k, t.dataSync()]));
          block.eval();
          block.call(xt).dispose(); // the first eval call folds the weights (kernels of its own)
          const [fused, t2] = traceKernels(() => block.call(xt));
          assert(seen(t2) === 'conv2d×3 batchNorm×0 relu×1 add×1', `fused kernels: ${seen(t2)}`);
          assert(t2.calls.length === 5, `fused kernel calls: ${t2.calls.map((c) => c.kernel).join(', ')}`);
          const names = t2.calls.map((c) => t2.moduleName(c));
          assert(
            names.join() === 'conv1,conv2,conv3,,relu',
            `kernels ran in modules [${names.join(', ')}], expected conv1, conv2, conv3, (block), relu`,
          );
          ctx.check(fused, host(unfused), 'fused (eval) vs unfused');
          ctx.check(fused, expected, 'fused (eval) vs oracle');
          // The backend keeps only the folded convolution weights; the originals are parked.
          const parked = [block.conv1, block.conv2, block.conv3].map((c) => c.weight.backendName);
          assert(
            parked.every((n) => n === 'host'),
            `original conv weights live on [${parked}], expected host`,
          );
          // So are the BatchNorms' parameters and statistics (γ, β, mean, variance of 4, 4 and 8
          // channels, and three int32 num_batches_tracked): the fused step needs none of them.
          const hostBytes = memory().backends.host?.bytes ?? 0;
          const weightBytes = 4 * (8 * 4 + 4 * 4 * 9 + 4 * 8) + 4 * 4 * (4 + 4 + 8) + 3 * 4;
          assert(hostBytes === weightBytes, `host holds ${hostBytes} bytes, expected ${weightBytes}`);
          const bnOnBackend = [block.bn1, block.bn2, block.bn3]
            .flatMap((b) => [...b.namedParameters(), ...b.namedBuffers()])
            .filter(([, t]) => t.backendName !== 'host');
          assert(
            bnOnBackend.length === 0,
            `BatchNorm tensors left on the backend: ${bnOnBackend.map(([n]) => n)}`,
          );
          for (const [k, t] of block.stateDict())
            expectClose(t.dataSync(), original.get(k)!, { rtol: 0, atol: 0 }, `stateDict ${k} after fusion`);
          ctx.check(block.call(xt), expected, 'fused, second call');
        } finally {
          block.dispose();
        }
      },
    },
    {
      name: 'a fused Sequential(Conv2d, BatchNorm2d, ReLU, Conv2d, BatchNorm2d) runs 2 conv2d kernels and nothing else',
      needs: ['conv2d', 'batchNorm', 'unary'],
      run(ctx) {
        nn.manualSeed(802);
        const seq = new nn.Sequential(
          new nn.Conv2d(3, 4, 3, { padding: 1 }),
          new nn.BatchNorm2d(4),
          new nn.ReLU(),
          new nn.Conv2d(4, 2, 1),
          new nn.BatchNorm2d(2),
        );
        try {
          const xt = ctx.t(new CaseRandom(802).floats([1, 3, 6, 6]));
          const unfused = ctx.own(seq.call(xt));
          seq.eval();
          seq.call(xt).dispose();
          const [fused, trace] = traceKernels(() => seq.call(xt));
          const kernels = trace.calls.map((c) => c.kernel).join();
          assert(kernels === 'conv2d,conv2d', `fused Sequential ran [${kernels}]`);
          ctx.check(fused, host(unfused), 'fused Sequential vs unfused');
        } finally {
          seq.dispose();
        }
      },
    },
    {
      name: 'captured outputs inside a fused chain are exact (the chain runs unfused while captured); a shared ReLU is heard on every call',
      needs: ['conv2d', 'batchNorm', 'binary', 'unary'],
      run(ctx) {
        const r = new CaseRandom(803);
        const block = randomBottleneck(ctx, r, 8, 4).eval();
        try {
          const x = r.floats([1, 8, 4, 5]);
          const expected = oracleBottleneck(block, x);
          const xt = ctx.t(x);
          const [y, features] = nn.captureFeatures(block, ['bn1', 'conv3', 'relu', 'conv2'], () =>
            block.call(xt),
          );
          try {
            ctx.check(y, expected.out, 'output while capturing');
            ctx.check(features.get('bn1'), expected.bn1, "captured 'bn1' (before the ReLU)");
            ctx.check(features.get('conv3'), expected.conv3, "captured 'conv3' (before bn3)");
            ctx.check(features.get('relu'), expected.out, "captured 'relu' (its last call)");
            assert(
              features.getAll('relu').length === 3,
              `relu heard ${features.getAll('relu').length} calls, expected 3`,
            );
            assert(
              features.get('conv2').shape.join() === '1,4,4,5',
              `conv2 shape ${features.get('conv2').shape}`,
            );
          } finally {
            features.dispose();
          }
          // Without capture, the chains fuse again.
          const [again, trace] = traceKernels(() => block.call(xt));
          again.dispose();
          assert(
            trace.count('batchNorm') === 0,
            `after capture: ${trace.count('batchNorm')} batchNorm kernels`,
          );
          // A taken feature outlives the Features object.
          const [y2, f2] = nn.captureFeatures(block, ['bn1'], () => block.call(xt));
          y2.dispose();
          const bn1 = f2.take('bn1');
          f2.dispose();
          ctx.check(bn1, expected.bn1, 'taken feature after Features.dispose()');
        } finally {
          block.dispose();
        }
      },
    },
    {
      name: "an op that reads a declared chain's intermediate throws, naming the chain",
      needs: ['conv2d', 'batchNorm', 'binary'],
      run(ctx) {
        nn.manualSeed(804);
        const block = new MisdeclaredBlock();
        try {
          const xt = ctx.t(new CaseRandom(804).floats([1, 2, 3, 3]));
          block.call(xt).dispose(); // unfused: runs as written
          block.eval();
          let err: unknown = null;
          try {
            block.call(xt);
          } catch (e) {
            err = e;
          }
          assert(
            err instanceof KernelzooError &&
              /add: read the output of a fused Conv2d 'conv'/.test(err.message),
            `expected a KernelzooError naming Conv2d 'conv', got ${String(err)}`,
          );
        } finally {
          block.dispose();
        }
      },
    },
    {
      name: 'a fused Bottleneck leaks no tensor or buffer over 1000 eval forwards',
      needs: ['conv2d', 'batchNorm', 'binary', 'unary'],
      run(ctx) {
        const r = new CaseRandom(805);
        const block = randomBottleneck(ctx, r, 4, 2).eval();
        try {
          const xt = ctx.t(r.floats([1, 4, 3, 3]));
          const first = block.call(xt);
          const expected = host(first);
          first.dispose();
          const before = memory();
          for (let i = 0; i < 1000; i++) block.call(xt).dispose();
          const after = memory();
          const b = ctx.backend;
          assert(
            after.numTensors === before.numTensors &&
              after.numDataBuffers === before.numDataBuffers &&
              after.backends[b]?.buffers === before.backends[b]?.buffers,
            `1000 forwards: tensors ${before.numTensors} → ${after.numTensors}, buffers ${before.numDataBuffers} → ${after.numDataBuffers}, ${b} buffers ${before.backends[b]?.buffers} → ${after.backends[b]?.buffers}`,
          );
          ctx.check(block.call(xt), expected, 'forward 1002 equals forward 1');
        } finally {
          block.dispose();
        }
      },
    },
  ];
}
