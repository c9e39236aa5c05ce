import { ArgumentError } from '@kernelzoo/core';
import { contextShapes, type Drawing, drawPoseWith, fromRgba, type PoseDrawOptions, toRgba } from './draw.js';
import { checkImage, type RgbImage } from './image.js';

/**
 * Starts a {@link Drawing} over a copy of `image` on an `OffscreenCanvas` (browser entry; Node
 * uses Skia through `@napi-rs/canvas`).
 */
export async function createDrawing(image: RgbImage): Promise<Drawing> {
  checkImage('createDrawing', image);
  if (typeof OffscreenCanvas === 'undefined')
    throw new ArgumentError('createDrawing', 'environment', 'OffscreenCanvas', 'none in this environment');
  const { width, height } = image;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new ArgumentError('createDrawing', 'environment', 'a 2d OffscreenCanvas context', 'none');
  // Opaque pixels, so the canvas's premultiplied storage loses nothing.
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
