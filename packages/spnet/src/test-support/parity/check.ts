// The parity check of parity.test.ts (Node: js, wasm) and parity.browser.test.ts (Chromium:
// gpujs), on whatever backend is current. It measures; the tests hold the numbers to their bounds.
import { nn, type Tensor, tensor } from '@kernelzoo/core';
import { readSafetensors, toTensors } from '@kernelzoo/weights';
import { type ParityCase, type ParityConstructors, seeded, weightsChecksum } from './networks.js';

/** What one case's parity run measured. */
export interface ParityMeasurement {
  /** Max |ours − float64| over the output, divided by the output's max |float64|. */
  readonly output: number;
  /** Max |ours − float64| over every captured module output (absolute). */
  readonly captured: number;
  /** float32 PyTorch's relative output distance from float64 (fixture metadata). */
  readonly torch32: number;
  /** float32 PyTorch's captured-output distance from float64 (fixture metadata). */
  readonly captured32: number;
  /**
   * Our seeded weights' checksum and the one reference.py ran the reference on (`ours` is NaN
   * when not computed).
   */
  readonly checksum: { readonly ours: number; readonly reference: number };
  /** Fixture statistics keys that are not our module's (must be none). */
  readonly unexpected: readonly string[];
  /** Our output's shape and the reference's. */
  readonly shape: { readonly ours: readonly number[]; readonly reference: readonly number[] };
  /** Per captured module: our shape and the reference's. */
  readonly capturedShapes: Readonly<
    Record<string, { ours: readonly number[]; reference: readonly number[] }>
  >;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; scale: number } {
  if (a.length !== b.length) throw new Error(`parity: ${a.length} values against ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    diff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { diff, scale };
}

/**
 * The case's module with our seeded weights and the fixture's calibrated BatchNorm statistics,
 * in eval mode (fused), and the fixture's input. The caller disposes both.
 */
export function calibratedCase(
  p: ParityCase,
  constructors: ParityConstructors,
  inputBytes: Uint8Array,
  referenceBytes: Uint8Array,
  withChecksum = true,
): { module: nn.Module; input: Tensor; unexpected: readonly string[]; checksum: number } {
  const input = readSafetensors(inputBytes).tensors.get(p.name)!;
  const ref = readSafetensors(referenceBytes);
  const stats = new Map([...ref.tensors].filter(([k]) => /running_(mean|var)$/.test(k)));
  const statTensors = toTensors(stats);
  const module = seeded(p, constructors);
  const checksum = withChecksum ? weightsChecksum(module) : Number.NaN;
  const { unexpected } = module.loadStateDict(statTensors, { strict: false });
  for (const t of statTensors.values()) t.dispose();
  module.eval();
  return { module, input: tensor(input.data, input.shape, 'float32'), unexpected, checksum };
}

/**
 * Runs case `p` and measures its distance from the reference's float64 outputs. `withChecksum`
 * false skips reading every weight back (the Node runs check the seeded generator; on gpujs
 * the read-back of every weight costs minutes).
 */
export async function measureParity(
  p: ParityCase,
  constructors: ParityConstructors,
  inputBytes: Uint8Array,
  referenceBytes: Uint8Array,
  withChecksum = true,
): Promise<ParityMeasurement> {
  const ref = readSafetensors(referenceBytes);
  const { module, input, unexpected, checksum } = calibratedCase(
    p,
    constructors,
    inputBytes,
    referenceBytes,
    withChecksum,
  );
  const [y, features] = nn.captureFeatures(module, p.captured, () => module.call(input));
  try {
    const want = ref.tensors.get('output64')!;
    const { diff, scale } = maxAbsDiff(await y.data(), want.data);
    let captured = 0;
    const capturedShapes: Record<string, { ours: readonly number[]; reference: readonly number[] }> = {};
    for (const n of p.captured) {
      const got = features.get(n);
      const w = ref.tensors.get(`captured.${n}`)!;
      capturedShapes[n] = { ours: got.shape, reference: w.shape };
      captured = Math.max(captured, maxAbsDiff(await got.data(), w.data).diff);
    }
    return {
      output: diff / scale,
      captured,
      torch32: Number(ref.metadata.float32_relative_distance),
      captured32: Number(ref.metadata.captured_float32_distance),
      checksum: { ours: checksum, reference: Number(ref.metadata.weights_checksum) },
      unexpected,
      shape: { ours: y.shape, reference: want.shape },
      capturedShapes,
    };
  } finally {
    features.dispose();
    y.dispose();
    input.dispose();
    module.dispose();
  }
}
