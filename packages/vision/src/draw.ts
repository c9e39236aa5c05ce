import { ArgumentError } from '@kernelzoo/core';
import { COCO_KEYPOINT_COLORS, COCO_SKELETON, COCO_SKELETON_COLORS } from './coco.js';
import { checkRgb, type Rgb } from './color.js';
import { checkImage, type RgbImage } from './image.js';

/** Stroke settings of {@link Drawing.line}. */
export interface LineStyle {
  /** Colour of the line. */
  readonly color: Rgb;
  /** Width in pixels; default 2. */
  readonly width?: number;
}

/** Fill and stroke of {@link Drawing.circle}; give either or both. */
export interface CircleStyle {
  /** Fill colour, if the disc is filled. */
  readonly fill?: Rgb;
  /** Outline colour, if the circle is outlined. */
  readonly stroke?: Rgb;
  /** Outline width in pixels; default 1. */
  readonly lineWidth?: number;
}

/**
 * An image being drawn on, through the platform's 2-D library: Skia through
 * `@napi-rs/canvas` in Node, `OffscreenCanvas` in browsers. Shapes are anti-aliased; pixel
 * centres are at half-integer coordinates (`(0.5, 0.5)` is the centre of the top-left pixel).
 */
export interface Drawing {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** Draws a line from `(x0, y0)` to `(x1, y1)` with round caps. */
  line(x0: number, y0: number, x1: number, y1: number, style: LineStyle): void;
  /** Draws a circle of radius `r` centred at `(cx, cy)`. */
  circle(cx: number, cy: number, r: number, style: CircleStyle): void;
  /** The drawing so far as an image (the source image's alpha plane, if any, is kept). */
  toImage(): RgbImage;
}

/** The platform's way to start a {@link Drawing} over an image. */
export type DrawingFactory = (image: RgbImage) => Promise<Drawing>;

/** `[R, G, B]` to a CSS colour. */
export function cssColor(c: Rgb): string {
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** RGB (+ optional alpha) to the opaque RGBA bytes a canvas takes; the alpha plane is drawn opaque. */
export function toRgba(image: RgbImage): Uint8ClampedArray<ArrayBuffer> {
  const n = image.width * image.height;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    out[i * 4] = image.data[i * 3] as number;
    out[i * 4 + 1] = image.data[i * 3 + 1] as number;
    out[i * 4 + 2] = image.data[i * 3 + 2] as number;
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** A canvas's RGBA bytes back to an {@link RgbImage}, with `source`'s alpha plane. */
export function fromRgba(rgba: ArrayLike<number>, source: RgbImage): RgbImage {
  const n = source.width * source.height;
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    data[i * 3] = rgba[i * 4] as number;
    data[i * 3 + 1] = rgba[i * 4 + 1] as number;
    data[i * 3 + 2] = rgba[i * 4 + 2] as number;
  }
  const { width, height } = source;
  return source.alpha
    ? { width, height, data, alpha: new Uint8Array(source.alpha) }
    : { width, height, data };
}

/** The subset of the 2-D context API the drawings use (the same in Skia's binding and browsers). */
export interface Context2D {
  lineCap: string;
  lineWidth: number;
  strokeStyle: unknown;
  fillStyle: unknown;
  beginPath(): void;
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  arc(x: number, y: number, r: number, a0: number, a1: number): void;
  stroke(): void;
  fill(): void;
}

function finite(op: string, names: string, ...v: number[]): void {
  if (v.some((x) => !Number.isFinite(x))) throw new ArgumentError(op, names, 'finite numbers', v.join(', '));
}

/** Line and circle on a 2-D context, shared by both platforms' drawings. */
export function contextShapes(ctx: Context2D): Pick<Drawing, 'line' | 'circle'> {
  ctx.lineCap = 'round';
  return {
    line(x0, y0, x1, y1, style) {
      finite('Drawing.line', 'x0, y0, x1, y1', x0, y0, x1, y1);
      checkRgb('Drawing.line', 'style.color', style.color);
      const w = style.width ?? 2;
      if (!(w > 0)) throw new ArgumentError('Drawing.line', 'style.width', 'a positive number', String(w));
      ctx.strokeStyle = cssColor(style.color);
      ctx.lineWidth = w;
      ctx.beginPath();
      ctx.moveTo(x0, y0);
      ctx.lineTo(x1, y1);
      ctx.stroke();
    },
    circle(cx, cy, r, style) {
      finite('Drawing.circle', 'cx, cy, r', cx, cy, r);
      if (!(r > 0)) throw new ArgumentError('Drawing.circle', 'r', 'a positive radius', String(r));
      ctx.beginPath();
      ctx.arc(cx, cy, r, 0, 2 * Math.PI);
      if (style.fill) {
        checkRgb('Drawing.circle', 'style.fill', style.fill);
        ctx.fillStyle = cssColor(style.fill);
        ctx.fill();
      }
      if (style.stroke) {
        checkRgb('Drawing.circle', 'style.stroke', style.stroke);
        const w = style.lineWidth ?? 1;
        if (!(w > 0))
          throw new ArgumentError('Drawing.circle', 'style.lineWidth', 'a positive number', String(w));
        ctx.strokeStyle = cssColor(style.stroke);
        ctx.lineWidth = w;
        ctx.stroke();
      }
    },
  };
}

/** Options of `drawPose`. */
export interface PoseDrawOptions {
  /** Keypoints with a score below this are not drawn, nor limbs touching them. Default 0.3. */
  readonly threshold?: number;
  /** Limbs as pairs of keypoint indices; default {@link COCO_SKELETON}. */
  readonly skeleton?: readonly (readonly [number, number])[];
  /** A colour per keypoint; default {@link COCO_KEYPOINT_COLORS}. */
  readonly keypointColors?: readonly Rgb[];
  /** A colour per limb; default {@link COCO_SKELETON_COLORS}. */
  readonly limbColors?: readonly Rgb[];
  /** Radius of the keypoint discs in pixels; default 3. */
  readonly radius?: number;
  /** Width of the limbs in pixels; default 2. */
  readonly lineWidth?: number;
}

/**
 * Draws people's keypoints and skeletons over an image with `factory`'s drawing (the entries
 * bind it as `drawPose`). Each pose is `[x0, y0, score0, x1, y1, score1, …]` in image pixel
 * coordinates — COCO's results layout — with as many keypoints as the colours have entries
 * (17 for COCO). Limbs are drawn first, then the keypoints as filled discs with a dark
 * outline; points scoring below `threshold` (and NaN) are skipped with their limbs.
 */
export async function drawPoseWith(
  factory: DrawingFactory,
  image: RgbImage,
  poses: readonly ArrayLike<number>[],
  options: PoseDrawOptions = {},
): Promise<RgbImage> {
  const op = 'drawPose';
  checkImage(op, image);
  const threshold = options.threshold ?? 0.3;
  const skeleton = options.skeleton ?? COCO_SKELETON;
  const kc = options.keypointColors ?? COCO_KEYPOINT_COLORS;
  const lc = options.limbColors ?? COCO_SKELETON_COLORS;
  const radius = options.radius ?? 3;
  const lineWidth = options.lineWidth ?? 2;
  const k = kc.length;
  if (lc.length !== skeleton.length)
    throw new ArgumentError(op, 'limbColors', `${skeleton.length} colours (one per limb)`, `${lc.length}`);
  for (const [a, b] of skeleton)
    if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 0 && b >= 0 && a < k && b < k))
      throw new ArgumentError(op, 'skeleton', `pairs of keypoint indices in 0–${k - 1}`, `[${a}, ${b}]`);
  poses.forEach((p, i) => {
    if (!p || p.length !== k * 3)
      throw new ArgumentError(
        op,
        `poses[${i}]`,
        `${k} keypoints × (x, y, score) = ${k * 3} numbers`,
        `${p?.length}`,
      );
  });
  const d = await factory(image);
  for (const p of poses) {
    const ok = (j: number) => (p[j * 3 + 2] as number) >= threshold;
    skeleton.forEach(([a, b], l) => {
      if (ok(a) && ok(b))
        d.line(p[a * 3] as number, p[a * 3 + 1] as number, p[b * 3] as number, p[b * 3 + 1] as number, {
          color: lc[l] as Rgb,
          width: lineWidth,
        });
    });
    for (let j = 0; j < k; j++)
      if (ok(j))
        d.circle(p[j * 3] as number, p[j * 3 + 1] as number, radius, {
          fill: kc[j] as Rgb,
          stroke: [32, 32, 32],
          lineWidth: 1,
        });
  }
  return d.toImage();
}
