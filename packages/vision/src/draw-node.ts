import { contextShapes, type Drawing, drawPoseWith, fromRgba, type PoseDrawOptions, toRgba } from './draw.js';
import { checkImage, type RgbImage } from './image.js';

type CanvasModule = typeof import('@napi-rs/canvas');
let canvasModule: Promise<CanvasModule> | undefined;

/**
 * Starts a {@link Drawing} over a copy of `image` (Node: Skia through `@napi-rs/canvas`,
 * imported on first use). Browsers get the same function on `OffscreenCanvas`.
 */
export async function createDrawing(image: RgbImage): Promise<Drawing> {
  checkImage('createDrawing', image);
  canvasModule ??= import('@napi-rs/canvas');
  const { createCanvas, ImageData } = await canvasModule;
  const { width, height } = image;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.putImageData(new ImageData(toRgba(image), width, height), 0, 0);
  return {
    width,
    height,
    ...contextShapes(ctx),
    toImage: () => fromRgba(ctx.getImageData(0, 0, width, height).data, image),
  };
}

/**
 * Draws keypoints and skeletons over an image (see {@link PoseDrawOptions}); returns a new image.
 * Each pose is `[x0, y0, score0, …]` in pixels, COCO's 17 keypoints by default.
 */
export function drawPose(
  image: RgbImage,
  poses: readonly ArrayLike<number>[],
  options: PoseDrawOptions = {},
): Promise<RgbImage> {
  return drawPoseWith(createDrawing, image, poses, options);
}
