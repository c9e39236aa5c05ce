/**
 * Feature detection: WebAssembly SIMD128 (required), and what threads need (shared memory,
 * cross-origin isolation in browsers, workers).
 *
 * @module
 */
import { BackendError } from '@kernelzoo/core';
import { WASM_RELAXED, WASM_SIMD } from './generated/wasm.js';

/** What the running JavaScript engine offers the wasm backend. */
export interface WasmFeatures {
  /** WebAssembly itself. */
  readonly wasm: boolean;
  /** WebAssembly SIMD128 (the backend needs it). */
  readonly simd: boolean;
  /** Relaxed SIMD (fused multiply-add); the backend uses it where present. */
  readonly relaxedSimd: boolean;
  /** Shared WebAssembly memory and `SharedArrayBuffer` (needed for threads). */
  readonly sharedMemory: boolean;
  /** Whether a browser page is cross-origin isolated (always true outside browsers). */
  readonly crossOriginIsolated: boolean;
  /** Whether threads can run: shared memory plus workers. */
  readonly threads: boolean;
  /** Why threads cannot run (and what to do about it), or null when they can. */
  readonly threadsUnavailable: string | null;
  /** Logical processors reported by the platform (1 when unknown). */
  readonly hardwareConcurrency: number;
}

/** Thrown when the runtime lacks a WebAssembly feature the backend needs (SIMD128). */
export class WasmFeatureError extends BackendError {}

let cached: WasmFeatures | null = null;

/** Base64 to bytes, in Node and in browsers. */
export function decodeBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Probes (once) what the runtime supports. */
export function wasmFeatures(): WasmFeatures {
  if (cached !== null) return cached;
  const g = globalThis as {
    WebAssembly?: typeof WebAssembly;
    SharedArrayBuffer?: unknown;
    crossOriginIsolated?: boolean;
    Worker?: unknown;
    navigator?: { hardwareConcurrency?: number };
    window?: unknown;
    process?: { versions?: { node?: string } };
  };
  const wasm = typeof g.WebAssembly === 'object';
  let simd = false;
  if (wasm) {
    try {
      simd = WebAssembly.validate(decodeBase64(WASM_SIMD) as Uint8Array<ArrayBuffer>);
    } catch {
      simd = false;
    }
  }
  let relaxedSimd = false;
  if (simd) {
    try {
      relaxedSimd = WebAssembly.validate(decodeBase64(WASM_RELAXED) as Uint8Array<ArrayBuffer>);
    } catch {
      relaxedSimd = false;
    }
  }
  let sharedMemory = false;
  if (wasm && typeof g.SharedArrayBuffer === 'function') {
    try {
      const m = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
      sharedMemory = m.buffer instanceof (g.SharedArrayBuffer as typeof SharedArrayBuffer);
    } catch {
      sharedMemory = false;
    }
  }
  const isNode = g.process?.versions?.node !== undefined && g.window === undefined;
  const isolated = isNode ? true : g.crossOriginIsolated === true;
  const workers = isNode || typeof g.Worker === 'function';
  let threadsUnavailable: string | null = null;
  if (!isolated)
    threadsUnavailable =
      'the page is not cross-origin isolated: serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp to enable SharedArrayBuffer';
  else if (!sharedMemory)
    threadsUnavailable = 'this runtime has no shared WebAssembly memory (SharedArrayBuffer)';
  else if (!workers) threadsUnavailable = 'this runtime has no workers';
  cached = {
    wasm,
    simd,
    relaxedSimd,
    sharedMemory,
    crossOriginIsolated: isolated,
    threads: threadsUnavailable === null,
    threadsUnavailable,
    hardwareConcurrency: Math.max(1, g.navigator?.hardwareConcurrency ?? 1),
  };
  return cached;
}

/** @internal Forgets the probed features (tests stub `WebAssembly.validate`, then re-probe). */
export function resetWasmFeatures(): void {
  cached = null;
}

/** Throws a {@link WasmFeatureError} saying what is missing when the backend cannot run. */
export function assertWasmSupport(): void {
  const f = wasmFeatures();
  if (!f.wasm)
    throw new WasmFeatureError(
      'wasm backend: this JavaScript runtime has no WebAssembly; use the js backend',
    );
  if (!f.simd)
    throw new WasmFeatureError(
      'wasm backend: this runtime lacks WebAssembly SIMD128 (fixed-width SIMD; Chrome/Edge ≥ 91, Firefox ≥ 89, ' +
        'Safari ≥ 16.4, Node ≥ 16.4); use the js backend here',
    );
}
