import type Database from 'better-sqlite3';
import type { Outbox } from '../outbox/index.js';
import { firstJournalPos } from '../journal/journal.js';
import { type CheckpointRows, deleteStaleRows, generations, makeLive, trimJournal, writeRows, type StateRow } from './store.js';

/**
 * Writes checkpoints into the outbox database without holding the event loop for long. The state
 * is captured at one instant, between two readings, independent of the live state from then on
 * (CheckpointRows); its rows are then encoded and written as a new generation beside the live
 * checkpoint, about `sliceBytes` per transaction and one transaction per turn of the event loop
 * (readings, PUBACKs and journal commits go on in between); the last, small transaction makes the
 * generation live together with the outbox's pending messages, so saved state and the emissions it led to never disagree. A crash between
 * two slices leaves the previous checkpoint live and whole (the journal after it is still there).
 * After that, the old generation's rows and the journal up to the previous checkpoint are deleted,
 * a few at a time.
 */

/** A captured checkpoint, ready to write. */
export interface CapturedCheckpoint {
  /** Encoded as they are written. */
  rows: CheckpointRows;
  /** Journal position the state includes. */
  pos: number;
  /** When it was taken (gateway clock). */
  at: number;
  /** Trim the journal up to here once it is live. */
  trimTo: number;
  /** The checkpoint is live (called after its commit). */
  committed(): void;
}

export interface WriteReport {
  /** From capture to live (ms, wall clock). */
  ms: number;
  /** The longest single transaction of the write (ms): how long it held the event loop at once. */
  holdMs: number;
  bytes: number;
  /** Transactions it took (the final one included). */
  slices: number;
}

/** Rows written per transaction (bytes, at least one row); stale rows deleted per transaction. */
const SLICE_BYTES = 128 * 1024;
const DELETE_ROWS = 8;
const TRIM_POSITIONS = 4000;

interface Job {
  cp: CapturedCheckpoint;
  gen: number;
  db: Database.Database;
  t0: number;
  holdMs: number;
  slices: number;
}

export class CheckpointWriter {
  private job: Job | undefined;
  private timer: NodeJS.Immediate | null = null;
  private live: number;
  private nextGen: number;
  /** Journal positions up to here are deleted. */
  private trimmed = 0;
  private trimTo = 0;
  private closed = false;

  constructor(
    private readonly o: {
      outbox: Outbox;
      onWritten: (r: WriteReport) => void;
      onError: (err: unknown) => void;
      sliceBytes?: number;
      /** Test hook: after each transaction of a checkpoint committed (`live`: the last one, that made it live). */
      afterSlice?: (slice: number, live: boolean) => void;
    },
  ) {
    const db = o.outbox.database;
    const g = generations(db);
    this.live = g.live;
    this.nextGen = g.next;
    this.trimmed = Math.max(0, firstJournalPos(db) - 1);
    this.trimTo = this.trimmed;
  }

  /** A checkpoint is being written in slices. */
  get busy(): boolean {
    return this.job !== undefined;
  }

  /** Write a checkpoint now, in one transaction (start, stop, reload). A sliced one under way is given up. */
  writeNow(cp: CapturedCheckpoint, t0: number): WriteReport {
    this.abandon();
    const job = this.newJob(cp, t0);
    const t = performance.now();
    this.finish(job, cp.rows.take(), t);
    return this.report(job);
  }

  /** Write a checkpoint in slices over the next turns of the event loop; false (nothing done) while one is under way. */
  writeInSlices(cp: CapturedCheckpoint, t0: number): boolean {
    if (this.job || this.closed) return false;
    this.job = this.newJob(cp, t0);
    this.schedule();
    return true;
  }

  /** Give up the checkpoint under way (its rows are garbage, deleted later). */
  abandon(): void {
    this.job?.cp.rows.release();
    this.job = undefined;
  }

  close(): void {
    this.closed = true;
    this.abandon();
    if (this.timer) clearImmediate(this.timer);
    this.timer = null;
  }

  private newJob(cp: CapturedCheckpoint, t0: number): Job {
    return { cp, gen: this.nextGen++, db: this.o.outbox.database, t0, holdMs: 0, slices: 0 };
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setImmediate(() => {
      this.timer = null;
      try {
        this.step();
      } catch (err) {
        this.abandon();
        this.o.onError(err);
      }
    });
  }

  /** One transaction: a slice of rows, the final commit, or some cleanup. */
  private step(): void {
    const job = this.job;
    if (job) {
      if (job.db !== this.o.outbox.database || this.o.outbox.isClosed) {
        this.abandon(); // the file was replaced (corruption) or closed: the next checkpoint starts over
        return;
      }
      const t = performance.now();
      const rows = job.cp.rows.take(this.o.sliceBytes ?? SLICE_BYTES);
      if (!job.cp.rows.done) {
        job.db.transaction(() => writeRows(job.db, job.gen, rows))();
        job.holdMs = Math.max(job.holdMs, performance.now() - t);
        job.slices++;
        this.o.afterSlice?.(job.slices, false);
      } else {
        // The last rows: written with the commit that makes the generation live.
        this.job = undefined;
        this.finish(job, rows, t);
        this.o.onWritten(this.report(job));
      }
      this.schedule();
      return;
    }
    // Cleanup: the old generations' rows, then the journal up to the previous checkpoint.
    const db = this.o.outbox.database;
    if (deleteStaleRows(db, this.live, DELETE_ROWS) > 0) {
      this.schedule();
      return;
    }
    if (this.trimmed < this.trimTo) {
      this.trimmed = trimJournal(db, this.trimmed, this.trimTo, TRIM_POSITIONS);
      if (this.trimmed < this.trimTo) this.schedule();
    }
  }

  /** The last transaction: the last `rows`, and the generation made live with the outbox's pending messages (`t`: when its encoding began). */
  private finish(job: Job, rows: StateRow[], t: number): void {
    const { cp, gen } = job;
    this.o.outbox.checkpoint({
      write: (db) => {
        writeRows(db, gen, rows);
        makeLive(db, gen, cp.pos, cp.at);
      },
      committed: () => {
        this.live = gen;
        this.trimTo = Math.max(this.trimTo, cp.trimTo);
        cp.committed();
      },
    });
    job.holdMs = Math.max(job.holdMs, performance.now() - t);
    job.slices++;
    this.o.afterSlice?.(job.slices, true);
    this.schedule(); // cleanup
  }

  private report(job: Job): WriteReport {
    return { ms: performance.now() - job.t0, holdMs: job.holdMs, bytes: job.cp.rows.bytes, slices: job.slices };
  }
}
