import { registerGpujsBackend } from '@kernelzoo/backend-gpujs';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { registerWasmBackend } from '@kernelzoo/backend-wasm';
import { toleranceFor } from '@kernelzoo/conformance';
import {
  dispose,
  nn,
  randomUniform,
  StateDictError,
  setBackend,
  type Tensor,
  tensor,
  tidy,
} from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRawWeights, loadWeights, loadWeightsSync, readSafetensorsFile } from './load.js';
import { fromTensors, toTensors } from './raw.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import { FIXTURES } from './test-support/fixtures.js';

const X = [
  [0.0245958, 0.25883394, 0.93905586, 0.4167155, 0.7139797],
  [0.2676443, 0.990609, 0.28845078, 0.8749624, 0.5059208],
  [0.23659128, 0.7570074, 0.23458993, 0.64705235, 0.3556214],
  [0.4451828, 0.01930594, 0.26160914, 0.771317, 0.37846136],
  [0.99802476, 0.9007942, 0.4765882, 0.16625845, 0.8044811],
  [0.65517855, 0.17679012, 0.8247723, 0.8035509, 0.9434475],
  [0.21972018, 0.417697, 0.49031407, 0.57302874, 0.12054086],
  [0.14518881, 0.7720023, 0.38275403, 0.7442367, 0.52850497],
  [0.6641724, 0.60994434, 0.6817997, 0.74785537, 0.03694397],
  [0.7516757, 0.1484384, 0.12274551, 0.5304072, 0.4147964],
].flat();
const Y = [
  [-0.02502128, 0.00250649, 0.04841233],
  [0.04589614, -0.00296854, 0.01991477],
  [0.02920526, 0.0594973, 0.04326791],
  [-0.04825336, 0.0801909, -0.02375088],
  [0.02885434, 0.09638263, -0.07460806],
  [0.02004079, 0.06244051, 0.0358871],
].flat();

class TwoConvs extends nn.Module {
  readonly conv1 = this.registerModule('conv1', new nn.Conv2d(2, 2, 2));
  readonly conv2 = this.registerModule('conv2', new nn.Conv2d(2, 2, 2, { bias: false }));
  protected forward(x: Tensor): Tensor {
    return this.conv2.call(this.conv1.call(x));
  }
}

class OneNorm extends nn.Module {
  readonly norm1 = this.registerModule('norm1', new nn.BatchNorm2d(5));
  protected forward(x: Tensor): Tensor {
    return this.norm1.call(x);
  }
}

function run(m: nn.Module, x: number[], shape: number[]): number[] {
  return Array.from(
    tidy(() => m.call(tensor(x, shape)))
      .dataSync()
      .slice(),
  );
}

function maxDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i])));
}

/** |a − e| ≤ max(rtol·|e|, atol) for every value, as the conformance suite compares. */
function expectWithin(actual: number[], expected: number[], tol: { rtol: number; atol: number }): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i];
    expect(Math.abs(a - e), `value ${i}: ${a} vs ${e}`).toBeLessThanOrEqual(
      Math.max(tol.rtol * Math.abs(e), tol.atol),
    );
  });
}

beforeAll(() => {
  registerJsBackend();
  registerWasmBackend();
  registerGpujsBackend();
});

// The bar: within 1e-6 on backend-js, within the conformance tolerance elsewhere.
const PARITY_BACKENDS = [
  { name: 'js', tol: { rtol: 0, atol: 1e-6 } },
  { name: 'wasm', tol: toleranceFor('wasm', 'elementwise') },
  { name: 'gpujs', tol: toleranceFor('gpujs', 'elementwise') },
];

describe.each(PARITY_BACKENDS)('PyTorch parity on $name', ({ name, tol }) => {
  beforeAll(async () => {
    await setBackend(name);
  });

  it('conv2d.pt in two Conv2d modules gives the outputs PyTorch computed', async () => {
    const m = new TwoConvs();
    await loadWeights(m, `${FIXTURES}conv2d.pt`);
    expect(m.conv1.weight.backendName).toBe(name);
    expectWithin(run(m, X, [1, 2, 5, 5]), Y, tol);
    m.eval(); // the fused inference path too
    expectWithin(run(m, X, [1, 2, 5, 5]), Y, tol);
    m.dispose();
  });

  it('batch_norm2d.pt gives 0.68515635 everywhere for ones - 0.3', async () => {
    const m = new OneNorm().eval();
    await loadWeights(m, `${FIXTURES}batch_norm2d.pt`);
    const y = run(m, new Array(20).fill(0.7), [1, 5, 2, 2]);
    expectWithin(y, new Array(20).fill(0.68515635), tol);
    expect(Array.from(m.norm1.stateDict().get('num_batches_tracked')!.dataSync())).toEqual([1]);
    m.dispose();
  });
});

describe('loading on backend-js', () => {
  beforeAll(async () => {
    await setBackend('js');
  });

  it('reports every mismatch at once and leaves the model unchanged', async () => {
    const m = new TwoConvs();
    const before = await fromTensors(m.stateDict());
    // conv2d.pt into a model whose conv2 has a bias and a different conv1 shape
    class Other extends nn.Module {
      readonly conv1 = this.registerModule('conv1', new nn.Conv2d(2, 2, 3));
      readonly conv2 = this.registerModule('conv2', new nn.Conv2d(2, 2, 2));
      protected forward(x: Tensor): Tensor {
        return x;
      }
    }
    const o = new Other();
    const err = await loadWeights(o, `${FIXTURES}conv2d.pt`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateDictError);
    expect((err as StateDictError).missing).toEqual(['conv2.bias']);
    expect((err as StateDictError).mismatched.map((x) => x.key)).toEqual(['conv1.weight']);
    const err2 = await loadWeights(m, `${FIXTURES}state_dict.pt`).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(StateDictError);
    expect((err2 as StateDictError).unexpected).toEqual(['weight', 'bias', 'running_mean', 'running_var']);
    expect((err2 as StateDictError).missing).toEqual(['conv1.weight', 'conv1.bias', 'conv2.weight']);
    const after = await fromTensors(m.stateDict());
    for (const [k, t] of before) expect(Array.from(after.get(k)!.data), k).toEqual(Array.from(t.data));
    // non-strict: loads what fits, reports the rest
    const r = await loadWeights(new TwoConvs(), `${FIXTURES}top_level_key.pt`, { strict: false });
    expect(r.missing).toEqual(['conv2.weight']);
    m.dispose();
    o.dispose();
  });

  it('round-trips model → safetensors → model with identical outputs', async () => {
    const a = new TwoConvs();
    await loadWeights(a, `${FIXTURES}conv2d.pt`);
    const b = new TwoConvs();
    const bytes = writeSafetensors(await fromTensors(a.stateDict()));
    await loadWeights(b, bytes);
    const x = randomUniform([1, 2, 7, 6], -1, 1, { seed: 3 });
    const ya = tidy(() => a.call(x));
    const yb = tidy(() => b.call(x));
    expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
    // and a BatchNorm with its int32 counter, through the raw reader
    const n1 = new OneNorm();
    await loadWeights(n1, `${FIXTURES}batch_norm2d.pt`);
    const n2 = new OneNorm();
    loadRawWeights(n2, readSafetensors(writeSafetensors(await fromTensors(n1.stateDict()))).tensors);
    const xn = randomUniform([1, 5, 3, 3], 0, 1, { seed: 4 });
    const yn1 = tidy(() => n1.call(xn));
    const yn2 = tidy(() => n2.call(xn));
    expect(Array.from(yn2.dataSync())).toEqual(Array.from(yn1.dataSync()));
    expect(Array.from(n2.norm1.stateDict().get('num_batches_tracked')!.dataSync())).toEqual([1]);
    dispose([x, ya, yb, xn, yn1, yn2]);
    for (const m of [a, b, n1, n2]) m.dispose();
  });

  it('loads synchronously from bytes, and reads safetensors files from a path', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { readFileSync } = await import('node:fs');
    const m = new TwoConvs();
    loadWeightsSync(m, new Uint8Array(readFileSync(`${FIXTURES}conv2d.pt`)));
    expect(maxDiff(run(m, X, [1, 2, 5, 5]), Y)).toBeLessThanOrEqual(1e-6);
    const dir = await mkdtemp(`${tmpdir()}/kz-weights-`);
    try {
      const file = `${dir}/two-convs.safetensors`;
      await writeFile(
        file,
        writeSafetensors(await fromTensors(m.stateDict()), { metadata: { source: 'conv2d.pt' } }),
      );
      const st = await readSafetensorsFile(file);
      expect(st.metadata).toEqual({ source: 'conv2d.pt' });
      const n = new TwoConvs();
      await loadWeights(n, file);
      expect(maxDiff(run(n, X, [1, 2, 5, 5]), Y)).toBeLessThanOrEqual(1e-6);
      n.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    m.dispose();
  });

  it('makes tensors from raw dicts and frees them', () => {
    const ts = toTensors(
      new Map([
        ['w', { dtype: 'float32', shape: [2], data: Float32Array.from([1, 2]), sourceDtype: 'float32' }],
      ]),
    );
    expect(ts.get('w')!.shape).toEqual([2]);
    dispose([...ts.values()]);
  });
});
