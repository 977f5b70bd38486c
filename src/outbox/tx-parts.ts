import type Database from 'better-sqlite3';

/**
 * Something written in the same transaction as the outbox's messages (the ingest journal, a
 * checkpoint, dead letters): `write` runs inside the transaction, after the messages; `committed`
 * after it committed. When the transaction fails, `committed` is not called and `write` runs again
 * with the next commit. `room`: bytes the part may write while the disk is nearly full (Infinity
 * otherwise); a part that can wait (the ingest journal) writes what fits and the rest later.
 */
export interface TxPart {
  write(db: Database.Database, batch: readonly { msgId: string }[], room: number): void;
  committed(): void;
}

/** The parts written with every commit, and at most one written with the next commit only (a checkpoint). */
export class TxParts {
  private readonly every: TxPart[] = [];
  private once: TxPart | undefined;

  add(part: TxPart): void {
    this.every.push(part);
  }

  /** Write `part` with the next commit only (replaces a one-shot part not written yet). */
  setOnce(part: TxPart | undefined): void {
    this.once = part;
  }

  /** True while the one-shot part waits for a commit. */
  get oncePending(): boolean {
    return this.once !== undefined;
  }

  /** Inside a transaction: write every part; returns them, for `committed()`. */
  write(db: Database.Database, batch: readonly { msgId: string }[], room: number): readonly TxPart[] {
    const parts = this.once ? [...this.every, this.once] : this.every;
    for (const p of parts) p.write(db, batch, room);
    return parts;
  }

  /** After the transaction committed: tell the parts it wrote (the one-shot part is done). */
  committed(parts: readonly TxPart[]): void {
    if (this.once && parts.includes(this.once)) this.once = undefined;
    for (const p of parts) p.committed();
  }
}
