// biome-ignore-all lint/suspicious/noConsole: an example script prints its results
/**
 * Classify an image with SKNet-50 (timm's skresnext50_32x4d weights) and print the top 5 and
 * the per-stage selective-kernel attention — the README's example, type-checked with the
 * package (`pnpm run typecheck`) and run by `src/classify.test.ts`.
 *
 *   node examples/classify-image.ts skresnext50_32x4d.safetensors cat.jpg
 *
 * Needs `@kernelzoo/core`, `@kernelzoo/backend-wasm`, `@kernelzoo/sknet`, `@kernelzoo/vision`
 * and `@kernelzoo/weights`.
 */
import { registerWasmBackend } from '@kernelzoo/backend-wasm';
import { type ModelEntry, type nn, setBackend } from '@kernelzoo/core';
import { type AttentionSummary, readAttention, summariseAttention } from '@kernelzoo/sknet';
import {
  classificationInput,
  classify,
  IMAGENET_1K_LABELS,
  type Prediction,
  type RgbImage,
  readImage,
  softmaxRow,
} from '@kernelzoo/vision';
import { loadModel } from '@kernelzoo/weights';

/** What {@link classifyImage} returns. */
export interface Classification {
  /** The five most probable ImageNet-1k classes, most probable first. */
  readonly top5: Prediction[];
  /** The softmax over all 1000 classes. */
  readonly probabilities: Float64Array;
  /** Per stage, the mean attention on the dilated 3×3 minus the 3×3 (the paper's Figure 3). */
  readonly attention: AttentionSummary[];
}

/**
 * One image through a registered SK network: the entry's pre-processing (timm's eval transform,
 * by `@kernelzoo/vision`), the forward with the attention read out, softmax top-5 with the
 * ImageNet-1k names. Frees every tensor it makes.
 */
export async function classifyImage(
  model: nn.Module,
  image: RgbImage,
  entry: ModelEntry,
): Promise<Classification> {
  if (entry.labels !== 'imagenet-1k')
    throw new Error(`${entry.id}: labels '${entry.labels}', not imagenet-1k`);
  const x = classificationInput(image, entry.preprocessing, entry.inputSize[0]);
  const r = readAttention(model, x);
  try {
    if (r.output.shape.join() !== `1,${entry.numClasses}`)
      throw new Error(`${entry.id}: logits [${r.output.shape}], not [1, ${entry.numClasses}]`);
    const [top5] = await classify(r.output, { k: 5, labels: IMAGENET_1K_LABELS });
    const probabilities = softmaxRow(await r.output.data());
    return { top5, probabilities, attention: summariseAttention(r.units) };
  } finally {
    r.dispose();
    x.dispose();
  }
}

async function main(weights: string, imagePath: string): Promise<void> {
  registerWasmBackend();
  await setBackend('wasm');
  const { model, entry } = await loadModel('sknet50', weights);
  const { top5, attention } = await classifyImage(model, await readImage(imagePath), entry);
  for (const p of top5) console.log(`${(100 * p.probability).toFixed(2).padStart(6)} %  ${p.label}`);
  for (const s of attention)
    console.log(`layer${s.stage + 1}: mean a(dilated 3×3) − a(3×3) = ${s.meanDifference.toFixed(4)}`);
  model.dispose();
}

if (import.meta.main)
  await main(process.argv[2] ?? 'skresnext50_32x4d.safetensors', process.argv[3] ?? 'cat.jpg');
