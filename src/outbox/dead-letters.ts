import type Database from 'better-sqlite3';
import type { DropSample } from '../core/drops.js';
import type { TxPart } from './tx-parts.js';

/** The dead-letter table keeps the newest this many rows. */
export const DEAD_LETTER_MAX_ROWS = 1000;

export type DeadLetterEntry = DropSample & { source: string };

interface Statements {
  db: Database.Database;
  insert: Database.Statement;
  trim: Database.Statement;
}

/**
 * Dead letters (drop samples of drivers and the engine) in the outbox file's `dead_letters` table,
 * bounded to the newest DEAD_LETTER_MAX_ROWS. Recording one costs an array push: they are written
 * with the outbox's next group commit (a TxPart), so bad input costs no more than good input. A
 * crash loses at most the dead letters of the open batch, as for messages.
 */
export class DeadLetters implements TxPart {
  private pending: DeadLetterEntry[] = [];
  /** Rows in the table (as of the last commit). */
  private rows = 0;
  /** Set by write(), applied by committed(). */
  private written = 0;
  private rowsAfter = 0;
  private stmts: Statements | undefined;

  /** Count the rows of an opened file. */
  load(db: Database.Database): void {
    this.rows = (db.prepare('SELECT count(*) AS n FROM dead_letters').get() as { n: number }).n;
  }

  /** Keep one (written with the next commit). Beyond the table's bound, the oldest waiting one is forgotten, as the table would. */
  record(source: string, sample: DropSample): void {
    this.pending.push({ source, reason: sample.reason, at: sample.at, sample: sample.sample, ...(sample.detail != null ? { detail: sample.detail } : {}) });
    if (this.pending.length > DEAD_LETTER_MAX_ROWS) this.pending.shift();
  }

  /** Waiting for a commit. */
  get waiting(): number {
    return this.pending.length;
  }

  /** Rows kept: those in the table and those waiting for the next commit. */
  get count(): number {
    return this.rows + this.pending.length;
  }

  write(db: Database.Database): void {
    this.written = 0;
    if (this.pending.length === 0) return;
    if (this.stmts?.db !== db) {
      this.stmts = {
        db,
        insert: db.prepare('INSERT INTO dead_letters (source, reason, at, detail, sample) VALUES (?, ?, ?, ?, ?)'),
        trim: db.prepare('DELETE FROM dead_letters WHERE id <= (SELECT max(id) FROM dead_letters) - ?'),
      };
    }
    for (const d of this.pending) this.stmts.insert.run(d.source, d.reason, d.at, d.detail ?? null, d.sample);
    this.written = this.pending.length;
    this.rowsAfter = this.rows + this.written;
    // Trimmed by a tenth at a time, not with every commit.
    if (this.rowsAfter > DEAD_LETTER_MAX_ROWS * 1.1) {
      this.stmts.trim.run(DEAD_LETTER_MAX_ROWS);
      this.rowsAfter = DEAD_LETTER_MAX_ROWS;
    }
  }

  committed(): void {
    if (this.written === 0) return;
    this.pending = this.pending.slice(this.written);
    this.rows = this.rowsAfter;
    this.written = 0;
  }

  /** The newest `limit` dead letters, newest first: those waiting, then the table's. */
  read(db: Database.Database, limit: number): DeadLetterEntry[] {
    const out = this.pending.slice(-limit).reverse();
    if (out.length >= limit) return out;
    const rows = db.prepare('SELECT source, reason, at, detail, sample FROM dead_letters ORDER BY id DESC LIMIT ?').all(limit - out.length) as Array<{ source: string; reason: string; at: number; detail: string | null; sample: string }>;
    for (const x of rows) out.push({ source: x.source, reason: x.reason, at: x.at, sample: x.sample, ...(x.detail != null ? { detail: x.detail } : {}) });
    return out;
  }
}
