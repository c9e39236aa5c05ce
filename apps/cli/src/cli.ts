/**
 * The `kernelzoo` command line, on commander: sub-commands with generated help and examples,
 * typed options, `--version`, and exit codes 0 (success), 1 (the work failed) and 2 (bad
 * usage). Errors are one line; `--verbose` adds the stack trace.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { KernelzooError } from '@kernelzoo/core';
import { Command, CommanderError, Option } from 'commander';
import { SEED } from './seed-example.js';
import {
  boxOption,
  CliError,
  type Io,
  intListOption,
  intOption,
  listOption,
  numberOption,
  processIo,
  scoreOption,
  shapeOption,
  sizeOption,
  UsageError,
} from './util.js';

export { SEED } from './seed-example.js';
export { CliError, formatTable, UsageError } from './util.js';

/** The CLI's version, from its package.json. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}

const EXIT_CODES = `
Exit codes: 0 success, 1 the work failed (unreadable file, weights that do not fit, failed
cases), 2 bad usage (unknown command, option, model or backend; a bad value).`;

/**
 * Builds the program; each action stores its exit code in `result.code`. Command modules are
 * imported when their command runs, so `--help` and bad usage answer quickly.
 */
export function buildProgram(io: Io, result: { code: number }): Command {
  const program = new Command('kernelzoo');
  const setup = (cmd: Command): Command =>
    cmd
      .exitOverride()
      .configureOutput({
        writeOut: (s) => io.out(s),
        writeErr: (s) => io.err(s),
        outputError: (s, write) => {
          const name = cmd === program ? 'kernelzoo' : `kernelzoo ${cmd.name()}`;
          write(`${name}: ${s.trim().replace(/^error: /, '')} (see '${name} --help')\n`);
        },
      })
      .showSuggestionAfterError(true);
  const set = (code: Promise<number>) =>
    code.then((c) => {
      result.code = c;
    });

  setup(program)
    .description(
      "run, inspect, benchmark and convert kernelzoo's networks (SKNet, SPNet, HRNet) on js, wasm or gpujs",
    )
    .version(VERSION, '-V, --version', 'print the version')
    .option('--verbose', 'print the stack trace with an error')
    .helpOption('-h, --help', 'print help')
    .addHelpText(
      'after',
      `${examples([
        'kernelzoo list',
        'kernelzoo summary sknet50',
        'kernelzoo run sknet50 cat.jpg --weights skresnext50_32x4d.safetensors',
        'kernelzoo bench --models skresnet18,sknet50 --backends wasm --threads 1,2',
        'kernelzoo seed',
      ])}${EXIT_CODES}\n`,
    );

  setup(program.command('list'))
    .description(
      'every registered model (id, task, default input, parameters) and the backends available here',
    )
    .option('--json', 'print JSON: {models: [...], backends: [...]}')
    .addHelpText('after', examples(['kernelzoo list', 'kernelzoo list --json']))
    .action((o) => set(import('./commands/inspect.js').then((m) => m.listCommand(o, io))));

  setup(program.command('summary'))
    .description(
      "a network's layer table (name, type, output shape, parameters, multiply-adds), totals, and the reference's parameter count and published GFLOPs beside ours — shapes only, nothing runs",
    )
    .argument('<model>', 'a registered id (kernelzoo list)')
    .option('--input <N,C,H,W>', "input shape (default 1,3 and the model's input size)", shapeOption)
    .option('--depth <d>', 'show layers nested at most d deep (0 = the network only)', intOption(0))
    .option('--json', 'print JSON: {model, input, params, macs, layers: [...], reference}')
    .addHelpText(
      'after',
      examples([
        'kernelzoo summary sknet50',
        'kernelzoo summary spnet50_ade20k --input 1,3,512,512 --depth 2',
        'kernelzoo summary skresnet18 --json > skresnet18.json',
      ]),
    )
    .action((model, o) => set(import('./commands/inspect.js').then((m) => m.summaryCommand(model, o, io))));

  setup(program.command('run'))
    .description(
      "a network's task end to end on images: classification prints the top-k labels (and the SK attention summary of SK networks); segmentation writes <image>.mask.png (class index per pixel) and <image>.overlay.png; pose writes <image>.keypoints.json (COCO order, with scores) and <image>.pose.png. Without --weights the network runs with seeded random weights and says so.",
    )
    .argument('<model>', 'a registered id (kernelzoo list)')
    .argument('<image...>', 'PNG, JPEG or WebP files')
    .option('--weights <file>', '.safetensors, .pth or .pt (zip or legacy) weights for the model')
    .option('--backend <name>', 'js, wasm or gpujs (default wasm, else js)')
    .option('--threads <n>', 'wasm threads (default: the cores, at most 8)', intOption(1))
    .option('--out <dir>', 'where segmentation and pose write their files (default .)')
    .option('--json', 'print JSON instead of text (no progress)')
    .option('--top <k>', 'classification: how many classes to print (default 5)', intOption(1))
    .option(
      '--size <S|H,W>',
      "input size instead of the model's: the classification crop, the segmentation window, the pose input",
      sizeOption,
    )
    .option(
      '--box <x,y,w,h>',
      'pose: a person box in pixels; repeat for more people (default: the whole image)',
      boxOption,
    )
    .option(
      '--threshold <t>',
      'pose: keypoints scoring below t are not drawn, nor their limbs (default 0.3)',
      scoreOption,
    )
    .option('--flip', 'test-time flip (default: pose and sliding-window segmentation on)')
    .option('--no-flip', 'no test-time flip')
    .addOption(
      new Option(
        '--mode <mode>',
        'segmentation: sliding windows (SPNet) or the whole image (HRNet-seg)',
      ).choices(['sliding', 'whole']),
    )
    .option(
      '--base-size <n>',
      'segmentation: the long side at scale 1 (default: ADE20K 512, Cityscapes 2048)',
      intOption(1),
    )
    .option(
      '--scales <s,…>',
      'segmentation: scales of the base size, averaged (default 1)',
      (v, p: number[] | undefined) => [...(p ?? []), ...v.split(',').map(numberOption)],
    )
    .addHelpText(
      'after',
      examples([
        'kernelzoo run sknet50 cat.jpg --weights skresnext50_32x4d.safetensors',
        'kernelzoo run skresnet18 a.png b.jpg --backend js --top 3 --json',
        'kernelzoo run spnet50_ade20k room.jpg --weights spnet50_ade20k.pth --out masks/',
        'kernelzoo run spnet101_cityscapes street.png --base-size 1024 --no-flip',
        'kernelzoo run hrnet_w32_pose people.jpg --box 40,20,120,300 --box 200,30,110,290 --out poses/',
      ]),
    )
    .action((model, images, o) =>
      set(import('./commands/run.js').then((m) => m.runCommand(model, images, o, io))),
    );

  setup(program.command('infer'))
    .description(
      "raw tensors in and out, for parity checks against PyTorch and for pipelines: the safetensors tensor 'input' [N, 3, H, W] in; 'output' (plus 'aux' where the network has an auxiliary head) out. Weights may carry keys the network does not use (reported); missing or mis-shaped keys are fatal.",
    )
    .argument('<model>', 'a registered id (kernelzoo list)')
    .option(
      '--weights <file>',
      '.safetensors, .pth or .pt weights (without it: seeded random weights, said so)',
    )
    .requiredOption('--input <file>', "a safetensors file holding the float tensor 'input' [N, 3, H, W]")
    .requiredOption('--output <file>', 'the safetensors file to write')
    .option('--backend <name>', 'js, wasm or gpujs (default wasm, else js)')
    .option('--threads <n>', 'wasm threads', intOption(1))
    .option(
      '--flip',
      "test-time flip: pose, the reference's flip test (mirror, flip back, swap pairs, shift, average); others, the mirror's output flipped back and averaged",
    )
    .option('--json', 'print a JSON summary')
    .addHelpText(
      'after',
      examples([
        'kernelzoo infer sknet50 --weights skresnext50_32x4d.safetensors --input x.safetensors --output y.safetensors',
        'kernelzoo infer spnet50_ade20k --weights spnet50.pth --input x.safetensors --output y.safetensors --backend js',
        'kernelzoo infer hrnet_w32_pose --weights pose_hrnet_w32_256x192.pth --input x.safetensors --output y.safetensors --flip',
      ]),
    )
    .action((model, o) => set(import('./commands/infer.js').then((m) => m.inferCommand(model, o, io))));

  setup(program.command('bench'))
    .description(
      'model × backend (× wasm threads): median and spread of ms per image, images/s, effective GFLOP/s, peak memory; each row in its own process',
    )
    .option('--models <ids>', 'comma-separated ids (default: every registered model)', listOption)
    .option(
      '--backends <names>',
      'comma-separated (default: every installed backend; gpu.js without a GPU skipped)',
      listOption,
    )
    .option(
      '--threads <n,…>',
      "wasm thread counts, a row each (default: the backend's default)",
      intListOption,
    )
    .option('--runs <n>', 'timed runs per row', intOption(1), 5)
    .option('--warmup <n>', 'untimed runs first', intOption(0), 1)
    .option('--size <S|H,W>', "input size instead of each model's default", sizeOption)
    .option('--batch <n>', 'images per forward', intOption(1), 1)
    .option('--profile', 'add the per-kernel breakdown of one traced forward per row')
    .option('--json', 'print a JSON array, one object per row')
    .addHelpText(
      'after',
      examples([
        'kernelzoo bench --models sknet50 --backends wasm --threads 1,2',
        'kernelzoo bench --models skresnet18,resnet50 --backends js,wasm --runs 3 --profile',
        'kernelzoo bench --models spnet50_ade20k --size 256 --json > bench.json',
      ]),
    )
    .action((o) => set(import('./commands/bench.js').then((m) => m.benchCommand(o, io))));

  setup(program.command('bench-worker', { hidden: true }))
    .requiredOption('--model <id>')
    .requiredOption('--backend <name>')
    .option('--threads <n>', '', intOption(1))
    .option('--runs <n>', '', intOption(1), 5)
    .option('--warmup <n>', '', intOption(0), 1)
    .option('--size <S|H,W>', '', sizeOption)
    .option('--batch <n>', '', intOption(1), 1)
    .option('--profile')
    .action((o) => set(import('./commands/bench.js').then((m) => m.benchWorker(o, io))));

  setup(program.command('convert'))
    .description(
      'a PyTorch checkpoint (.pth/.pt, zip or legacy) or safetensors file to safetensors, wrappers and module. prefixes removed; with --model, keys checked against that network (mismatches named, nothing written)',
    )
    .argument('<input>', '.pth, .pt or .safetensors')
    .argument('<output>', 'the .safetensors file to write')
    .option('--model <id>', 'check the keys and shapes against this registered network')
    .option('--json', 'print a JSON summary')
    .addHelpText(
      'after',
      examples([
        'kernelzoo convert pose_hrnet_w32_256x192.pth hrnet_w32_pose.safetensors --model hrnet_w32_pose',
        'kernelzoo convert spnet50_ade20k.pth spnet50_ade20k.safetensors',
      ]),
    )
    .action((input, output, o) =>
      set(import('./commands/convert.js').then((m) => m.convertCommand(input, output, o, io))),
    );

  setup(program.command('conformance'))
    .description(
      "the conformance suite's plain runner on the installed backends: the kernel × backend table (pass, gap with reason, max error), then each failing case; gpu.js without a GPU is skipped unless named",
    )
    .option('--backend <name>', 'only this backend (js, wasm, gpujs)')
    .option('--filter <text>', 'only the cases whose group or name contains text (case-insensitive)')
    .option('--json', 'print the reports as JSON')
    .addHelpText(
      'after',
      examples([
        'kernelzoo conformance',
        'kernelzoo conformance --backend wasm --filter conv2d',
        'kernelzoo conformance --backend gpujs --json > gpujs.json',
      ]),
    )
    .action((o) => set(import('./commands/conformance.js').then((m) => m.conformanceCommand(o, io))));

  setup(program.command('seed'))
    .description(
      `the seed example: SKConv(features ${SEED.features}, M ${SEED.M}, G ${SEED.G}, r ${SEED.r}) in eval mode on a seeded random [batch, ${SEED.features}, ${SEED.size}, ${SEED.size}] input, on every installed backend: output shape and median time (gpu.js without a GPU skipped unless named)`,
    )
    .option('--batch <n>', 'batch size (~82 G multiply-adds at 32)', intOption(1), 32)
    .option('--runs <n>', 'timed runs per backend (default: 1 on js, 3 elsewhere)', intOption(1))
    .option('--warmup <n>', 'untimed runs first (default: 0 on js, 1 elsewhere)', intOption(0))
    .option('--backend <name>', 'only this backend (js, wasm, gpujs)')
    .option('--json', 'print JSON')
    .addHelpText('after', examples(['kernelzoo seed', 'kernelzoo seed --backend wasm --batch 1 --runs 5']))
    .action((o) => set(import('./commands/seed.js').then((m) => m.seedCommand(o, io))));

  return program;
}

/** Runs the command line `argv` (without node and the script); returns the exit code. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const result = { code: 0 };
  const program = buildProgram(io, result);
  const verbose = argv.includes('--verbose');
  if (argv.length === 0) {
    io.out(program.helpInformation());
    return 0;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return result.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(e.code)) return 0;
      return 2; // commander has printed the one-line error
    }
    const command = argv.find((a) => !a.startsWith('-')) ?? '';
    const name = program.commands.some((c) => c.name() === command) ? `kernelzoo ${command}` : 'kernelzoo';
    const message = (e as Error)?.message ?? String(e);
    if (e instanceof UsageError) {
      io.err(`${name}: ${message} (see '${name} --help')\n`);
      return 2;
    }
    const known = e instanceof CliError || e instanceof KernelzooError;
    const line = message
      .trim()
      .split(/\s*\n\s*/)
      .join('; ');
    io.err(
      `${name}: ${line}${verbose || known ? '' : ' (an unexpected error: --verbose prints its stack trace)'}\n`,
    );
    if (verbose) io.err(`${(e as Error)?.stack ?? ''}\n`);
    return 1;
  }
}
