import { registerBackend } from '@kernelzoo/core';
import { describe, expect, it } from 'vitest';
import {
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
  });
});
