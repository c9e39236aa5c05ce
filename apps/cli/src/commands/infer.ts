/**
 * `kernelzoo infer`: raw tensors in and out, for parity checks against PyTorch and for
 * pipelines. The input is the safetensors tensor `input` (`[N, 3, H, W]`); the outputs are
 * `output`, plus `aux` where the network built has an auxiliary head (SPNet's `auxlayer` on the
 * backbone's `layer3`, run as the reference's training forward runs it).
 *
 * @module
 */
import { writeFile } from 'node:fs/promises';
import { add, flip as flipTensor, interpolate, mul, nn, type Tensor, tensor } from '@kernelzoo/core';
import { poseFlipTest } from '@kernelzoo/vision';
import { type RawTensor, readSafetensorsFile, WeightsError, writeSafetensors } from '@kernelzoo/weights';
import { discoverBackends, useBackend } from '../backends.js';
import { buildNetwork, findModel, seededWarning, weightsLine } from '../models.js';
import { createProgress } from '../progress.js';
import { CliError, type Io, shapeText, someOf, toJson, UsageError } from '../util.js';

/** Options of `infer`. */
export interface InferOptions {
  weights?: string;
  input: string;
  output: string;
  backend?: string;
  threads?: number;
  flip?: boolean;
  json?: boolean;
}

/** Reads the `input` tensor of a safetensors file and checks it is `[N, 3, H, W]` float. */
async function readInput(file: string, id: string, inputSize: readonly [number, number]): Promise<RawTensor> {
  let tensors: Map<string, RawTensor>;
  try {
    tensors = (await readSafetensorsFile(file)).tensors;
  } catch (e) {
    if (e instanceof WeightsError)
      throw new CliError(
        `${e.message.includes(file) ? e.message : `${file}: ${e.message}`} (--input takes a safetensors file holding a float tensor named 'input')`,
      );
    throw e;
  }
  const t = tensors.get('input');
  const example = `[1, 3, ${inputSize[0]}, ${inputSize[1]}]`;
  if (!t)
    throw new CliError(
      `${file} has no tensor named 'input' (it holds ${tensors.size ? someOf([...tensors.keys()]) : 'no tensors'}); ${id} needs 'input' of shape [N, 3, H, W], e.g. ${example}`,
    );
  if (t.dtype !== 'float32')
    throw new CliError(
      `${file}: tensor 'input' is ${t.sourceDtype}; ${id} needs a float tensor [N, 3, H, W]`,
    );
  if (t.shape.length !== 4 || t.shape[1] !== 3 || t.shape.some((d) => d < 1))
    throw new CliError(
      `${file}: tensor 'input' has shape ${shapeText(t.shape)}; ${id} takes [N, 3, H, W] (RGB images, NCHW), e.g. ${example}`,
    );
  return t;
}

/**
 * The output of `run(x)` and, for a network with an `auxlayer` over `pretrained.layer3` (SPNet's
 * shape, when built with its auxiliary head), that head on the captured `layer3` features,
 * upsampled bilinearly (align_corners) to the input size as the reference's forward does; null
 * for other networks.
 */
export function auxOutput(
  model: nn.AnyModule,
  x: Tensor,
  run: (x: Tensor) => Tensor,
): [Tensor, Tensor | null] {
  const aux = (model as unknown as { auxlayer?: nn.AnyModule | null }).auxlayer;
  const modules = new Map(model.namedModules());
  if (!aux || !modules.has('pretrained.layer3')) return [run(x), null];
  const [out, features] = nn.captureFeatures(model, ['pretrained.layer3'], () => run(x));
  try {
    const c3 = features.take('pretrained.layer3') as Tensor;
    const a = aux.call(c3) as Tensor;
    const up = interpolate(a, { size: [x.shape[2], x.shape[3]], mode: 'bilinear', alignCorners: true });
    a.dispose();
    c3.dispose();
    return [out, up];
  } finally {
    features.dispose();
  }
}

/** `kernelzoo infer <model>`. */
export async function inferCommand(id: string, opts: InferOptions, io: Io): Promise<number> {
  const entry = await findModel(id);
  if (!opts.output.endsWith('.safetensors'))
    throw new UsageError(`--output '${opts.output}': infer writes safetensors; name it *.safetensors`);
  const backend = await useBackend(await discoverBackends(), opts.backend, opts.threads);
  const raw = await readInput(opts.input, id, entry.inputSize);
  const progress = createProgress(io, !opts.json);
  const net = await buildNetwork(entry, opts.weights, progress);
  const { model } = net;
  const x = tensor(raw.data as Float32Array, [...raw.shape], 'float32');
  const made: Tensor[] = [x];
  const outputs = new Map<string, RawTensor>();
  try {
    const run = (t: Tensor) => model.call(t) as Tensor;
    let out: Tensor;
    let aux: Tensor | null = null;
    try {
      if (opts.flip && entry.task === 'pose') {
        // The reference's flip test: heatmaps of the mirror flipped back, pairs swapped, shifted, averaged.
        const hm = await poseFlipTest(run, x);
        out = tensor(hm.data, [...hm.shape], 'float32');
      } else {
        [out, aux] = auxOutput(model, x, run);
        if (opts.flip) {
          // Classification and segmentation: the mirror's output flipped back, averaged with the output.
          const mirrored = flipTensor(x, [3]);
          made.push(mirrored);
          const [o2, a2] = auxOutput(model, mirrored, run);
          const avg = (a: Tensor, b: Tensor) => {
            const back = b.shape.length === 4 ? flipTensor(b, [3]) : b;
            const s = add(a, back);
            const m = mul(s, 0.5);
            for (const t of new Set([a, b, back, s])) t.dispose();
            return m;
          };
          out = avg(out, o2);
          if (aux && a2) aux = avg(aux, a2);
        }
      }
    } catch (e) {
      throw new CliError(
        `${id} cannot run on '${opts.input}' (input ${shapeText(raw.shape)}): ${(e as Error).message}`,
      );
    }
    made.push(out);
    if (aux) made.push(aux);
    for (const [name, t] of [
      ['output', out],
      ['aux', aux],
    ] as const) {
      if (!t) continue;
      const v = await t.data();
      outputs.set(name, {
        dtype: 'float32',
        shape: [...t.shape],
        data: v instanceof Float32Array ? v : Float32Array.from(v),
        sourceDtype: 'float32',
      });
    }
  } finally {
    for (const t of made) t.dispose();
    model.dispose();
  }
  const metadata: Record<string, string> = {
    model: id,
    backend: backend.name,
    weights: net.weights.source === 'seeded' ? 'seeded' : net.weights.file,
    flip: String(opts.flip ?? false),
  };
  try {
    await writeFile(opts.output, writeSafetensors(outputs, { metadata }));
  } catch (e) {
    throw new CliError(`cannot write '${opts.output}': ${(e as Error).message}`);
  }
  const summary = {
    model: id,
    backend: backend.name,
    threads: backend.threads,
    weights: net.weights,
    ...(net.weights.source === 'seeded' ? { warning: seededWarning(id) } : {}),
    input: { file: opts.input, shape: raw.shape },
    output: opts.output,
    flip: opts.flip ?? false,
    tensors: [...outputs].map(([name, t]) => ({ name, shape: t.shape })),
  };
  if (opts.json) io.out(toJson(summary));
  else {
    io.out(`${weightsLine(id, net.weights)}\n`);
    io.out(
      `wrote ${opts.output}: ${summary.tensors.map((t) => `${t.name} ${shapeText(t.shape)}`).join(', ')} (input ${shapeText(raw.shape)}, ${backend.name}${opts.flip ? ', flip' : ''})\n`,
    );
  }
  return 0;
}
