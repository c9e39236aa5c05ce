/**
 * The allocator of the wasm backend: hands out 64-byte-aligned blocks of the WebAssembly
 * memory, reuses freed blocks through exact-size free lists, and, before the memory would have
 * to grow, merges adjacent free blocks and splits the smallest that fits; only then grows the
 * memory, page by page up to its maximum.
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
  /** Free blocks by (rounded) size. */
  private free = new Map<number, number[]>();
  private freeBytes = 0;
  /** Whether no block was freed since the free blocks were last merged (merging again finds nothing). */
  private merged = true;
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
      if (this.freeBytes >= size) {
        if (!this.merged) this.coalesce();
        ptr = this.lowestFit(size);
      }
    } else {
      // An exact-size free block, else the smallest free block that fits (after merging
      // neighbours), else room above the top: freed space is reused before the top moves, so
      // the top stays free for the largest blocks (a segmentation network's full-size output).
      ptr = this.take(size);
      if (ptr < 0 && this.freeBytes >= size) {
        if (!this.merged) {
          this.coalesce();
          ptr = this.take(size);
        }
        if (ptr < 0) ptr = this.firstFit(size);
      }
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

  /** Returns a block to the free lists (unknown addresses are ignored). */
  release(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) return;
    this.live.delete(ptr);
    this.liveBytes -= size;
    this.merged = false;
    if (ptr + size === this.top) this.top = ptr;
    else this.push(ptr, size);
  }

  /** Frees everything. */
  reset(): void {
    this.free.clear();
    this.live.clear();
    this.freeBytes = 0;
    this.liveBytes = 0;
    this.top = this.base;
    this.merged = true;
  }

  private take(size: number): number {
    const list = this.free.get(size);
    if (list === undefined || list.length === 0) return -1;
    this.freeBytes -= size;
    return list.pop()!;
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

  /** Merges adjacent free blocks and gives a free tail back to the bump pointer. */
  private coalesce(): void {
    const blocks: [number, number][] = [];
    for (const [size, list] of this.free) for (const p of list) blocks.push([p, size]);
    blocks.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const [p, s] of blocks) {
      const last = merged[merged.length - 1];
      if (last !== undefined && last[0] + last[1] === p) last[1] += s;
      else merged.push([p, s]);
    }
    const tail = merged[merged.length - 1];
    if (tail !== undefined && tail[0] + tail[1] === this.top) {
      this.top = tail[0];
      merged.pop();
    }
    this.free = new Map();
    this.freeBytes = 0;
    for (const [p, s] of merged) this.push(p, s);
    this.merged = true;
  }

  private push(ptr: number, size: number): void {
    let list = this.free.get(size);
    if (list === undefined) {
      list = [];
      this.free.set(size, list);
    }
    list.push(ptr);
    this.freeBytes += size;
  }

  /** The free block at the lowest address of at least `size` bytes, split. */
  private lowestFit(size: number): number {
    let ptr = -1;
    let have = 0;
    for (const [s, list] of this.free)
      if (s >= size) for (const p of list) if (ptr < 0 || p < ptr) [ptr, have] = [p, s];
    if (ptr < 0) return -1;
    const list = this.free.get(have)!;
    list.splice(list.indexOf(ptr), 1);
    this.freeBytes -= have;
    if (have > size) this.push(ptr + size, have - size);
    return ptr;
  }

  /** The smallest free block of at least `size` bytes, split. */
  private firstFit(size: number): number {
    let best = -1;
    for (const s of this.free.keys())
      if (s >= size && (best < 0 || s < best) && this.free.get(s)!.length > 0) best = s;
    if (best < 0) return -1;
    const ptr = this.take(best);
    if (best > size) this.push(ptr + size, best - size);
    return ptr;
  }
}
