/**
 * `kernelzoo convert`: a PyTorch checkpoint (zip or legacy) or safetensors file to safetensors,
 * wrappers and `module.` prefixes removed; with `--model`, the keys checked against that
 * network first, mismatches reported by name.
 *
 * @module
 */
import { stat, writeFile } from 'node:fs/promises';
import { setBackend } from '@kernelzoo/core';
import { detectFormat, readFileBytes, readWeights, WeightsError, writeSafetensors } from '@kernelzoo/weights';
import { discoverBackends } from '../backends.js';
import { expectedKeys, findModel, mismatchMessage } from '../models.js';
import { createProgress } from '../progress.js';
import { CliError, type Io, someOf, toJson, UsageError } from '../util.js';

/** `kernelzoo convert <in> <out.safetensors>`. */
export async function convertCommand(
  input: string,
  output: string,
  opts: { model?: string; json?: boolean },
  io: Io,
): Promise<number> {
  if (!output.endsWith('.safetensors'))
    throw new UsageError(`output '${output}': convert writes safetensors; name it *.safetensors`);
  const entry = opts.model ? await findModel(opts.model) : undefined;
  try {
    if (!(await stat(input)).isFile()) throw new Error('not a regular file');
  } catch (e) {
    throw new CliError(
      `cannot read '${input}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message} (expected a .pth, .pt or .safetensors file)`,
    );
  }
  const progress = createProgress(io, !opts.json);
  progress.start(3, `reading ${input}`);
  let format: string;
  let raw: Awaited<ReturnType<typeof readWeights>>;
  let strippedPrefix = '';
  try {
    const bytes = await readFileBytes(input);
    format = detectFormat(bytes);
    progress.update(1, `decoding ${input} (${format})`);
    raw = await readWeights(bytes, { onPrefixStripped: (p) => (strippedPrefix = p) });
  } catch (e) {
    progress.stop();
    if (e instanceof WeightsError)
      throw new CliError(e.message.includes(input) ? e.message : `${input}: ${e.message}`);
    throw e;
  }
  let unused: string[] = [];
  if (entry) {
    progress.update(2, `checking keys against ${entry.id}`);
    // Building the network to list its keys allocates nothing (nn.withoutInit), but needs a backend.
    const found = await discoverBackends();
    await setBackend(found.some((b) => b.name === 'js') ? 'js' : found[0].name);
    const keys = expectedKeys(entry);
    // BatchNorm's num_batches_tracked is optional (the loader accepts a file without it).
    const missing = [...keys.keys()].filter((k) => !raw.has(k) && !k.endsWith('num_batches_tracked'));
    const mismatched = [...keys]
      .filter(([k, s]) => raw.has(k) && raw.get(k)?.shape.join() !== s.join())
      .map(([key, expected]) => ({ key, expected, got: raw.get(key)?.shape ?? [] }));
    unused = [...raw.keys()].filter((k) => !keys.has(k) && !k.endsWith('num_batches_tracked'));
    if (missing.length || mismatched.length) {
      progress.stop();
      throw new CliError(
        `${mismatchMessage(input, entry.id, missing, mismatched, unused, raw)}; nothing written`,
      );
    }
  }
  const converted = [...raw.values()].filter((t) => t.sourceDtype !== t.dtype).length;
  const bytes = writeSafetensors(raw, {
    metadata: { format: 'pt', converted_from: format, ...(entry ? { model: entry.id } : {}) },
  });
  try {
    await writeFile(output, bytes);
  } catch (e) {
    throw new CliError(`cannot write '${output}': ${(e as Error).message}`);
  } finally {
    progress.stop();
  }
  const result = {
    input,
    output,
    format,
    tensors: raw.size,
    bytes: bytes.length,
    strippedPrefix,
    converted,
    model: entry?.id ?? null,
    unused,
  };
  if (opts.json) io.out(toJson(result));
  else {
    io.out(
      `wrote ${output}: ${raw.size} tensors, ${(bytes.length / 2 ** 20).toFixed(1)} MiB (from ${format}${strippedPrefix ? `, prefix '${strippedPrefix}' removed` : ''}${converted ? `, ${converted} tensors converted to float32/int32` : ''})\n`,
    );
    if (entry)
      io.out(
        `keys checked against ${entry.id}: every key present with its shape${unused.length ? `; ${unused.length} keys it does not use kept (${someOf(unused)})` : ''}\n`,
      );
  }
  return 0;
}
