import type { Logger } from '../core/log.js';
import type { OutboxStore } from './store.js';

/**
 * Truncating the WAL (a checkpoint, with fsync) blocks the event loop for milliseconds. With the
 * uplink up the outbox drains to empty after every batch, so doing it each time would stall
 * ingest once a second (bench/runtime.bench.ts, p99 publish → reading): at most this often.
 */
const GIVE_BACK_EVERY_MS = 30_000;

/** Messages buffered at once that make a backlog: when it has drained, its space goes back at once. */
const BACKLOG_MESSAGES = 1000;

/**
 * Free pages kept for reuse in the steady state. The ingest journal frees its oldest pages at every
 * checkpoint and fills as many again before the next one: giving them back would move pages (an
 * incremental vacuum held the event loop 45–55 ms at 5,000 readings/s) only for the file to grow
 * again. Beyond this many, and beyond half the file, they go back a slice at a time.
 */
const KEEP_FREE_PAGES = 4096;
/** Pages given back per commit in the steady state (each slice holds the event loop a few ms). */
const STEADY_SLICE_PAGES = 256;

/** Longest hold of the event loop giving space back on a nearly full disk, per commit. */
const LOW_SPACE_MS = 10;

/** A WAL truncation that found another connection at work (the background checkpoint) is tried again this soon. */
const BUSY_RETRY_MS = 250;
/** At close, how long a truncation waits for the background checkpoint to let go. */
const CLOSE_WAIT_MS = 2000;

/**
 * Space back to the file system after acknowledgements or drops. After a backlog (an outage) has
 * drained, all free pages at once (incremental vacuum) and the WAL truncated. In the steady state
 * (the uplink up: drained after every batch, the journal trimmed at every checkpoint) free pages
 * are reused, and only a large surplus goes back, a slice per commit; the WAL is truncated at
 * most every `everyMs`, the last one deferred until then.
 */
export class SpaceGiveBack {
  private lastTruncate = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  /** Most messages buffered since space was last given back in full. */
  private peakDepth = 0;

  constructor(
    private readonly store: () => OutboxStore,
    /** The outbox is open and empty (checked when a deferred truncation comes due). */
    private readonly stillEmpty: () => boolean,
    private readonly log: Logger,
    private readonly everyMs = GIVE_BACK_EVERY_MS,
  ) {}

  /** Messages buffered now (after a commit that added some). */
  noteDepth(depth: number): void {
    if (depth > this.peakDepth) this.peakDepth = depth;
  }

  /**
   * After a commit freed rows; `depth`: messages still buffered. `at`: 'close' gives every free
   * page back; 'timer' (the deferred truncation) only truncates the WAL.
   */
  afterFree(depth: number, at: 'commit' | 'timer' | 'close' = 'commit'): void {
    const force = at !== 'commit';
    try {
      const free = this.store().freePages();
      const drained = depth === 0 && (at === 'close' || this.peakDepth >= BACKLOG_MESSAGES);
      let vacuumed = false;
      if (drained) {
        this.peakDepth = 0;
        if (free > 64) {
          this.store().vacuum(free);
          vacuumed = true;
        }
      } else if (free > KEEP_FREE_PAGES && free * 2 > this.store().totalPages()) {
        this.store().vacuum(Math.min(STEADY_SLICE_PAGES, free - KEEP_FREE_PAGES));
      }
      if (depth !== 0) return;
      const wait = this.lastTruncate + this.everyMs - performance.now();
      if (at === 'close') this.truncateWalWaiting(CLOSE_WAIT_MS);
      else if (vacuumed || force || wait <= 0) {
        if (!this.truncateWal()) this.later(BUSY_RETRY_MS);
      } else {
        this.later(wait);
      }
    } catch (err) {
      this.log.debug({ err }, 'outbox: incremental vacuum failed');
    }
  }

  /**
   * While the disk is nearly full: the file's free pages go back a slice of `slicePages` at a time,
   * the WAL truncated after each (the pages a slice moves are written to the WAL first: a slice
   * must fit in the reserve), for at most LOW_SPACE_MS per call. Free pages in the file do not
   * help on a full file system: every write into them needs room for its WAL copy there.
   */
  giveBackLowSpace(slicePages: number): void {
    const until = performance.now() + LOW_SPACE_MS;
    try {
      let free = this.store().freePages();
      while (free > 0 && performance.now() < until) {
        this.store().vacuum(slicePages);
        const left = this.store().freePages();
        if (!this.truncateWal() || left >= free) return; // the checkpoint busy, or a file without auto_vacuum
        free = left;
      }
    } catch (err) {
      this.log.debug({ err }, 'outbox: incremental vacuum on a nearly full disk failed');
    }
  }

  /** Truncate the WAL when the outbox is still empty `ms` from now (one timer at a time). */
  private later(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.stillEmpty()) this.afterFree(0, 'timer');
    }, ms);
    this.timer.unref();
  }

  /** Truncate the WAL now (also when the disk is full or nearly). False when it could not be done now. */
  truncateWal(): boolean {
    try {
      if (!this.store().truncateWal()) {
        this.log.debug('outbox: WAL truncation put off (another connection was at work: the background checkpoint, or a reader)');
        return false;
      }
      this.lastTruncate = performance.now();
      return true;
    } catch (err) {
      this.log.debug({ err }, 'outbox: WAL checkpoint failed');
      return false;
    }
  }

  /**
   * At close: the background checkpoint may hold the checkpoint lock (SQLite then fails at once,
   * whatever the busy timeout), and nothing would retry later: the file stayed as large as the
   * backlog had made it. Try again every 2 ms for at most `ms`.
   */
  private truncateWalWaiting(ms: number): void {
    const until = performance.now() + ms;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    while (!this.truncateWal() && performance.now() < until) Atomics.wait(pause, 0, 0, 2);
  }

  get msSinceTruncate(): number {
    return performance.now() - this.lastTruncate;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
