/**
 * PyTorch's index rules that the replays reproduce with other ops: the bins of adaptive
 * average pooling and the source rows of nearest resizing. One copy for the ONNX and TF.js
 * replays.
 *
 * @module
 */

/**
 * PyTorch's adaptive-average-pool bins as an `[outSize, inSize]` averaging matrix: row `i`
 * holds `1 / count` over input `floor(i·in/out)` … `ceil((i+1)·in/out) − 1` (bins may be
 * larger than the input: then they overlap).
 */
export function adaptiveAverageMatrix(inSize: number, outSize: number): Float32Array {
  const m = new Float32Array(outSize * inSize);
  for (let i = 0; i < outSize; i++) {
    const start = Math.floor((i * inSize) / outSize);
    const end = Math.ceil(((i + 1) * inSize) / outSize);
    for (let j = start; j < end; j++) m[i * inSize + j] = 1 / (end - start);
  }
  return m;
}

/** PyTorch's nearest-resize source indices: `min(floor(dst·in/out), in − 1)` for each output row. */
export function nearestIndices(inSize: number, outSize: number): number[] {
  return Array.from({ length: outSize }, (_, i) => Math.min(Math.floor((i * inSize) / outSize), inSize - 1));
}
