/**
 * `@kernelzoo/vision` in browsers (the `browser` export condition): the Node entry's API with
 * the codec on `createImageBitmap` and `OffscreenCanvas`.
 *
 * @packageDocumentation
 */
export { decodeImage, encodeImage, readImage, writeImage } from './browser-codec.js';
export { createDrawing, drawPose } from './draw-browser.js';
export * from './shared.js';
export * from './tasks.js';
export * from './visual.js';
