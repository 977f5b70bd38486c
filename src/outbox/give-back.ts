import type { Logger } from '../core/log.js';
import type { OutboxStore } from './store.js';

/**
 * Truncating the WAL (a checkpoint, with fsync) blocks the event loop for milliseconds. With the
 * uplink up the outbox drains to empty after every batch, so doing it each time would stall
 * ingest once a second (bench/runtime.bench.ts, p99 publish → reading): at most this often.
 */
export const GIVE_BACK_EVERY_MS = 30_000;

/**
 * Space back to the file system after acknowledgements or drops: free pages a slice at a time
 * (incremental vacuum) and the WAL truncated once the outbox is empty. A vacuum follows a drained
 * backlog and runs at once; truncating the WAL alone (the steady state with the uplink up: drained
 * after every batch) runs at most every `everyMs`, the last one deferred until then.
 */
export class SpaceGiveBack {
  private lastTruncate = -Infinity;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: () => OutboxStore,
    /** The outbox is open and empty (checked when a deferred truncation comes due). */
    private readonly stillEmpty: () => boolean,
    private readonly log: Logger,
    private readonly everyMs = GIVE_BACK_EVERY_MS,
  ) {}

  /** After a commit freed rows; `depth`: messages still buffered. `force`: truncate the WAL now. */
  afterFree(depth: number, force = false): void {
    try {
      const vacuumed = this.store().vacuum(depth === 0);
      if (depth !== 0) return;
      const wait = this.lastTruncate + this.everyMs - performance.now();
      if (vacuumed || force || wait <= 0) {
        this.store().truncateWal();
        this.lastTruncate = performance.now();
      } else if (!this.timer) {
        this.timer = setTimeout(() => {
          this.timer = null;
          if (this.stillEmpty()) this.afterFree(0, true);
        }, wait);
        this.timer.unref();
      }
    } catch (err) {
      this.log.debug({ err }, 'outbox: incremental vacuum failed');
    }
  }

  /** Truncate the WAL now (the disk is full or nearly). */
  truncateWal(): void {
    try {
      this.store().truncateWal();
      this.lastTruncate = performance.now();
    } catch (err) {
      this.log.debug({ err }, 'outbox: WAL checkpoint failed');
    }
  }

  get msSinceTruncate(): number {
    return performance.now() - this.lastTruncate;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
