import { statfsSync } from 'node:fs';
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

  /** Try the disk with the next commit (at close). */
  retryNow(): void {
    this.retryAt = 0;
  }

  /** Holding `part` would overflow the bound (while the file has messages that could make room). */
  wouldOverflow(part: readonly PendingMsg[], storedBytes: number): boolean {
    let n = this.heldBytes;
    for (const m of part) n += countedBytes(m);
    return n > this.limitBytes && storedBytes > 0;
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

/** Whether the file system holding the outbox is low on space (checked at most once a second). */
export class LowSpaceWatch {
  private lastCheck = -Infinity;
  private low = false;

  constructor(private readonly dir: string) {}

  isLow(): boolean {
    const t = performance.now();
    if (t - this.lastCheck < SPACE_CHECK_EVERY_MS) return this.low;
    this.lastCheck = t;
    try {
      const f = statfsSync(this.dir);
      const free = f.bavail * f.bsize;
      this.low = free < LOW_SPACE_BYTES || free < (f.blocks * f.bsize) / 10;
    } catch {
      this.low = false;
    }
    return this.low;
  }
}
