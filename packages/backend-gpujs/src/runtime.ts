/**
 * The gpu.js side of the backend: choosing a mode, compiling kernels once per source and
 * shapes, running them in pipeline mode, uploading and downloading buffers.
 *
 * @module
 */
import { GPU, type IKernelRunShortcut, Input, type Texture } from 'gpu.js';
import type { ArgSpec, KernelSource } from './codegen.js';
import { GLSL3_HELPERS, JS_HELPERS } from './helpers.js';
import { type Layout, outputOf } from './layout.js';

/** The gpu.js modes this backend can run on. */
export type GpujsMode = 'webgl2' | 'headlessgl' | 'webgl' | 'webasm' | 'cpu';

/** The data behind one buffer: a texture on the GL modes, arrays on cpu and webasm. */
export type DeviceData = Texture | Float32Array | Float32Array[];

/** Modes tried, best first, when none is asked for. */
export const AUTO_MODES: readonly GpujsMode[] = ['headlessgl', 'webgl2', 'webasm', 'cpu'];

const GL_MODES: readonly GpujsMode[] = ['webgl2', 'headlessgl', 'webgl'];

function isTexture(d: DeviceData): d is Texture {
  return !(d instanceof Float32Array) && !Array.isArray(d);
}

/** One gpu.js instance in one mode, with its kernel cache. */
export class Runtime {
  /** The mode kernels actually run in. */
  readonly mode: GpujsMode;
  /** The largest texture side used for a buffer. */
  readonly maxTextureSize: number;
  private readonly gpu: GPU;
  private readonly cache = new Map<string, IKernelRunShortcut>();

  private constructor(gpu: GPU, mode: GpujsMode, maxTextureSize: number) {
    this.gpu = gpu;
    this.mode = mode;
    this.maxTextureSize = maxTextureSize;
  }

  /** Whether results live in GPU textures. */
  get isGL(): boolean {
    return GL_MODES.includes(this.mode);
  }

  /** Kernels compiled so far. */
  get kernelCount(): number {
    return this.cache.size;
  }

  /**
   * Starts gpu.js in `mode` and proves it with a small kernel; throws with the reason when it
   * cannot. `maxTextureSize` lowers the texture side used (for tests).
   */
  static start(mode: GpujsMode, maxTextureSize?: number): Runtime {
    if (mode === 'webgl2' && !GPU.isWebGL2Supported) throw new Error('WebGL2 is not available here');
    if (mode === 'webgl' && !GPU.isWebGLSupported) throw new Error('WebGL is not available here');
    if (mode === 'headlessgl' && !GPU.isHeadlessGLSupported)
      throw new Error('headless-gl (the `gl` package) is not installed or did not build');
    if (mode === 'webasm' && !GPU.isWebAssemblySupported)
      throw new Error('WebAssembly is not available here');
    const gpu = new GPU({ mode });
    const gl = GL_MODES.includes(mode);
    if (gl) {
      if (mode !== 'webgl2')
        throw new Error(`the ${mode} mode needs GLSL ES 1.00 helpers this backend does not ship yet`);
      for (const [name, source] of GLSL3_HELPERS) gpu.addNativeFunction(name, source);
    } else {
      for (const f of JS_HELPERS) gpu.addFunction(f);
    }
    let max = Number.POSITIVE_INFINITY;
    if (gl) {
      const probe = gpu.createKernel('function() { return 1.0; }', { output: [1] });
      const features = (
        probe as unknown as { kernel: { constructor: { features?: { maxTextureSize?: number } } } }
      ).kernel.constructor.features;
      max = features?.maxTextureSize ?? 4096;
      probe.destroy();
    }
    if (maxTextureSize !== undefined) max = Math.min(max, maxTextureSize);
    if (!Number.isFinite(max)) max = 1 << 24;
    const rt = new Runtime(gpu, mode, max);
    rt.selfTest();
    return rt;
  }

  private selfTest(): void {
    const layout: Layout = { size: 3, width: 3, rows: 1 };
    const a = this.upload(new Float32Array([1, 2, 3]), layout);
    try {
      const src =
        'function(a0) {\n  let v = a0[this.thread.x];\n  return v * 2.0 + kzDiv(kzF(this.thread.x) + 3.0, 2.0);\n}';
      const out = this.execute(src, { shape: [3], layout }, [{ shape: [3], layout }], [a]);
      const v = this.download(out, layout);
      this.free(out);
      if (v[0] !== 3 || v[1] !== 6 || v[2] !== 8)
        throw new Error(`a self-test kernel computed [${Array.from(v).join(', ')}] instead of [3, 6, 8]`);
    } finally {
      this.free(a);
    }
    const realMode = this.kernelModes().find((m) => m !== this.mode);
    if (realMode !== undefined)
      throw new Error(`gpu.js ran the ${this.mode} kernels in ${realMode} mode instead`);
  }

  private kernelModes(): string[] {
    const names: Record<string, GpujsMode> = {
      WebGL2Kernel: 'webgl2',
      WebGLKernel: 'webgl',
      HeadlessGLKernel: 'headlessgl',
      WebAssemblyKernel: 'webasm',
      CPUKernel: 'cpu',
    };
    const modes: string[] = [];
    for (const k of this.cache.values()) {
      const inner = (k as unknown as { kernel?: { constructor?: { name?: string } } }).kernel;
      const name = inner?.constructor?.name ?? 'unknown';
      modes.push(names[name] ?? name);
    }
    return modes;
  }

  private kernel(source: string, out: Layout, args: readonly ArgSpec[]): IKernelRunShortcut {
    const key = `${source}|${out.width}x${out.rows}|${args.map((a) => `${a.layout.width}x${a.layout.rows}`).join(',')}`;
    let k = this.cache.get(key);
    if (k === undefined) {
      const settings = {
        output: outputOf(out) as [number] | [number, number],
        pipeline: true,
        immutable: true,
        precision: 'single' as const,
        tactic: 'precision' as const,
        loopMaxIterations: 1 << 24,
        strictIntegers: false,
      };
      k = this.gpu.createKernel(source, settings);
      this.cache.set(key, k);
    }
    return k;
  }

  /** Runs generated kernel source over device inputs; returns the output's data. */
  execute(source: string, out: ArgSpec, args: readonly ArgSpec[], data: readonly DeviceData[]): DeviceData {
    const k = this.kernel(source, out.layout, args);
    return k(...(data as unknown as never[])) as unknown as DeviceData;
  }

  /** Runs a {@link KernelSource}. */
  run(src: KernelSource, data: readonly DeviceData[]): DeviceData {
    return this.execute(src.source(), src.out, src.args, data);
  }

  /** Puts host values (padded to the layout) on the device. */
  upload(values: Float32Array, layout: Layout): DeviceData {
    const total = layout.width * layout.rows;
    let padded = values;
    if (values.length !== total) {
      padded = new Float32Array(total);
      padded.set(values.subarray(0, Math.min(values.length, total)));
    }
    if (!this.isGL) {
      if (layout.rows === 1) return padded;
      const rows: Float32Array[] = [];
      for (let r = 0; r < layout.rows; r++) rows.push(padded.slice(r * layout.width, (r + 1) * layout.width));
      return rows;
    }
    const spec: ArgSpec = { shape: [total], layout };
    if (layout.rows === 1)
      return this.execute('function(a0) {\n  return a0[this.thread.x];\n}', spec, [spec], [padded]);
    const k = this.kernel('function(a0) {\n  return a0[this.thread.y][this.thread.x];\n}', layout, [spec]);
    return k(
      new Input(padded as unknown as number[], [layout.width, layout.rows]) as never,
    ) as unknown as DeviceData;
  }

  /** Reads a buffer's first `layout.size` values back to the host. */
  download(data: DeviceData, layout: Layout): Float32Array {
    const arr = isTexture(data) ? (data.toArray() as Float32Array | Float32Array[]) : data;
    const out = new Float32Array(layout.size);
    if (arr instanceof Float32Array) out.set(arr.subarray(0, layout.size));
    else {
      let o = 0;
      for (const row of arr) {
        const take = Math.min(row.length, layout.size - o);
        if (take <= 0) break;
        out.set(row.subarray(0, take), o);
        o += take;
      }
    }
    return out;
  }

  /** Releases a buffer's device memory (deletes its texture). */
  free(data: DeviceData): void {
    if (isTexture(data)) {
      data.delete();
      this.texturesDeleted++;
    }
  }

  /** Textures deleted so far (GL modes). */
  texturesDeleted = 0;

  /** Deletes every compiled kernel and the gpu.js instance. */
  destroy(): void {
    for (const k of this.cache.values()) k.destroy();
    this.cache.clear();
    void this.gpu.destroy();
  }
}
