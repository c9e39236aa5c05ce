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
    if (where.entry !== undefined) parts.push(`entry ${quote(where.entry)}`);
    if (where.key !== undefined) parts.push(`key ${quote(where.key)}`);
    if (where.offset !== undefined) parts.push(`byte ${where.offset}`);
    const prefix = where.format ?? 'weights';
    super(
      `${prefix}: ${escapeText(message, MAX_MESSAGE_CHARS)}${parts.length > 0 ? ` (at ${parts.join(', ')})` : ''}`,
    );
    this.format = where.format;
    this.offset = where.offset;
    this.entry = where.entry;
    this.key = where.key;
  }
}

/** The longest error message kept (longer ones are cut, with `…`). */
const MAX_MESSAGE_CHARS = 2000;

/** The longest name or value quoted in a message. */
const MAX_QUOTED_CHARS = 120;

/**
 * Escapes control, format and separator characters (C0, DEL, C1, U+2028/9, bidi controls)
 * as `\xNN` / `\uNNNN` and cuts the text at `max` characters with `…`, so a hostile name
 * cannot forge lines or flood a log. @internal
 */
export function escapeText(s: string, max: number = MAX_QUOTED_CHARS): string {
  const cut = s.length > max;
  const head = cut ? s.slice(0, max) : s;
  let escaped = '';
  for (let i = 0; i < head.length; i++) {
    const code = head.charCodeAt(i);
    const control =
      code < 0x20 ||
      (code >= 0x7f && code <= 0x9f) ||
      code === 0x61c ||
      code === 0x200e ||
      code === 0x200f ||
      (code >= 0x2028 && code <= 0x202e) ||
      (code >= 0x2066 && code <= 0x2069) ||
      code === 0xfeff;
    escaped += !control
      ? head[i]
      : code < 0x100
        ? `\\x${code.toString(16).padStart(2, '0')}`
        : `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return cut ? `${escaped}… (${s.length} chars)` : escaped;
}

/** A name or value from a file, escaped, cut and in quotes, for a message. @internal */
export function quote(s: string, max: number = MAX_QUOTED_CHARS): string {
  return `'${escapeText(s, max)}'`;
}

/**
 * Lets only {@link WeightsError}s leave a reader: anything else thrown while reading a file
 * (a bug, or an engine limit no check foresaw) becomes one, saying so. @internal
 */
export function onlyWeightsErrors(e: unknown): never {
  if (e instanceof WeightsError) throw e;
  const m = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  throw new WeightsError(`the file could not be read (${m})`);
}
