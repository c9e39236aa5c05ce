/**
 * `kernelzoo run`: a registered network's task end to end on image files, through
 * `@kernelzoo/vision` — classification (top-k, plus the SK attention summary of SK networks),
 * segmentation (class mask and colour overlay PNGs) and pose (keypoints JSON and a skeleton
 * overlay PNG). The task comes from the registry, so a newly registered network needs no change
 * here.
 *
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { type ModelEntry, memory, type Tensor } from '@kernelzoo/core';
import { readAttention, skUnitNames, summariseAttention } from '@kernelzoo/sknet';
import {
  ADE20K_LABELS,
  ADE20K_PALETTE,
  CITYSCAPES_LABELS,
  CITYSCAPES_PALETTE,
  COCO_KEYPOINT_NAMES,
  classificationInput,
  classify,
  decodePoses,
  drawPose,
  IMAGENET_1K_LABELS,
  overlayLabels,
  poseFlipTest,
  poseInput,
  type Rgb,
  type RgbImage,
  readImage,
  type SegmentationResult,
  segmentSlidingWindow,
  segmentWholeImage,
  writeImage,
} from '@kernelzoo/vision';
import { discoverBackends, useBackend } from '../backends.js';
import { buildNetwork, findModel, type Network, seededWarning, weightsLine } from '../models.js';
import { createProgress, type Progress } from '../progress.js';
import { CliError, type Io, shapeText, toJson, UsageError } from '../util.js';

/** Options of `run`. */
export interface RunOptions {
  weights?: string;
  backend?: string;
  threads?: number;
  out?: string;
  json?: boolean;
  top?: number;
  size?: [number, number];
  box?: [number, number, number, number][];
  flip?: boolean;
  threshold?: number;
  mode?: 'sliding' | 'whole';
  baseSize?: number;
  scales?: number[];
}

/** Class names of a label set, when known. */
export function labelNames(labels: string, classes: number): readonly string[] | undefined {
  const names =
    labels === 'imagenet-1k'
      ? IMAGENET_1K_LABELS
      : labels === 'ade20k-150'
        ? ADE20K_LABELS
        : labels === 'cityscapes-19'
          ? CITYSCAPES_LABELS
          : labels === 'coco-17-keypoints'
            ? COCO_KEYPOINT_NAMES
            : undefined;
  return names && names.length === classes ? names : undefined;
}

/** A palette for a segmentation label set: the dataset's own, else a fixed spread of hues. */
export function paletteFor(labels: string, classes: number): readonly Rgb[] {
  if (labels === 'ade20k-150' && ADE20K_PALETTE.length >= classes) return ADE20K_PALETTE;
  if (labels === 'cityscapes-19' && CITYSCAPES_PALETTE.length >= classes) return CITYSCAPES_PALETTE;
  return Array.from({ length: classes }, (_, i) => {
    const h = (i * 137.508) % 360;
    const f = (n: number) => {
      const k = (n + h / 30) % 12;
      return Math.round(255 * (0.5 - 0.45 * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
    };
    return [f(0), f(8), f(4)] as Rgb;
  });
}

/**
 * The segmentation defaults of an entry: the reference's base size per label set (ADE20K 512,
 * Cityscapes 2048 — the test configs of SPNet and HRNet-seg), sliding windows of the entry's
 * square input with flip (SPNet's test rule) or, for a non-square input, the whole image
 * without flip (HRNet-seg's).
 */
export function segmentationDefaults(entry: ModelEntry): {
  baseSize: number;
  mode: 'sliding' | 'whole';
  flip: boolean;
} {
  const [h, w] = entry.inputSize;
  const baseSize =
    entry.labels === 'ade20k-150' ? 512 : entry.labels === 'cityscapes-19' ? 2048 : Math.max(h, w);
  const mode = h === w ? 'sliding' : 'whole';
  return { baseSize, mode, flip: mode === 'sliding' };
}

function stem(path: string): string {
  return basename(path, extname(path));
}

async function loadImage(path: string): Promise<RgbImage> {
  try {
    return await readImage(path);
  } catch (e) {
    throw new CliError(
      `${(e as Error).message}${/cannot read the file/.test((e as Error).message) ? '' : ' — give a PNG, JPEG or WebP image'}`,
    );
  }
}

async function classifyOne(net: Network, img: RgbImage, opts: RunOptions) {
  const { model, entry } = net;
  if (entry.preprocessing.resize !== 'shorter-side')
    throw new CliError(
      `${entry.id}: classification pre-processing '${entry.preprocessing.resize}' is not supported`,
    );
  const [size] = opts.size ?? entry.inputSize;
  const x = classificationInput(img, entry.preprocessing, size);
  const sk = skUnitNames(model as never).length > 0;
  let logits: Tensor;
  let attention: { stage: string; meanDifference: number }[] | undefined;
  let dispose: () => void;
  if (sk) {
    const r = readAttention(model as never, x);
    logits = r.output;
    attention = summariseAttention(r.units).map((s) => ({
      stage: `layer${s.stage + 1}`,
      meanDifference: s.meanDifference,
    }));
    dispose = () => r.dispose();
  } else {
    logits = model.call(x) as Tensor;
    dispose = () => logits.dispose();
  }
  try {
    const [top] = await classify(logits, {
      k: Math.min(opts.top ?? 5, entry.numClasses),
      labels: labelNames(entry.labels, entry.numClasses),
    });
    return {
      input: [1, 3, size, size],
      top: top.map((p) => ({ index: p.index, label: p.label, probability: p.probability })),
      ...(attention ? { attention } : {}),
    };
  } finally {
    dispose();
    x.dispose();
  }
}

async function segmentOne(net: Network, img: RgbImage, path: string, opts: RunOptions, progress: Progress) {
  const { model, entry } = net;
  const d = segmentationDefaults(entry);
  const mode = opts.mode ?? d.mode;
  const flip = opts.flip ?? (mode === 'sliding' ? d.flip : false);
  const baseSize = opts.baseSize ?? d.baseSize;
  const scales = opts.scales ?? [1];
  const pre = entry.preprocessing;
  const k = pre.scale === 255 ? 1 : 255;
  const mean = pre.mean.map((v) => v * k) as [number, number, number];
  const std = pre.std.map((v) => v * k) as [number, number, number];
  const forward = (b: Tensor) => model.call(b) as Tensor;
  const onProgress = (p: { done: number; total: number }) => {
    if (p.done === 1) progress.start(p.total, `segmenting ${basename(path)}`);
    progress.update(p.done);
  };
  let res: SegmentationResult;
  try {
    res =
      mode === 'sliding'
        ? await segmentSlidingWindow(img, {
            forward,
            baseSize,
            crop: opts.size ?? entry.inputSize,
            scales,
            mean,
            std,
            flip,
            onProgress,
          })
        : await segmentWholeImage(img, { forward, baseSize, scales, mean, std, flip, onProgress });
  } finally {
    progress.stop();
  }
  const names = labelNames(entry.labels, res.classes);
  const palette = paletteFor(entry.labels, res.classes);
  const n = res.width * res.height;
  const counts = new Float64Array(res.classes);
  const mask = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const c = res.labels[i];
    counts[c]++;
    mask[i * 3] = mask[i * 3 + 1] = mask[i * 3 + 2] = c;
  }
  const outDir = opts.out ?? '.';
  await mkdir(outDir, { recursive: true });
  const maskPath = join(outDir, `${stem(path)}.mask.png`);
  const overlayPath = join(outDir, `${stem(path)}.overlay.png`);
  if (res.classes > 256)
    throw new CliError(`${entry.id} has ${res.classes} classes; the 8-bit mask holds 256`);
  await writeImage(maskPath, { width: res.width, height: res.height, data: mask });
  const labelMap = { width: res.width, height: res.height, data: res.labels };
  await writeImage(
    overlayPath,
    overlayLabels({ ...img, alpha: undefined }, labelMap, palette, { ignoreIndex: -1 }),
  );
  const classes = [...counts]
    .map((c, index) => ({ index, label: names?.[index] ?? '', share: c / n }))
    .filter((c) => c.share > 0)
    .sort((a, b) => b.share - a.share);
  return {
    mode,
    flip,
    baseSize,
    scales,
    crop: mode === 'sliding' ? (opts.size ?? entry.inputSize) : null,
    size: [res.width, res.height],
    classes,
    mask: maskPath,
    overlay: overlayPath,
  };
}

async function poseOne(net: Network, img: RgbImage, path: string, opts: RunOptions, progress: Progress) {
  const { model, entry } = net;
  const [h, w] = opts.size ?? entry.inputSize;
  const boxes = opts.box ?? [[0, 0, img.width, img.height] as [number, number, number, number]];
  const flip = opts.flip ?? true;
  progress.start(flip ? 2 : 1, `pose on ${basename(path)}`);
  const { input, crops } = poseInput(img, boxes, [w, h]);
  let poses: Float32Array[];
  try {
    let calls = 0;
    const hm = await poseFlipTest(
      (b) => {
        const y = model.call(b) as Tensor;
        progress.update(++calls);
        return y;
      },
      input,
      { flip },
    );
    poses = decodePoses(hm, crops);
  } finally {
    input.dispose();
    progress.stop();
  }
  const names = COCO_KEYPOINT_NAMES.length === entry.numClasses ? COCO_KEYPOINT_NAMES : undefined;
  const people = poses.map((p, i) => ({
    box: boxes[i],
    keypoints: Array.from({ length: p.length / 3 }, (_, j) => ({
      name: names?.[j] ?? String(j),
      x: p[j * 3],
      y: p[j * 3 + 1],
      score: p[j * 3 + 2],
    })),
  }));
  const outDir = opts.out ?? '.';
  await mkdir(outDir, { recursive: true });
  const keypointsPath = join(outDir, `${stem(path)}.keypoints.json`);
  const overlayPath = join(outDir, `${stem(path)}.pose.png`);
  await writeFile(
    keypointsPath,
    toJson({
      model: entry.id,
      image: path,
      weights: net.weights.source,
      ...(net.weights.source === 'seeded' ? { warning: seededWarning(entry.id) } : {}),
      input: [w, h],
      flip,
      order: 'COCO keypoint order; x, y in image pixels; score = heatmap maximum',
      people,
    }),
  );
  await writeImage(
    overlayPath,
    await drawPose({ ...img, alpha: undefined }, poses, { threshold: opts.threshold ?? 0.3 }),
  );
  return { input: [w, h], flip, people, keypoints: keypointsPath, overlay: overlayPath };
}

/** `kernelzoo run <model> <image…>`. */
export async function runCommand(id: string, images: string[], opts: RunOptions, io: Io): Promise<number> {
  const entry = await findModel(id);
  if ((opts.box || opts.threshold !== undefined) && entry.task !== 'pose')
    throw new UsageError(`--box and --threshold apply to pose models only; ${id} is a ${entry.task} model`);
  if ((opts.mode || opts.baseSize || opts.scales) && entry.task !== 'segmentation')
    throw new UsageError(
      `--mode, --base-size and --scales apply to segmentation models only; ${id} is a ${entry.task} model`,
    );
  if (opts.top !== undefined && entry.task !== 'classification')
    throw new UsageError(`--top applies to classification models only; ${id} is a ${entry.task} model`);
  if (entry.task === 'classification' && opts.size && opts.size[0] !== opts.size[1])
    throw new UsageError(
      `--size ${opts.size.join(',')}: classification crops are square (give one number, e.g. 64)`,
    );
  if (
    entry.task === 'segmentation' &&
    (opts.mode ?? segmentationDefaults(entry).mode) === 'whole' &&
    opts.size
  )
    throw new UsageError(
      `--size sets the sliding window; ${id} runs the whole image here (use --base-size, or --mode sliding)`,
    );
  if (opts.flip !== undefined && entry.task === 'classification')
    throw new UsageError(
      `--flip and --no-flip apply to segmentation and pose models; ${id} is a classification model`,
    );
  const backend = await useBackend(await discoverBackends(), opts.backend, opts.threads);
  const progress = createProgress(io, !opts.json);
  // Check every image is readable before the (possibly long) network build.
  const decoded: RgbImage[] = [];
  for (const path of images) decoded.push(await loadImage(path));
  const net = await buildNetwork(entry, opts.weights, progress);
  const results: Record<string, unknown>[] = [];
  try {
    for (let i = 0; i < images.length; i++) {
      const path = images[i];
      const img = decoded[i];
      const r =
        entry.task === 'classification'
          ? await classifyOne(net, img, opts)
          : entry.task === 'segmentation'
            ? await segmentOne(net, img, path, opts, progress)
            : await poseOne(net, img, path, opts, progress);
      results.push({ image: path, width: img.width, height: img.height, ...r });
    }
  } finally {
    net.model.dispose();
  }
  if (opts.json) {
    io.out(
      toJson({
        model: id,
        task: entry.task,
        backend: backend.name,
        threads: backend.threads,
        weights: net.weights,
        ...(net.weights.source === 'seeded' ? { warning: seededWarning(id) } : {}),
        results,
      }),
    );
    return 0;
  }
  io.out(`${id} (${entry.task}) on ${backend.name}${backend.detail ? ` (${backend.detail})` : ''}\n`);
  io.out(`${weightsLine(id, net.weights)}\n`);
  for (const r of results) {
    io.out(`\n${r.image} (${r.width}×${r.height})\n`);
    if (entry.task === 'classification') {
      io.out(`  input ${shapeText(r.input as number[])}\n`);
      for (const p of r.top as { index: number; label: string; probability: number }[])
        io.out(`  ${(100 * p.probability).toFixed(2).padStart(6)} %  ${p.label || `class ${p.index}`}\n`);
      const att = r.attention as { stage: string; meanDifference: number }[] | undefined;
      if (att) {
        io.out('  SK attention, mean a(larger kernel) − a(3×3) per stage:\n');
        for (const s of att)
          io.out(`    ${s.stage}: ${s.meanDifference >= 0 ? '+' : ''}${s.meanDifference.toFixed(4)}\n`);
      }
    } else if (entry.task === 'segmentation') {
      io.out(
        `  ${r.mode === 'sliding' ? `sliding windows ${(r.crop as number[]).join('×')}` : 'whole image'}, base size ${r.baseSize}, scales ${(r.scales as number[]).join(',')}, flip ${r.flip ? 'on' : 'off'}\n`,
      );
      for (const c of (r.classes as { index: number; label: string; share: number }[]).slice(0, 5))
        io.out(`  ${(100 * c.share).toFixed(1).padStart(5)} %  ${c.label || `class ${c.index}`}\n`);
      io.out(`  wrote ${r.mask} (class index per pixel) and ${r.overlay}\n`);
    } else {
      for (const [i, p] of (r.people as { box: number[]; keypoints: { score: number }[] }[]).entries()) {
        const mean = p.keypoints.reduce((s, k) => s + k.score, 0) / p.keypoints.length;
        io.out(
          `  person ${i + 1}, box ${p.box.join(',')}: ${p.keypoints.length} keypoints, mean score ${mean.toFixed(3)}\n`,
        );
      }
      io.out(`  wrote ${r.keypoints} and ${r.overlay}\n`);
    }
  }
  if (net.weights.source === 'seeded') io.out(`\nWARNING: ${seededWarning(id)}\n`);
  if (memory().numTensors > 0 && process.env.KERNELZOO_DEBUG)
    io.err(`note: ${memory().numTensors} tensors live\n`);
  return 0;
}
