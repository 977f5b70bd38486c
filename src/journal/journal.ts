import type Database from 'better-sqlite3';
import { itemAt } from '../core/item-at.js';
import type { Reading } from '../core/reading.js';
import type { TxPart } from '../outbox/index.js';
import { BLOCK_OVERHEAD_BYTES, JournalBlockWriter, decodeBlock, type JournalEntry } from '../outbox/journal-blocks.js';

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
  /** A reading that cannot be encoded (v8.serialize refuses a value in it): not journaled, counted in `dropped`. */
  onUnencodable?: (err: unknown, stream: unknown) => void;
}

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

/** An entry's flags in the pending index: an acknowledgement waits for it; it carries a delivery key. */
const ACKED = 1;
const SRC = 2;

/**
 * What the journal knows of each pending entry besides its bytes: its position, where its bytes
 * end in its block, its flags. Typed arrays reused from commit to commit: nothing is
 * allocated per reading.
 */
class PendingIndex {
  length = 0;
  pos = new Float64Array(256);
  end = new Uint32Array(256);
  flags = new Uint8Array(256);

  push(pos: number, end: number, flags: number): void {
    if (this.length === this.pos.length) this.grow();
    const i = this.length++;
    this.pos[i] = pos;
    this.end[i] = end;
    this.flags[i] = flags;
  }

  /** Bytes of entry `i` in the block (the block's version byte is before the first). */
  bytes(i: number): number {
    return this.end[i]! - (i === 0 ? 1 : this.end[i - 1]!);
  }

  /** Entries with a flag among `flag`, of the first `n`. */
  count(flag: number, n = this.length): number {
    let k = 0;
    for (let i = 0; i < n; i++) if (this.flags[i]! & flag) k++;
    return k;
  }

  private grow(): void {
    const n = this.pos.length * 2;
    const pos = new Float64Array(n);
    const end = new Uint32Array(n);
    const flags = new Uint8Array(n);
    pos.set(this.pos);
    end.set(this.end);
    flags.set(this.flags);
    this.pos = pos;
    this.end = end;
    this.flags = flags;
  }
}

/** Keeps all of `index` but its oldest `excess` entries no acknowledgement waits for (read before any is encoded again). */
function allButOldestUnacked(index: PendingIndex, excess: number): (i: number) => boolean {
  return (i) => !(excess > 0 && !(index.flags[i]! & ACKED) && excess-- > 0);
}

/** Keeps the entries of `index` after `pos`, and those an acknowledgement waits for. */
function afterOrAcked(index: PendingIndex, pos: number): (i: number) => boolean {
  return (i) => index.pos[i]! > pos || (index.flags[i]! & ACKED) !== 0;
}

/**
 * Pending entries sealed into a block of their own while commits fail (a tenth of the bound each):
 * beyond the bound the oldest go whole, and what stays is not encoded again (names in a block
 * refer to earlier entries, so a block cannot simply be cut at its front). Each is a row of its
 * own at the commit.
 */
interface Sealed {
  data: Buffer;
  index: PendingIndex;
  srcs: number;
  /** Entries an acknowledgement waits for (never dropped). */
  acked: number;
}

/** A run of pending entries as one block: a sealed one, or the open one. */
interface Run {
  data: Buffer;
  index: PendingIndex;
  srcs: number;
}

export class IngestJournal implements TxPart {
  private pos: number;
  /**
   * The pending entries, encoded as they are appended, and their index. The readings themselves
   * are not held until the commit: at thousands a second they would outlive V8's young generation
   * and churn the old one (peer flow at 20,000 msg/s: old space 20–24 MB for 12 MB live, held;
   * 15 MB encoded).
   */
  private readonly block = new JournalBlockWriter();
  private pending = new PendingIndex();
  /** Older pending entries, sealed while commits fail (oldest first); empty otherwise. */
  private sealed: Sealed[] = [];
  private sealedCount = 0;
  /** Encodes again what is kept of a sealed block (a failed disk's rare paths). */
  private spare: JournalBlockWriter | undefined;
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
  /** A QoS 1 delivery's readings are being appended (from its first reading to its whenDurable). */
  private inDelivery = false;
  /** The delivery key of a delivery whose first reading could not be encoded: its next reading carries it. */
  private carriedSrc: string | undefined;
  /** performance.now() before which no commit is tried (a commit failed); 0: none failed. */
  private retryAt = 0;
  private failedInRow = 0;
  private droppedInRow = 0;
  /** `reencoded`: entries decoded and encoded again (partial commits, drops that cut a block). */
  readonly stats = { appended: 0, commits: 0, failedCommits: 0, dropped: 0, reencoded: 0 };

  private readonly maxPending: number;
  /** Entries per sealed block while commits fail. */
  private readonly sealAt: number;

  constructor(private readonly opts: JournalOptions) {
    this.maxPending = opts.maxPending ?? MAX_PENDING;
    this.sealAt = Math.max(1, Math.min(COMMIT_AT, Math.ceil(this.maxPending / 10)));
    this.pos = opts.lastPos;
    this.durablePos = opts.lastPos;
  }

  /** Last position appended. */
  get position(): number {
    return this.pos;
  }

  /** Entries held in memory, not yet durable. */
  get held(): number {
    return this.sealedCount + this.pending.length;
  }

  /** `src`: the delivery the reading came in (see deliveries.ts), on its first reading. */
  append(reading: Reading, at: number, src?: string): void {
    if (src !== undefined) this.inDelivery = true;
    else if (this.carriedSrc !== undefined) src = this.carriedSrc;
    this.carriedSrc = undefined;
    const pos = ++this.pos;
    try {
      this.block.addReading(pos, at, reading, src);
    } catch (err) {
      this.carriedSrc = src; // the delivery stays known (a redelivery after a restart is refused) through its next reading
      this.stats.dropped++;
      this.opts.onUnencodable?.(err, reading.stream);
      return;
    }
    this.pending.push(pos, this.block.size, (this.inDelivery ? ACKED : 0) | (src !== undefined ? SRC : 0));
    this.stats.appended++;
    this.arm();
  }

  tick(at: number): void {
    const pos = ++this.pos;
    this.block.addTick(pos, at);
    this.pending.push(pos, this.block.size, 0);
    this.arm();
  }

  /**
   * Decode the block `data` (entries indexed by `from`), encode those `keep` says (by index) into
   * `writer` and `into` (which may be `from`); returns how many went. Off the hot path: failed
   * commits, a nearly full disk, a partial commit.
   */
  private reencode(data: Buffer, from: PendingIndex, keep: (i: number) => boolean, writer: JournalBlockWriter, into: PendingIndex): number {
    const kept: JournalEntry[] = [];
    const acked: boolean[] = [];
    let i = 0;
    for (const e of decodeBlock(data, -Infinity, from.pos[0])) {
      if (keep(i)) {
        kept.push(e);
        acked.push((from.flags[i]! & ACKED) !== 0);
      }
      i++;
    }
    const gone = from.length - kept.length;
    writer.reset();
    into.length = 0;
    kept.forEach((e, k) => {
      writer.add(e);
      into.push(e.pos, writer.size, (acked[k] ? ACKED : 0) | ('src' in e && e.src !== undefined ? SRC : 0));
    });
    this.stats.reencoded += kept.length;
    return gone;
  }

  /** Keep the entries of the open block that `keep` says (by index), in order; returns how many went. */
  private keepPending(keep: (i: number) => boolean): number {
    return this.reencode(Buffer.from(this.block.data()), this.pending, keep, this.block, this.pending);
  }

  /** Keep the entries of sealed block `k` that `keep` says; an emptied block goes. Returns how many went. */
  private keepSealed(k: number, keep: (i: number) => boolean): number {
    const s = this.sealed[k]!;
    this.spare ??= new JournalBlockWriter();
    const index = new PendingIndex();
    const gone = this.reencode(s.data, s.index, keep, this.spare, index);
    this.sealedCount -= gone;
    if (index.length === 0) this.sealed.splice(k, 1);
    else this.sealed[k] = { data: Buffer.from(this.spare.data()), index, srcs: this.spare.srcs, acked: index.count(ACKED) };
    return gone;
  }

  /** The pending entries as blocks, oldest first (the open block last, a view valid until the next append). */
  private runs(): Run[] {
    const runs: Run[] = this.sealed.slice();
    if (this.pending.length > 0) runs.push({ data: this.block.data(), index: this.pending, srcs: this.block.srcs });
    return runs;
  }

  /** Call `cb` once everything appended so far is durable (at once when it is). */
  whenDurable(cb: () => void): void {
    this.inDelivery = false;
    this.carriedSrc = undefined;
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
    if (this.held === 0) return;
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

  /**
   * Commits are failing: the open block is sealed at `sealAt` entries, and beyond the bound the
   * oldest entries no acknowledgement waits for go — a sealed block of them whole (no entry is
   * encoded again), else down to 90 % of the bound.
   */
  private dropOverflow(): void {
    if (this.pending.length >= this.sealAt) this.seal();
    if (this.held <= this.maxPending) return;
    let dropped = 0;
    for (let k = 0; k < this.sealed.length && this.held > this.maxPending; ) {
      const s = this.sealed[k]!;
      if (s.acked === s.index.length) k++;
      else if (s.acked === 0 && s.index.length <= this.sealAt) {
        this.sealed.splice(k, 1);
        this.sealedCount -= s.index.length;
        dropped += s.index.length;
      } else {
        const before = this.sealed.length;
        dropped += this.keepSealed(k, allButOldestUnacked(s.index, this.held - Math.floor(this.maxPending * 0.9)));
        if (this.sealed.length === before) k++;
      }
    }
    if (this.held > this.maxPending) {
      dropped += this.keepPending(allButOldestUnacked(this.pending, this.held - Math.floor(this.maxPending * 0.9)));
    }
    this.countDropped(dropped);
  }

  private countDropped(n: number): void {
    this.stats.dropped += n;
    this.droppedInRow += n;
  }

  /** The open block becomes a sealed one; a new block opens. */
  private seal(): void {
    const index = this.pending;
    this.sealed.push({ data: Buffer.from(this.block.data()), index, srcs: this.block.srcs, acked: index.count(ACKED) });
    this.sealedCount += index.length;
    this.pending = new PendingIndex();
    this.block.reset();
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
    if (this.held >= COMMIT_AT) {
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
   * deliver, and the journal's entries the pipelines already have. One row per block (more than
   * one only after commits failed).
   */
  write(db: Database.Database, _batch: unknown, room = Infinity): void {
    if (this.stmt?.db !== db) this.stmt = { db, insert: db.prepare('INSERT OR REPLACE INTO journal_blocks (last, first, n, srcs, data) VALUES (?, ?, ?, ?, ?)') };
    // What an acknowledgement waits for is written whatever the room (a publisher's in-flight window
    // must not stall for good); what nobody waits for before it goes when it does not fit.
    const mustTo = this.waiters.at(-1)?.pos ?? -Infinity;
    if (room !== Infinity && mustTo > -Infinity) this.dropBefore(mustTo, room);
    let left = room;
    let written = 0;
    for (const { data, index, srcs } of this.runs()) {
      if (left !== Infinity) left -= BLOCK_OVERHEAD_BYTES;
      let n = 0;
      for (; n < index.length; n++) {
        if (index.pos[n]! <= mustTo) left = Infinity;
        else if (left === Infinity && room !== Infinity) left = 0;
        if (left !== Infinity && (left -= index.bytes(n)) < 0) break; // the block ends before this entry
      }
      if (n > 0) {
        const whole = n === index.length; // else its first n entries: a block of their own (names come before their use)
        this.stmt.insert.run(index.pos[n - 1], index.pos[0], n, whole ? srcs : index.count(SRC, n), whole ? data : data.subarray(0, index.end[n - 1]!));
      }
      written += n;
      if (n < index.length) break;
    }
    this.written = written;
    this.short = written < this.held;
  }

  /** The entries up to `pos` do not fit in `room`: drop those no acknowledgement waits for (counted). */
  private dropBefore(pos: number, room: number): void {
    let bytes = 0;
    for (const { index } of this.runs()) {
      if (index.pos[0]! > pos) break;
      bytes += BLOCK_OVERHEAD_BYTES;
      for (let i = 0; i < index.length && index.pos[i]! <= pos; i++) bytes += index.bytes(i);
    }
    if (bytes <= room) return;
    let dropped = 0;
    for (let k = 0; k < this.sealed.length && this.sealed[k]!.index.pos[0]! <= pos; ) {
      const before = this.sealed.length;
      dropped += this.keepSealed(k, afterOrAcked(this.sealed[k]!.index, pos));
      if (this.sealed.length === before) k++;
    }
    if (this.pending.length > 0 && this.pending.pos[0]! <= pos) {
      dropped += this.keepPending(afterOrAcked(this.pending, pos));
    }
    this.countDropped(dropped);
  }

  committed(): void {
    const n = this.written;
    const short = this.short;
    this.written = 0;
    this.short = false;
    if (n > 0) this.madeDurable(n, short);
    if (short) this.failed(new Error(`disk nearly full: ${this.held} journal entries wait for space (the outbox's messages are written first)`));
  }

  private madeDurable(n: number, short: boolean): void {
    this.stats.commits++;
    if (this.failedInRow > 0 && !short) {
      this.opts.onRecovered?.(this.failedInRow, this.droppedInRow);
      this.failedInRow = 0;
      this.droppedInRow = 0;
      this.retryAt = 0;
    }
    // The first n entries are durable: whole sealed blocks go, a block written in part keeps the rest.
    let left = n;
    while (left > 0 && this.sealed.length > 0) {
      const s = this.sealed[0]!;
      if (s.index.length > left) {
        this.durablePos = s.index.pos[left - 1]!;
        const cut = left;
        this.keepSealed(0, (i) => i >= cut);
        left = 0;
        break;
      }
      this.durablePos = itemAt(s.index.pos.subarray(0, s.index.length), s.index.length - 1, 'journal: sealed entries');
      this.sealed.shift();
      this.sealedCount -= s.index.length;
      left -= s.index.length;
    }
    if (left > 0) {
      this.durablePos = itemAt(this.pending.pos.subarray(0, this.pending.length), left - 1, 'journal: pending entries');
      if (left === this.pending.length) {
        this.block.reset();
        this.pending.length = 0;
      } else {
        const cut = left;
        this.keepPending((i) => i >= cut);
      }
    }
    if (this.held === 0 && this.timer) {
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
