import { expect, it } from 'vitest';
import { backendCases } from './backend.cases.js';
import { GpujsBackend } from './index.js';

backendCases(undefined);

it('picks webasm in Node when headless-gl is absent, and cpu on request', () => {
  const auto = new GpujsBackend();
  expect(['headlessgl', 'webasm', 'cpu']).toContain(auto.mode);
  auto.dispose();
  const cpu = new GpujsBackend({ mode: 'cpu' });
  expect(cpu.mode).toBe('cpu');
  cpu.dispose();
});

backendCases('cpu');

it('lays rows out in whole innermost runs where it can, and refuses only what cannot fit', async () => {
  const { layoutFor } = await import('./layout.js');
  expect(layoutFor(150 * 512 * 512, 8192, 'op', 512)).toEqual({
    size: 150 * 512 * 512,
    width: 8192,
    rows: 4800,
  });
  expect(layoutFor(64 * 192 * 144, 8192, 'op', 144)).toEqual({
    size: 64 * 192 * 144,
    width: 8064,
    rows: 220,
  });
  // Whole runs would need too many rows: plain rows of the maximum.
  expect(layoutFor(8192 * 8000, 8192, 'op', 5000).width).toBe(8192);
  expect(() => layoutFor(8192 * 8192 + 1, 8192, 'op', 1)).toThrow(/does not fit/);
});
