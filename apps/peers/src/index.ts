/**
 * Whole networks side by side (a private package): kernelzoo's networks recorded kernel by
 * kernel ({@link recordNetwork}) and replayed in TensorFlow.js and ONNX Runtime Web, so the
 * peers run exactly the computation kernelzoo runs, on the same machine.
 *
 * @packageDocumentation
 */
export { REPLAY_TOLERANCE, relativeDifference } from './difference.js';
export * from './graph.js';
export { graphToOnnx, ortRunner } from './onnx.js';
export { type RecordedNetwork, RecordingBackend, recordNetwork } from './record.js';
export type { Runner } from './runner.js';
export { tfjsRunner } from './tfjs.js';
