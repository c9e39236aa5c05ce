import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  type Backend,
  BackendError,
  type DataId,
  type DType,
  registerBackend,
  type Shape,
  type TensorInfo,
  type TypedArray,
} from '@kernelzoo/core';
import { describe, expect, it } from 'vitest';
import { KERNELS } from './env.js';
import {
  type ConformanceProgress,
  type ConformanceReport,
  formatConformanceReport,
  formatError,
  GAPS_GROUP,
  runConformance,
  summarizeKernels,
} from './run.js';

/**
 * A backend with storage and one kernel, `binary` (add / mul / sub of float32 tensors, with
 * the trailing broadcasting the engine cases use); every other kernel throws a BackendError
 * naming itself. `offset` is added to every `add` (a wrong kernel); `refuse` lists the binary
 * ops it refuses (a declared gap).
 */
function fakeBackendClass(offset = 0, refuse: readonly string[] = []) {
  class Fake {
    name = 'fake';
    private readonly bufs = new Map<DataId, TypedArray>();
    constructor() {
      for (const k of KERNELS)
        if (!(k in this))
          (this as Record<string, unknown>)[k] = () => {
            throw new BackendError(`${k} is not implemented by fake`);
          };
    }
    write(values: TypedArray): DataId {
      const id = {};
      this.bufs.set(id, values);
      return id;
    }
    async read(id: DataId): Promise<TypedArray> {
      return this.readSync(id);
    }
    readSync(id: DataId): TypedArray {
      return this.bufs.get(id)!.slice();
    }
    disposeData(id: DataId): void {
      this.bufs.delete(id);
    }
    memory() {
      let bytes = 0;
      for (const v of this.bufs.values()) bytes += v.byteLength;
      return { buffers: this.bufs.size, bytes };
    }
    dispose(): void {
      this.bufs.clear();
    }
    binary(op: string, a: TensorInfo, b: TensorInfo, outShape: Shape): TensorInfo {
      if (refuse.includes(op)) throw new BackendError(`binary ${op} is not implemented by fake`);
      const x = this.bufs.get(a.dataId)!;
      const y = this.bufs.get(b.dataId)!;
      const n = outShape.reduce((p, d) => p * d, 1);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const u = x[i % x.length];
        const v = y[i % y.length];
        out[i] = op === 'add' ? u + v + offset : op === 'mul' ? u * v : op === 'sub' ? u - v : Number.NaN;
      }
      return { dataId: this.write(out), shape: outShape, dtype: 'float32' as DType };
    }
  }
  return Fake as unknown as new () => Backend;
}

function envFor(name: string, Ctor: new () => Backend, gaps?: Record<string, string>) {
  return {
    name,
    gaps,
    setup: async () => {
      registerBackend(name, () => new Ctor(), -50);
    },
  };
}

describe('runConformance', () => {
  it('runs the filtered cases without vitest blocks, reporting each case and each kernel', async () => {
    const events: ConformanceProgress[] = [];
    const report = await runConformance(envFor('fake', fakeBackendClass()), {
      filter: 'ENGINE',
      onProgress: (e) => events.push(e),
    });
    expect(report.backend).toBe('fake');
    expect(report.ok).toBe(true);
    expect(report.cases[0]).toMatchObject({ group: GAPS_GROUP, status: 'pass' });
    const engine = report.cases.filter((c) => c.group === 'engine');
    expect(engine.length).toBeGreaterThanOrEqual(5);
    expect(engine.every((c) => c.status === 'pass' && c.ms >= 0)).toBe(true);
    expect(report.totals).toEqual({ pass: report.cases.length, fail: 0, gap: 0 });
    // 'tidy result' is checked through ctx.check: an exact match
    expect(engine[0].maxError).toBe(0);
    const binary = report.kernels.find((k) => k.kernel === 'binary')!;
    expect(binary).toMatchObject({ status: 'pass', maxError: 0 });
    expect(binary.cases.pass).toBeGreaterThan(0);
    expect(report.kernels.map((k) => k.kernel)).toEqual([...KERNELS]);
    expect(report.kernels.find((k) => k.kernel === 'conv2d')!.status).toBe('not run');
    const caseEvents = events.filter((e) => e.kind === 'case');
    expect(caseEvents.length).toBe(report.cases.length);
    expect(caseEvents.at(-1)).toMatchObject({ done: report.cases.length, total: report.cases.length });
    expect(events.filter((e) => e.kind === 'group').map((e) => e.kind === 'group' && e.group)).toEqual([
      GAPS_GROUP,
      'engine',
    ]);
  });

  it('reports a declared gap whose cases throw as gap, with the reason, per case and per kernel', async () => {
    const report = await runConformance(
      envFor('fake-gap', fakeBackendClass(0, ['mul']), { 'binary:mul': 'fake multiplies nothing' }),
      { filter: (group) => group === 'engine' },
    );
    expect(report.ok).toBe(true);
    const tidyCase = report.cases.find((c) => c.name.startsWith('tidy disposes'))!;
    expect(tidyCase).toMatchObject({
      status: 'gap',
      gap: 'binary:mul',
      reason: 'binary:mul: fake multiplies nothing',
    });
    expect(report.totals.gap).toBe(1);
    expect(report.kernels.find((k) => k.kernel === 'binary')).toMatchObject({
      status: 'gap',
      reason: 'binary:mul: fake multiplies nothing',
    });
    const text = formatConformanceReport(report);
    expect(text).toMatch(/^binary +gap \[1\]/m);
    expect(text).toContain('[1] gap: fake-gap binary:mul: fake multiplies nothing');
  });

  it('records failures (with the largest error) instead of throwing, and fails bad gap declarations', async () => {
    const report = await runConformance(
      envFor('fake-bad', fakeBackendClass(0.5), { frobnicate: 'no such kernel', conv2d: ' ' }),
      { filter: 'tidy' },
    );
    expect(report.ok).toBe(false);
    expect(report.cases[0]).toMatchObject({ group: GAPS_GROUP, status: 'fail' });
    expect(report.cases[0].reason).toContain("'frobnicate' is not a kernel");
    const tidyCase = report.cases.find((c) => c.name.startsWith('tidy disposes'))!;
    expect(tidyCase.status).toBe('fail');
    expect(tidyCase.reason).toContain('tidy result');
    expect(tidyCase.maxError).toBe(0.5); // one add, 0.5 off
    const binary = report.kernels.find((k) => k.kernel === 'binary')!;
    expect(binary.status).toBe('fail');
    expect(binary.reason).toContain('engine › tidy disposes');
    expect(binary.maxError).toBe(0.5);
    const text = formatConformanceReport(report);
    expect(text).toMatch(/^binary +FAIL +5\.00e-1$/m);
    expect(text).toContain('failures on fake-bad:');
    expect(text).toContain('environment › declares gaps');
  });

  it('rejects when the setup fails', async () => {
    await expect(
      runConformance({
        name: 'fake-broken',
        setup: async () => {
          throw new Error('no device');
        },
      }),
    ).rejects.toThrow('no device');
  });
});

describe('summarizeKernels', () => {
  it('credits a kernel with the error of the cases that need only it, else of every case needing it', () => {
    const c = (needs: string[], maxError: number | null, status: 'pass' | 'fail' = 'pass') => ({
      group: 'g',
      name: needs.join('+'),
      needs,
      status,
      maxError,
      accumulation: null,
      ms: 1,
      reason: status === 'fail' ? 'off' : undefined,
    });
    const k = summarizeKernels([
      c(['resizeNearest'], 0),
      c(['resizeNearest', 'resizeBilinear', 'resizeBilinear:alignCorners'], 2e-6),
      c(['conv2d', 'binary:add'], 3e-6, 'fail'),
      c([], 1),
    ]);
    const of = (name: string) => k.find((s) => s.kernel === name)!;
    expect(of('resizeNearest')).toMatchObject({
      status: 'pass',
      maxError: 0,
      cases: { pass: 2, fail: 0, gap: 0 },
    });
    expect(of('resizeBilinear')).toMatchObject({ status: 'pass', maxError: 2e-6 });
    expect(of('conv2d')).toMatchObject({
      status: 'fail',
      maxError: 3e-6,
      reason: 'g › conv2d+binary:add: off',
    });
    expect(of('binary')).toMatchObject({ status: 'fail', maxError: 3e-6 });
    expect(of('matmul')).toMatchObject({ status: 'not run', maxError: null });
  });
});

describe('formatConformanceReport', () => {
  const report = (backend: string, status: 'pass' | 'fail', maxError: number | null): ConformanceReport => ({
    backend,
    precision: {} as ConformanceReport['precision'],
    cases: [],
    kernels: KERNELS.map((kernel) => ({
      kernel,
      status: kernel === 'conv2d' ? status : 'not run',
      cases: { pass: 1, fail: 0, gap: 0 },
      maxError,
    })),
    totals: { pass: 1, fail: 0, gap: 0 },
    ok: true,
    ms: 1234,
  });

  it('lays out kernels × backends with the largest error, and each backend’s totals', () => {
    const reports = [report('js', 'pass', 3.2e-6), report('wasm', 'fail', Infinity)];
    const lines = formatConformanceReport(reports).split('\n');
    expect(lines[0]).toMatch(/^kernel +js +max \|a−e\| +wasm +max \|a−e\|$/);
    expect(lines[2]).toMatch(/^conv2d +pass +3\.20e-6 +FAIL +inf$/);
    expect(lines[3]).toBe(`(not run: ${KERNELS.slice(1).join(', ')})`);
    expect(lines).toContain('js: 0 cases — 1 pass, 0 fail, 0 gap (1.2 s)');
    const all = formatConformanceReport(reports, { allKernels: true }).split('\n');
    expect(all[3]).toMatch(/^matmul +- +- +- +-$/);
    expect(all.length).toBe(lines.length + KERNELS.length - 2);
  });

  it('formats errors', () => {
    expect([null, 0, Infinity, 1.234e-7].map(formatError)).toEqual(['-', '0', 'inf', '1.23e-7']);
  });
});

describe('the main entry', () => {
  const dist = (f: string) => fileURLToPath(new URL(`../dist/${f}`, import.meta.url));
  const importWithoutVitest = (file: string) =>
    execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { registerHooks } from 'node:module';
         registerHooks({ resolve(s, c, next) {
           if (/^(@vitest\\/|vitest(\\/|$))/.test(s)) throw new Error('imported ' + s);
           return next(s, c);
         } });
         const m = await import(${JSON.stringify(dist(file))});
         console.log(Object.keys(m).join(' '));`,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );

  it('does not import vitest (the built package, in plain Node); ./vitest does', () => {
    expect(importWithoutVitest('index.js')).toContain('runConformance');
    expect(() => importWithoutVitest('vitest.js')).toThrow(/imported vitest/);
  });
});
