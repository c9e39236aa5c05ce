import { expect, it } from 'vitest';
import { backendCases } from './backend.cases.js';
import { GpujsBackend } from './index.js';

// In Node (no headless-gl) the backend's own choice must be gpu.js's WebAssembly mode: a
// silent fall back to cpu fails these tests instead of testing another mode.
backendCases(undefined, 'webasm');

it('picks webasm in Node when headless-gl is absent, and cpu on request', () => {
  const auto = new GpujsBackend();
  expect(auto.mode).toBe('webasm');
  auto.dispose();
  const cpu = new GpujsBackend({ mode: 'cpu' });
  expect(cpu.mode).toBe('cpu');
  cpu.dispose();
});

backendCases('cpu', 'cpu');

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

it('refuses, rather than miscomputes, flat indices past 2^24 on a layout that needs them', async () => {
  const { KernelSource } = await import('./codegen.js');
  const { layoutFor } = await import('./layout.js');
  const shape = [2, 9_000_000];
  const spec = { shape, layout: layoutFor(18_000_000, 8192, 'op', 9_000_000) };
  expect(() => new KernelSource(spec, []).outCoords()).toThrow(/past 2\^24/);
  const fits = { shape: [2, 5_000_000], layout: layoutFor(10_000_000, 8192, 'op', 5_000_000) };
  expect(() => new KernelSource(fits, [fits]).read(0, ['1.0', '7.0'])).not.toThrow();
});
