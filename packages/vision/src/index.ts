/**
 * `@kernelzoo/vision`: images in and out. Decoding and encoding in Node (PNG, JPEG, WebP
 * through sharp/libvips, EXIF orientation applied or ignored, decompression bombs refused from
 * the header), timm's classification pre-processing with Pillow-exact resizing, and softmax /
 * top-k with the ImageNet-1k class names.
 *
 * This is the Node entry (the codec is sharp). Browser bundlers pick the `browser` export
 * condition instead: the same functions, with `decodeImage`/`encodeImage` on the platform's
 * decoders, `readImage` fetching a URL, and `writeImage` unavailable.
 *
 * @packageDocumentation
 */

export { createDrawing, drawPose } from './draw-node.js';
export { decodeImage, encodeImage, readImage, writeImage } from './node.js';
export * from './shared.js';
export * from './tasks.js';
export * from './visual.js';
