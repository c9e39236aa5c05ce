// The parity check of parity.test.ts (Node: js, wasm) and parity.browser.test.ts (Chromium:
// gpujs), on whatever backend is current. It measures; the tests hold the numbers to their bounds.
import { type Tensor, tensor } from '@kernelzoo/core';
import { type CenterScale, decodePoses, type Heatmaps, poseFlipTest } from '@kernelzoo/vision';
import { readSafetensors, type SafetensorsContents, toTensors } from '@kernelzoo/weights';
import { HighResolutionModule } from '../../hr-module.js';
import {
  type ParityCase,
  type ParityConstructors,
  type ParityNetwork,
  seededNetwork,
  weightsChecksum,
} from './networks.js';

/** The decoding of one set of heatmaps (ours) against the reference's get_final_preds. */
export interface DecodingMeasurement {
  /** Max |ours − float64| over the heatmaps, per joint ([N·J]). */
  readonly heatmapError: readonly number[];
  /** The reference's decision margin per joint (reference.py's decision_margins). */
  readonly margins: readonly number[];
  /** Joints whose margin exceeds our heatmap error there: their coordinates must be the reference's. */
  readonly decided: number;
  /** Among the decided joints, the largest |ours − reference| over x and y, in image pixels. */
  readonly coordinates: number;
  /** Largest |ours − reference| over the scores (the maxvals), all joints. */
  readonly scores: number;
  /** The smallest ratio, over the joints, of the reference's margin to our heatmap error. */
  readonly headroom: number;
}

/** What one case's parity run measured. */
export interface ParityMeasurement {
  /** Max over the outputs of max |ours − float64| / max |float64|. */
  readonly distance: number;
  /** float32 PyTorch's distance from float64, measured the same way (fixture metadata). */
  readonly torch32: number;
  /** Max |float64| over the outputs (the scale of `distance`). */
  readonly scale: number;
  /** Our seeded weights' checksum and the one reference.py ran the reference on. */
  readonly checksum: { readonly ours: number; readonly reference: number };
  /** Fixture statistics that are not our network's (must be none). */
  readonly unexpected: readonly string[];
  /** Our BatchNorm statistics the fixture lacks (must be none). */
  readonly uncalibrated: readonly string[];
  /** The outputs' shapes, ours. */
  readonly shapes: readonly (readonly number[])[];
  /** Pose only: the flip test's averaged heatmaps (max |ours − float64| / max |float64|). */
  readonly flipAverage?: number;
  /** Pose only: decodePoses on our heatmaps and on our flip test's average. */
  readonly decoding?: { readonly heatmaps: DecodingMeasurement; readonly flipAverage: DecodingMeasurement };
}

function distance(got: ArrayLike<number>, want: ArrayLike<number>): { diff: number; scale: number } {
  if (got.length !== want.length) throw new Error(`parity: ${got.length} values against ${want.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < got.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return { diff, scale };
}

function hostTensor(c: SafetensorsContents, key: string) {
  const t = c.tensors.get(key);
  if (t === undefined) throw new Error(`parity: the fixture has no ${key}`);
  return t;
}

/** Our decodePoses on `ours` against the fixture's `${key}.preds` / `.maxvals` / `.margins`. */
function measureDecoding(
  ours: Heatmaps,
  ref: SafetensorsContents,
  key: string,
  crop: CenterScale,
): DecodingMeasurement {
  const want = hostTensor(ref, `${key}64`).data;
  const [n, j, h, w] = ours.shape;
  const plane = h * w;
  const heatmapError = Array.from(
    { length: n * j },
    (_, k) =>
      distance(ours.data.subarray(k * plane, (k + 1) * plane), want.subarray(k * plane, (k + 1) * plane))
        .diff,
  );
  const margins = [...hostTensor(ref, `${key}.margins`).data];
  const preds = hostTensor(ref, `${key}.preds`).data; // [N, J, 2]
  const maxvals = hostTensor(ref, `${key}.maxvals`).data; // [N, J, 1]
  const poses = decodePoses(
    ours,
    Array.from({ length: n }, () => crop),
  );
  let decided = 0;
  let coordinates = 0;
  let scores = 0;
  for (let p = 0; p < n; p++)
    for (let q = 0; q < j; q++) {
      const k = p * j + q;
      const [x, y, s] = poses[p].subarray(q * 3, q * 3 + 3);
      scores = Math.max(scores, Math.abs(s - maxvals[k]));
      if (margins[k] > heatmapError[k]) {
        decided++;
        coordinates = Math.max(coordinates, Math.abs(x - preds[k * 2]), Math.abs(y - preds[k * 2 + 1]));
      }
    }
  const headroom = Math.min(...margins.map((g, k) => g / heatmapError[k]));
  return { heatmapError, margins, decided, coordinates, scores, headroom };
}

async function heatmapsOf(t: Tensor): Promise<Heatmaps> {
  const [n, j, h, w] = t.shape;
  return { data: Float32Array.from(await t.data()), shape: [n, j, h, w] };
}

/**
 * Builds case `c`'s seeded network, loads the fixture's calibrated BatchNorm statistics, runs it
 * (eval mode, fused) on the fixture's input and measures its distance from the reference's
 * float64 outputs; for pose W32 also the flip test and decodePoses against get_final_preds.
 */
export async function measureParity(
  c: ParityCase,
  constructors: ParityConstructors,
  inputBytes: Uint8Array,
  referenceBytes: Uint8Array,
): Promise<ParityMeasurement> {
  const input = readSafetensors(inputBytes);
  const ref = readSafetensors(referenceBytes);
  const inputs = [...input.tensors]
    .filter(([k]) => k === c.name || k.startsWith(`${c.name}.`))
    .map(([, t]) => tensor(t.data, t.shape, 'float32'));
  const stats = new Map(
    [...ref.tensors].filter(([k]) => k.endsWith('.running_mean') || k.endsWith('.running_var')),
  );
  const statTensors = toTensors(stats);
  const net: ParityNetwork = seededNetwork(c, constructors);
  try {
    const checksum = {
      ours: weightsChecksum(net, JSON.parse(ref.metadata.weights_checksum_keys) as string[]),
      reference: Number(ref.metadata.weights_checksum),
    };
    const { unexpected } = net.loadStateDict(statTensors, { strict: false });
    const uncalibrated = [...net.stateDict().keys()].filter(
      (k) => (k.endsWith('.running_mean') || k.endsWith('.running_var')) && !stats.has(k),
    );
    net.eval();
    const torch32 = Number(ref.metadata.float32_relative_distance);
    const common = { torch32, checksum, unexpected, uncalibrated };

    if (net instanceof HighResolutionModule) {
      const ys = net.call(inputs);
      try {
        let worst = 0;
        let scale = 0;
        for (const [b, y] of ys.entries()) {
          const d = distance(await y.data(), hostTensor(ref, `output.${b}64`).data);
          worst = Math.max(worst, d.diff / d.scale);
          scale = Math.max(scale, d.scale);
        }
        return { ...common, distance: worst, scale, shapes: ys.map((y) => y.shape) };
      } finally {
        for (const y of ys) y.dispose();
      }
    }

    const [x] = inputs;
    if (c.name === 'pose_hrnet_w32') {
      const crop: CenterScale = {
        center: JSON.parse(ref.metadata.center),
        scale: JSON.parse(ref.metadata.scale),
      };
      // The plain forward's heatmaps; then the flip test through vision's poseFlipTest, which
      // gets that same output for the input (no second forward) and mirrors the input itself.
      let y0: Tensor | null = net.call(x) as Tensor;
      let plain: Heatmaps;
      let averaged: Heatmaps;
      try {
        plain = await heatmapsOf(y0);
        averaged = await poseFlipTest((b) => {
          if (b === x && y0 !== null) {
            const y = y0;
            y0 = null; // poseFlipTest disposes it
            return y;
          }
          return net.call(b) as Tensor;
        }, x);
      } finally {
        y0?.dispose();
      }
      const d = distance(plain.data, hostTensor(ref, 'heatmaps64').data);
      const f = distance(averaged.data, hostTensor(ref, 'flip_average64').data);
      return {
        ...common,
        distance: d.diff / d.scale,
        scale: d.scale,
        shapes: [plain.shape],
        flipAverage: f.diff / f.scale,
        decoding: {
          heatmaps: measureDecoding(plain, ref, 'heatmaps', crop),
          flipAverage: measureDecoding(averaged, ref, 'flip_average', crop),
        },
      };
    }

    const y = net.call(x) as Tensor;
    try {
      const d = distance(await y.data(), hostTensor(ref, 'logits64').data);
      return { ...common, distance: d.diff / d.scale, scale: d.scale, shapes: [y.shape] };
    } finally {
      y.dispose();
    }
  } finally {
    for (const t of statTensors.values()) t.dispose();
    for (const t of inputs) t.dispose();
    net.dispose();
  }
}
