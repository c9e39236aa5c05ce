/**
 * How a tensor lies in a gpu.js output: its values, flattened row-major, fill rows of `width`
 * texels (`width` at most the device's maximum texture size, a multiple of the innermost
 * dimension where possible), so a tensor of up to `maxTextureSize²` values fits one texture. Tensors that fit one row use a 1-D output.
 *
 * int32 tensors are stored as two exact float halves per value (`hi = v >> 16`,
 * `lo = v & 0xffff`), so their physical shape is the logical shape with a trailing 2.
 *
 * @module
 */
import { BackendError, type DType, type Shape } from '@kernelzoo/core';

/** The physical arrangement of one buffer. */
export interface Layout {
  /** Float values held (logical elements, ×2 for int32). */
  readonly size: number;
  /** Texels per row (the gpu.js output's x extent). */
  readonly width: number;
  /** Rows (the output's y extent); 1 means a 1-D output. */
  readonly rows: number;
}

/** Float values a tensor of `shape` and `dtype` occupies. */
export function physicalSize(shape: Shape, dtype: DType): number {
  let n = dtype === 'int32' ? 2 : 1;
  for (const d of shape) n *= d;
  return n;
}

/** The physical shape: the logical shape (at least rank 1) with a trailing 2 for int32. */
export function physicalShape(shape: Shape, dtype: DType): number[] {
  const s = shape.length === 0 ? [1] : [...shape];
  if (dtype === 'int32') s.push(2);
  return s;
}

/**
 * The layout of `size` floats under a maximum texture size: one row when it fits, else rows
 * whose width is the largest multiple of the innermost physical dimension `inner` not above
 * `maxTextureSize` (so a row holds whole innermost runs and coordinates are found from
 * `(row, column)` without ever forming the flat index), or rows of `maxTextureSize` when that
 * would need more rows than allowed or `inner` is longer than a row. Throws a `BackendError`
 * when even rows of `maxTextureSize` cannot hold the tensor.
 */
export function layoutFor(size: number, maxTextureSize: number, op: string, inner = 1): Layout {
  const n = Math.max(size, 1);
  if (n <= maxTextureSize) return { size: n, width: n, rows: 1 };
  if (inner > 1 && inner <= maxTextureSize) {
    const width = Math.floor(maxTextureSize / inner) * inner;
    const rows = Math.ceil(n / width);
    if (rows <= maxTextureSize) return { size: n, width, rows };
  }
  const rows = Math.ceil(n / maxTextureSize);
  if (rows > maxTextureSize)
    throw new BackendError(
      `${op}: a tensor of ${size} values does not fit the gpujs backend's largest texture (${maxTextureSize}×${maxTextureSize} = ${maxTextureSize * maxTextureSize} values)`,
    );
  return { size: n, width: maxTextureSize, rows };
}

/** The gpu.js output extent of a layout. */
export function outputOf(l: Layout): number[] {
  return l.rows === 1 ? [l.width] : [l.width, l.rows];
}
