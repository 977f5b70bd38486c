import type Database from 'better-sqlite3';
import { itemAt } from '../core/item-at.js';
import type { Reading } from '../core/reading.js';
import type { TxPart } from '../outbox/index.js';
import { BLOCK_OVERHEAD_BYTES, JournalBlockWriter, decodeBlock, extraBytes, type JournalEntry } from '../outbox/journal-blocks.js';

/**
 * The ingest journal: every accepted reading (with the gateway's arrival time) and every clock
 * tick handed to the pipelines, in order, in the outbox database. Appends are buffered and made
 * durable by group commits, or with any outbox commit, which always carries the pending entries
 * (the outbox never holds an emission whose reading is not journaled). `whenDurable` is how an
 * acknowledgement (a QoS 1 PUBACK) waits for its reading: while one waits, the commit comes at
 * most `maxWait` ms later; entries nobody waits for (QoS 0, serial, ticks) wait up to
 * `unackedWait`, so that a slow gateway does not commit, and rewrite the journal's last pages on
 * flash, once per reading. A checkpoint trims what it includes; a restart replays the rest.
 */
export type { JournalEntry };

export interface JournalOptions {
  /** Last position in the file (positions continue from it). */
  lastPos: number;
  /** Longest wait of an entry that an acknowledgement waits for (ms). */
  maxWait: number;
  /** Longest wait of entries nobody waits for (ms; at least maxWait). */
  unackedWait: number;
  /** Run a commit of the journal (the outbox's `commitParts`). */
  commit: () => void;
  /** The first failed commit of a run of failures (later ones are counted, not reported). */
  onError: (err: unknown) => void;
  /** A commit succeeded after `failed` failed ones; `dropped` entries were not journaled meanwhile. */
  onRecovered?: (failed: number, dropped: number) => void;
  /** Entries held in memory while commits fail (default MAX_PENDING). */
  maxPending?: number;
}

/** Disk bytes an entry takes beyond its fields' text (an estimate, for the room on a nearly full disk; src/outbox/journal-blocks.ts has the encoding). */
const ENTRY_BYTES = 32;
/** Entries held in memory beyond which a commit is made at once. */
const COMMIT_AT = 2000;
/** After a failed commit, the next try comes this much later (a full disk is not freed by trying at every reading). */
const RETRY_MS = 1000;
/**
 * Entries held in memory while commits fail (a full disk, an I/O error). Beyond it the oldest that
 * no acknowledgement waits for (QoS 0, serial, GPIO readings, ticks) are dropped and counted: the
 * pipelines have them, a crash before the next checkpoint loses their effect. Entries of a QoS 1
 * delivery are kept: their PUBACKs wait, and the publishers' in-flight windows bound them.
 */
const MAX_PENDING = 20_000;

export class IngestJournal implements TxPart {
  private pos: number;
  private pending: JournalEntry[] = [];
  /** Entries written by the transaction in progress (known once `write` ran). */
  private written = 0;
  /** The transaction in progress could not write every pending entry (no room on the disk). */
  private short = false;
  private waiters: Array<{ pos: number; cb: () => void }> = [];
  private durablePos: number;
  private timer: NodeJS.Timeout | null = null;
  /** The timer runs for `unackedWait` (no acknowledgement waited when it was set). */
  private timerUnacked = false;
  private closed = false;
  private stmt: { db: Database.Database; insert: Database.Statement } | undefined;
  private readonly block = new JournalBlockWriter();
  /** A QoS 1 delivery's readings are being appended (from its first reading to its whenDurable). */
  private inDelivery = false;
  /** performance.now() before which no commit is tried (a commit failed); 0: none failed. */
  private retryAt = 0;
  private failedInRow = 0;
  private droppedInRow = 0;
  readonly stats = { appended: 0, commits: 0, failedCommits: 0, dropped: 0 };

  private readonly maxPending: number;

  constructor(private readonly opts: JournalOptions) {
    this.maxPending = opts.maxPending ?? MAX_PENDING;
    this.pos = opts.lastPos;
    this.durablePos = opts.lastPos;
  }

  /** Last position appended. */
  get position(): number {
    return this.pos;
  }

  /** `src`: the delivery the reading came in (see deliveries.ts), on its first reading. */
  append(reading: Reading, at: number, src?: string): void {
    if (src !== undefined) this.inDelivery = true;
    if (this.inDelivery) this.pending.push(src === undefined ? { pos: ++this.pos, at, reading, acked: true } : { pos: ++this.pos, at, reading, src, acked: true });
    else this.pending.push({ pos: ++this.pos, at, reading });
    this.stats.appended++;
    this.arm();
  }

  tick(at: number): void {
    this.pending.push({ pos: ++this.pos, at, tick: true });
    this.arm();
  }

  /** Call `cb` once everything appended so far is durable (at once when it is). */
  whenDurable(cb: () => void): void {
    this.inDelivery = false;
    if (this.durablePos >= this.pos) {
      cb();
      return;
    }
    this.waiters.push({ pos: this.pos, cb });
    this.arm();
  }

  /** Commit now (stop, tests). */
  commitNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    try {
      this.opts.commit();
    } catch (err) {
      this.failed(err);
    }
  }

  /** A commit failed, or could write only part of what is pending (a nearly full disk): try again RETRY_MS later. */
  private failed(err: unknown): void {
    this.stats.failedCommits++;
    if (this.failedInRow++ === 0) this.opts.onError(err);
    this.retryAt = performance.now() + RETRY_MS;
    this.dropOverflow();
    this.arm();
  }

  /** Commits are failing and too much is held: drop the oldest entries no acknowledgement waits for, down to 90 % of the bound. */
  private dropOverflow(): void {
    if (this.pending.length <= this.maxPending) return;
    let excess = this.pending.length - Math.floor(this.maxPending * 0.9);
    const kept: JournalEntry[] = [];
    for (const e of this.pending) {
      if (excess > 0 && !('acked' in e)) excess--;
      else kept.push(e);
    }
    const dropped = this.pending.length - kept.length;
    this.pending = kept;
    this.stats.dropped += dropped;
    this.droppedInRow += dropped;
  }

  /** Commit what is pending and stop the timer; appends after this are not journaled. */
  close(): void {
    this.commitNow();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    if (this.closed) return;
    const retryIn = this.retryAt > 0 ? this.retryAt - performance.now() : 0; // no clock read per reading unless commits fail
    if (retryIn > 0) {
      // Commits are failing: the next try when its time comes, whatever arrives meanwhile.
      this.dropOverflow();
      this.timer ??= setTimeout(() => {
        this.timer = null;
        this.commitNow();
      }, Math.ceil(retryIn));
      return;
    }
    if (this.pending.length >= COMMIT_AT) {
      this.commitNow();
      return;
    }
    const acked = this.waiters.length > 0;
    if (this.timer) {
      if (!acked || !this.timerUnacked) return;
      clearTimeout(this.timer); // an acknowledgement now waits: commit within maxWait
    }
    this.timerUnacked = !acked;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.commitNow();
      },
      acked ? this.opts.maxWait : Math.max(this.opts.maxWait, this.opts.unackedWait),
    );
  }

  /**
   * Inside the transaction: the pending entries, oldest first, as far as `room` (bytes, while the
   * disk is nearly full) allows, and at least those an acknowledgement waits for; the rest wait for
   * a later commit, as after a failed one. The
   * outbox's messages come first on a nearly full disk: they are what the gateway promised to
   * deliver, and the journal's entries the pipelines already have.
   */
  write(db: Database.Database, _batch: unknown, room = Infinity): void {
    if (this.stmt?.db !== db) this.stmt = { db, insert: db.prepare('INSERT OR REPLACE INTO journal_blocks (last, first, n, srcs, data) VALUES (?, ?, ?, ?, ?)') };
    // What an acknowledgement waits for is written whatever the room (a publisher's in-flight window
    // must not stall for good); what nobody waits for before it goes when it does not fit.
    const mustTo = this.waiters.at(-1)?.pos ?? -Infinity;
    if (room !== Infinity && mustTo > -Infinity) this.dropBefore(mustTo, room);
    let left = room === Infinity ? Infinity : room - BLOCK_OVERHEAD_BYTES;
    const block = this.block;
    block.reset();
    let n = 0;
    for (const e of this.pending) {
      if (e.pos <= mustTo) left = Infinity;
      else if (left === Infinity && room !== Infinity) left = 0;
      const bytes = block.add(e);
      if (left !== Infinity && (left -= bytes) < 0) break; // the entry just added is not counted: the block ends before it
      n++;
    }
    if (n > 0) {
      const data = n === block.count ? block.data() : this.blockOf(n);
      this.stmt.insert.run(itemAt(this.pending, n - 1, 'journal: pending entries').pos, this.pending[0]!.pos, n, block.srcs, data);
    }
    this.written = n;
    this.short = n < this.pending.length;
  }

  /** The block of the first `n` pending entries alone (the last one added did not fit). */
  private blockOf(n: number): Buffer {
    const block = this.block;
    block.reset();
    for (let i = 0; i < n; i++) block.add(this.pending[i]!);
    return block.data();
  }

  /** The entries up to `pos` do not fit in `room`: drop those no acknowledgement waits for (counted). */
  private dropBefore(pos: number, room: number): void {
    let bytes = 0;
    for (const e of this.pending) {
      if (e.pos > pos) break;
      bytes += ENTRY_BYTES + ('tick' in e ? 0 : extraBytes(e.reading));
    }
    if (bytes <= room) return;
    const kept = this.pending.filter((e) => e.pos > pos || 'acked' in e);
    const dropped = this.pending.length - kept.length;
    this.pending = kept;
    this.stats.dropped += dropped;
    this.droppedInRow += dropped;
  }

  committed(): void {
    const n = this.written;
    const short = this.short;
    this.written = 0;
    this.short = false;
    if (n > 0) this.madeDurable(n, short);
    if (short) this.failed(new Error(`disk nearly full: ${this.pending.length} journal entries wait for space (the outbox's messages are written first)`));
  }

  private madeDurable(n: number, short: boolean): void {
    this.stats.commits++;
    if (this.failedInRow > 0 && !short) {
      this.opts.onRecovered?.(this.failedInRow, this.droppedInRow);
      this.failedInRow = 0;
      this.droppedInRow = 0;
      this.retryAt = 0;
    }
    this.durablePos = itemAt(this.pending, n - 1, 'journal: pending entries').pos;
    this.pending = n === this.pending.length ? [] : this.pending.slice(n);
    if (this.pending.length === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    let i = 0;
    for (const w of this.waiters) {
      if (w.pos > this.durablePos) break;
      i++;
    }
    if (i === 0) return;
    const done = this.waiters.splice(0, i);
    for (const w of done) w.cb();
  }
}

/**
 * Journal entries after `pos`, in order (for the replay at start). A position is given once: a
 * block written again after a commit that failed late may overlap the one before it. Blocks are
 * read a few at a time, so no statement is open while the caller runs (a replay's emissions may
 * commit to the same database).
 */
export function* readJournal(db: Database.Database, afterPos: number): Generator<JournalEntry> {
  const page = db.prepare('SELECT last, first, data FROM journal_blocks WHERE last > ? ORDER BY last LIMIT 16');
  let last = afterPos;
  for (let after = afterPos; ; ) {
    const blocks = page.all(after) as Array<{ last: number; first: number; data: Buffer }>;
    if (blocks.length === 0) return;
    for (const b of blocks) {
      for (const e of decodeBlock(b.data, last, b.first)) {
        last = e.pos;
        yield e;
      }
    }
    after = blocks.at(-1)!.last;
  }
}

/** Delivery keys in the journal, oldest first (kept one checkpoint interval longer than replay needs). */
export function journalDeliveries(db: Database.Database): string[] {
  const keys: string[] = [];
  let last = -Infinity;
  for (const b of db.prepare('SELECT first, data FROM journal_blocks WHERE srcs > 0 ORDER BY last').all() as Array<{ first: number; data: Buffer }>) {
    for (const e of decodeBlock(b.data, last, b.first)) {
      last = e.pos;
      if ('src' in e && e.src !== undefined) keys.push(e.src);
    }
  }
  return keys;
}

export function lastJournalPos(db: Database.Database): number {
  return (db.prepare('SELECT max(last) FROM journal_blocks').pluck().get() as number | null) ?? 0;
}

/** The first position the journal holds (0: none). */
export function firstJournalPos(db: Database.Database): number {
  return (db.prepare('SELECT min(first) FROM journal_blocks').pluck().get() as number | null) ?? 0;
}

/** Entries after `pos` (the inspection of a file: a restart would replay them). */
export function countJournal(db: Database.Database, afterPos: number): number {
  let n = 0;
  for (const _ of readJournal(db, afterPos)) n++;
  return n;
}
