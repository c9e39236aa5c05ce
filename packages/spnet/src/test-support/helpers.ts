import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { nn, SeededRandom, setBackend, type Tensor, tensor, tidy } from '@kernelzoo/core';

/** Registers backend-js and selects it (call in `beforeAll`). */
export async function useJs(): Promise<void> {
  registerJsBackend();
  await setBackend('js');
}

/** Seeded non-trivial BatchNorm statistics and affine parameters for every BatchNorm2d of `module`. */
export function randomizeBatchNorms(module: nn.Module, seed: number): void {
  const rng = new SeededRandom(seed);
  const u = (n: number, lo: number, hi: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = rng.uniform(lo, hi);
    return a;
  };
  tidy(() => {
    const dict = new Map<string, Tensor>();
    for (const [name, m] of module.namedModules()) {
      if (!(m instanceof nn.BatchNorm2d)) continue;
      const c = m.numFeatures;
      const p = name ? `${name}.` : '';
      dict.set(`${p}weight`, tensor(u(c, 0.5, 1.5), [c]));
      dict.set(`${p}bias`, tensor(u(c, -0.2, 0.2), [c]));
      dict.set(`${p}running_mean`, tensor(u(c, -0.2, 0.2), [c]));
      dict.set(`${p}running_var`, tensor(u(c, 0.5, 2), [c]));
    }
    module.loadStateDict(dict, { strict: false });
  });
}

/** Largest |a − b| and largest |b| over two same-sized tensors. */
export function compare(a: Tensor, b: Tensor): { maxDiff: number; maxRef: number } {
  const x = a.dataSync();
  const y = b.dataSync();
  if (x.length !== y.length) throw new Error(`compare: ${x.length} vs ${y.length} values`);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < x.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(x[i] - y[i]));
    maxRef = Math.max(maxRef, Math.abs(y[i]));
  }
  return { maxDiff, maxRef };
}

/**
 * A reference key list (`shared/reference/keys/<name>.txt` beside the repository clone) as
 * `[key, shape]` with `module.` removed. Missing, it fails loudly.
 */
export function referenceKeys(name: string): [string, number[]][] {
  const path = fileURLToPath(new URL(`../../../../../shared/reference/keys/${name}.txt`, import.meta.url));
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(
      `SPNet reference keys not found at ${path}: the tests need shared/ beside the repository`,
      {
        cause: e,
      },
    );
  }
  const out: [string, number[]][] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const [key, shape] = line.split('\t');
    out.push([key.replace(/^module\./, ''), JSON.parse(shape) as number[]]);
  }
  return out;
}

/** Parameters (BatchNorm statistics and counters excluded) of a key list. */
export function countParameters(keys: readonly [string, number[]][]): number {
  return keys
    .filter(([k]) => !/running_mean|running_var|num_batches_tracked/.test(k))
    .reduce((n, [, s]) => n + s.reduce((a, b) => a * b, 1), 0);
}
