import { WeightsError, type WeightsErrorLocation } from './errors.js';

/**
 * The default of the `maxBytes` option: 2 GiB. The largest published checkpoints kernelzoo
 * reads (HRNet-W64-cls ≈ 0.5 GB, SPNet training checkpoints with their optimizer state)
 * stay well inside it.
 */
export const DEFAULT_MAX_BYTES: number = 2 * 2 ** 30;

/**
 * The bytes a load may allocate beyond the file itself (inflated zip entries, converted or
 * gathered tensor data), charged as they are allocated: past the limit a {@link WeightsError}
 * is thrown before the allocation. Pass one to {@link ZipArchive.readAsync} to share a limit.
 */
export class Budget {
  /** Bytes charged so far. */
  used = 0;
  /** The most bytes that may be charged. */
  readonly limit: number;

  /** @param limit - the most bytes that may be charged. */
  constructor(limit: number = DEFAULT_MAX_BYTES) {
    this.limit = limit;
    if (!(limit >= 0)) throw new WeightsError(`maxBytes must be a number ≥ 0, got ${String(limit)}`);
  }

  /**
   * Charges `bytes`, or throws when they would pass the limit.
   * @param bytes - what is about to be allocated.
   * @param what - what it is for, in words.
   * @param where - the error's location.
   */
  charge(bytes: number, what: string, where: WeightsErrorLocation): void {
    if (!Number.isFinite(bytes) || this.used + bytes > this.limit)
      throw new WeightsError(
        `${what} needs ${bytes} bytes, past the memory budget (maxBytes ${this.limit}, ${this.used} already used)`,
        where,
      );
    this.used += bytes;
  }
}

/** The budget of `options.maxBytes`. @internal */
export function budgetOf(options: { maxBytes?: number }): Budget {
  return new Budget(options.maxBytes ?? DEFAULT_MAX_BYTES);
}
