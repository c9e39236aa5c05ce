import { ArgumentError } from '@kernelzoo/core';

/**
 * A decoded image on the host: 8-bit RGB, row-major, channels interleaved (`[H, W, 3]`), with an
 * optional separate 8-bit alpha plane (`[H, W]`).
 */
export interface RgbImage {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** `height × width × 3` bytes: R, G, B of each pixel, rows top to bottom. */
  readonly data: Uint8Array;
  /** `height × width` bytes of alpha, when the source had an alpha channel. */
  readonly alpha?: Uint8Array;
}

/** Checks that `img` is a well-formed {@link RgbImage}; `op` names the caller in the error. */
export function checkImage(op: string, img: RgbImage): void {
  if (
    !img ||
    !Number.isInteger(img.width) ||
    !Number.isInteger(img.height) ||
    img.width < 1 ||
    img.height < 1
  )
    throw new ArgumentError(op, 'image', 'an RgbImage with positive integer width and height', String(img));
  if (!(img.data instanceof Uint8Array) || img.data.length !== img.width * img.height * 3)
    throw new ArgumentError(
      op,
      'image.data',
      `a Uint8Array of ${img.width}×${img.height}×3 = ${img.width * img.height * 3} bytes`,
      img.data instanceof Uint8Array ? `${img.data.length} bytes` : typeof img.data,
    );
  if (
    img.alpha !== undefined &&
    (!(img.alpha instanceof Uint8Array) || img.alpha.length !== img.width * img.height)
  )
    throw new ArgumentError(
      op,
      'image.alpha',
      `a Uint8Array of ${img.width}×${img.height} bytes`,
      img.alpha instanceof Uint8Array ? `${img.alpha.length} bytes` : typeof img.alpha,
    );
}
