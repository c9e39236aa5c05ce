/**
 * What the benchmark times: one way of running a recorded network's forward.
 *
 * @module
 */

/** A forward made ready to run: weights uploaded, sessions created. */
export interface Runner {
  /** Column name, e.g. `tfjs-wasm`, `ort-wasm 2T`. */
  readonly name: string;
  /** One forward on an NCHW input (the graph's input shape); returns the NCHW output. */
  run(input: Float32Array): Promise<Float32Array>;
  /** Frees what the runner holds. */
  dispose(): Promise<void>;
}
