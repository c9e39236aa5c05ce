import { registerJsBackend } from '@kernelzoo/backend-js';
import { setBackend } from '@kernelzoo/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { tensorFromFile, tensorFromImg } from './browser-input.js';

const url = (name: string) => new URL(`../../fixtures/${name}`, import.meta.url).href;
// chelsea-small.bicubic.f32: the Node path's tensor (preprocess.test.ts checks it bit for bit against
// torchvision/Pillow) for chelsea-small.png, bicubic, size 56.
const SOURCE = 'chelsea-small.png';
const TENSOR = 'chelsea-small.bicubic.f32';

beforeAll(async () => {
  registerJsBackend();
  await setBackend('js');
});

describe("README's browser example (src/examples/browser-input.ts; readme.test.ts checks the README shows it), run in Chromium", () => {
  it('a File gives [1, 3, 56, 56] equal to the Node path for the same image', async () => {
    const bytes = await (await fetch(url(SOURCE))).arrayBuffer();
    const file = new File([bytes], SOURCE, { type: 'image/png' });
    const t = await tensorFromFile(file, 56);
    expect(t.shape).toEqual([1, 3, 56, 56]);
    const want = new Float32Array(await (await fetch(url(TENSOR))).arrayBuffer());
    expect(await t.data()).toEqual(want);
    t.dispose();
  });

  it('an <img> in the page gives the same tensor', async () => {
    const el = document.createElement('img');
    el.src = url(SOURCE);
    document.body.append(el);
    const t = await tensorFromImg(el, 56);
    expect(t.shape).toEqual([1, 3, 56, 56]);
    const want = new Float32Array(await (await fetch(url(TENSOR))).arrayBuffer());
    expect(await t.data()).toEqual(want);
    t.dispose();
    el.remove();
  });
});
