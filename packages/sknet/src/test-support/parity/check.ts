// The parity check of parity.test.ts (Node: js, wasm) and parity.browser.test.ts (Chromium:
// gpujs), on whatever backend is current. It measures; the tests hold the numbers to their bounds.
import { tensor } from '@kernelzoo/core';
import type { ResNet } from '@kernelzoo/resnet';
import { readSafetensors, type SafetensorsContents, toTensors } from '@kernelzoo/weights';
import { readAttention } from '../../attention.js';
import { type ParityNetwork, seededNetwork, weightsChecksum } from './networks.js';

/** What one network's parity run measured. */
export interface ParityMeasurement {
  /** Max |ours − float64| over the logits of the samples run, divided by their max |float64|. */
  readonly logits: number;
  /** Max |ours − float64| over every SK unit's attention (of the fixture's attention samples). */
  readonly attention: number;
  /** float32 PyTorch's relative logits distance from float64 (fixture metadata). */
  readonly torch32: number;
  /** float32 PyTorch's attention distance from float64 (fixture metadata). */
  readonly attention32: number;
  /** Our seeded weights' checksum and the one reference.py ran timm on. */
  readonly checksum: { readonly ours: number; readonly reference: number };
  /** Fixture keys that are not our network's (must be none). */
  readonly unexpected: readonly string[];
  /** Our SK unit names and the fixture's, in order (must be equal). */
  readonly units: { readonly ours: readonly string[]; readonly reference: readonly string[] };
  /** The logits' shape. */
  readonly shape: readonly number[];
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; scale: number } {
  if (a.length !== b.length) throw new Error(`parity: ${a.length} values against ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { diff, scale };
}

/**
 * Runs network `p` (eval mode, fused) on the first `samples` inputs of the fixture (all when
 * omitted) and measures its distance from timm's float64 logits and attention.
 */
export async function measureParity(
  p: ParityNetwork,
  constructors: Record<ParityNetwork['ours'], () => ResNet>,
  inputBytes: Uint8Array,
  referenceBytes: Uint8Array,
  samples?: number,
): Promise<ParityMeasurement> {
  const input: SafetensorsContents = readSafetensors(inputBytes);
  const ref: SafetensorsContents = readSafetensors(referenceBytes);
  const x0 = input.tensors.get('input')!;
  const n = samples ?? x0.shape[0];
  const per = x0.data.length / x0.shape[0];
  const x = tensor(x0.data.subarray(0, n * per), [n, ...x0.shape.slice(1)], 'float32');

  const stats = new Map([...ref.tensors].filter(([k]) => k !== 'logits64' && !k.startsWith('attention.')));
  const statTensors = toTensors(stats);
  const net = seededNetwork(p, constructors);
  const checksum = { ours: weightsChecksum(net), reference: Number(ref.metadata.weights_checksum) };
  const { unexpected } = net.loadStateDict(statTensors, { strict: false });
  for (const t of statTensors.values()) t.dispose();
  net.eval();
  const r = readAttention(net, x);
  try {
    const logits64 = ref.tensors.get('logits64')!;
    const classes = logits64.shape[1];
    const got = await r.output.data();
    const { diff, scale } = maxAbsDiff(got, logits64.data.subarray(0, n * classes));

    const attentionSamples = Math.min(n, Number(ref.metadata.attention_samples));
    let attention = 0;
    const reference = [...ref.tensors.keys()]
      .filter((k) => k.startsWith('attention.'))
      .map((k) => k.slice('attention.'.length));
    for (const u of r.units) {
      const want = ref.tensors.get(`attention.${u.name}`);
      if (want === undefined) continue;
      const [, m, c] = u.attention.shape;
      const values = (await u.attention.data()).subarray(0, attentionSamples * m * c);
      attention = Math.max(
        attention,
        maxAbsDiff(values, want.data.subarray(0, attentionSamples * m * c)).diff,
      );
    }
    return {
      logits: diff / scale,
      attention,
      torch32: Number(ref.metadata.float32_relative_distance),
      attention32: Number(ref.metadata.attention_float32_distance),
      checksum,
      unexpected,
      units: { ours: r.units.map((u) => u.name), reference },
      shape: r.output.shape,
    };
  } finally {
    r.dispose();
    x.dispose();
    net.dispose();
  }
}
