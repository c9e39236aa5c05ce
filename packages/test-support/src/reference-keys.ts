import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** `shared/reference/keys/` beside the repository clone (the same layout in CI). */
export const REFERENCE_KEYS_DIR = fileURLToPath(
  new URL('../../../../shared/reference/keys/', import.meta.url),
);

/** Which keys of a list {@link referenceKeys} returns, and how. */
export interface ReferenceKeyOptions {
  /** Only the keys under this prefix, with the prefix removed (e.g. `'pretrained.'`). */
  readonly under?: string;
  /** A prefix removed from every key that has it (e.g. the multi-GPU checkpoints' `'module.'`). */
  readonly stripPrefix?: string;
}

/**
 * A reference state-dict key list, `shared/reference/keys/<name>.txt` (`key<TAB>[shape]` lines,
 * in the reference's registration order), as `[key, shape]` pairs. A missing list fails loudly,
 * naming the path: the tests need `shared/` beside the repository.
 */
export function referenceKeys(name: string, options: ReferenceKeyOptions = {}): [string, number[]][] {
  const path = `${REFERENCE_KEYS_DIR}${name}.txt`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`reference key list not found at ${path}: the tests need shared/ beside the repository`, {
      cause: e,
    });
  }
  const out: [string, number[]][] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const [raw, shape] = line.split('\t');
    let key = raw;
    if (options.stripPrefix && key.startsWith(options.stripPrefix))
      key = key.slice(options.stripPrefix.length);
    if (options.under !== undefined) {
      if (!key.startsWith(options.under)) continue;
      key = key.slice(options.under.length);
    }
    out.push([key, JSON.parse(shape) as number[]]);
  }
  return out;
}
