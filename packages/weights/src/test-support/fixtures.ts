import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The real PyTorch files: `shared/fixtures/pytorch/` beside the repository clone (the same
 * layout in CI). Missing fixtures fail the tests loudly; they are never skipped.
 */
export const FIXTURES = fileURLToPath(new URL('../../../../../shared/fixtures/pytorch/', import.meta.url));

if (!existsSync(`${FIXTURES}conv2d.pt`))
  throw new Error(
    `PyTorch fixtures not found at ${FIXTURES}: the tests need shared/fixtures/pytorch beside the repository`,
  );

/** A fixture's bytes. */
export function fixture(name: string): Uint8Array {
  const b = readFileSync(FIXTURES + name);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** The names of the fixture files. */
export const FIXTURE_FILES = [
  'batch_norm2d.pt',
  'bfloat16.pt',
  'checkpoint.pt',
  'conv2d.pt',
  'empty.pt',
  'float16.pt',
  'float32.pt',
  'float64.pt',
  'int32.pt',
  'int64.pt',
  'nested_dict.pt',
  'scalar.pt',
  'simple_legacy.pt',
  'state_dict.pt',
  'tensor_2d.pt',
  'top_level_key.pt',
];
