import { ArgumentError, add, exp, flip, mul, resizeBilinear, type Tensor, tensor } from '@kernelzoo/core';
import { checkImage, type RgbImage } from './image.js';
import {
  argmaxLabels,
  cvResizeLinear,
  type SegmentationProgress,
  type SegmentationResult,
  SPNET_MEAN,
  SPNET_STD,
} from './segmentation.js';

/**
 * HRNet-seg's test-time inference (HRNet/HRNet-Semantic-Segmentation, `CityScapes.multi_scale_inference`
 * and `BaseDataset.inference`) over a `forward` callback.
 */

/** Options of {@link segmentWholeImage}; the defaults are HRNet-seg's Cityscapes test settings. */
export interface WholeImageOptions {
  /**
   * The network: an NCHW float32 batch `[1, 3, h, w]` (the resized image, or one tile of it) to
   * log-probabilities `[1, classes, h', w']` (HRNet-seg's head gives 1/4 resolution). The returned
   * tensor is disposed here.
   */
  readonly forward: (batch: Tensor) => Tensor | Promise<Tensor>;
  /** The long side at scale 1 (`base_size`; 2048 for Cityscapes). Default 2048. */
  readonly baseSize?: number;
  /** Scales of `baseSize`; the predictions are summed over them (not averaged). Default `[1]`. */
  readonly scales?: readonly number[];
  /**
   * `[height, width]` of the tiles that scales above 1 are cut into (`crop_size`, the config's
   * `TEST.IMAGE_SIZE` as `[h, w]`). Default `[1024, 2048]`, the Cityscapes test size.
   */
  readonly cropSize?: readonly [number, number];
  /** Per-channel mean on the 0–255 scale. Default ImageNet's × 255. */
  readonly mean?: readonly [number, number, number];
  /** Per-channel std on the 0–255 scale. Default ImageNet's × 255. */
  readonly std?: readonly [number, number, number];
  /** Also run the mirrored input, flip its output back and average the two before `.exp()`. Default false. */
  readonly flip?: boolean;
  /**
   * `align_corners` of every bilinear upsampling (config `MODEL.ALIGN_CORNERS`). Default false:
   * the Cityscapes HRNetV2-W48 yaml sets False (the HRNet-OCR branch's code default is True).
   */
  readonly alignCorners?: boolean;
  /** Called after each network call. */
  readonly onProgress?: (p: SegmentationProgress) => void;
}

/** Where the tiles of one scale start along one axis: stride = crop, the last one moved back to end at the border. */
function tileStarts(size: number, crop: number): number[] {
  const n = Math.max(Math.ceil((size - crop) / crop), 0) + 1;
  const starts: number[] = [];
  for (let r = 0; r < n; r++) {
    const end = Math.min(r * crop + crop, size);
    starts.push(Math.max(end - crop, 0));
  }
  return starts;
}

/**
 * HRNet-seg's test-time inference (HRNet/HRNet-Semantic-Segmentation `CityScapes.multi_scale_inference`
 * and `BaseDataset.inference`): the image normalised (`(x − mean) / std`, float32); for each scale
 * the long side resized to `⌊baseSize · scale + 0.5⌋` (`cv2.resize`, INTER_LINEAR, float32). A
 * scale ≤ 1 runs the whole resized image once; a scale above 1 cuts it into `cropSize` tiles at a
 * stride of one tile, the last row and column moved back to end at the border (so they overlap
 * their neighbours), no padding, and averages the overlaps. Each run (`inference`): the output
 * upsampled bilinearly to the run's input size (with `flip`: the mirrored input run too, its
 * upsampled output flipped back, the two summed and halved), then `.exp()`. Each scale's map is
 * upsampled bilinearly to the image size and the scales are summed; `probs` holds that sum;
 * arg-max gives `labels`.
 */
export async function segmentWholeImage(
  img: RgbImage,
  options: WholeImageOptions,
): Promise<SegmentationResult> {
  const op = 'segmentWholeImage';
  checkImage(op, img);
  const baseSize = options.baseSize ?? 2048;
  const scales = options.scales ?? [1];
  const [cropH, cropW] = options.cropSize ?? [1024, 2048];
  const mean = (options.mean ?? SPNET_MEAN).map(Math.fround);
  const std = (options.std ?? SPNET_STD).map(Math.fround);
  const flipOn = options.flip ?? false;
  const ac = options.alignCorners ?? false;
  if (typeof options.forward !== 'function')
    throw new ArgumentError(op, 'forward', 'a function', typeof options.forward);
  if (scales.length === 0 || !scales.every((s) => s > 0))
    throw new ArgumentError(op, 'scales', 'positive numbers', String(scales));
  if (![cropH, cropW].every((v) => Number.isInteger(v) && v > 0))
    throw new ArgumentError(op, 'cropSize', '[height, width] of positive integers', `[${options.cropSize}]`);
  const { width: w, height: h } = img;
  const norm = new Float32Array(w * h * 3);
  for (let i = 0; i < w * h; i++)
    for (let c = 0; c < 3; c++)
      norm[i * 3 + c] = Math.fround(Math.fround(img.data[i * 3 + c] - mean[c]) / std[c]);

  // Plan every scale first so that progress can report a total.
  const plans = scales.map((scale) => {
    const longSize = Math.floor(baseSize * scale + 0.5);
    let newH = longSize;
    let newW = longSize;
    if (h > w) newW = Math.floor((w * longSize) / h + 0.5);
    else newH = Math.floor((h * longSize) / w + 0.5);
    if (newW < 1 || newH < 1)
      throw new ArgumentError(op, 'scales', 'scales giving at least one pixel', String(scale));
    const tiled = scale > 1;
    const rows = tiled ? tileStarts(newH, cropH) : [0];
    const cols = tiled ? tileStarts(newW, cropW) : [0];
    return { scale, newH, newW, tiled, rows, cols };
  });
  const total = plans.reduce((n, p) => n + p.rows.length * p.cols.length, 0) * (flipOn ? 2 : 1);
  let done = 0;
  let classes = 0;
  let prediction: Float64Array | undefined;

  for (const p of plans) {
    const { newH, newW } = p;
    const scaled = cvResizeLinear(norm, w, h, 3, newW, newH, 'float32');
    /** `inference` on the `[y0, y0 + th) × [x0, x0 + tw)` part of the resized image: exp of the (flip-averaged) upsampled output. */
    const infer = async (y0: number, x0: number, th: number, tw: number, made: Tensor[]): Promise<Tensor> => {
      const plane = th * tw;
      const chw = new Float32Array(3 * plane);
      const mirrored = flipOn ? new Float32Array(3 * plane) : chw;
      for (let y = 0; y < th; y++)
        for (let x = 0; x < tw; x++)
          for (let c = 0; c < 3; c++) {
            const v = scaled[((y + y0) * newW + x + x0) * 3 + c];
            chw[c * plane + y * tw + x] = v;
            if (flipOn) mirrored[c * plane + y * tw + tw - 1 - x] = v;
          }
      const run = async (data: Float32Array): Promise<Tensor> => {
        const input = tensor(data, [1, 3, th, tw], 'float32');
        made.push(input);
        const out = await options.forward(input);
        if (out !== input) made.push(out);
        if (out.shape.length !== 4 || out.shape[0] !== 1)
          throw new ArgumentError(op, 'forward output', '[1, classes, h, w]', `[${out.shape}]`);
        if (classes && out.shape[1] !== classes)
          throw new ArgumentError(op, 'forward output', `${classes} classes`, `${out.shape[1]}`);
        classes = out.shape[1];
        done++;
        options.onProgress?.({ done, total, scale: p.scale });
        const up = resizeBilinear(out, [th, tw], ac);
        made.push(up);
        return up;
      };
      let pred = await run(chw);
      if (flipOn) {
        const back = flip(await run(mirrored), [3]);
        const sum = add(pred, back);
        pred = mul(sum, 0.5);
        made.push(back, sum, pred);
      }
      const probs = exp(pred);
      made.push(probs);
      return probs;
    };
    const made: Tensor[] = [];
    try {
      let scaleMap: Tensor;
      if (!p.tiled) scaleMap = await infer(0, 0, newH, newW, made);
      else {
        // Tiles summed into one float32 map and divided by how many tiles cover each pixel.
        let acc: Float32Array | undefined;
        const count = new Uint16Array(newH * newW);
        for (const y0 of p.rows)
          for (const x0 of p.cols) {
            const th = Math.min(cropH, newH - y0);
            const tw = Math.min(cropW, newW - x0);
            const tile: Tensor[] = [];
            let d: Float32Array;
            try {
              d = (await (await infer(y0, x0, th, tw, tile)).data()) as Float32Array;
            } finally {
              for (const t of tile) t.dispose();
            }
            acc ??= new Float32Array(classes * newH * newW);
            for (let c = 0; c < classes; c++)
              for (let y = 0; y < th; y++)
                for (let x = 0; x < tw; x++) {
                  const i = (c * newH + y + y0) * newW + x + x0;
                  acc[i] = Math.fround(acc[i] + d[(c * th + y) * tw + x]);
                }
            for (let y = 0; y < th; y++) for (let x = 0; x < tw; x++) count[(y + y0) * newW + x + x0]++;
          }
        const map = acc as Float32Array;
        const plane = newH * newW;
        for (let c = 0; c < classes; c++)
          for (let i = 0; i < plane; i++) map[c * plane + i] = Math.fround(map[c * plane + i] / count[i]);
        scaleMap = tensor(map, [1, classes, newH, newW], 'float32');
        made.push(scaleMap);
      }
      const resized = resizeBilinear(scaleMap, [h, w], ac);
      made.push(resized);
      const d = (await resized.data()) as Float32Array;
      prediction ??= new Float64Array(w * h * classes);
      for (let c = 0; c < classes; c++)
        for (let i = 0; i < w * h; i++) prediction[i * classes + c] += d[c * w * h + i];
    } finally {
      for (const t of made) t.dispose();
    }
  }
  const probs = prediction as Float64Array;
  return { width: w, height: h, classes, probs, labels: argmaxLabels(probs, w * h, classes) };
}
