import { JsBackend } from '@kernelzoo/backend-js';
import { registerBackend, type TensorInfo } from '@kernelzoo/core';
import { describe, expect, it } from 'vitest';
import {
  conformance,
  discoverBackends,
  formatTable,
  gpuUnavailable,
  HELP,
  main,
  parseCommand,
  UsageError,
} from './cli.js';

describe('parseCommand', () => {
  it('parses seed with defaults and options', () => {
    expect(parseCommand(['seed'])).toEqual({
      command: 'seed',
      batch: 32,
      runs: undefined,
      warmup: undefined,
      backend: undefined,
    });
    expect(parseCommand(['seed', '--runs', '3', '--batch', '2', '--warmup', '0', '--backend', 'js'])).toEqual(
      {
        command: 'seed',
        batch: 2,
        runs: 3,
        warmup: 0,
        backend: 'js',
      },
    );
    expect(parseCommand(['summary'])).toEqual({ command: 'summary', batch: 1 });
    expect(parseCommand(['conformance'])).toEqual({
      command: 'conformance',
      backend: undefined,
      filter: undefined,
      json: false,
    });
    expect(parseCommand(['conformance', '--backend', 'wasm', '--filter', 'conv', '--json'])).toEqual({
      command: 'conformance',
      backend: 'wasm',
      filter: 'conv',
      json: true,
    });
    expect(parseCommand([])).toEqual({ command: 'help' });
    expect(parseCommand(['seed', '--help'])).toEqual({ command: 'help' });
  });

  it('refuses bad input with a UsageError', () => {
    for (const argv of [
      ['seed', '--runs', '0'],
      ['seed', '--batch', 'x'],
      ['seed', '--nope'],
      ['frobnicate'],
      ['seed', 'extra'],
      ['summary', '--runs', '2'],
      ['summary', '--filter', 'x'],
      ['seed', '--json'],
      ['conformance', '--batch', '2'],
      ['conformance', '--runs', '2'],
      ['conformance', '--filter', ''],
      ['conformance', '--filter'],
    ])
      expect(() => parseCommand(argv), argv.join(' ')).toThrow(UsageError);
  });
});

describe('main', () => {
  it('prints help, and usage errors with exit code 2', async () => {
    let out = '';
    let err = '';
    expect(await main(['--help'], (s) => (out += s))).toBe(0);
    expect(out).toBe(HELP);
    expect(
      await main(
        ['bogus'],
        () => undefined,
        (s) => (err += s),
      ),
    ).toBe(2);
    expect(err).toContain("unknown command 'bogus'");
  });

  it('prints the summary of the seed SKConv on an installed backend (backend-js)', async () => {
    let out = '';
    expect(await main(['summary'], (s) => (out += s))).toBe(0);
    expect(out).toContain('total parameters: 2,328,704');
    expect(out).toContain('total multiply-adds: 1,283,555,328');
  });
});

describe('conformance', () => {
  it('runs the suite on js with a filter, prints the kernel × backend table and exits 0', async () => {
    let out = '';
    let err = '';
    const code = await main(
      ['conformance', '--backend', 'js', '--filter', 'flip'],
      (s) => (out += s),
      (s) => (err += s),
    );
    expect(code, err).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^kernel +js +max \|a−e\|$/);
    expect(lines).toContainEqual(expect.stringMatching(/^flip +pass +0$/));
    expect(out).not.toMatch(/^conv2d/m); // not run under this filter
    expect(out).toMatch(/^js: (\d+) cases — \1 pass, 0 fail, 0 gap/m);
    expect(out).not.toContain('wasm');
    expect(err).toMatch(/^\[js\] flip: \d+ pass, 0 fail, 0 gap/m);
  });

  it('reports the accumulation figures of each long-sum case with --json (worst ratio within c = 8)', async () => {
    let out = '';
    expect(
      await main(
        ['conformance', '--backend', 'js', '--filter', 'K prime', '--json'],
        (s) => (out += s),
        () => undefined,
      ),
    ).toBe(0);
    const cases = JSON.parse(out).backends[0].report.cases.filter(
      (c: { group: string }) => c.group === 'long sums (accumulation bound)',
    );
    expect(cases.length).toBe(2);
    for (const c of cases) {
      expect(c.accumulation.worstRatio).toBeGreaterThan(0);
      expect(c.accumulation.worstRatio).toBeLessThanOrEqual(8);
      expect(Math.abs(c.accumulation.scaleError)).toBeLessThanOrEqual(2e-5);
    }
  }, 60_000);

  it('prints JSON with --json', async () => {
    let out = '';
    expect(
      await main(
        ['conformance', '--backend', 'js', '--filter', 'transpose', '--json'],
        (s) => (out += s),
        () => undefined,
      ),
    ).toBe(0);
    const json = JSON.parse(out);
    expect(json.ok).toBe(true);
    expect(json.backends).toHaveLength(1);
    const { report } = json.backends[0];
    expect(report.backend).toBe('js');
    expect(report.kernels.find((k: { kernel: string }) => k.kernel === 'transpose')).toMatchObject({
      status: 'pass',
      maxError: 0,
    });
  });

  it('exits 1 when a case fails, naming it below the table', async () => {
    class BrokenFlip extends JsBackend {
      override flip(x: TensorInfo): TensorInfo {
        return super.flip(x, []); // ignores the axes
      }
    }
    registerBackend('js-broken-flip', () => new BrokenFlip(), -10);
    let out = '';
    let err = '';
    const code = await conformance(
      { filter: 'flip', json: false },
      [{ name: 'js-broken-flip', pkg: 'test', warmup: 0, runs: 1 }],
      (s) => (out += s),
      (s) => (err += s),
    );
    expect(code).toBe(1);
    expect(out).toMatch(/^flip +FAIL +\S+$/m);
    expect(out).toContain('failures on js-broken-flip:');
    expect(err).toMatch(/^\[js-broken-flip\] FAIL flip › /m);
  });

  it('exits 1 when a backend is not installed or no case matches', async () => {
    let err = '';
    expect(
      await main(
        ['conformance', '--backend', 'nope'],
        () => undefined,
        (s) => (err += s),
      ),
    ).toBe(1);
    expect(err).toContain("backend 'nope' is not installed");
    err = '';
    expect(
      await main(
        ['conformance', '--backend', 'js', '--filter', 'no such case'],
        () => undefined,
        (s) => (err += s),
      ),
    ).toBe(1);
    expect(err).toContain("no case matches --filter 'no such case'");
  });
});

describe('discoverBackends', () => {
  it('registers what installed packages export and skips missing ones', async () => {
    const found = await discoverBackends(
      [
        { pkg: 'fake-present', warmup: 0, runs: 1 },
        { pkg: 'fake-missing', warmup: 1, runs: 3 },
      ],
      async (pkg) => {
        if (pkg === 'fake-missing') throw new Error('Cannot find package');
        return {
          registerFakeBackend: () => registerBackend('fake', () => Promise.reject(new Error('unused'))),
          other: 1,
        };
      },
    );
    expect(found).toEqual([{ name: 'fake', pkg: 'fake-present', warmup: 0, runs: 1 }]);
  });

  it('finds the same backends when called again in the same process', async () => {
    const mod = {
      registerTwiceBackend: () => registerBackend('twice', () => Promise.reject(new Error('unused'))),
    };
    const packages = [{ pkg: 'fake-twice', warmup: 0, runs: 1 }];
    const first = await discoverBackends(packages, async () => mod);
    expect(first.map((b) => b.name)).toEqual(['twice']);
    expect(await discoverBackends(packages, async () => mod)).toEqual(first);
  });
});

describe('formatTable', () => {
  it('aligns columns', () => {
    expect(formatTable(['a', 'bb'], [['xyz', '1']])).toBe('a    bb\n---  --\nxyz   1');
  });
});

describe('gpuUnavailable', () => {
  it('skips gpu.js CPU emulation by default and nothing else', () => {
    expect(gpuUnavailable({ name: 'gpujs', mode: 'webasm' })).toMatch(
      /no GPU here \(mode 'webasm'.*--backend gpujs/,
    );
    expect(gpuUnavailable({ name: 'gpujs', mode: 'cpu' })).not.toBeNull();
    expect(gpuUnavailable({ name: 'gpujs', mode: 'webgl2' })).toBeNull();
    expect(gpuUnavailable({ name: 'js' })).toBeNull();
    expect(gpuUnavailable({ name: 'gpujs', mode: 'cpu' }, 'conformance')).toMatch(
      /CPU emulation.*--backend gpujs$/,
    );
    expect(gpuUnavailable({ name: 'gpujs', mode: 'webgl2' }, 'conformance')).toBeNull();
  });
});
