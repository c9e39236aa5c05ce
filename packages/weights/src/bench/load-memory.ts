/**
 * `pnpm bench:memory`: what building a network and loading its weights costs in memory.
 *
 * The network is torchvision's ResNet-152 from `@kernelzoo/resnet` (60.2 M parameters,
 * 241 MB of float32 — the size of HRNet-W48 pose's 63.6 M) with seeded weights written once
 * as safetensors and as a zip-format PyTorch checkpoint. Each measurement runs in a fresh
 * child process, which reports:
 * - **peak RSS**: `process.resourceUsage().maxRSS`, the process's resident high-water mark,
 *   minus the same child's RSS before it built anything (runtime, modules, backend);
 * - **engine live bytes**: `memory().numBytes`, what kernelzoo's tensors hold afterwards;
 * - for wasm, the **heap high-water mark**: the WebAssembly memory's size
 *   (`heapStats().memoryBytes`), which only grows.
 * Rows: built without initial values (`nn.withoutInit`, as `loadModel` does) and loaded, and —
 * for comparison — built with random initial values first, then loaded.
 *
 * Usage: node dist/bench/load-memory.js [memory] (any other benchmark name: nothing to do)
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { registerJsBackend } from '@kernelzoo/backend-js';
import { registerWasmBackend } from '@kernelzoo/backend-wasm';
import { getBackend, memory, nn, setBackend } from '@kernelzoo/core';
import { resnet152 } from '@kernelzoo/resnet';
import { loadWeights } from '../load.js';
import { fromTensors } from '../raw.js';
import { writeSafetensors } from '../safetensors.js';
import { pickleCheckpoint, type Value } from '../test-support/builders.js';

const MB = 2 ** 20;

/** A stored zip entry list as PyTorch writes it (data 64-byte aligned), assembled without copies per byte. */
function storedZip(entries: [string, Uint8Array][]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const le = (fields: [number, number][]) => {
    const out = new Uint8Array(fields.reduce((s, [, w]) => s + w, 0));
    let i = 0;
    for (const [v, w] of fields) for (let b = 0; b < w; b++) out[i++] = Math.floor(v / 2 ** (8 * b)) & 0xff;
    return out;
  };
  for (const [name, data] of entries) {
    const nameBytes = enc.encode(name);
    let extra = (64 - ((offset + 30 + nameBytes.length) % 64)) % 64;
    if (extra > 0 && extra < 4) extra += 64;
    const crc = crc32(data);
    const head = le([
      [0x04034b50, 4],
      [20, 2],
      [0, 2],
      [0, 2],
      [0, 4],
      [crc, 4],
      [data.length, 4],
      [data.length, 4],
      [nameBytes.length, 2],
      [extra, 2],
    ]);
    const pad = new Uint8Array(extra);
    if (extra > 0)
      pad.set(
        le([
          [0xcafe, 2],
          [extra - 4, 2],
        ]),
      );
    parts.push(head, nameBytes, pad, data);
    central.push(
      le([
        [0x02014b50, 4],
        [45, 2],
        [45, 2],
        [0, 2],
        [0, 2],
        [0, 4],
        [crc, 4],
        [data.length, 4],
        [data.length, 4],
        [nameBytes.length, 2],
        [0, 2],
        [0, 2],
        [0, 2],
        [0, 2],
        [0, 4],
        [offset, 4],
      ]),
      nameBytes,
    );
    offset += head.length + nameBytes.length + extra + data.length;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const n = entries.length;
  const tail = le([
    [0x06054b50, 4],
    [0, 2],
    [0, 2],
    [n, 2],
    [n, 2],
    [cdSize, 4],
    [offset, 4],
    [0, 2],
  ]);
  const all = [...parts, ...central, tail];
  const out = new Uint8Array(all.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of all) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function writeFiles(dir: string): Promise<{ safetensors: string; pth: string }> {
  const files = { safetensors: join(dir, 'resnet152.safetensors'), pth: join(dir, 'resnet152.pth') };
  if (existsSync(files.safetensors) && existsSync(files.pth)) return files;
  registerJsBackend();
  await setBackend('js');
  nn.manualSeed(152);
  const net = resnet152();
  const raw = await fromTensors(net.stateDict());
  net.dispose();
  await writeFile(files.safetensors, writeSafetensors(raw));
  const dict = new Map<string, Value>();
  const storages: [string, Uint8Array][] = [];
  let i = 0;
  for (const [k, t] of raw) {
    const key = String(i++);
    const int = t.dtype === 'int32';
    dict.set(k, {
      tensor: {
        storage: key,
        storageType: int ? 'LongStorage' : 'FloatStorage',
        numel: t.data.length,
        shape: [...t.shape],
      },
    });
    const bytes = int
      ? new Uint8Array(new BigInt64Array(Array.from(t.data, BigInt)).buffer)
      : new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    storages.push([`archive/data/${key}`, bytes]);
  }
  await writeFile(
    files.pth,
    storedZip([
      ['archive/data.pkl', pickleCheckpoint(dict)],
      ['archive/byteorder', new TextEncoder().encode('little')],
      ...storages,
      ['archive/version', new TextEncoder().encode('3\n')],
    ]),
  );
  return files;
}

interface ChildReport {
  baselineMB: number;
  peakMB: number;
  engineMB: number;
  heapHighWaterMB: number | null;
  ms: number;
}

/** In the child: build and load, then report (JSON on stdout). */
async function child(file: string, backend: string, init: boolean): Promise<void> {
  if (backend === 'wasm') registerWasmBackend();
  else registerJsBackend();
  await setBackend(backend);
  const baselineMB = process.memoryUsage().rss / MB;
  const t0 = performance.now();
  const net = init ? resnet152() : nn.withoutInit(() => resnet152());
  await loadWeights(net, file);
  const ms = performance.now() - t0;
  const b = getBackend() as unknown as { heapStats?: () => { memoryBytes: number } };
  const report: ChildReport = {
    baselineMB,
    peakMB: process.resourceUsage().maxRSS / 1024,
    engineMB: memory().numBytes / MB,
    heapHighWaterMB: b.heapStats ? b.heapStats().memoryBytes / MB : null,
    ms,
  };
  process.stdout.write(JSON.stringify(report));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1], args[2], args[3] === 'init');
  if (args.length > 0 && !args.includes('memory')) return; // `pnpm bench kernels` is another table
  const files = await writeFiles(tmpdir());
  const self = fileURLToPath(import.meta.url);
  const rows: string[] = [];
  for (const backend of ['js', 'wasm'])
    for (const [format, file] of Object.entries(files))
      for (const init of [false, true]) {
        const out = execFileSync(
          process.execPath,
          [self, '--child', file, backend, init ? 'init' : 'no-init'],
          {
            encoding: 'utf8',
            maxBuffer: 1 << 20,
          },
        );
        const r = JSON.parse(out) as ChildReport;
        const fileMB = (await import('node:fs')).statSync(file).size / MB;
        const extra = r.peakMB - r.baselineMB;
        rows.push(
          `| ${backend} | ${format} | ${init ? 'random init, then load' : 'withoutInit + load'} | ${fileMB.toFixed(0)} | ${r.peakMB.toFixed(0)} | ${extra.toFixed(0)} | ${(extra / fileMB).toFixed(2)}× | ${r.engineMB.toFixed(0)} | ${r.heapHighWaterMB === null ? '–' : r.heapHighWaterMB.toFixed(0)} | ${(r.ms / 1000).toFixed(1)} |`,
        );
      }
  console.log(`ResNet-152 (60.2 M parameters), Node ${process.version}, each row a fresh child process`);
  console.log(
    '| backend | file | build | file MB | peak RSS MB | peak − baseline MB | ÷ file | engine live MB | wasm heap high-water MB | s |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

await main();
