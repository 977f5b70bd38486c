import { PRIORITIES, type PerPriority, type Priority } from '../core/records.js';
import type { OutboxDropReason } from './drops.js';
import type { KeyRegistry } from './keys.js';
import type { OutboxStore, RowGroup, ScannedRow } from './store.js';
import { countedBytes, describe, ROW_OVERHEAD, type KeyState, type PendingMsg } from './types.js';

/** Buffered rows and their counted bytes, per priority (raw, aggregate, alert). */
export class Tally {
  constructor(
    readonly counts: PerPriority = [0, 0, 0],
    readonly bytes: PerPriority = [0, 0, 0],
  ) {}

  static of(rows: readonly RowGroup[]): Tally {
    const t = new Tally();
    for (const r of rows) t.add(r.priority, r.n, r.payloadBytes + r.n * ROW_OVERHEAD);
    return t;
  }

  copy(): Tally {
    return new Tally([...this.counts], [...this.bytes]);
  }

  add(priority: Priority, n: number, bytes: number): void {
    this.counts[priority] += n;
    this.bytes[priority] += bytes;
  }

  get messages(): number {
    return this.counts[0] + this.counts[1] + this.counts[2];
  }

  get totalBytes(): number {
    return this.bytes[0] + this.bytes[1] + this.bytes[2];
  }
}

export interface Dropped {
  reason: OutboxDropReason;
  priority: Priority;
  what: string;
}

/**
 * The bounds, applied inside a commit's transaction to a working copy of the tally: the age bound
 * (`max_age`) and the byte bound (make room for the batch: the lowest priority first, oldest first
 * within a priority; the batch's messages count as the newest of their priority). What it deletes
 * is recorded in `dropped` and in the per-key row changes, applied to memory once committed.
 */
export class Retention {
  readonly dropped: Dropped[] = [];
  /** Rows removed (-) or added (+) per key. */
  readonly keyDelta = new Map<KeyState, number>();

  constructor(
    private readonly store: OutboxStore,
    private readonly keys: KeyRegistry,
    readonly tally: Tally,
  ) {}

  /** A row is gone (acknowledged or dropped). */
  removed(keyId: number, priority: Priority, payloadBytes: number): void {
    this.tally.add(priority, -1, -(payloadBytes + ROW_OVERHEAD));
    const k = this.keys.get(keyId);
    if (k) this.keyDelta.set(k, (this.keyDelta.get(k) ?? 0) - 1);
  }

  added(m: PendingMsg): void {
    this.tally.add(m.priority, 1, countedBytes(m));
    this.keyDelta.set(m.key, (this.keyDelta.get(m.key) ?? 0) + 1);
  }

  /** Drop rows created before `cutoff`, oldest first in each priority. */
  dropOlderThan(cutoff: number): void {
    for (const p of PRIORITIES) {
      if (this.tally.counts[p] === 0) continue;
      const victims: ScannedRow[] = [];
      for (const r of this.store.scan(p)) {
        if (r.created >= cutoff) break;
        victims.push(r);
      }
      this.deleteRows(p, victims, 'max_age');
    }
  }

  /** Make room for `batch` under `maxBytes`; returns the batch's messages that do not fit (refused). */
  makeRoom(batch: readonly PendingMsg[], maxBytes: number, reason: OutboxDropReason): Set<PendingMsg> {
    let need = this.tally.totalBytes - maxBytes;
    for (const m of batch) need += countedBytes(m);
    const refused = new Set<PendingMsg>();
    for (const p of PRIORITIES) {
      if (need <= 0) break;
      if (this.tally.counts[p] > 0) {
        const victims: ScannedRow[] = [];
        for (const r of this.store.scan(p)) {
          victims.push(r);
          need -= r.n + ROW_OVERHEAD;
          if (need <= 0) break;
        }
        this.deleteRows(p, victims, reason);
      }
      for (const m of batch) {
        if (need <= 0) break;
        if (m.priority !== p) continue;
        refused.add(m);
        need -= countedBytes(m);
        this.dropped.push({ reason, priority: p, what: describe(m) });
      }
    }
    return refused;
  }

  /** Delete `victims` (the oldest rows of priority p, in id order) with one statement. */
  private deleteRows(p: Priority, victims: readonly ScannedRow[], reason: OutboxDropReason): void {
    const last = victims.at(-1);
    if (!last) return;
    this.store.deleteUpTo(p, last.id);
    for (const v of victims) {
      this.removed(v.keyId, p, v.n);
      this.dropped.push({ reason, priority: p, what: `id=${v.id} seq=${v.seq}` });
    }
  }
}
