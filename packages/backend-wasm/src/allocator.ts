/**
 * The allocator of the wasm backend: hands out 64-byte-aligned blocks of the WebAssembly
 * memory. A freed block merges at once with the free blocks beside it (found by their start
 * and end addresses), or gives its space back to the top; an allocation takes the lowest free
 * block of its exact size, else splits the lowest of the smallest size that fits, and only then
 * grows the memory, page by page up to its maximum.
 *
 * @module
 */
import { KernelzooError } from '@kernelzoo/core';

/** Bytes per WebAssembly page. */
export const PAGE = 65536;
const ALIGN = 64;
/** The least the memory grows by, in pages (1 MiB). */
const GROW_PAGES = 16;

/** Thrown when the WebAssembly memory cannot hold a requested buffer. */
export class WasmOutOfMemoryError extends KernelzooError {}

function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

/** A free-list allocator over one `WebAssembly.Memory`, starting at `base`. */
export class Allocator {
  private readonly memory: WebAssembly.Memory;
  private readonly maxBytes: number;
  private top: number;
  private readonly base: number;
  /** Free blocks: start address → size. No two are adjacent, and none ends at the top. */
  private readonly freeAt = new Map<number, number>();
  /** Free blocks: end address → start address. */
  private readonly freeEnd = new Map<number, number>();
  /** Free blocks by size: their start addresses, in no order. */
  private readonly bySize = new Map<number, number[]>();
  private freeBytes = 0;
  /** Live blocks: address → rounded size. */
  private readonly live = new Map<number, number>();
  private liveBytes = 0;

  /**
   * @param memory - the memory to manage.
   * @param base - the first byte the allocator may hand out (a multiple of 64).
   * @param maxPages - the memory's maximum size in pages.
   */
  constructor(memory: WebAssembly.Memory, base: number, maxPages: number) {
    this.memory = memory;
    this.base = base;
    this.top = base;
    this.maxBytes = maxPages * PAGE;
  }

  /** Bytes in live blocks (rounded sizes). */
  get usedBytes(): number {
    return this.liveBytes;
  }

  /** The rounded size of the live block at `ptr` (0 when there is none, e.g. for 0). */
  sizeOf(ptr: number): number {
    return this.live.get(ptr) ?? 0;
  }

  /** The current size of the memory in bytes. */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * A block of at least `bytes` bytes; throws {@link WasmOutOfMemoryError} when none fits.
   * `longLived`: a block kept for long (packed weights): placed at the lowest free address
   * that fits, so long-lived blocks gather low in the memory instead of between the short-lived
   * activations of a forward, whose freed space then stays in large runs.
   */
  alloc(bytes: number, what: string, longLived = false): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    let ptr = -1;
    if (longLived) {
      if (this.freeBytes >= size) ptr = this.lowestFit(size);
    } else {
      // Best fit at the lowest address: the lowest free block of the exact size, else of the
      // smallest size that fits, else room above the top. Freed space is reused before the top
      // moves, so the top stays free for the largest blocks (a segmentation network's
      // full-size output).
      ptr = this.take(size);
      if (ptr < 0 && this.freeBytes >= size) ptr = this.firstFit(size);
    }
    if (ptr < 0) ptr = this.bump(size, false);
    if (ptr < 0) ptr = this.bump(size, true);
    if (ptr < 0)
      throw new WasmOutOfMemoryError(
        `wasm backend: out of memory allocating ${what}: asked for ${formatBytes(bytes)} (${bytes} bytes), ` +
          `but the WebAssembly memory's maximum is ${formatBytes(this.maxBytes)} and ${formatBytes(this.liveBytes)} of it ` +
          `are in use (${formatBytes(this.freeBytes)} free in fragments). Dispose tensors you no longer need, ` +
          'or register the backend with a larger maxMemoryMB.',
      );
    this.live.set(ptr, size);
    this.liveBytes += size;
    return ptr;
  }

  /**
   * Frees a block (unknown addresses are ignored), merged with the free blocks just before and
   * after it; a free run that reaches the top lowers the top instead.
   */
  release(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) return;
    this.live.delete(ptr);
    this.liveBytes -= size;
    let start = ptr;
    let end = ptr + size;
    const after = this.freeAt.get(end);
    if (after !== undefined) {
      this.unlink(end, after);
      end += after;
    }
    const before = this.freeEnd.get(start);
    if (before !== undefined) {
      this.unlink(before, start - before);
      start = before;
    }
    if (end === this.top) this.top = start;
    else this.link(start, end - start);
  }

  /** Frees everything. */
  reset(): void {
    this.freeAt.clear();
    this.freeEnd.clear();
    this.bySize.clear();
    this.live.clear();
    this.freeBytes = 0;
    this.liveBytes = 0;
    this.top = this.base;
  }

  /** Takes the lowest free block of exactly `size` bytes, or returns −1. */
  private take(size: number): number {
    const list = this.bySize.get(size);
    if (list === undefined) return -1;
    let k = 0;
    for (let i = 1; i < list.length; i++) if (list[i]! < list[k]!) k = i;
    const ptr = list[k]!;
    list[k] = list[list.length - 1]!;
    list.pop();
    if (list.length === 0) this.bySize.delete(size);
    this.freeAt.delete(ptr);
    this.freeEnd.delete(ptr + size);
    this.freeBytes -= size;
    return ptr;
  }

  /** Records a free block. */
  private link(start: number, size: number): void {
    this.freeAt.set(start, size);
    this.freeEnd.set(start + size, start);
    const list = this.bySize.get(size);
    if (list === undefined) this.bySize.set(size, [start]);
    else list.push(start);
    this.freeBytes += size;
  }

  /** Forgets a free block (one being merged or handed out). */
  private unlink(start: number, size: number): void {
    this.freeAt.delete(start);
    this.freeEnd.delete(start + size);
    const list = this.bySize.get(size)!;
    if (list.length === 1) this.bySize.delete(size);
    else {
      list[list.indexOf(start)] = list[list.length - 1]!;
      list.pop();
    }
    this.freeBytes -= size;
  }

  /** A block at the top; `grow`: growing the memory if it must. */
  private bump(size: number, grow: boolean): number {
    const end = this.top + size;
    if (end + ALIGN > this.maxBytes) return -1;
    const have = this.memory.buffer.byteLength;
    // Keep 64 bytes past the last block addressable: vector kernels may read (never use) a
    // few bytes beyond a buffer's end.
    if (end + ALIGN > have) {
      if (!grow) return -1;
      // Grow by what is needed, at least GROW_PAGES (1 MiB) to keep growth calls rare: a larger
      // step (an eighth of the memory, as before) left up to 20 MiB never used by a network.
      const need = Math.ceil((end + ALIGN - have) / PAGE);
      const extra = Math.max(need, Math.min(GROW_PAGES, (this.maxBytes - have) / PAGE));
      try {
        this.memory.grow(extra);
      } catch {
        try {
          this.memory.grow(need);
        } catch {
          return -1;
        }
      }
    }
    const ptr = this.top;
    this.top = end;
    return ptr;
  }

  /** The free block at the lowest address of at least `size` bytes, split. */
  private lowestFit(size: number): number {
    let ptr = -1;
    let have = 0;
    for (const [p, s] of this.freeAt) if (s >= size && (ptr < 0 || p < ptr)) [ptr, have] = [p, s];
    if (ptr < 0) return -1;
    this.unlink(ptr, have);
    if (have > size) this.link(ptr + size, have - size);
    return ptr;
  }

  /** The smallest free block of at least `size` bytes, split. */
  private firstFit(size: number): number {
    let best = -1;
    for (const s of this.bySize.keys()) if (s >= size && (best < 0 || s < best)) best = s;
    if (best < 0) return -1;
    const ptr = this.take(best);
    if (best > size) this.link(ptr + size, best - size);
    return ptr;
  }
}
