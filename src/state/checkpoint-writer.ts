import type Database from 'better-sqlite3';
import type { Outbox } from '../outbox/index.js';
import { deleteStaleRows, generations, makeLive, trimJournal, writeRows, type StateRow } from './store.js';

/**
 * Writes checkpoints into the outbox database without holding the event loop for long. The state
 * is captured (snapshot and encoded) at one instant, between two readings; its rows are then
 * written as a new generation beside the live checkpoint, about `sliceBytes` per transaction and
 * one transaction per turn of the event loop (readings, PUBACKs and journal commits go on in
 * between); the last, small transaction makes the generation live together with the outbox's
 * pending messages, so saved state and the emissions it led to never disagree. A crash between
 * two slices leaves the previous checkpoint live and whole (the journal after it is still there).
 * After that, the old generation's rows and the journal up to the previous checkpoint are deleted,
 * a few at a time.
 */

/** A captured checkpoint, ready to write. */
export interface CapturedCheckpoint {
  rows: StateRow[];
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
  next: number;
  t0: number;
  holdMs: number;
  slices: number;
  bytes: number;
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
    this.trimmed = ((db.prepare('SELECT min(pos) FROM journal').pluck().get() as number | null) ?? 1) - 1;
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
    this.finish(job, 0);
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
    this.job = undefined;
  }

  close(): void {
    this.closed = true;
    this.job = undefined;
    if (this.timer) clearImmediate(this.timer);
    this.timer = null;
  }

  private newJob(cp: CapturedCheckpoint, t0: number): Job {
    let bytes = 0;
    for (const r of cp.rows) bytes += r.data.length;
    return { cp, gen: this.nextGen++, db: this.o.outbox.database, next: 0, t0, holdMs: 0, slices: 0, bytes };
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setImmediate(() => {
      this.timer = null;
      try {
        this.step();
      } catch (err) {
        this.job = undefined;
        this.o.onError(err);
      }
    });
  }

  /** One transaction: a slice of rows, the final commit, or some cleanup. */
  private step(): void {
    const job = this.job;
    if (job) {
      if (job.db !== this.o.outbox.database || this.o.outbox.isClosed) {
        this.job = undefined; // the file was replaced (corruption) or closed: the next checkpoint starts over
        return;
      }
      const rows = job.cp.rows;
      let end = job.next;
      let n = 0;
      const budget = this.o.sliceBytes ?? SLICE_BYTES;
      for (let row = rows[end]; row && (n === 0 || n + row.data.length <= budget); row = rows[++end]) n += row.data.length;
      if (end < rows.length) {
        const t = performance.now();
        job.db.transaction(() => writeRows(job.db, job.gen, rows.slice(job.next, end)))();
        job.holdMs = Math.max(job.holdMs, performance.now() - t);
        job.slices++;
        job.next = end;
        this.o.afterSlice?.(job.slices, false);
      } else {
        // The rest fits in one slice: written with the commit that makes the generation live.
        this.job = undefined;
        this.finish(job, job.next);
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

  /** The last transaction: rows from `from` on, and the generation made live with the outbox's pending messages. */
  private finish(job: Job, from: number): void {
    const { cp, gen } = job;
    const t = performance.now();
    this.o.outbox.checkpoint({
      write: (db) => {
        if (from < cp.rows.length) writeRows(db, gen, cp.rows.slice(from));
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
    return { ms: performance.now() - job.t0, holdMs: job.holdMs, bytes: job.bytes, slices: job.slices };
  }
}
