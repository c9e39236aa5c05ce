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
