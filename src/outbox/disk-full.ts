import { statfsSync, statSync } from 'node:fs';
import path from 'node:path';
import { SpaceReserve } from './space-reserve.js';
import { countedBytes, type PendingMsg } from './types.js';

/** While the disk is full, fresh messages go to memory and the disk is tried again this often. */
const DISK_RETRY_MS = 1000;
/** Free space under which the WAL is truncated after every commit (it would otherwise grow to journal_size_limit). */
const LOW_SPACE_BYTES = 16 * 1024 * 1024;
export const SPACE_CHECK_EVERY_MS = 1000;

/**
 * Messages held in memory while the disk is full, in id order, bounded by `outbox.memory_bytes`:
 * handed to the forwarder as if committed, written to the file (first, in order) when space
 * returns. Beyond the bound, raw is dropped first, oldest first.
 */
export class MemoryHold {
  private readonly held = new Map<number, PendingMsg>();
  private heldBytes = 0;
  /** performance.now() before which the disk is not tried again (0: not waiting). */
  private retryAt = 0;

  constructor(private readonly limitBytes: number) {}

  get size(): number {
    return this.held.size;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  values(): IterableIterator<PendingMsg> {
    return this.held.values();
  }

  /** The disk was full a moment ago: keep to memory for now. */
  get waitingForDisk(): boolean {
    return this.held.size > 0 && performance.now() < this.retryAt;
  }

  /** A write failed for lack of space: try the disk again in DISK_RETRY_MS. */
  retryLater(): void {
    this.retryAt = performance.now() + DISK_RETRY_MS;
  }

  /** Part of what was held went to the file: try the disk again with the next commit. */
  retrySoon(): void {
    this.retryAt = performance.now();
  }

  /** Try the disk with the next commit (at close). */
  retryNow(): void {
    this.retryAt = 0;
  }

  /** The oldest held messages whose counted bytes fit in `budget`. */
  oldest(budget: number): PendingMsg[] {
    const out: PendingMsg[] = [];
    let n = 0;
    for (const m of this.held.values()) {
      n += countedBytes(m);
      if (n > budget) break;
      out.push(m);
    }
    return out;
  }

  /** Holding `part` would overflow the bound (while the file has messages that could make room). */
  wouldOverflow(part: readonly PendingMsg[], storedBytes: number): boolean {
    return this.heldBytes + bytesOf(part) > this.limitBytes && storedBytes > 0;
  }

  /** Hold `part`; returns the messages dropped to stay within the bound (raw first, oldest first; some may be older ones). */
  hold(part: readonly PendingMsg[]): PendingMsg[] {
    for (const m of part) {
      this.held.set(m.id, m);
      this.heldBytes += countedBytes(m);
    }
    const victims: PendingMsg[] = [];
    for (let p = 0; p < 3 && this.heldBytes > this.limitBytes; p++) {
      for (const m of this.held.values()) {
        if (this.heldBytes <= this.limitBytes) break;
        if (m.priority !== p) continue;
        this.remove(m);
        victims.push(m);
      }
    }
    return victims;
  }

  /** Acknowledged upstream while held: gone. Returns it if it was held. */
  take(id: number): PendingMsg | undefined {
    const m = this.held.get(id);
    if (m) this.remove(m);
    return m;
  }

  /**
   * These messages were committed to the file: no longer held. True when that emptied the memory
   * after a disk-full (space is back).
   */
  committed(batch: readonly PendingMsg[]): boolean {
    for (const m of batch) if (m.announced && this.held.has(m.id)) this.remove(m);
    if (this.held.size > 0 || this.retryAt === 0) return false;
    this.retryAt = 0;
    return true;
  }

  /** Forget everything held (lost with the process at close). */
  clear(): PendingMsg[] {
    const all = [...this.held.values()];
    this.held.clear();
    this.heldBytes = 0;
    return all;
  }

  private remove(m: PendingMsg): void {
    this.held.delete(m.id);
    this.heldBytes -= countedBytes(m);
  }
}

/**
 * Room the outbox leaves free on its file system for itself: deleting acknowledged rows and
 * dropping old ones are writes too (their pages go to the WAL first), so its own inserts never take
 * the last of it, or a full disk would keep the backlog from ever draining.
 */
export const SPACE_RESERVE_BYTES = 256 * 1024;
/** Free space beyond the reserve under which space is tight (see DiskSpace.tight). */
const TIGHT_BYTES = 8 * 1024 * 1024;
/** Disk bytes a message's counted bytes may take while written: its copy in the WAL and its page in the file, with index and page overhead. */
const WRITE_FACTOR = 3;

/**
 * Free space on the file system holding the outbox. While it is low, what the WAL holds counts as
 * used: checkpointing it may grow the file by as much.
 */
export class DiskSpace {
  private lastCheck = -Infinity;
  private low = false;
  private lastReserveTry = -Infinity;
  private readonly dir: string;
  private readonly wal: string;
  /** The emergency reserve file (none for a database in memory). */
  private readonly reserve: SpaceReserve | undefined;

  constructor(
    file: string,
    /** Bytes of free pages inside the database file: inserts reuse them before the file grows. */
    private readonly freeInFile: () => number = () => 0,
  ) {
    this.dir = path.dirname(file);
    this.wal = `${file}-wal`;
    this.reserve = file === ':memory:' ? undefined : new SpaceReserve(file);
  }

  /**
   * A write failed for lack of space: delete the reserve file, so that deletes and the WAL's
   * truncation can run. Bytes freed (0: it was not there).
   */
  releaseReserve(): number {
    return this.reserve?.release() ?? 0;
  }

  /** Make the reserve file again once there is room for it twice over (tried at most once a second). */
  keepReserve(): void {
    const r = this.reserve;
    if (!r || r.held) return;
    const t = performance.now();
    if (t - this.lastReserveTry < SPACE_CHECK_EVERY_MS) return;
    this.lastReserveTry = t;
    const f = this.statfs();
    if (f === undefined) return;
    const bytes = SpaceReserve.bytesFor(f.size);
    if (f.free - this.walBytes() - SPACE_RESERVE_BYTES >= 2 * bytes) r.make(bytes);
  }

  /** Less than 16 MiB or 10 % free (checked at most once a second). */
  isLow(): boolean {
    const t = performance.now();
    if (t - this.lastCheck < SPACE_CHECK_EVERY_MS) return this.low;
    this.lastCheck = t;
    const f = this.statfs();
    this.low = f !== undefined && (f.free < LOW_SPACE_BYTES || f.free < f.size / 10);
    return this.low;
  }

  /**
   * Counted message bytes that may be written now and leave the reserve free (no limit while space
   * is not low). Each written byte takes up to WRITE_FACTOR / 2 in the WAL, on the file system
   * whatever the file holds, and as much again in the file when it has to grow: free pages in the
   * file spare the growth, never the WAL's copy.
   */
  budget(): number {
    if (!this.isLow()) return Infinity;
    const h = this.headroom();
    if (h === undefined) return Infinity;
    if (h <= 0) return 0;
    const inFile = this.inFile();
    return h <= inFile ? h / (WRITE_FACTOR / 2) : (h + inFile) / WRITE_FACTOR;
  }

  /** These messages may be written now (their bytes are summed only while space is low). */
  fits(messages: readonly PendingMsg[]): boolean {
    return this.room(messages) >= 0;
  }

  /**
   * Counted bytes left for the transaction's other parts (the ingest journal) once these messages
   * are written: Infinity while space is not low, negative when the messages do not fit.
   */
  room(messages: readonly PendingMsg[]): number {
    const b = this.budget();
    return b === Infinity ? b : b - bytesOf(messages);
  }

  /**
   * Space is low and the WAL reaches into the reserve. Deletes (acknowledgements) are not held to
   * the budget: they grow the WAL alone, and once it holds inserted pages too, checkpointing them
   * needs room the WAL must not take.
   */
  walOverReserve(): boolean {
    if (!this.isLow()) return false;
    const h = this.headroom();
    return h !== undefined && h < 0;
  }

  /**
   * Space is tight: less than TIGHT_BYTES free beyond the reserve, the WAL counted as used (a small
   * disk, or one nearly filled). Then the WAL goes after every write, free pages go back to the
   * file system and acknowledgements are deleted in small pieces. A large disk that is merely low
   * (10 % of 32 GB free) keeps the once-a-second truncation: no fsync per commit, no page moves.
   */
  tight(): boolean {
    if (!this.isLow()) return false;
    const h = this.headroom();
    return h !== undefined && h < TIGHT_BYTES;
  }

  /** The WAL file holds anything (an empty one needs no truncation). */
  hasWal(): boolean {
    return this.walBytes() > 0;
  }

  /** Free bytes on the file system beyond the reserve once the WAL is checkpointed (at worst into new pages). */
  private headroom(): number | undefined {
    const f = this.statfs();
    if (f === undefined) return undefined;
    // The reserve file's bytes are not for messages, also while it is released.
    const owed = this.reserve && !this.reserve.held ? SpaceReserve.bytesFor(f.size) : 0;
    return f.free - this.walBytes() - SPACE_RESERVE_BYTES - owed;
  }

  private walBytes(): number {
    try {
      return statSync(this.wal).size;
    } catch {
      return 0; // no WAL file (exclusive mode, or not created yet)
    }
  }

  private inFile(): number {
    try {
      return this.freeInFile();
    } catch {
      return 0; // the database is closed or failing: the file system's figure alone
    }
  }

  private statfs(): { free: number; size: number } | undefined {
    try {
      const f = statfsSync(this.dir);
      return { free: f.bavail * f.bsize, size: f.blocks * f.bsize };
    } catch {
      return undefined;
    }
  }
}

/** Counted bytes of these messages. */
function bytesOf(messages: Iterable<PendingMsg>): number {
  let n = 0;
  for (const m of messages) n += countedBytes(m);
  return n;
}
