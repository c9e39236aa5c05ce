import { registerJsBackend } from '@kernelzoo/backend-js';
import { argmax, getModel, nn, randomNormal, setBackend, type Tensor, tidy } from '@kernelzoo/core';
import '@kernelzoo/spnet';

/** Builds a registered SPNet (seeded: load weights for real use) and labels each pixel of an image batch. */
export async function segment(id: string, image: Tensor): Promise<Tensor> {
  registerJsBackend();
  await setBackend('js');
  const entry = getModel(id); // e.g. spnet101_cityscapes: 19 classes, crop 768
  nn.manualSeed(0);
  const net = entry.build().eval(); // BatchNorms folded into the convolutions
  const labels = tidy(() => argmax(net.call(image), 1)); // [N, H, W] class indices
  net.dispose();
  return labels;
}

/** A random normalised 1×3×64×64 input. */
export const exampleInput = (): Tensor => randomNormal([1, 3, 64, 64], 0, 1, { seed: 1 });
