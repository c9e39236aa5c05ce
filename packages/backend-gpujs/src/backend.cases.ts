/**
 * Tests shared by the Node and Chromium runs: memory under `tidy`, the compile-once cache and
 * the row layout of tensors larger than one texture row.
 *
 * @module
 */
import { JsBackend } from '@kernelzoo/backend-js';
import * as core from '@kernelzoo/core';
import { expect, it } from 'vitest';
import { GpujsBackend, type GpujsMode } from './index.js';

let registered = 0;

/** Registers a fresh gpujs instance under a new name and makes it active. */
async function useGpujs(mode: GpujsMode | undefined, maxTextureSize?: number): Promise<GpujsBackend> {
  const name = `gpujs-test-${registered++}`;
  let made: GpujsBackend | null = null;
  core.registerBackend(name, () => {
    made = new GpujsBackend({ mode, maxTextureSize });
    return made;
  });
  await core.setBackend(name);
  return made!;
}

function values(n: number, seed: number): Float32Array {
  const r = new core.SeededRandom(seed);
  return Float32Array.from({ length: n }, () => r.uniform(-1, 1));
}

/** Runs the same ops on a backend and returns their results on the host. */
function workload(): Float32Array[] {
  const outs = core.tidy(() => {
    const x = core.tensor(values(2 * 6 * 16 * 16, 1), [2, 6, 16, 16]);
    const odd = core.tensor(values(3 * 5 * 7 * 7, 2), [3, 5, 7, 7]);
    const w = core.tensor(values(8 * 3 * 3 * 3, 3), [8, 3, 3, 3]);
    const b = core.tensor(values(8, 4), [8]);
    const x16 = core.tensor(values(16 * 9 * 11, 6), [1, 16, 9, 11]);
    const w16 = core.tensor(values(8 * 16 * 3 * 3, 7), [8, 16, 3, 3]);
    const w1 = core.tensor(values(12 * 16, 8), [12, 16, 1, 1]);
    const ma = core.tensor(values(2 * 16 * 5, 11), [2, 16, 5]);
    const mb = core.tensor(values(7 * 16, 12), [7, 16]);
    return [
      core.conv2d(x16, w16, { padding: 2, dilation: 2 }),
      core.conv2d(x16, w16, { padding: [0, 1], stride: [2, 1] }),
      core.conv2d(x16, w1),
      core.matmul(ma, mb, { transposeA: true, transposeB: true }),
      core.matmul(mb, ma),
      core.conv2d(x, w, { bias: b, stride: 2, padding: 1, groups: 2 }),
      core.conv2d(core.slice(odd, [0, 0, 0, 0], [3, 3, 7, 7]), w, { padding: 1 }),
      core.resizeBilinear(x, [13, 11], false),
      core.resizeBilinear(odd, [20, 9], true),
      core.softmax(odd, 1),
      core.cast(core.argmax(x, 1), 'float32'),
      core.transpose(odd, [0, 2, 3, 1]),
      core.add(odd, core.tensor(values(7, 5), [7])),
      core.concat([odd, core.mul(odd, 2)], 1),
      core.sum(odd, [2, 3]),
      core.pad(odd, [
        [0, 0],
        [1, 0],
        [2, 1],
        [0, 3],
      ]),
      core.maxPool2d(odd, 3, { stride: 2, padding: 1 }),
      core.flip(odd, [3]),
      core.flip(odd, [0, 2]),
      core.flip(x, [1, 3]),
      core.cast(core.flip(core.cast(core.mul(odd, 100), 'int32'), [1, 3]), 'float32'),
    ];
  });
  const host = outs.map((t) => t.dataSync() as Float32Array);
  core.dispose(outs);
  return host;
}

/** Registers the shared tests for `mode` (`undefined` = the backend's own choice). */
export function backendCases(mode: GpujsMode | undefined): void {
  it('leaves no buffers or textures behind after thousands of ops inside tidy, compiling each op and shape once', async () => {
    const backend = await useGpujs(mode);
    const before = backend.memory();
    const x0 = core.tensor(values(64, 9), [4, 16]);
    const bias = core.tensor(values(16, 10), [16]);
    core.tidy(() => {
      let x = x0;
      for (let i = 0; i < 1000; i++) x = core.relu(core.add(core.mul(x, 0.5), bias));
      expect(x.dataSync().length).toBe(64);
    });
    const compiled = backend.compiledKernels;
    const deleted = backend.texturesDeleted;
    core.tidy(() => {
      let x = x0;
      for (let i = 0; i < 1000; i++) x = core.relu(core.add(core.mul(x, 0.5), bias));
    });
    expect(backend.compiledKernels).toBe(compiled);
    x0.dispose();
    bias.dispose();
    expect(backend.memory()).toEqual(before);
    if (backend.mode === 'webgl2' || backend.mode === 'headlessgl')
      expect(backend.texturesDeleted - deleted).toBeGreaterThanOrEqual(3000);
  });

  it('lays tensors larger than one texture row over several rows and matches the js backend', async () => {
    const backend = await useGpujs(mode, 64);
    expect(backend.maxTextureSize).toBe(64);
    const got = workload();
    core.registerBackend(`js-ref-${registered++}`, () => new JsBackend());
    await core.setBackend(core.registeredBackends().find((n) => n.startsWith('js-ref-'))!);
    const want = workload();
    for (let i = 0; i < want.length; i++) {
      expect(got[i].length).toBe(want[i].length);
      for (let j = 0; j < want[i].length; j++) expect(Math.abs(got[i][j] - want[i][j])).toBeLessThan(1e-4);
    }
  });

  it('refuses, naming the op and the limit, a tensor that cannot fit the largest texture', async () => {
    await useGpujs(mode, 16);
    expect(() => core.zeros([20, 20])).toThrow(core.KernelzooError);
    expect(() => core.zeros([20, 20])).toThrow(
      /does not fit the gpujs backend's largest texture \(16×16 = 256 values\)/,
    );
    const small = core.zeros([16, 16]);
    expect(small.shape).toEqual([16, 16]);
    small.dispose();
  });

  it('reports a readable BackendError for a mode that cannot start', () => {
    expect(() => new GpujsBackend({ mode: 'webgl' })).toThrow(/gpujs: no gpu.js mode works here \(webgl: /);
  });
}
