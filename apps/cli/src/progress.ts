/**
 * Progress for long work (loading a checkpoint, a sliding-window segmentation, a bench): a
 * `cli-progress` bar on stderr when stderr is a terminal, nothing at all when it is piped or
 * when the command prints `--json`.
 *
 * @module
 */
import cliProgress from 'cli-progress';
import type { Io } from './util.js';

/** A progress display (a no-op one when progress is off). */
export interface Progress {
  /** Starts (or restarts) a bar of `total` steps labelled `label`. */
  start(total: number, label: string): void;
  /** Moves to `value` (optionally relabelling). */
  update(value: number, label?: string): void;
  /** Removes the bar. */
  stop(): void;
}

const NONE: Progress = { start() {}, update() {}, stop() {} };

/** A progress bar on stderr when `io` is interactive and `enabled`; otherwise one that shows nothing. */
export function createProgress(io: Io, enabled = true): Progress {
  if (!io.interactive || !enabled) return NONE;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: '{label} [{bar}] {value}/{total} {eta_formatted}',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 8,
    },
    cliProgress.Presets.shades_classic,
  );
  let running = false;
  return {
    start(total, label) {
      if (running) bar.stop();
      bar.start(Math.max(total, 1), 0, { label });
      running = true;
    },
    update(value, label) {
      if (running) bar.update(value, label === undefined ? undefined : { label });
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
