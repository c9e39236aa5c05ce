/**
 * The CLI as a user runs it: the built binary (`dist/main.js`) spawned with real files in a
 * temporary directory; stdout parsed (`--json`), files read back, exit codes checked. Inputs
 * are kept small (64×64 crops, 32×32 windows) so the whole file runs in about a minute.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { getModel, nn, setBackend } from '@kernelzoo/core';
import '@kernelzoo/sknet';
import '@kernelzoo/hrnet';
import { readImage } from '@kernelzoo/vision';
import { fromTensors, readSafetensors, writeSafetensors } from '@kernelzoo/weights';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
const FIXTURES = fileURLToPath(new URL('../../../packages/vision/fixtures/', import.meta.url));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `kernelzoo …args` as a user would, stdout and stderr piped. */
function kz(...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { maxBuffer: 64 * 2 ** 20, env: { ...process.env, FORCE_COLOR: '0' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs and parses stdout as JSON, failing with stderr when the exit code is not 0. */
async function kzJson<T = Record<string, unknown>>(...args: string[]): Promise<{ json: T; stderr: string }> {
  const r = await kz(...args);
  expect(r.code, `kernelzoo ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return { json: JSON.parse(r.stdout) as T, stderr: r.stderr };
}

let dir: string;
const file = (name: string) => join(dir, name);

/** The float32 little-endian bytes of `a`. */
function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kernelzoo-cli-'));
  await writeFile(file('coffee.png'), readFileSync(join(FIXTURES, 'coffee-small.png')));
  await writeFile(file('astronaut.png'), readFileSync(join(FIXTURES, 'astronaut-tiny.png')));
  await writeFile(file('broken.png'), 'this is not an image');
  // a 1×1 GIF: decodable by libvips, but not a format the CLI accepts
  await writeFile(
    file('pixel.gif'),
    Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64'),
  );
  // skresnet18's seeded weights (seed 0, as the CLI seeds it): as safetensors, and as a PyTorch
  // zip checkpoint wrapped in {'state_dict': …} with 'module.' prefixes and an extra aux key.
  registerJsBackend();
  await setBackend('js');
  nn.manualSeed(0);
  const model = getModel('skresnet18').build();
  const raw = await fromTensors(model.stateDict());
  model.dispose();
  await writeFile(file('sk18.safetensors'), writeSafetensors(raw));
  const builders = (await import(
    pathToFileURL(
      fileURLToPath(new URL('../../../packages/weights/src/test-support/builders.ts', import.meta.url)),
    ).href
  )) as {
    buildTorchZip(v: unknown, storages: Record<string, Uint8Array>): Uint8Array;
    buildTorchLegacy(v: unknown, storages: [string, number, Uint8Array][]): Uint8Array;
  };
  const dict = new Map<string, unknown>();
  const storages: Record<string, Uint8Array> = {};
  const isLong = new Set<string>();
  let i = 0;
  const put = (
    key: string,
    t: { dtype: string; shape: readonly number[]; data: Float32Array | Int32Array },
  ) => {
    const name = String(i++);
    const data =
      t.dtype === 'int32'
        ? new Uint8Array(new BigInt64Array([...t.data].map(BigInt)).buffer)
        : bytesOf(t.data as Float32Array);
    storages[name] = data;
    if (t.dtype === 'int32') isLong.add(name);
    dict.set(`module.${key}`, {
      tensor: {
        storage: name,
        storageType: t.dtype === 'int32' ? 'LongStorage' : 'FloatStorage',
        numel: t.data.length,
        shape: [...t.shape],
      },
    });
  };
  for (const [k, t] of raw) put(k, t);
  put('aux.weight', { dtype: 'float32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) });
  await writeFile(file('sk18.pth'), builders.buildTorchZip(new Map([['state_dict', dict]]), storages));
  // and in the legacy format (PyTorch < 1.6), a bare state dict
  const legacy = new Map([...dict].map(([k, v]) => [k.slice('module.'.length), v]));
  await writeFile(
    file('sk18-legacy.pt'),
    builders.buildTorchLegacy(
      legacy,
      Object.entries(storages).map(([name, bytes]): [string, number, Uint8Array] => [
        name,
        bytes.length / (isLong.has(name) ? 8 : 4),
        bytes,
      ]),
    ),
  );
  // the same weights with one tensor mis-shaped
  const wrong = new Map(raw);
  wrong.set('fc.bias', {
    ...(raw.get('fc.bias') as typeof raw extends Map<string, infer V> ? V : never),
    shape: [10, 100],
  });
  await writeFile(file('sk18-misshaped.safetensors'), writeSafetensors(wrong));
  // inputs for infer
  const x = new Float32Array(2 * 3 * 32 * 32).map((_, j) => Math.sin(j * 0.37));
  await writeFile(
    file('x.safetensors'),
    writeSafetensors(new Map([['input', { dtype: 'float32' as const, shape: [2, 3, 32, 32], data: x }]])),
  );
  await writeFile(
    file('x4.safetensors'),
    writeSafetensors(
      new Map([
        ['input', { dtype: 'float32' as const, shape: [1, 4, 32, 32], data: new Float32Array(4 * 32 * 32) }],
      ]),
    ),
  );
  await writeFile(
    file('noinput.safetensors'),
    writeSafetensors(
      new Map([['pixels', { dtype: 'float32' as const, shape: [1, 3, 8, 8], data: new Float32Array(192) }]]),
    ),
  );
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The safetensors outputs of `infer`, by name. */
function readOutputs(path: string) {
  return readSafetensors(new Uint8Array(readFileSync(path))).tensors;
}

describe('help and version', () => {
  it('prints --version, and --help with examples on every command (exit 0)', async () => {
    const commands = ['list', 'summary', 'run', 'infer', 'bench', 'convert', 'conformance', 'seed'];
    const [version, top, ...each] = await Promise.all([
      kz('--version'),
      kz('--help'),
      ...commands.map((c) => kz(c, '--help')),
    ]);
    expect(version).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    expect(top.code).toBe(0);
    for (const c of commands) expect(top.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(top.stdout).toContain('Exit codes: 0 success, 1');
    for (const [i, r] of each.entries()) {
      expect(r.code, commands[i]).toBe(0);
      expect(r.stdout, commands[i]).toContain(`Usage: kernelzoo ${commands[i]}`);
      expect(r.stdout, commands[i]).toMatch(new RegExp(`Examples:\\n  kernelzoo ${commands[i]}\\b`));
    }
  }, 60_000);
});

/** util-linux `script`, which runs a command on a pseudo-terminal (absent on some systems). */
const SCRIPT =
  process.platform === 'linux' ? ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p)) : undefined;

describe('progress', () => {
  it.skipIf(!SCRIPT)(
    'draws a progress bar on a terminal, and nothing on stderr when piped',
    async () => {
      const args = ['seed', '--backend', 'wasm', '--batch', '1', '--runs', '2', '--warmup', '0'];
      const command = [process.execPath, MAIN, ...args].map((a) => `'${a}'`).join(' ');
      const [tty, piped] = await Promise.all([
        new Promise<Result>((resolve) =>
          execFile(SCRIPT as string, ['-qec', command, '/dev/null'], (error, stdout, stderr) =>
            resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
          ),
        ),
        kz(...args),
      ]);
      expect(tty.code, tty.stdout).toBe(0);
      expect(tty.stdout).toMatch(/seed on wasm \[[^\]]*\] 2\/2/); // the bar, filled
      expect(tty.stdout).toMatch(/^backend +output shape/m); // then the table
      expect(piped.code).toBe(0);
      expect(piped.stderr).toBe('');
      expect(piped.stdout).not.toContain('seed on wasm [');
    },
    60_000,
  );

  it.skipIf(!SCRIPT)(
    'loading a checkpoint on a terminal: a bar over the file in MiB as it is read, then over its tensors as they are decoded',
    async () => {
      const weights = file('sk18.safetensors');
      const args = ['run', 'skresnet18', file('coffee.png'), '--size', '64', '--weights', weights];
      const command = [process.execPath, MAIN, ...args].map((a) => `'${a}'`).join(' ');
      const tty = await new Promise<Result>((resolve) =>
        execFile(SCRIPT as string, ['-qec', command, '/dev/null'], (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
        ),
      );
      expect(tty.code, tty.stdout).toBe(0);
      const mib = Math.floor(statSync(weights).size / 2 ** 20);
      expect(mib).toBeGreaterThan(16); // more than one 16 MiB read
      expect(tty.stdout).toContain(`reading ${weights} (MiB) [`);
      expect(tty.stdout).toMatch(new RegExp(`\\] ${mib}/${mib}`)); // the read bar, filled
      const tensors = readSafetensors(new Uint8Array(readFileSync(weights))).tensors.size;
      expect(tty.stdout).toContain(`decoding ${weights} (safetensors, tensors) [`);
      expect(tty.stdout).toMatch(new RegExp(`\\] ${tensors}/${tensors}`)); // the decode bar, filled
    },
    60_000,
  );
});

describe('list and summary', () => {
  it('lists every registered model with its task, input and parameters, and the backends here', async () => {
    const { json } = await kzJson<{
      models: { id: string; task: string; input: number[]; params: number; package: string }[];
      backends: { name: string; ready: boolean }[];
    }>('list', '--json');
    const byId = new Map(json.models.map((m) => [m.id, m]));
    expect(byId.get('sknet50')).toMatchObject({
      task: 'classification',
      input: [224, 224],
      params: 27_479_784,
      package: '@kernelzoo/sknet',
    });
    expect(byId.get('spnet50_ade20k')).toMatchObject({ task: 'segmentation', input: [480, 480] });
    expect(byId.has('resnet50')).toBe(true);
    expect(json.backends.find((b) => b.name === 'js')).toMatchObject({ ready: true });
    expect(json.backends.find((b) => b.name === 'wasm')).toMatchObject({ ready: true });
  }, 30_000);

  it('summarises a network: JSON totals equal the reference count and the layer rows add up', async () => {
    const [{ json }, text] = await Promise.all([
      kzJson<{
        model: string;
        input: number[];
        params: number;
        macs: number;
        layers: { name: string; depth: number; params: number; macs: number; outputShapes: number[][] }[];
        reference: { parameters: number; gflops: unknown };
      }>('summary', 'skresnet18', '--input', '1,3,64,64', '--json'),
      kz('summary', 'sknet50', '--depth', '1'),
    ]);
    expect(json.model).toBe('skresnet18');
    expect(json.input).toEqual([1, 3, 64, 64]);
    expect(json.params).toBe(11_958_056);
    expect(json.reference.parameters).toBe(11_958_056);
    const root = json.layers[0];
    expect(root).toMatchObject({ name: '', depth: 0, params: 11_958_056, outputShapes: [[1, 1000]] });
    const children = json.layers.filter((l) => l.depth === 1);
    expect(children.reduce((s, l) => s + l.params, 0)).toBe(json.params);
    expect(children.reduce((s, l) => s + l.macs, 0)).toBe(json.macs);
    expect(json.layers.find((l) => l.name === 'conv1')?.outputShapes).toEqual([[1, 64, 32, 32]]);
    // the stem conv: 64 × 3 × 7 × 7 multiply-adds per output pixel, 32 × 32 pixels
    expect(json.layers.find((l) => l.name === 'conv1')?.macs).toBe(64 * 3 * 49 * 32 * 32);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/parameters: +ours 27,479,784; reference 27,479,784 \(published/);
    expect(text.stdout).toContain('reference 4.47 GFLOPs');
    expect(text.stdout).not.toMatch(/^ {4}\S/m); // --depth 1: nothing nested deeper
  }, 30_000);
});

describe('run', () => {
  it('classifies with seeded weights, says so, and gives the same top-5 with those weights loaded from a file', async () => {
    const args = ['run', 'skresnet18', file('coffee.png'), '--size', '64', '--backend', 'wasm', '--json'];
    const [seeded, loaded, text] = await Promise.all([
      kzJson<{
        weights: { source: string };
        warning?: string;
        results: {
          input: number[];
          top: { index: number; label: string; probability: number }[];
          attention: unknown[];
        }[];
      }>(...args),
      kzJson<{ weights: { source: string; file: string }; warning?: string; results: { top: unknown[] }[] }>(
        ...args,
        '--weights',
        file('sk18.safetensors'),
      ),
      kz('run', 'skresnet18', file('coffee.png'), '--size', '64', '--top', '3'),
    ]);
    expect(seeded.stderr).toBe(''); // piped: no progress
    expect(seeded.json.weights.source).toBe('seeded');
    expect(seeded.json.warning).toMatch(/seeded random weights.*NOT a real prediction/);
    const [r] = seeded.json.results;
    expect(r.input).toEqual([1, 3, 64, 64]);
    expect(r.top).toHaveLength(5);
    for (let i = 1; i < 5; i++) expect(r.top[i].probability).toBeLessThanOrEqual(r.top[i - 1].probability);
    expect(r.top.every((p) => p.label.length > 0 && p.index >= 0 && p.index < 1000)).toBe(true);
    expect(r.attention).toHaveLength(4); // layer1…layer4 of an SK network
    expect(loaded.json.weights).toMatchObject({ source: 'file', file: file('sk18.safetensors') });
    expect(loaded.json.warning).toBeUndefined();
    expect(loaded.json.results[0].top).toEqual(r.top);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^WARNING: skresnet18 ran with seeded random weights/m);
    expect(text.stdout.match(/^ +\d+\.\d\d % {2}\S/gm)).toHaveLength(3);
    expect(text.stdout).toMatch(/layer4: [+-]\d\.\d{4}/);
  }, 60_000);

  it('segments (SPNet: sliding windows; HRNet-seg: the whole image) and writes the class mask and the overlay', async () => {
    type Seg = {
      results: {
        mask: string;
        overlay: string;
        classes: { index: number; share: number }[];
        mode: string;
        flip: boolean;
        baseSize: number;
      }[];
    };
    const [spnet, hrnet] = await Promise.all([
      kzJson<Seg>(
        'run',
        'spnet50_ade20k',
        file('coffee.png'),
        '--size',
        '32',
        '--base-size',
        '48',
        '--no-flip',
        '--out',
        file('seg'),
        '--json',
      ),
      kzJson<Seg>(
        'run',
        'hrnet_w48_seg',
        file('coffee.png'),
        '--base-size',
        '64',
        '--out',
        file('seg-hr'),
        '--json',
      ),
    ]);
    expect(spnet.json.results[0]).toMatchObject({ mode: 'sliding', flip: false, baseSize: 48 });
    expect(hrnet.json.results[0]).toMatchObject({ mode: 'whole', flip: false, baseSize: 64 });
    expect(spnet.json.results[0].mask).toBe(join(file('seg'), 'coffee.mask.png'));
    const img = await readImage(file('coffee.png'));
    for (const [{ json, stderr }, classes] of [
      [spnet, 150],
      [hrnet, 19],
    ] as const) {
      expect(stderr).toBe('');
      const [r] = json.results;
      const [mask, overlay] = await Promise.all([readImage(r.mask), readImage(r.overlay)]);
      expect([mask.width, mask.height]).toEqual([img.width, img.height]);
      expect([overlay.width, overlay.height]).toEqual([img.width, img.height]);
      const counts = new Map<number, number>();
      let max = 0;
      for (let i = 0; i < mask.width * mask.height; i++) {
        const c = mask.data[i * 3];
        max = Math.max(max, c);
        counts.set(c, (counts.get(c) ?? 0) + 1);
      }
      expect(max).toBeLessThan(classes);
      // the reported shares are the mask's
      for (const c of r.classes)
        expect(c.share).toBeCloseTo((counts.get(c.index) ?? 0) / (img.width * img.height), 12);
      expect(r.classes.reduce((s, c) => s + c.share, 0)).toBeCloseTo(1, 12);
    }
  }, 60_000);
});

describe('run: pose', () => {
  it('estimates poses in given boxes and writes COCO keypoints JSON and a skeleton overlay', async () => {
    const out = file('pose');
    const boxes = [
      [10, 5, 40, 60],
      [0, 0, 30, 30],
    ];
    const { json, stderr } = await kzJson<{
      task: string;
      warning?: string;
      results: {
        keypoints: string;
        overlay: string;
        flip: boolean;
        people: { box: number[]; keypoints: { name: string; x: number; y: number; score: number }[] }[];
      }[];
    }>(
      'run',
      'hrnet_w32_pose',
      file('astronaut.png'),
      '--size',
      '128,96',
      '--box',
      boxes[0].join(','),
      '--box',
      boxes[1].join(','),
      '--out',
      out,
      '--threshold=-1',
      '--json',
    );
    expect(stderr).toBe('');
    expect(json.task).toBe('pose');
    expect(json.warning).toMatch(/seeded random weights/);
    const [r] = json.results;
    expect(r.flip).toBe(true);
    expect(r.people.map((p) => p.box)).toEqual(boxes);
    const written = JSON.parse(readFileSync(r.keypoints, 'utf8'));
    expect(written.people).toEqual(r.people);
    expect(written.warning).toMatch(/seeded/);
    for (const [i, p] of r.people.entries()) {
      expect(p.keypoints.map((k) => k.name)).toEqual([
        'nose',
        'left_eye',
        'right_eye',
        'left_ear',
        'right_ear',
        'left_shoulder',
        'right_shoulder',
        'left_elbow',
        'right_elbow',
        'left_wrist',
        'right_wrist',
        'left_hip',
        'right_hip',
        'left_knee',
        'right_knee',
        'left_ankle',
        'right_ankle',
      ]);
      // keypoints lie in image pixels inside the box's crop: the box widened to the input's 3:4
      // aspect, then × 1.25 (the reference's padding), around the box centre
      const [x, y, w, h] = boxes[i];
      const bw = Math.max(w, h * 0.75) * 1.25;
      const bh = Math.max(h, w / 0.75) * 1.25;
      for (const k of p.keypoints) {
        expect(Math.abs(k.x - (x + w / 2))).toBeLessThanOrEqual(bw / 2);
        expect(Math.abs(k.y - (y + h / 2))).toBeLessThanOrEqual(bh / 2);
        expect(Number.isFinite(k.score)).toBe(true);
      }
    }
    const [img, overlay] = await Promise.all([readImage(file('astronaut.png')), readImage(r.overlay)]);
    expect([overlay.width, overlay.height]).toEqual([img.width, img.height]);
    expect(Buffer.from(overlay.data).equals(Buffer.from(img.data))).toBe(false); // every keypoint drawn (--threshold=-1)
  }, 60_000);
});

describe('infer and convert', () => {
  it('runs raw tensors from .safetensors, .pth (zip) and .pt (legacy) weights to the same outputs, reporting unused keys', async () => {
    const [a, b, c] = await Promise.all([
      kzJson<{ weights: { unused: string[] }; tensors: { name: string; shape: number[] }[] }>(
        'infer',
        'skresnet18',
        '--weights',
        file('sk18.safetensors'),
        '--input',
        file('x.safetensors'),
        '--output',
        file('ya.safetensors'),
        '--backend',
        'js',
        '--json',
      ),
      kzJson<{ weights: { unused: string[]; strippedPrefix: string; format: string } }>(
        'infer',
        'skresnet18',
        '--weights',
        file('sk18.pth'),
        '--input',
        file('x.safetensors'),
        '--output',
        file('yb.safetensors'),
        '--backend',
        'js',
        '--json',
      ),
      kzJson<{ weights: { unused: string[]; strippedPrefix: string; format: string } }>(
        'infer',
        'skresnet18',
        '--weights',
        file('sk18-legacy.pt'),
        '--input',
        file('x.safetensors'),
        '--output',
        file('yc.safetensors'),
        '--backend',
        'js',
        '--json',
      ),
    ]);
    expect(c.json.weights).toMatchObject({
      format: 'pytorch-legacy',
      strippedPrefix: '',
      unused: ['aux.weight'],
    });
    expect(a.json.tensors).toEqual([{ name: 'output', shape: [2, 1000] }]);
    expect(a.json.weights.unused).toEqual([]);
    expect(b.json.weights).toMatchObject({
      format: 'pytorch-zip',
      strippedPrefix: 'module.',
      unused: ['aux.weight'],
    });
    const ya = readOutputs(file('ya.safetensors')).get('output');
    const yb = readOutputs(file('yb.safetensors')).get('output');
    expect(ya?.shape).toEqual([2, 1000]);
    expect([...(yb?.data ?? [])]).toEqual([...(ya?.data ?? [])]);
    expect([...(readOutputs(file('yc.safetensors')).get('output')?.data ?? [])]).toEqual([
      ...(ya?.data ?? []),
    ]);
    expect(ya?.data.some((v) => v !== 0)).toBe(true);
  }, 60_000);

  it("matches PyTorch's HRNet-W32 pose heatmaps (the hrnet package's parity fixture), with and without the flip test", async () => {
    // The fixture holds the reference code's float64 outputs for hrnet_w32_pose with core's
    // seeded weights (seed 32) and BatchNorm statistics calibrated by the reference.
    const fixtures = fileURLToPath(
      new URL('../../../packages/hrnet/src/test-support/parity/fixtures/', import.meta.url),
    );
    const ref = readSafetensors(
      new Uint8Array(readFileSync(join(fixtures, 'pose_hrnet_w32.safetensors'))),
    ).tensors;
    const input = readSafetensors(
      new Uint8Array(readFileSync(join(fixtures, 'input.safetensors'))),
    ).tensors.get('pose_hrnet_w32');
    nn.manualSeed(32);
    const net = getModel('hrnet_w32_pose').build();
    const weights = await fromTensors(net.stateDict());
    net.dispose();
    let calibrated = 0;
    for (const [k, t] of weights) {
      const r = ref.get(k);
      if (!r) continue;
      weights.set(k, { ...t, data: Float32Array.from(r.data) });
      calibrated++;
    }
    expect(calibrated).toBeGreaterThan(500); // every BatchNorm's running mean and variance
    await writeFile(file('pose-w32.safetensors'), writeSafetensors(weights));
    await writeFile(
      file('pose-in.safetensors'),
      writeSafetensors(new Map([['input', input as NonNullable<typeof input>]])),
    );
    const args = [
      'infer',
      'hrnet_w32_pose',
      '--weights',
      file('pose-w32.safetensors'),
      '--input',
      file('pose-in.safetensors'),
    ];
    await Promise.all([
      kzJson(...args, '--output', file('pose-out.safetensors'), '--json'),
      kzJson(...args, '--output', file('pose-flip.safetensors'), '--flip', '--json'),
    ]);
    for (const [out, key] of [
      ['pose-out.safetensors', 'heatmaps64'],
      ['pose-flip.safetensors', 'flip_average64'],
    ] as const) {
      const y = readOutputs(file(out)).get('output');
      const e = ref.get(key);
      expect(y?.shape).toEqual([1, 17, 16, 16]);
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < (e?.data.length ?? 0); i++) {
        diff = Math.max(diff, Math.abs((y?.data[i] ?? Number.NaN) - (e?.data[i] ?? 0)));
        scale = Math.max(scale, Math.abs(e?.data[i] ?? 0));
      }
      // PyTorch's own float32 forward is 9.5e-6 (relative) from float64 on this case; wasm was 1.5e-5
      expect(diff / scale, key).toBeLessThan(1e-4);
    }
  }, 60_000);

  it('runs raw tensors with seeded weights, says so in its output and the file, and equals those weights loaded', async () => {
    const { json } = await kzJson<{ warning?: string; weights: { source: string } }>(
      'infer',
      'skresnet18',
      '--input',
      file('x.safetensors'),
      '--output',
      file('seeded.safetensors'),
      '--backend',
      'js',
      '--json',
    );
    expect(json.weights.source).toBe('seeded');
    expect(json.warning).toMatch(/seeded random weights.*NOT a real prediction/);
    const written = readSafetensors(new Uint8Array(readFileSync(file('seeded.safetensors'))));
    expect(written.metadata).toMatchObject({ model: 'skresnet18', backend: 'js', weights: 'seeded' });
    // seed 0 is the seed of sk18.safetensors: the same outputs as the earlier run with that file
    const loaded = readOutputs(file('ya.safetensors')).get('output');
    expect([...(written.tensors.get('output')?.data ?? [])]).toEqual([...(loaded?.data ?? [])]);
  }, 60_000);

  it('converts a .pth to safetensors checked against a model, and refuses a file of another model', async () => {
    const [ok, wrong] = await Promise.all([
      kzJson<{ tensors: number; strippedPrefix: string; unused: string[]; model: string }>(
        'convert',
        file('sk18.pth'),
        file('converted.safetensors'),
        '--model',
        'skresnet18',
        '--json',
      ),
      kz('convert', file('sk18.pth'), file('never.safetensors'), '--model', 'sknet50'),
    ]);
    expect(ok.json).toMatchObject({ model: 'skresnet18', strippedPrefix: 'module.', unused: ['aux.weight'] });
    const original = readSafetensors(new Uint8Array(readFileSync(file('sk18.safetensors')))).tensors;
    const converted = readSafetensors(new Uint8Array(readFileSync(file('converted.safetensors')))).tensors;
    expect(converted.size).toBe(original.size + 1);
    for (const [k, t] of original) {
      expect(converted.get(k)?.shape, k).toEqual(t.shape);
      const got = converted.get(k)?.data;
      // byte comparison: toEqual on millions of elements would take minutes
      expect(
        got &&
          Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(
            Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
          ),
        k,
      ).toBe(true);
    }
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(
      /^kernelzoo convert: \S+sk18\.pth does not fit sknet50: \d+ keys missing \(layer1\.0\./,
    );
    expect(wrong.stderr).toContain('the file fits skresnet18');
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(file('never.safetensors'))).toBe(false);
  }, 60_000);
});

describe('bench, conformance, seed', () => {
  it('benches a model in a child process: JSON rows with times, throughput, GFLOP/s, memory and a profile', async () => {
    const { json, stderr } = await kzJson<Record<string, unknown>[]>(
      'bench',
      '--models',
      'skresnet18',
      '--backends',
      'wasm',
      '--threads',
      '1',
      '--runs',
      '2',
      '--warmup',
      '0',
      '--size',
      '32',
      '--profile',
      '--json',
    );
    expect(stderr).toBe('');
    expect(json).toHaveLength(1);
    const [row] = json as {
      model: string;
      backend: string;
      threads: number;
      input: number[];
      times_ms: number[];
      median_ms: number;
      images_per_s: number;
      macs: number;
      gflops_per_s: number;
      peak_rss_mib: number;
      wasm_heap_mib: number;
      profile: { kernel: string; calls: number }[];
      profile_memory: { held_mib: number; peak_mib: number };
    }[];
    expect(row).toMatchObject({ model: 'skresnet18', backend: 'wasm', threads: 1, input: [1, 3, 32, 32] });
    expect(row.times_ms).toHaveLength(2);
    expect(row.median_ms).toBeCloseTo((row.times_ms[0] + row.times_ms[1]) / 2, 9);
    expect(row.images_per_s).toBeCloseTo(1000 / row.median_ms, 9);
    expect(row.gflops_per_s).toBeCloseTo((2 * row.macs) / (row.median_ms * 1e6), 9);
    expect(row.peak_rss_mib).toBeGreaterThan(row.wasm_heap_mib);
    expect(row.wasm_heap_mib).toBeGreaterThan((11_958_056 * 4) / 2 ** 20); // holds the weights
    // skresnet18: 20 convolutions in its blocks' SK paths and convs, plus stem and downsamples
    expect(row.profile.find((k) => k.kernel === 'conv2d')?.calls).toBeGreaterThan(20);
    // The traced forward's memory: the folded weights once (BatchNorms folded into their convs'
    // weights and biases: within 5 % of the 11,958,056 parameters' bytes) and the input before
    // it; activations on top at its peak.
    const mem = row.profile_memory;
    const weightsMiB = (11_958_056 * 4) / 2 ** 20;
    expect(mem.held_mib).toBeGreaterThan(0.95 * weightsMiB);
    expect(mem.held_mib).toBeLessThan(1.05 * weightsMiB);
    expect(mem.peak_mib).toBeGreaterThan(mem.held_mib);
    expect(mem.peak_mib).toBeLessThanOrEqual(row.wasm_heap_mib);
  }, 60_000);

  it('runs the conformance runner and the seed example with --json', async () => {
    const [conf, seed] = await Promise.all([
      kzJson<{
        ok: boolean;
        backends: {
          backend: string;
          report: { kernels: { kernel: string; status: string; maxError: number }[] };
        }[];
      }>('conformance', '--backend', 'js', '--filter', 'transpose', '--json'),
      kzJson<{ results: { backend: string; outputShape: number[]; times_ms: number[] }[] }>(
        'seed',
        '--backend',
        'wasm',
        '--batch',
        '1',
        '--runs',
        '1',
        '--warmup',
        '0',
        '--json',
      ),
    ]);
    expect(conf.json.ok).toBe(true);
    expect(conf.json.backends).toHaveLength(1);
    expect(conf.json.backends[0].report.kernels.find((k) => k.kernel === 'transpose')).toMatchObject({
      status: 'pass',
      maxError: 0,
    });
    expect(seed.json.results).toEqual([
      expect.objectContaining({
        backend: 'wasm',
        outputShape: [1, 256, 24, 24],
        times_ms: [expect.any(Number)],
      }),
    ]);
  }, 60_000);
});

describe('bad input', () => {
  it('names the bad file or value and what would work, on one line, with exit code 1 or 2', async () => {
    const cases: [string[], number, RegExp][] = [
      [['run', 'skresnet18', file('missing.png')], 1, /missing\.png: cannot read the file/],
      [
        ['run', 'skresnet18', file('broken.png')],
        1,
        /broken\.png: not a readable image \(expected png, jpeg, webp\)/,
      ],
      [
        ['run', 'skresnet18', file('pixel.gif')],
        1,
        /pixel\.gif: unsupported image format 'gif' \(supported: png, jpeg, webp\)/,
      ],
      [
        ['run', 'sknet5', file('coffee.png')],
        2,
        /unknown model 'sknet5' \(did you mean sknet50.*registered: .*skresnet18/,
      ],
      [['summary', 'nope'], 2, /unknown model 'nope'; registered: resnet50/],
      [
        ['run', 'skresnet18', file('coffee.png'), '--backend', 'cuda'],
        2,
        /unknown backend 'cuda' \(installed here: js, wasm, gpujs\)/,
      ],
      [
        ['run', 'skresnet18', file('coffee.png'), '--weights', file('nope.pth')],
        1,
        /cannot read weights '\S+nope\.pth': no such file \(expected a \.safetensors, \.pth or \.pt file\)/,
      ],
      [
        ['run', 'sknet50', file('coffee.png'), '--weights', file('sk18.safetensors')],
        1,
        /sk18\.safetensors does not fit sknet50: .*the file fits skresnet18/,
      ],
      [
        [
          'infer',
          'skresnet18',
          '--weights',
          file('sk18-misshaped.safetensors'),
          '--input',
          file('x.safetensors'),
          '--output',
          file('z.safetensors'),
        ],
        1,
        /does not fit skresnet18: 1 mis-shaped \(fc\.bias: file \[10, 100\], network \[1000\]\)/,
      ],
      [
        ['infer', 'skresnet18', '--input', file('x4.safetensors'), '--output', file('z.safetensors')],
        1,
        /x4\.safetensors: tensor 'input' has shape \[1, 4, 32, 32\]; skresnet18 takes \[N, 3, H, W\]/,
      ],
      [
        ['infer', 'skresnet18', '--input', file('noinput.safetensors'), '--output', file('z.safetensors')],
        1,
        /noinput\.safetensors has no tensor named 'input' \(it holds pixels\)/,
      ],
      [
        ['infer', 'skresnet18', '--output', file('z.safetensors')],
        2,
        /required option '--input <file>' not specified/,
      ],
      [
        ['run', 'skresnet18', file('coffee.png'), '--size', '0'],
        2,
        /option '--size <S\|H,W>' argument '0' is invalid\. expected S or H,W/,
      ],
      [['bench', '--runs', 'many'], 2, /argument 'many' is invalid\. expected an integer ≥ 1/],
      [
        ['run', 'hrnet_w48_seg', file('coffee.png'), '--size', '64'],
        2,
        /--size sets the sliding window; hrnet_w48_seg runs the whole image here \(use --base-size, or --mode sliding\)/,
      ],
      [
        ['run', 'skresnet18', file('coffee.png'), '--no-flip'],
        2,
        /--flip and --no-flip apply to segmentation and pose models/,
      ],
      [
        ['run', 'skresnet18', file('coffee.png'), '--box', '1,2,3,4'],
        2,
        /--box and --threshold apply to pose models only/,
      ],
      [
        ['run', 'skresnet18', file('coffee.png'), '--threads', '2', '--backend', 'js'],
        2,
        /--threads applies to the wasm backend only/,
      ],
      [['list', '--colour'], 2, /unknown option '--colour'/],
      [['frobnicate'], 2, /unknown command 'frobnicate'/],
      [['convert', file('broken.png'), file('out.safetensors')], 1, /broken\.png: .*unrecognised file/],
      [
        ['convert', file('sk18.pth'), file('out.bin')],
        2,
        /convert writes safetensors; name it \*\.safetensors/,
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => kz(...args)));
    for (const [i, r] of results.entries()) {
      const [args, code, message] = cases[i];
      const what = `kernelzoo ${args.join(' ')}\n${r.stderr}`;
      expect(r.code, what).toBe(code);
      expect(r.stdout, what).toBe('');
      expect(r.stderr, what).toMatch(message);
      expect(r.stderr, what).toMatch(/^kernelzoo( \w+)?: /);
      expect(r.stderr.trimEnd().split('\n'), what).toHaveLength(1);
    }
    // --verbose adds the stack trace
    const verbose = await kz('run', 'skresnet18', file('missing.png'), '--verbose');
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/\n\s+at /);
  }, 90_000);
});
