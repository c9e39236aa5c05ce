/**
 * `list` and `summary`: what is registered and installed here, and a network's layer table.
 *
 * @module
 */
import { listModels, type ModelEntry, nn, setBackend, summary } from '@kernelzoo/core';
import { describeBackend, discoverBackends } from '../backends.js';
import { discoverModels, findModel } from '../models.js';
import { formatTable, type Io, shapeText, thousands, toJson, UsageError } from '../util.js';

/** `kernelzoo list`. */
export async function listCommand(opts: { json?: boolean }, io: Io): Promise<number> {
  const packages = await discoverModels();
  const models = listModels().map((e) => ({
    id: e.id,
    task: e.task,
    input: [...e.inputSize],
    params: e.reference.parameters,
    paramsSource: e.reference.parametersSource,
    gflops: e.reference.gflops,
    classes: e.numClasses,
    labels: e.labels,
    package: e.package,
    description: e.description,
  }));
  const backends: { name: string; package: string; ready: boolean; detail: string }[] = [];
  for (const b of await discoverBackends()) {
    try {
      await setBackend(b.name);
      backends.push({ name: b.name, package: b.pkg, ready: true, detail: describeBackend().detail });
    } catch (e) {
      backends.push({ name: b.name, package: b.pkg, ready: false, detail: (e as Error).message });
    }
  }
  if (opts.json) {
    io.out(toJson({ models, backends, packages }));
    return 0;
  }
  io.out(
    `${formatTable(
      ['model', 'task', 'input', 'params', 'package'],
      models.map((m) => [
        m.id,
        m.task,
        `${m.input[0]}×${m.input[1]}`,
        `${thousands(m.params)}${m.paramsSource === 'computed' ? '*' : ''}`,
        m.package,
      ]),
      'llrrl',
    )}\n`,
  );
  io.out("params: the reference's count (* computed from the reference code where none is published)\n\n");
  io.out('backends here:\n');
  for (const b of backends)
    io.out(`  ${b.name.padEnd(6)} ${b.ready ? 'ready' : 'FAILED'}${b.detail ? ` — ${b.detail}` : ''}\n`);
  if (backends.length === 0) io.out('  none (install @kernelzoo/backend-wasm or @kernelzoo/backend-js)\n');
  return 0;
}

/** The default input of `entry`: `[1, 3, H, W]`. */
export function defaultInput(entry: ModelEntry): [number, number, number, number] {
  return [1, 3, entry.inputSize[0], entry.inputSize[1]];
}

/** `kernelzoo summary <model>`. */
export async function summaryCommand(
  id: string,
  opts: { input?: [number, number, number, number]; depth?: number; json?: boolean },
  io: Io,
): Promise<number> {
  const entry = await findModel(id);
  const input = opts.input ?? defaultInput(entry);
  if (input[1] !== 3)
    throw new UsageError(
      `--input ${input.join(',')}: ${id} takes RGB images, so C must be 3 (e.g. 1,3,${entry.inputSize[0]},${entry.inputSize[1]})`,
    );
  const found = await discoverBackends();
  // Shapes only: no kernel runs, no weights are allocated (nn.withoutInit), any backend does.
  await setBackend(found.some((b) => b.name === 'js') ? 'js' : found[0].name);
  const model = nn.withoutInit(() => entry.build());
  let s: ReturnType<typeof summary>;
  try {
    s = summary(model.eval(), input);
  } finally {
    model.dispose();
  }
  const ref = entry.reference;
  const reference = {
    parameters: ref.parameters,
    parametersSource: ref.parametersSource,
    gflops: ref.gflops,
    gflopsConvention: ref.gflopsConvention ?? null,
    source: ref.source,
  };
  if (opts.json) {
    io.out(
      toJson({
        model: id,
        input,
        params: s.totalParameters,
        macs: s.totalMultiplyAdds,
        layers: s.rows.map((r) => ({
          name: r.name,
          type: r.type,
          depth: r.depth,
          outputShapes: r.outputShapes,
          params: r.parameters,
          macs: r.multiplyAdds,
        })),
        reference,
      }),
    );
    return 0;
  }
  const rows = s.rows
    .filter((r) => opts.depth === undefined || r.depth <= opts.depth)
    .map((r) => [
      `${'  '.repeat(r.depth)}${r.name || '(root)'}`,
      r.type,
      r.outputShapes.map(shapeText).join(' '),
      thousands(r.parameters),
      thousands(r.multiplyAdds),
    ]);
  const align = 'llrrr';
  io.out(`${id} — ${entry.description}\ninput ${shapeText(input)}\n\n`);
  io.out(`${formatTable(['layer', 'type', 'output shape', 'params', 'mult-adds'], rows, align)}\n\n`);
  const atDefault = input[2] === entry.inputSize[0] && input[3] === entry.inputSize[1] && input[0] === 1;
  io.out(
    `parameters:   ours ${thousands(s.totalParameters)}; reference ${thousands(ref.parameters)} (${ref.parametersSource}, ${ref.source})${s.totalParameters === ref.parameters ? ' — equal' : ''}\n`,
  );
  // HRNet's repositories divide by 2^30 ("GFLOPs" of get_model_summary); show ours that way too.
  const binary = /2\^30/.test(ref.gflopsConvention ?? '');
  const oursG = binary
    ? `${(s.totalMultiplyAdds / 2 ** 30).toFixed(2)} G ÷2^30`
    : `${(s.totalMultiplyAdds / 1e9).toFixed(2)} G`;
  io.out(
    `multiply-adds: ours ${thousands(s.totalMultiplyAdds)} (${oursG}) at ${shapeText(input)}; reference ${
      ref.gflops === 'computed'
        ? 'publishes none (computed only)'
        : `${ref.gflops} GFLOPs${ref.gflopsConvention ? ` (${ref.gflopsConvention})` : ''}${atDefault ? '' : ' — at its default input, not this one'}`
    }\n`,
  );
  return 0;
}
