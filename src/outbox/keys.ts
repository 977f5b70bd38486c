import type { UpstreamKind } from '../core/payload.js';
import type { KeyRow, RowGroup } from './store.js';
import type { KeyState, PendingMsg } from './types.js';

/** One upstream topic's name (kind + stream). */
export function keyName(kind: string, stream: string): string {
  return `${kind}\u0000${stream}`;
}

/** A key idle this long (its topic not put, by the outbox's clock), with no rows and no unsaved seq, leaves memory. */
const KEY_IDLE_MS = 10 * 60_000;

/**
 * The sequence keys: one per upstream topic (kind + stream), with its last `seq`, how many of its
 * rows are buffered and the newest one. A key's last seq is saved in the same transaction as its
 * messages, so after a crash the next seq follows the last committed one.
 *
 * In memory are the keys in use: a key with no buffered rows and no unsaved seq, idle for
 * `KEY_IDLE_MS`, is dropped (`evictIdle`), and read back from the file when its topic is put again,
 * its seq going on from the saved one. Until 2026-12-07 every topic ever seen stayed in memory, and
 * was read back at every start: a fleet whose devices come and go grew the heap by ~2.3 KB a device
 * for good (bench/soak.ts).
 */
export class KeyRegistry {
  private readonly byName = new Map<string, KeyState>();
  private readonly byId = new Map<number, KeyState>();
  private nextKeyId = 1;
  /** The file's saved key of a topic not in memory. */
  private saved: (kind: UpstreamKind, stream: string) => KeyRow | undefined = () => undefined;
  /** Keys whose last seq is not saved yet (a commit saves these, not every key: commits come every few ms with the journal on). */
  private readonly dirty = new Set<KeyState>();

  /** Start over from what a file holds: the keys of its buffered rows, and where to read the others. */
  load(keys: readonly KeyRow[], rows: readonly RowGroup[], maxKeyId: number, saved: (kind: UpstreamKind, stream: string) => KeyRow | undefined, now: number): void {
    this.byName.clear();
    this.byId.clear();
    this.dirty.clear();
    this.saved = saved;
    let maxKey = maxKeyId;
    for (const r of keys) {
      const k: KeyState = { id: r.id, kind: r.kind, stream: r.stream, lastSeq: r.lastSeq, count: 0, tip: 0, used: now };
      this.byName.set(keyName(r.kind, r.stream), k);
      this.byId.set(r.id, k);
      if (r.id > maxKey) maxKey = r.id;
    }
    for (const r of rows) {
      const k = this.byId.get(r.keyId);
      if (!k) continue;
      k.count += r.n;
      k.tip = Math.max(k.tip, r.tip);
    }
    this.nextKeyId = maxKey + 1;
  }

  /** The key of a topic: in memory, or read back from the file, or created (unsaved) on first use. */
  keyFor(kind: UpstreamKind, stream: string, now: number, name = keyName(kind, stream)): KeyState {
    let key = this.byName.get(name);
    if (!key) {
      const r = this.saved(kind, stream);
      if (r) key = { id: r.id, kind, stream, lastSeq: r.lastSeq, count: 0, tip: 0, used: now };
      else {
        key = { id: this.nextKeyId++, kind, stream, lastSeq: 0, count: 0, tip: 0, used: now };
        this.dirty.add(key);
      }
      this.byName.set(name, key);
      this.byId.set(key.id, key);
    }
    key.used = now;
    return key;
  }

  /**
   * Drop the keys idle for `KEY_IDLE_MS` at `now` that hold nothing the file does not: no buffered
   * rows (nor rows in flight: they are counted until acknowledged), no seq given out and not yet
   * saved (a message put and not committed, or held in memory on a full disk, keeps its key dirty).
   * Returns how many went.
   */
  evictIdle(now: number): number {
    let n = 0;
    for (const [name, k] of this.byName) {
      if (k.count !== 0 || this.dirty.has(k) || now - k.used < KEY_IDLE_MS) continue;
      this.byName.delete(name);
      this.byId.delete(k.id);
      n++;
    }
    return n;
  }

  /** Keys in memory. */
  get size(): number {
    return this.byName.size;
  }

  /** The next seq of a key. */
  nextSeq(key: KeyState): number {
    this.dirty.add(key);
    return ++key.lastSeq;
  }

  get(id: number): KeyState | undefined {
    return this.byId.get(id);
  }

  /**
   * Which keys a commit saves, with which last seq. While more slices of the open batch follow,
   * only the batch's keys, each with its last seq in the batch (a window close touches every key:
   * saving them all with the first slice would make it the slow one, and a crash before the next
   * slice must leave no gap for its uncommitted messages); otherwise every changed key.
   */
  seqsToSave(batch: readonly PendingMsg[], moreFollow: boolean): Map<KeyState, number> {
    const save = new Map<KeyState, number>();
    if (moreFollow) for (const m of batch) save.set(m.key, Math.max(save.get(m.key) ?? 0, m.seq));
    else for (const k of this.dirty) save.set(k, k.lastSeq);
    return save;
  }

  /** The commit that saved `saved` committed. */
  markSaved(saved: Map<KeyState, number>): void {
    for (const [k, seq] of saved) if (seq === k.lastSeq) this.dirty.delete(k);
  }

  /** After a commit: rows added (+) or removed (-) per key, and the rows inserted (their tips). */
  applyCommitted(delta: Map<KeyState, number>, inserted: readonly PendingMsg[]): void {
    for (const [k, d] of delta) k.count += d;
    for (const m of inserted) if (m.id > m.key.tip) m.key.tip = m.id;
  }

  /** Keys that have committed rows, with their newest row id. */
  withRows(): Map<number, number> {
    const m = new Map<number, number>();
    for (const k of this.byId.values()) if (k.count > 0) m.set(k.id, k.tip);
    return m;
  }
}
