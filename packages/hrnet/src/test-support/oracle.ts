/**
 * A plain float64 HRNet oracle for tests: loops over NCHW maps (one sample), reading the
 * module's own weights from its state dict, with no kernels, no fusion and no shared code with
 * the package — the independent check of `HighResolutionModule`.
 */

/** One sample's feature map in float64: `c × h × w`, row-major. */
export interface Map3 {
  c: number;
  h: number;
  w: number;
  v: Float64Array;
}

/** Something whose values can be read synchronously (a Tensor). */
export interface Readable {
  readonly shape: readonly number[];
  dataSync(): ArrayLike<number>;
}

/** A state dict as the oracle reads it. */
export type Dict = ReadonlyMap<string, Readable>;

const make = (c: number, h: number, w: number): Map3 => ({ c, h, w, v: new Float64Array(c * h * w) });
const at = (m: Map3, c: number, i: number, j: number) => m.v[(c * m.h + i) * m.w + j];

/** Sample `n` of an NCHW tensor, in float64. */
export function sample(t: Readable, n = 0): Map3 {
  const [, c, h, w] = t.shape;
  const size = c * h * w;
  return { c, h, w, v: Float64Array.from(Array.from(t.dataSync()).slice(n * size, (n + 1) * size)) };
}

/** Square-kernel convolution (no groups, no dilation) with `stride` and zero padding `pad`. */
export function conv(x: Map3, dict: Dict, key: string, stride: number, pad: number, withBias = false): Map3 {
  const wt = dict.get(`${key}.weight`)!;
  const [out, cin, k] = wt.shape;
  if (cin !== x.c) throw new Error(`oracle conv ${key}: ${cin} input channels, map has ${x.c}`);
  const wv = wt.dataSync();
  const bv = withBias ? dict.get(`${key}.bias`)!.dataSync() : null;
  const oh = Math.floor((x.h + 2 * pad - k) / stride) + 1;
  const ow = Math.floor((x.w + 2 * pad - k) / stride) + 1;
  const y = make(out, oh, ow);
  for (let o = 0; o < out; o++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        let s = bv ? bv[o] : 0;
        for (let c = 0; c < cin; c++)
          for (let a = 0; a < k; a++)
            for (let b = 0; b < k; b++) {
              const ii = i * stride + a - pad;
              const jj = j * stride + b - pad;
              if (ii >= 0 && ii < x.h && jj >= 0 && jj < x.w)
                s += wv[((o * cin + c) * k + a) * k + b] * at(x, c, ii, jj);
            }
        y.v[(o * oh + i) * ow + j] = s;
      }
  return y;
}

/** Inference BatchNorm (eps 1e-5) with `<key>.weight/bias/running_mean/running_var`. */
export function bn(x: Map3, dict: Dict, key: string): Map3 {
  const [g, b, m, s] = ['weight', 'bias', 'running_mean', 'running_var'].map((n) =>
    dict.get(`${key}.${n}`)!.dataSync(),
  );
  const y = make(x.c, x.h, x.w);
  const hw = x.h * x.w;
  for (let c = 0; c < x.c; c++)
    for (let k = 0; k < hw; k++)
      y.v[c * hw + k] = ((x.v[c * hw + k] - m[c]) / Math.sqrt(s[c] + 1e-5)) * g[c] + b[c];
  return y;
}

/** ReLU. */
export const relu = (x: Map3): Map3 => ({ ...x, v: x.v.map((v) => Math.max(v, 0)) });

/** Elementwise sum of same-shaped maps. */
export function sum(a: Map3, b: Map3): Map3 {
  if (a.c !== b.c || a.h !== b.h || a.w !== b.w)
    throw new Error(`oracle sum: ${a.c}×${a.h}×${a.w} vs ${b.c}×${b.h}×${b.w}`);
  return { ...a, v: a.v.map((v, k) => v + b.v[k]) };
}

/** Nearest upsampling by an integer factor (PyTorch's `nn.Upsample(scale_factor=f)`: src = ⌊dst / f⌋). */
export function upNearest(x: Map3, f: number): Map3 {
  const y = make(x.c, x.h * f, x.w * f);
  for (let c = 0; c < x.c; c++)
    for (let i = 0; i < y.h; i++)
      for (let j = 0; j < y.w; j++)
        y.v[(c * y.h + i) * y.w + j] = at(x, c, Math.floor(i / f), Math.floor(j / f));
  return y;
}

/** PyTorch's bilinear `F.interpolate(size=[h, w], align_corners)` (area_pixel_compute_source_index). */
export function resizeBilinear(x: Map3, h: number, w: number, alignCorners: boolean): Map3 {
  const src = (dst: number, inn: number, out: number): [number, number, number] => {
    let s: number;
    if (alignCorners) s = out > 1 ? (dst * (inn - 1)) / (out - 1) : 0;
    else s = Math.max(((dst + 0.5) * inn) / out - 0.5, 0);
    const i0 = Math.floor(s);
    const i1 = i0 < inn - 1 ? i0 + 1 : i0;
    return [i0, i1, s - i0];
  };
  const y = make(x.c, h, w);
  for (let c = 0; c < x.c; c++)
    for (let i = 0; i < h; i++) {
      const [y0, y1, ly] = src(i, x.h, h);
      for (let j = 0; j < w; j++) {
        const [x0, x1, lx] = src(j, x.w, w);
        y.v[(c * h + i) * w + j] =
          (1 - ly) * ((1 - lx) * at(x, c, y0, x0) + lx * at(x, c, y0, x1)) +
          ly * ((1 - lx) * at(x, c, y1, x0) + lx * at(x, c, y1, x1));
      }
    }
  return y;
}

/** torchvision's BasicBlock under `key` (projection `downsample.0/.1` when the dict has one). */
export function basicBlock(x: Map3, dict: Dict, key: string): Map3 {
  let out = relu(bn(conv(x, dict, `${key}.conv1`, 1, 1), dict, `${key}.bn1`));
  out = bn(conv(out, dict, `${key}.conv2`, 1, 1), dict, `${key}.bn2`);
  const id = dict.has(`${key}.downsample.0.weight`)
    ? bn(conv(x, dict, `${key}.downsample.0`, 1, 0), dict, `${key}.downsample.1`)
    : x;
  return relu(sum(out, id));
}

/** What {@link hrModule} needs to know about the module it mirrors. */
export interface HRModuleShape {
  /** Blocks per branch. */
  blocks: readonly number[];
  /** Outputs (all branches, or 1). */
  outputs: number;
  /** The fuse upsampling. */
  fuse: { mode: 'nearest' } | { mode: 'bilinear'; alignCorners: boolean };
}

/**
 * HRNet's HighResolutionModule (BasicBlock branches) from the reference's description: branches,
 * then for each output i the sum over j of x_j brought to branch i (j > i: 1×1 conv + BN +
 * upsampling; j < i: stride-2 3×3 conv + BN steps, ReLU on all but the last), ReLU.
 */
export function hrModule(xs: Map3[], dict: Dict, prefix: string, shape: HRModuleShape): Map3[] {
  const n = shape.blocks.length;
  const x = xs.map((t, i) => {
    let y = t;
    for (let k = 0; k < shape.blocks[i]; k++) y = basicBlock(y, dict, `${prefix}branches.${i}.${k}`);
    return y;
  });
  const out: Map3[] = [];
  for (let i = 0; i < shape.outputs; i++) {
    let y: Map3 | null = null;
    for (let j = 0; j < n; j++) {
      const key = `${prefix}fuse_layers.${i}.${j}`;
      let t: Map3;
      if (j === i) t = x[j];
      else if (j > i) {
        t = bn(conv(x[j], dict, `${key}.0`, 1, 0), dict, `${key}.1`);
        t =
          shape.fuse.mode === 'nearest'
            ? upNearest(t, 2 ** (j - i))
            : resizeBilinear(t, x[i].h, x[i].w, shape.fuse.alignCorners);
      } else {
        t = x[j];
        for (let k = 0; k < i - j; k++) {
          t = bn(conv(t, dict, `${key}.${k}.0`, 2, 1), dict, `${key}.${k}.1`);
          if (k < i - j - 1) t = relu(t);
        }
      }
      y = y ? sum(y, t) : t;
    }
    out.push(relu(y!));
  }
  return out;
}
