/// <reference lib="dom" />
/**
 * The in-page entry of `pnpm bench:browser` (bundled by Vite, loaded by `browser-networks.ts`'s
 * index.html in headless Chromium): builds one registered network with seeded weights on one
 * backend (wasm with a thread count, or gpu.js over WebGL2), runs one warm-up forward and N
 * timed forwards, and returns the times with what the page knows about itself
 * (cross-origin isolation, user agent, WebGL renderer).
 *
 * The driver calls `window.kzBench(params)`; opening the page with a query
 * (`?model=sknet50&backend=wasm&threads=2&size=224x224&runs=3`) runs it too and leaves the
 * result in `window.kzResult` (and the page's text), for running it by hand.
 *
 * @module
 */
import { registerGpujsBackend } from '@kernelzoo/backend-gpujs';
import { registerJsBackend } from '@kernelzoo/backend-js';
import {
  getThreads,
  registerWasmBackend,
  setThreads,
  WasmBackend,
  wasmFeatures,
} from '@kernelzoo/backend-wasm';
import { dispose, getBackend, getModel, nn, randomNormal, setBackend, type Tensor } from '@kernelzoo/core';
import '@kernelzoo/hrnet';
import '@kernelzoo/sknet';
import '@kernelzoo/spnet';

/** What one row asks for. */
export interface PageParams {
  readonly model: string;
  readonly backend: 'wasm' | 'gpujs' | 'js';
  /** wasm only; 1 for gpujs and js. */
  readonly threads: number;
  /** `[height, width]`; the registered size when absent. */
  readonly size?: readonly [number, number] | null;
  readonly runs: number;
}

/** What one row measured. */
export interface PageResult {
  readonly model: string;
  readonly backend: string;
  /** Threads in effect (wasm: what the backend reports after `setThreads`). */
  readonly threads: number;
  /** `[1, 3, H, W]`. */
  readonly input: number[];
  readonly warmupMs: number;
  /** The timed forwards, ms. */
  readonly times: number[];
  readonly crossOriginIsolated: boolean;
  readonly sharedArrayBuffer: boolean;
  readonly userAgent: string;
  /** A WebGL2 context's unmasked renderer (or RENDERER), null without WebGL2. */
  readonly webglRenderer: string | null;
  /** wasm: why threads are unavailable (null when they are); gpujs: the gpu.js mode. */
  readonly detail: string | null;
  /** wasm: jobs run by each thread during the timed forwards (entry 0 the page's thread). */
  readonly workerJobs: number[] | null;
  /** wasm: the WebAssembly memory's size after the runs, MiB. */
  readonly wasmHeapMiB: number | null;
  /** Milliseconds to build the network and its seeded weights. */
  readonly buildMs: number;
}

declare global {
  interface Window {
    kzBench: (params: PageParams) => Promise<PageResult>;
    kzResult?: PageResult | { error: string };
  }
}

/** The renderer string of a fresh WebGL2 context (the unmasked one where the extension exists). */
function webglRenderer(): string | null {
  try {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (gl === null) return null;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const name = ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return String(name);
  } catch {
    return null;
  }
}

async function useBackend(p: PageParams): Promise<{ threads: number; detail: string | null }> {
  if (p.backend === 'wasm') {
    registerWasmBackend({ threads: p.threads });
    await setBackend('wasm');
    await setThreads(p.threads);
    return { threads: getThreads(), detail: wasmFeatures().threadsUnavailable };
  }
  if (p.backend === 'gpujs') {
    registerGpujsBackend({ mode: 'webgl2' });
    await setBackend('gpujs');
    return { threads: 1, detail: `gpu.js ${(getBackend() as unknown as { mode?: string }).mode ?? '?'}` };
  }
  if (p.backend === 'js') {
    registerJsBackend();
    await setBackend('js');
    return { threads: 1, detail: null };
  }
  throw new Error(`unknown backend '${String(p.backend)}' (wasm, gpujs or js)`);
}

/** Builds `p.model` on `p.backend` and times its forwards. */
export async function runBench(p: PageParams): Promise<PageResult> {
  const { threads, detail } = await useBackend(p);
  const entry = getModel(p.model);
  const [h, w] = p.size ?? entry.inputSize;
  const shape = [1, 3, h, w];
  const b0 = performance.now();
  nn.manualSeed(0);
  const model = entry.build().eval();
  const buildMs = performance.now() - b0;
  const x = randomNormal(shape, 0, 1, { seed: 1 });
  const forward = async () => {
    const t0 = performance.now();
    const y = model.call(x);
    const first = (Array.isArray(y) ? y[0] : y) as Tensor;
    await first.data(); // waits for the GPU too
    const ms = performance.now() - t0;
    dispose(y);
    return ms;
  };
  const warmupMs = await forward();
  const backend = getBackend();
  const wasm = backend instanceof WasmBackend ? backend : null;
  const jobs0 = wasm?.workerJobs() ?? null;
  const times: number[] = [];
  for (let i = 0; i < p.runs; i++) times.push(await forward());
  const jobs1 = wasm?.workerJobs() ?? null;
  const heap = wasm?.heapStats().memoryBytes ?? null;
  x.dispose();
  model.dispose();
  return {
    model: p.model,
    backend: backend.name,
    threads,
    input: shape,
    warmupMs,
    times,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    sharedArrayBuffer: typeof SharedArrayBuffer !== 'undefined',
    userAgent: navigator.userAgent,
    webglRenderer: webglRenderer(),
    detail,
    workerJobs: jobs0 && jobs1 ? jobs1.map((n, i) => n - (jobs0[i] ?? 0)) : null,
    wasmHeapMiB: heap === null ? null : heap / 2 ** 20,
    buildMs,
  };
}

window.kzBench = runBench;

/** `?model=…&backend=…&threads=…&size=HxW&runs=…` runs at load, for use by hand. */
const q = new URLSearchParams(location.search);
const model = q.get('model');
if (model !== null) {
  const size = q.get('size')?.match(/^(\d+)x(\d+)$/);
  runBench({
    model,
    backend: (q.get('backend') ?? 'wasm') as PageParams['backend'],
    threads: Number(q.get('threads') ?? 1),
    size: size ? [Number(size[1]), Number(size[2])] : null,
    runs: Number(q.get('runs') ?? 3),
  }).then(
    (r) => {
      window.kzResult = r;
      document.body.textContent = JSON.stringify(r);
    },
    (e: unknown) => {
      window.kzResult = { error: e instanceof Error ? e.message : String(e) };
      document.body.textContent = JSON.stringify(window.kzResult);
    },
  );
}
