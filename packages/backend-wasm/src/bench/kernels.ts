/**
 * `pnpm bench kernels`: the convolution shapes that dominate HRNet-W32, SKNet-50 and SPNet,
 * plus plain GEMMs, on backend-js, backend-wasm (1 and 2 threads), tfjs-backend-wasm,
 * tfjs-backend-cpu and ONNX Runtime Web's wasm backend (one-node ONNX graphs, SIMD and threads as
 * it ships them: its default thread count unless `--ort-threads=N`). Prints a Markdown table:
 * median ms, GFLOP/s and the ratios (wasm to tfjs-wasm and ORT, 2 threads to 1, backend-js to
 * tfjs-cpu); skipped columns, and ratios needing them, are left out.
 *
 * Usage: node dist/bench/kernels.js [kernels] [--quick] [--only=substring] [--skip=column,...]
 *   [--ort-threads=N] (ONNX Runtime Web's thread count, fixed for the process)
 *   [--conv-path=packed|unpacked] (force the GEMM convolutions' B path; default: the backend's rule)
 *   [--no-relaxed-simd] (the plain SIMD128 build even where the runtime has relaxed SIMD)
 *
 * @module
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { JsBackend } from '@kernelzoo/backend-js';
import { KERNEL_BENCH_ROWS, type KernelBenchRow } from '@kernelzoo/conformance';
import type { Backend, Conv2dInfo, MatMulInfo, TensorInfo } from '@kernelzoo/core';
import type { Tensor1D, Tensor4D } from '@tensorflow/tfjs-core';
import type { Tensor as OrtTensor } from 'onnxruntime-web';
import { WasmBackend } from '../backend.js';
import { decodeBase64 } from '../features.js';
import { WASM_RELAXED, WASM_SIMD } from '../generated/wasm.js';
import { setConvPath, setDirectThresholds } from '../kernels/conv2d.js';
import { convReluModel, matmulModel } from './onnx-model.js';

/** A benchmark row: the shapes are stated once, in `@kernelzoo/conformance`. */
type Row = KernelBenchRow;
type ConvRow = Extract<KernelBenchRow, { kind: 'conv' }>;

const ROWS: readonly Row[] = KERNEL_BENCH_ROWS;

function flops(r: Row): number {
  if (r.kind === 'gemm') return 2 * r.m * r.n * r.k;
  const { oh, ow } = outSize(r);
  return 2 * r.cout * oh * ow * (r.cin / r.groups) * r.kh * r.kw;
}

function outSize(r: ConvRow): { oh: number; ow: number; ph: number; pw: number } {
  const ph = (r.dilation * (r.kh - 1)) >> 1;
  const pw = (r.dilation * (r.kw - 1)) >> 1;
  return {
    ph,
    pw,
    oh: Math.floor((r.h + 2 * ph - r.dilation * (r.kh - 1) - 1) / r.stride) + 1,
    ow: Math.floor((r.w + 2 * pw - r.dilation * (r.kw - 1) - 1) / r.stride) + 1,
  };
}

function random(n: number, seed: number): Float32Array {
  const v = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    v[i] = (s / 4294967296) * 2 - 1;
  }
  return v;
}

/** Median milliseconds of `fn` after one warm-up, over at least 3 and at most 15 runs (~`budget` ms). */
function time(fn: () => void, budget: number): number {
  fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || (times.length < 15 && performance.now() - start < budget)) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** One implementation of one row: `run` is timed (awaited when it returns a promise); `done` frees what it holds. */
interface Runner {
  run: () => unknown;
  done: () => unknown;
}

/** A runner for one row on one of our backends. */
function ours(b: Backend, r: Row): Runner {
  const put = (v: Float32Array, shape: number[]): TensorInfo => ({
    dataId: b.write(v, shape, 'float32'),
    shape,
    dtype: 'float32',
  });
  if (r.kind === 'gemm') {
    const a = put(random(r.m * r.k, 1), [r.m, r.k]);
    const bb = put(random(r.k * r.n, 2), [r.k, r.n]);
    const info: MatMulInfo = {
      batch: 1,
      aBatch: 1,
      bBatch: 1,
      m: r.m,
      n: r.n,
      k: r.k,
      transposeA: false,
      transposeB: false,
      outShape: [r.m, r.n],
    };
    return {
      run: () => b.disposeData(b.matmul(a, bb, null, info, 'linear').dataId),
      done: () => {
        b.disposeData(a.dataId);
        b.disposeData(bb.dataId);
      },
    };
  }
  const { oh, ow, ph, pw } = outSize(r);
  const x = put(random(r.cin * r.h * r.w, 3), [1, r.cin, r.h, r.w]);
  const w = put(random((r.cout * r.cin * r.kh * r.kw) / r.groups, 4), [r.cout, r.cin / r.groups, r.kh, r.kw]);
  const bias = put(random(r.cout, 5), [r.cout]);
  const info: Conv2dInfo = {
    batch: 1,
    inChannels: r.cin,
    inHeight: r.h,
    inWidth: r.w,
    outChannels: r.cout,
    outHeight: oh,
    outWidth: ow,
    kernelHeight: r.kh,
    kernelWidth: r.kw,
    strideHeight: r.stride,
    strideWidth: r.stride,
    dilationHeight: r.dilation,
    dilationWidth: r.dilation,
    padTop: ph,
    padBottom: ph,
    padLeft: pw,
    padRight: pw,
    groups: r.groups,
  };
  return {
    run: () => b.disposeData(b.conv2d(x, w, bias, info, 'relu').dataId),
    done: () => {
      for (const t of [x, w, bias]) b.disposeData(t.dataId);
    },
  };
}

/**
 * The peers, imported only when one of their columns runs: importing TF.js made backend-js
 * slower in the same process (apps/peers measured 5–20 % on whole networks), so a js-only run
 * (`--skip=` every peer column) holds none of them.
 */
let tf: typeof import('@tensorflow/tfjs-core');
let ort: typeof import('onnxruntime-web');

async function loadTfjs(): Promise<void> {
  tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  await import('@tensorflow/tfjs-backend-wasm');
}

/**
 * A runner for one row on a tfjs backend (NHWC). tfjs has no grouped convolution, so a grouped
 * row runs the way a tfjs user would write it: split into groups, one conv2d each, concat.
 */
function tfjsRunner(r: Row): Runner {
  if (r.kind === 'gemm') {
    const a = tf.tensor2d(random(r.m * r.k, 1), [r.m, r.k]);
    const b = tf.tensor2d(random(r.k * r.n, 2), [r.k, r.n]);
    return {
      run: () => tf.matMul(a, b).dispose(),
      done: () => tf.dispose([a, b]),
    };
  }
  const { ph, pw } = outSize(r);
  const x = tf.tensor4d(random(r.cin * r.h * r.w, 3), [1, r.h, r.w, r.cin]);
  const cg = r.cin / r.groups;
  const mg = r.cout / r.groups;
  const ws = Array.from({ length: r.groups }, (_, g) =>
    tf.tensor4d(random(r.kh * r.kw * cg * mg, 4 + g), [r.kh, r.kw, cg, mg]),
  );
  const bias = tf.tensor1d(random(r.cout, 5));
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [ph, ph],
    [pw, pw],
    [0, 0],
  ];
  const one = (xi: Tensor4D, wi: Tensor4D, bi: Tensor1D | undefined) =>
    tf.fused.conv2d({
      x: xi,
      filter: wi,
      strides: r.stride,
      pad,
      dilations: r.dilation,
      bias: bi,
      activation: 'relu',
    });
  return {
    run: () =>
      tf
        .tidy(() => {
          if (r.groups === 1) return one(x, ws[0], bias);
          const xs = tf.split(x, r.groups, 3);
          const bs = tf.split(bias, r.groups);
          return tf.concat(
            xs.map((xi, g) => one(xi as Tensor4D, ws[g], bs[g] as Tensor1D)),
            3,
          );
        })
        .dispose(),
    done: () => tf.dispose([x, bias, ...ws]),
  };
}

/**
 * A runner for one row on ONNX Runtime Web's wasm backend: the row as a one-node ONNX model
 * (`Conv` with bias → `Relu`, which ORT fuses; grouped rows as one `Conv` with `group`, as ORT
 * supports them; `MatMul` with B as an initializer), the same input values as the others, one
 * `session.run` per call (output allocation included, as a user sees it).
 */
async function ortRunner(r: Row): Promise<Runner> {
  let bytes: Uint8Array;
  let feeds: Record<string, OrtTensor>;
  if (r.kind === 'gemm') {
    bytes = matmulModel(r.m, r.k, r.n, random(r.k * r.n, 2));
    feeds = { a: new ort.Tensor('float32', random(r.m * r.k, 1), [r.m, r.k]) };
  } else {
    const { oh, ow, ph, pw } = outSize(r);
    bytes = convReluModel({
      inShape: [1, r.cin, r.h, r.w],
      weight: random((r.cout * r.cin * r.kh * r.kw) / r.groups, 4),
      weightShape: [r.cout, r.cin / r.groups, r.kh, r.kw],
      bias: random(r.cout, 5),
      stride: r.stride,
      dilation: r.dilation,
      pads: [ph, pw],
      groups: r.groups,
      outShape: [1, r.cout, oh, ow],
    });
    feeds = { x: new ort.Tensor('float32', random(r.cin * r.h * r.w, 3), [1, r.cin, r.h, r.w]) };
  }
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  return { run: () => session.run(feeds), done: () => session.release() };
}

/**
 * Two ceilings on this machine, one thread, with the build the backend uses: `chains`, 12 independent f32x4 mul→add chains
 * with no memory traffic (latency-bound on some CPUs); `micro`, the GEMM micro-kernel on an
 * cache-resident 40×64×256 product repeated (what the kernel reaches without cache misses).
 */
function ceilings(relaxed: boolean): { chains: number; micro: number } {
  const bytes = decodeBase64(relaxed ? WASM_RELAXED : WASM_SIMD) as Uint8Array<ArrayBuffer>;
  const mod = new WebAssembly.Module(bytes);
  const memory = new WebAssembly.Memory({ initial: 64 });
  const e = new WebAssembly.Instance(mod, { env: { memory } }).exports as Record<
    string,
    (...a: number[]) => number
  >;
  const iters = 20_000_000;
  const chains = (iters * 96) / time(() => e.simd_peak(iters), 500) / 1e6;
  const [m, n, k] = [40, 64, 256];
  const a = 1 << 18;
  const b = a + m * k * 4;
  const c = b + k * n * 4;
  const pa = c + m * n * 4;
  const scratch = pa + m * k * 4 + 1024;
  new Float32Array(memory.buffer, a, m * k).fill(0.5);
  new Float32Array(memory.buffer, b, k * n).fill(0.25);
  e.pack_a(a, k, 1, m, k, k, pa);
  const p = 65536;
  new Int32Array(memory.buffer).set(
    [0, m, n, k, pa, 0, b, n, 1, 0, 0, c, n, 0, 0, 0, 0, 0, 1, 1, scratch, 1 << 20, k, 240],
    p >> 2,
  );
  const reps = 500;
  const ms = time(() => {
    for (let i = 0; i < reps; i++) e.gemm_run(p, 0, 1);
  }, 500);
  return { chains, micro: (2 * m * n * k * reps) / ms / 1e6 };
}

/**
 * A call at least this long (ms, its first) gets one warm-up, and on backend-js and tfjs-cpu 3
 * timed runs; shorter ones get 3 warm-ups and as many timed runs as the other columns.
 */
const SLOW_MS = 100;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const only = args.find((a) => a.startsWith('--only='))?.slice(7);
  const budget = quick ? 400 : 3000;
  const direct = args.find((a) => a.startsWith('--direct='))?.slice(9);
  if (direct !== undefined) {
    const [g, d] = direct.split(',').map(Number);
    setDirectThresholds(g, d);
  }
  const path = args.find((a) => a.startsWith('--conv-path='))?.slice(12);
  if (path === 'packed' || path === 'unpacked') setConvPath(path);
  const skip = new Set((args.find((a) => a.startsWith('--skip='))?.slice(7) ?? '').split(','));
  const rows = ROWS.filter((r) => only === undefined || r.name.includes(only));
  const js = new JsBackend();
  // The relaxed-SIMD build wherever the runtime validates it (Node 24, Chromium), unless
  // `--no-relaxed-simd` asks for the plain SIMD128 one.
  const wasm = await WasmBackend.create({ threads: 2, relaxedSimd: !args.includes('--no-relaxed-simd') });
  const peers = (name: string) => !skip.has(name);
  let tfjsWasm = '';
  if (peers('tfjs-wasm') || peers('tfjs-cpu')) await loadTfjs();
  if (peers('tfjs-wasm')) {
    await tf.setBackend('wasm');
    await tf.ready();
    const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'threads' : '1 thread';
    const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD';
    tfjsWasm = ` tfjs-wasm 4.22 ${threads} (XNNPACK, ${simd}; its threaded build needs a browser).`;
  }
  if (peers('ort-wasm')) ort = await import('onnxruntime-web');
  const peak = ceilings(wasm.variant.startsWith('relaxed'));
  const ortThreads = args.find((a) => a.startsWith('--ort-threads='))?.slice(14);
  if (ortThreads !== undefined && peers('ort-wasm')) ort.env.wasm.numThreads = Number(ortThreads);
  // ORT's own default: min(4, ⌈logical CPUs / 2⌉), fixed when its wasm starts.
  const ortThreadCount =
    ortThreads !== undefined ? Number(ortThreads) : Math.min(4, Math.ceil(availableParallelism() / 2));
  const ortColumn = `ort-wasm ${ortThreadCount}T`;
  const columns = ['backend-js', 'wasm 1T', 'wasm 2T', 'tfjs-wasm', 'tfjs-cpu', ortColumn];
  const active = columns.map((c) => !skip.has(c) && !(c === ortColumn && skip.has('ort-wasm')));
  const results: { row: Row; ms: number[] }[] = [];
  for (const r of rows) {
    // Every implementation runs once per round, so all of them see the same background load.
    const runners: (Runner | null)[] = [];
    for (const [i, col] of columns.entries()) {
      if (!active[i]) runners.push(null);
      else if (col === ortColumn) runners.push(await ortRunner(r));
      else if (col === 'backend-js') runners.push(ours(js, r));
      else if (col === 'wasm 1T' || col === 'wasm 2T') runners.push(ours(wasm, r));
      else {
        await tf.setBackend(col === 'tfjs-wasm' ? 'wasm' : 'cpu');
        runners.push(tfjsRunner(r));
      }
    }
    const prepare = async (i: number) => {
      const col = columns[i];
      if (col === 'wasm 1T') await wasm.setThreads(1);
      else if (col === 'wasm 2T') await wasm.setThreads(2);
      else if (col === 'tfjs-wasm') await tf.setBackend('wasm');
      else if (col === 'tfjs-cpu') await tf.setBackend('cpu');
    };
    // Warm-up: one call each, two more for a call under SLOW_MS (a few milliseconds of
    // JavaScript has not reached V8's optimising tier after one call).
    const first: number[] = columns.map(() => 0);
    for (let i = 0; i < columns.length; i++) {
      if (!active[i]) continue;
      await prepare(i);
      const t0 = performance.now();
      await runners[i]!.run();
      first[i] = performance.now() - t0;
      for (let w = 0; w < 2 && first[i]! < SLOW_MS; w++) await runners[i]!.run();
    }
    const times: number[][] = columns.map(() => []);
    const start = performance.now();
    for (let round = 0; round < 15; round++) {
      if (round >= 3 && performance.now() - start > budget) break;
      for (let i = 0; i < columns.length; i++) {
        if (!active[i]) continue;
        // backend-js and tfjs-cpu (10–100× slower than wasm) stop after 3 timed runs where a
        // call takes SLOW_MS or more.
        const scalar = columns[i] === 'backend-js' || columns[i] === 'tfjs-cpu';
        if (scalar && first[i]! >= SLOW_MS && times[i].length >= 3) continue;
        await prepare(i);
        const t0 = performance.now();
        await runners[i]!.run();
        times[i].push(performance.now() - t0);
      }
    }
    for (const x of runners) await x?.done();
    const ms = times.map((t) => {
      if (t.length === 0) return Number.NaN;
      const sorted = [...t].sort((a, b) => a - b);
      return sorted[Math.floor(sorted.length / 2)];
    });
    results.push({ row: r, ms });
    process.stderr.write(`${r.name}: ${ms.map((m) => m.toFixed(2)).join(' / ')} ms\n`);
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const out: string[] = [];
  out.push(
    `Node ${process.version}, ${cpu}, ${availableParallelism()} logical CPUs, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(
        ' ',
      )} at start of output. backend-wasm build: ${wasm.variant}.${tfjsWasm}${peers('ort-wasm') ? ` ONNX Runtime Web 1.30 wasm (SIMD, ${ortThreadCount} thread${ortThreadCount > 1 ? 's' : ''}).` : ''} ` +
      `SIMD128 ceilings, one thread: ${peak.micro.toFixed(1)} GFLOP/s for the GEMM kernel on a cache-resident 40×64×256 product, ${peak.chains.toFixed(1)} GFLOP/s for 12 independent f32x4 mul→add chains without loads.`,
  );
  out.push('');
  // Skipped columns are left out; a ratio is "how many times faster", the first named over the second.
  const shown = columns.filter((_, i) => active[i]);
  const at = (ms: number[], col: string) => ms[columns.indexOf(col)]!;
  const ratios = [
    { label: 'wasm 1T / tfjs-wasm', fast: 'wasm 1T', slow: 'tfjs-wasm' },
    { label: `wasm 1T / ${ortColumn}`, fast: 'wasm 1T', slow: ortColumn },
    { label: 'wasm 2T / 1T', fast: 'wasm 2T', slow: 'wasm 1T' },
    { label: 'backend-js / tfjs-cpu', fast: 'backend-js', slow: 'tfjs-cpu' },
  ].filter((r) => shown.includes(r.fast) && shown.includes(r.slow));
  out.push(
    `| shape | GFLOP | ${shown.map((c) => `${c} ms`).join(' | ')} | ${shown.map((c) => `${c} GFLOP/s`).join(' | ')} | ${ratios.map((r) => r.label).join(' | ')} |`,
  );
  out.push(`|${' --- |'.repeat(2 + 2 * shown.length + ratios.length)}`);
  for (const { row, ms } of results) {
    const f = flops(row);
    out.push(
      `| ${row.name} | ${(f / 1e9).toFixed(3)} | ${shown.map((c) => at(ms, c).toFixed(2)).join(' | ')} | ${shown
        .map((c) => (f / at(ms, c) / 1e6).toFixed(1))
        .join(
          ' | ',
        )} | ${ratios.map((r) => `${(at(ms, r.slow) / at(ms, r.fast)).toFixed(2)}×`).join(' | ')} |`,
    );
  }
  if (shown.includes('wasm 1T')) {
    out.push('');
    out.push(
      `GEMM rows against the ceiling: ${results
        .filter((x) => x.row.kind === 'gemm')
        .map(
          (x) =>
            `${x.row.name} 1T at ${((flops(x.row) / at(x.ms, 'wasm 1T') / 1e6 / peak.micro) * 100).toFixed(0)}% of the cache-resident ceiling`,
        )
        .join(', ')}.`,
    );
  }
  console.log(out.join('\n'));
  wasm.dispose();
  process.exit(0);
}

const mode = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 'kernels';
if (mode !== 'kernels') {
  console.error(`unknown benchmark '${mode}'; available: kernels`);
  process.exit(2);
}
await main();
