// biome-ignore-all lint/suspicious/noConsole: an example script prints its results
/**
 * The README's usage example: people's keypoints in a photograph with a registered pose HRNet,
 * through `@kernelzoo/vision`'s pose pipeline (box warp, flip test, `get_final_preds`).
 * Type-checked with the package and run by `src/pose-example.test.ts`.
 *
 * @module
 */
import { registerWasmBackend } from '@kernelzoo/backend-wasm';
import { type ModelEntry, type nn, setBackend } from '@kernelzoo/core';
import '@kernelzoo/hrnet'; // registers hrnet_w32_pose, hrnet_w48_pose, … in core's registry
import {
  COCO_KEYPOINT_NAMES,
  decodePoses,
  drawPose,
  type PoseBox,
  poseFlipTest,
  poseInput,
  type RgbImage,
  readImage,
  writeImage,
} from '@kernelzoo/vision';
import { loadModel } from '@kernelzoo/weights';

/**
 * Each person's 17 COCO keypoints as `[x0, y0, score0, x1, y1, score1, …]` in image pixels, for
 * person boxes `[x, y, w, h]` (from a detector): every box warped to the entry's input size
 * (centre, scale × 1.25, aspect ratio fixed), one batch through the network and its mirror
 * (the flip test), heatmaps decoded as the reference's `get_final_preds`. Frees every tensor it
 * makes.
 */
export async function estimatePoses(
  model: nn.AnyModule,
  entry: ModelEntry,
  image: RgbImage,
  boxes: readonly PoseBox[],
  options: { flip?: boolean } = {},
): Promise<Float32Array[]> {
  if (entry.task !== 'pose') throw new Error(`${entry.id} is a ${entry.task} network, not a pose one`);
  const [height, width] = entry.inputSize;
  const { input, crops } = poseInput(image, boxes, [width, height]);
  try {
    const heatmaps = await poseFlipTest((x) => model.call(x), input, { flip: options.flip ?? true });
    return decodePoses(heatmaps, crops);
  } finally {
    input.dispose();
  }
}

async function main(weights: string, imagePath: string, box: PoseBox): Promise<void> {
  registerWasmBackend();
  await setBackend('wasm');
  const { model, entry } = await loadModel('hrnet_w32_pose', weights);
  const image = await readImage(imagePath);
  const [pose] = await estimatePoses(model, entry, image, [box]);
  COCO_KEYPOINT_NAMES.forEach((name, k) => {
    const [x, y, score] = pose.subarray(3 * k, 3 * k + 3);
    console.log(
      `${name.padEnd(15)} ${x.toFixed(1).padStart(7)} ${y.toFixed(1).padStart(7)}  ${score.toFixed(3)}`,
    );
  });
  await writeImage('pose.png', await drawPose(image, [pose]));
  model.dispose();
}

if (import.meta.main) {
  // node estimate-pose.ts pose_hrnet_w32_256x192.pth person.jpg x y w h
  const [weights = 'pose_hrnet_w32_256x192.pth', image = 'person.jpg', ...rest] = process.argv.slice(2);
  const [x = 0, y = 0, w = 192, h = 256] = rest.map(Number);
  await main(weights, image, [x, y, w, h]);
}
