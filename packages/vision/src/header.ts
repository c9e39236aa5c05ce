/*
 * What the browser codec reads from a file's header before handing it to the platform's
 * decoder: the format, the size (so an oversized image is refused before decoding), whether
 * the format stores alpha, and whether the container is complete (browsers decode a truncated
 * image without complaint, filling the missing part). Only container structure is read here —
 * chunk and marker lengths — never compressed pixel data.
 */

/** What {@link readHeader} finds. */
export interface ImageHeader {
  /** `png`, `jpeg`, `webp`, or the name of a format recognised but not read (`gif`, `bmp`, `tiff`, …). */
  readonly format: string;
  /** Width and height as the header states them (before EXIF orientation); 0 where unknown. */
  readonly width: number;
  readonly height: number;
  /** Whether the image has an alpha channel (PNG colour type 4/6 or tRNS; WebP's alpha flags). */
  readonly alpha: boolean;
  /** Whether the container is complete (PNG up to IEND, JPEG up to EOI, WebP's RIFF length). */
  readonly complete: boolean;
}

const u16be = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const u32be = (b: Uint8Array, o: number) =>
  ((b[o] << 24) >>> 0) + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
const u16le = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const u24le = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
const u32le = (b: Uint8Array, o: number) => u24le(b, o) + b[o + 3] * 2 ** 24;
const ascii = (b: Uint8Array, o: number, n: number) => String.fromCharCode(...b.subarray(o, o + n));

function png(b: Uint8Array): ImageHeader {
  let width = 0;
  let height = 0;
  let alpha = false;
  let complete = false;
  let o = 8;
  while (o + 8 <= b.length) {
    const len = u32be(b, o);
    const type = ascii(b, o + 4, 4);
    if (o + 12 + len > b.length) break;
    if (type === 'IHDR' && len >= 13) {
      width = u32be(b, o + 8);
      height = u32be(b, o + 12);
      const colourType = b[o + 17];
      alpha = colourType === 4 || colourType === 6;
    } else if (type === 'tRNS') alpha = true;
    else if (type === 'IEND') {
      complete = true;
      break;
    }
    o += 12 + len;
  }
  return { format: 'png', width, height, alpha, complete };
}

function isSof(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

function jpeg(b: Uint8Array): ImageHeader {
  let width = 0;
  let height = 0;
  let o = 2;
  let scan = -1;
  while (o + 4 <= b.length) {
    if (b[o] !== 0xff) break;
    while (o < b.length && b[o] === 0xff) o++;
    const m = b[o++];
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) continue;
    if (o + 2 > b.length) break;
    const len = u16be(b, o);
    if (isSof(m) && o + 7 <= b.length) {
      height = u16be(b, o + 3);
      width = u16be(b, o + 5);
    }
    if (m === 0xda) {
      scan = o + len;
      break;
    }
    o += len;
  }
  // In entropy-coded data a 0xFF byte is followed by 0x00 or a restart marker, so FF D9 after
  // the first scan can only be the end-of-image marker.
  let complete = false;
  if (scan > 0)
    for (let i = b.length - 2; i >= scan; i--)
      if (b[i] === 0xff && b[i + 1] === 0xd9) {
        complete = true;
        break;
      }
  return { format: 'jpeg', width, height, alpha: false, complete };
}

function webp(b: Uint8Array): ImageHeader {
  const complete = u32le(b, 4) + 8 <= b.length;
  const chunk = ascii(b, 12, 4);
  let width = 0;
  let height = 0;
  let alpha = false;
  if (chunk === 'VP8 ' && b.length >= 30 && b[23] === 0x9d && b[24] === 0x01 && b[25] === 0x2a) {
    width = u16le(b, 26) & 0x3fff;
    height = u16le(b, 28) & 0x3fff;
  } else if (chunk === 'VP8L' && b.length >= 25 && b[20] === 0x2f) {
    const bits = u32le(b, 21);
    width = (bits & 0x3fff) + 1;
    height = ((bits >>> 14) & 0x3fff) + 1;
    alpha = ((bits >>> 28) & 1) === 1;
  } else if (chunk === 'VP8X' && b.length >= 30) {
    alpha = (b[20] & 0x10) !== 0;
    width = u24le(b, 24) + 1;
    height = u24le(b, 27) + 1;
  }
  return { format: 'webp', width, height, alpha, complete };
}

/** Reads the header of PNG, JPEG or WebP bytes; names a few other formats; `undefined` otherwise. */
export function readHeader(b: Uint8Array): ImageHeader | undefined {
  const other = (format: string): ImageHeader => ({
    format,
    width: 0,
    height: 0,
    alpha: false,
    complete: true,
  });
  if (b.length >= 8 && u32be(b, 0) === 0x89504e47 && u32be(b, 4) === 0x0d0a1a0a) return png(b);
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return jpeg(b);
  if (b.length >= 16 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return webp(b);
  if (b.length >= 6 && ascii(b, 0, 4) === 'GIF8') return other('gif');
  if (b.length >= 2 && ascii(b, 0, 2) === 'BM') return other('bmp');
  if (b.length >= 4 && (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*')) return other('tiff');
  if (b.length >= 12 && ascii(b, 4, 4) === 'ftyp') return other('heif/avif');
  return undefined;
}

/** Sets the EXIF orientation tag of the TIFF block at `t` to 1 (as stored), if it is there. */
function clearTiffOrientation(b: Uint8Array, t: number, end: number): void {
  if (t + 8 > end) return;
  const le = b[t] === 0x49 && b[t + 1] === 0x49;
  if (!le && !(b[t] === 0x4d && b[t + 1] === 0x4d)) return;
  const r16 = (o: number) => (le ? u16le(b, o) : u16be(b, o));
  const r32 = (o: number) => (le ? u32le(b, o) : u32be(b, o));
  const ifd = t + r32(t + 4);
  if (ifd + 2 > end) return;
  const n = r16(ifd);
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > end) return;
    if (r16(e) === 0x0112 && r16(e + 2) === 3) {
      b[e + 8] = le ? 1 : 0;
      b[e + 9] = le ? 0 : 1;
      return;
    }
  }
}

/**
 * A copy of PNG, JPEG or WebP bytes whose EXIF orientation tag (if any) says "as stored", so a
 * decoder that always applies the tag (browsers do) keeps the stored pixel order.
 */
export function withoutOrientation(src: Uint8Array, format: string): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(src);
  if (format === 'jpeg') {
    let o = 2;
    while (o + 4 <= b.length && b[o] === 0xff) {
      while (o < b.length && b[o] === 0xff) o++;
      const m = b[o++];
      if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) continue;
      if (m === 0xda || o + 2 > b.length) break;
      const len = u16be(b, o);
      if (m === 0xe1 && ascii(b, o + 2, 6) === 'Exif\0\0')
        clearTiffOrientation(b, o + 8, Math.min(o + len, b.length));
      o += len;
    }
  } else if (format === 'png') {
    let o = 8;
    while (o + 12 <= b.length) {
      const len = u32be(b, o);
      const type = ascii(b, o + 4, 4);
      if (type === 'eXIf') clearTiffOrientation(b, o + 8, Math.min(o + 8 + len, b.length));
      if (type === 'IDAT' || type === 'IEND') break;
      o += 12 + len;
    }
  } else if (format === 'webp') {
    let o = 12;
    while (o + 8 <= b.length) {
      const len = u32le(b, o + 4);
      if (ascii(b, o, 4) === 'EXIF') {
        const t = ascii(b, o + 8, 6) === 'Exif\0\0' ? o + 14 : o + 8;
        clearTiffOrientation(b, t, Math.min(o + 8 + len, b.length));
      }
      o += 8 + len + (len & 1);
    }
  }
  return b;
}
