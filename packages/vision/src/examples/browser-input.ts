import type { Preprocessing, Tensor } from '@kernelzoo/core';
import { classificationInput, decodeImage } from '../browser.js';

// timm's eval transform for SKNet: shorter side ⌊224 / 0.875⌋ = 256 (bicubic), centre 224.
export const pre: Preprocessing = {
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  scale: 1,
  resize: 'shorter-side',
  interpolation: 'bicubic',
  cropPct: 0.875,
};

/** A `File` from `<input type="file">` (or any `Blob`) to a `[1, 3, size, size]` float32 tensor. */
export async function tensorFromFile(file: Blob, size = 224): Promise<Tensor> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const name = file instanceof File ? file.name : 'image';
  const img = await decodeImage(bytes, { name }); // RgbImage, EXIF orientation applied
  return classificationInput(img, pre, size); // on the current backend
}

/** An `<img>` (same origin or CORS-enabled): its source bytes, decoded as above (not the rendered pixels). */
export async function tensorFromImg(el: HTMLImageElement, size = 224): Promise<Tensor> {
  await el.decode();
  const res = await fetch(el.currentSrc || el.src);
  return tensorFromFile(await res.blob(), size);
}
