import { KernelzooError } from '@kernelzoo/core';

/**
 * An image could not be read, decoded or encoded: it is empty, truncated, corrupt, in a format
 * this package does not read, or larger than the pixel limit. The message names the file (or
 * `<buffer>` for bytes without a name) and says what was wrong.
 */
export class VisionError extends KernelzooError {
  /** The file (or the name given for a buffer) the error is about. */
  readonly file: string;

  /**
   * @param file - the file or buffer name.
   * @param problem - what was wrong, in words.
   */
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.file = file;
  }
}
