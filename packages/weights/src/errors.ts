import { KernelzooError } from '@kernelzoo/core';

/** Where in a weights file something went wrong. */
export interface WeightsErrorLocation {
  /** The format being read: `safetensors`, `zip`, `pickle`, `pytorch`, `pytorch-legacy`, … */
  format?: string;
  /** The byte offset in the file (or in the named entry) where the problem was found. */
  offset?: number;
  /** The zip entry being read, e.g. `archive/data.pkl`. */
  entry?: string;
  /** The state-dict key (or safetensors tensor name) being read. */
  key?: string;
}

/**
 * A weights file could not be read or written: truncated, corrupt, of an unknown format or
 * dtype, or holding something the restricted unpickler refuses. The message says what was
 * wrong and where (format, entry, byte offset, key); the same facts are in the fields.
 */
export class WeightsError extends KernelzooError {
  /** The format being read, when known. */
  readonly format: string | undefined;
  /** The byte offset of the problem, when known. */
  readonly offset: number | undefined;
  /** The zip entry being read, when there was one. */
  readonly entry: string | undefined;
  /** The key being read, when there was one. */
  readonly key: string | undefined;

  /**
   * @param message - what was wrong, in words.
   * @param where - the format, byte offset, entry and key, each when known.
   */
  constructor(message: string, where: WeightsErrorLocation = {}) {
    const parts: string[] = [];
    if (where.entry !== undefined) parts.push(`entry '${where.entry}'`);
    if (where.key !== undefined) parts.push(`key '${where.key}'`);
    if (where.offset !== undefined) parts.push(`byte ${where.offset}`);
    const prefix = where.format ?? 'weights';
    super(`${prefix}: ${message}${parts.length > 0 ? ` (at ${parts.join(', ')})` : ''}`);
    this.format = where.format;
    this.offset = where.offset;
    this.entry = where.entry;
    this.key = where.key;
  }
}
