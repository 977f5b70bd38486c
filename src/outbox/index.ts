import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, statfsSync, statSync } from 'node:fs';
import path from 'node:path';
import { DropCounter, type DropSample } from '../core/drops.js';
import type { Logger } from '../core/log.js';
import { PRIORITY, priorityOf, type Emission, type Priority } from '../core/records.js';
import { encodePayload, upstreamKindOf, type UpstreamKind } from '../upstream/payload.js';
import type { OutboxConfig } from './config.js';
import { MessageIds, SeenIds } from './ids.js';
import { migrateOutbox, NewerSchemaError, OUTBOX_SCHEMA_VERSION } from './migrate.js';
import { DropLog } from './drop-log.js';

export type { OutboxConfig } from './config.js';

/** Bytes counted per row on top of its payload (key, ids, timestamps, b-tree cell). */
export const ROW_OVERHEAD = 32;
const PRIORITY_NAMES = ['raw', 'aggregate', 'alert'] as const;
const AGE_SWEEP_EVERY_MS = 5_000;
/**
 * Truncating the WAL (a checkpoint, with fsync) blocks the event loop for milliseconds. With the
 * uplink up the outbox drains to empty after every batch, so doing it each time would stall
 * ingest once a second (bench/runtime.bench.ts, p99 publish → reading): at most this often.
 */
const GIVE_BACK_EVERY_MS = 30_000;
/**
 * A commit is synchronous (better-sqlite3): at ~10 µs a row, the burst of one window close (a row
 * per stream) would hold the event loop, and ingest, for milliseconds. The commit timer therefore
 * commits at most this many messages (and as many acknowledgements) per transaction, the rest in
 * the next turns of the event loop. flush() still commits everything at once.
 */
const COMMIT_SLICE = 50;
const DEAD_LETTER_MAX_ROWS = 1000;
/** While the disk is full, fresh messages go to memory and the disk is tried again this often. */
const DISK_RETRY_MS = 1000;
/** Free space under which the WAL is truncated after every commit (it would otherwise grow to journal_size_limit). */
const LOW_SPACE_BYTES = 16 * 1024 * 1024;
const SPACE_CHECK_EVERY_MS = 1000;
const DROP_HINTS: Record<string, string> = {
  outbox_full: 'The outbox reached outbox.max_bytes while the uplink was down or slow: raise it or check the uplink.',
  max_age: 'Buffered longer than outbox.max_age.',
  disk_full: 'The disk holding the outbox is full: free space on it (forwarding resumes by itself).',
  too_large: 'A payload was larger than outbox.max_message_bytes.',
  closed: 'Emitted after the outbox was closed.',
  corrupt_file: 'The outbox file was corrupt and was moved aside.',
};

/** Drop reasons the outbox counts (stats().dropped). */
export type OutboxDropReason = 'outbox_full' | 'max_age' | 'disk_full' | 'too_large' | 'closed' | 'corrupt_file';

/** One committed message, as the forwarder reads it. */
export interface OutboxRow {
  /** Local row id: increases with every message (the message id says what the record is: ids.ts). */
  id: number;
  priority: Priority;
  keyId: number;
  seq: number;
  payload: Buffer;
}

/** What a row's sequence key is: one upstream topic. */
export interface OutboxKey {
  id: number;
  kind: UpstreamKind;
  stream: string;
}

export interface OutboxStats {
  path: string;
  epoch: string;
  durability: 'normal' | 'full';
  /** Messages buffered (committed, not yet acknowledged), and their counted bytes. */
  depth: { messages: number; bytes: number; byPriority: Record<(typeof PRIORITY_NAMES)[number], number> };
  /** Messages waiting in the open batch (not yet committed). */
  pending: number;
  /** Size of the database file plus its WAL, in bytes. */
  fileBytes: number;
  /** The byte bound in force (lowered after the disk filled up, restored after a full drain). */
  effectiveMaxBytes: number;
  accepted: number;
  committed: number;
  commits: number;
  acked: number;
  /** Late readings not forwarded (forward_late: false). */
  lateSkipped: number;
  dropped: Record<string, number>;
  droppedByPriority: Record<(typeof PRIORITY_NAMES)[number], number>;
  /** Drops by reason over the life of this outbox file (saved in it, so they survive a crash and a restart). */
  droppedTotal: Record<string, number>;
  /** Times a corrupt or unreadable file was moved aside. */
  recoveries: number;
  /** Records refused because the outbox holds or has sent their id since the last checkpoint (a replay's copies; not a loss). */
  duplicateIds: number;
  diskFullEvents: number;
  /** True while writes fail for lack of space (fresh messages are then held in memory). */
  diskFull: boolean;
  /** Messages held in memory because the disk is full (forwarded all the same; counted in depth). */
  memory: { messages: number; bytes: number };
  /** Rows acknowledged upstream whose deletion is not committed yet (never sent again). */
  ackedPending: number;
  /** Age (ms) of the oldest buffered message, 0 when empty. */
  oldestAgeMs: number;
  deadLetters: number;
}

interface PendingMsg {
  id: number;
  /** The message id (what the record is: see ids.ts). */
  msgId: string;
  priority: Priority;
  key: KeyState;
  seq: number;
  created: number;
  payload: Buffer;
  /** Already handed to the forwarder (held in memory while the disk was full). */
  announced?: boolean;
}

interface KeyState extends OutboxKey {
  lastSeq: number;
  /** Rows of this key in the database. */
  count: number;
  /** Largest committed row id of this key. */
  tip: number;
  dirty: boolean;
}

export type CommitListener = (rows: OutboxRow[]) => void;

/**
 * Something written in the same transaction as the outbox's messages (the ingest journal, a
 * checkpoint): `write` runs inside the transaction, after the messages; `committed` after it
 * committed. When the transaction fails, `committed` is not called and `write` runs again with
 * the next commit.
 */
export interface TxPart {
  write(db: Database.Database, batch: readonly { msgId: string }[]): void;
  committed(): void;
}

export interface OutboxOpenOptions {
  config: OutboxConfig;
  dataDir: string;
  gatewayId: string;
  log: Logger;
  now?: () => number;
  /** Test hook: PRAGMA max_page_count, to simulate a full disk. */
  maxPageCount?: number;
  /** Test hook: how often at most the WAL is truncated when the outbox is empty (default 30 s). */
  giveBackEveryMs?: number;
}

const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_VTAB', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_CORRUPT_INDEX']);
const isFull = (e: unknown) => {
  const c = (e as { code?: string }).code ?? '';
  return c === 'SQLITE_FULL' || c.startsWith('SQLITE_IOERR_WRITE') || c.startsWith('SQLITE_IOERR_SHM') || c === 'ENOSPC' || /disk is full|database or disk is full/i.test(String((e as Error).message));
};
const isCorrupt = (e: unknown) => CORRUPT_CODES.has((e as { code?: string }).code ?? '');

/**
 * The store-and-forward outbox: a SQLite file (WAL) that every upstream message goes through.
 * put() is synchronous and cheap; messages are committed in groups (N messages or T ms).
 */
export class Outbox {
  readonly file: string;
  private db!: Database.Database;
  private readonly cfg: OutboxConfig;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly gateway: string;
  private readonly maxPageCount?: number;
  private readonly giveBackEveryMs: number;
  private lastTruncate = -Infinity;
  private giveBackTimer: NodeJS.Timeout | null = null;
  private sliceTimer: NodeJS.Immediate | null = null;
  private epoch = '';
  private nextId = 1;
  private nextKeyId = 1;
  private readonly keys = new Map<string, KeyState>();
  private readonly keysById = new Map<number, KeyState>();
  private batch: PendingMsg[] = [];
  private acks: OutboxRow[] = [];
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private lastAgeSweep = 0;
  private readonly listeners: CommitListener[] = [];
  readonly drops = new DropCounter(3, 256);
  private counts = [0, 0, 0];
  private bytes = [0, 0, 0];
  private effectiveMax: number;
  private st = { accepted: 0, committed: 0, commits: 0, acked: 0, lateSkipped: 0, recoveries: 0, diskFullEvents: 0, deadLetters: 0 };
  private droppedByPriority = [0, 0, 0];
  private diskFullLogged = false;
  private stmts!: ReturnType<Outbox['prepare']>;
  /** Message ids: derived from what a record is; a second copy since the last checkpoint is refused. */
  readonly ids = new MessageIds();
  private readonly seen = new SeenIds();
  private duplicateIds = 0;
  /** Ids are checked only when checkpoints are taken (a replay can then produce copies); see trackIds(). */
  private tracking = false;
  private readonly txParts: TxPart[] = [{ write: (db, batch) => (this.tracking ? this.seen.write(db, batch) : undefined), committed() {} }];
  private oneShot: TxPart | undefined;
  private readonly dropLog: DropLog;
  /** Drops by reason saved in the file, and those not saved yet (written with the next commit). */
  private savedDrops = new Map<string, number>();
  private readonly unsavedDrops = new Map<string, number>();
  /** Acknowledged rows whose delete is not committed yet: never read back for sending. */
  private readonly ackedIds = new Set<number>();
  /** Messages held in memory while the disk is full, in id order; written to the file when space returns. */
  private readonly mem = new Map<number, PendingMsg>();
  private memBytes = 0;
  private diskRetryAt = 0;
  private lastSpaceCheck = -Infinity;
  private lowOnSpace = false;

  private constructor(opts: OutboxOpenOptions) {
    this.cfg = opts.config;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.gateway = opts.gatewayId;
    this.maxPageCount = opts.maxPageCount;
    this.giveBackEveryMs = opts.giveBackEveryMs ?? GIVE_BACK_EVERY_MS;
    this.file = path.resolve(opts.dataDir, opts.config.path);
    this.effectiveMax = opts.config.max_bytes;
    this.dropLog = new DropLog(opts.log, 'outbox', (r) => DROP_HINTS[r] ?? '');
  }

  /** Open (or create) the outbox. A corrupt or unreadable file is moved aside and a new one started. */
  static open(opts: OutboxOpenOptions): Outbox {
    const o = new Outbox(opts);
    mkdirSync(path.dirname(o.file), { recursive: true });
    o.openDb(true);
    return o;
  }

  // ---------------------------------------------------------------- opening and recovery

  private openDb(check: boolean): void {
    try {
      try {
        this.openAndLoad(this.file, check);
      } catch (err) {
        if (!isFull(err)) throw err;
        // No space for the shared-memory index (-shm): exclusive locking keeps it in the heap.
        this.log.warn({ err, file: this.file }, `outbox: disk full opening ${this.file}; opening it in exclusive locking mode (no -shm file)`);
        this.openAndLoad(this.file, check, true);
      }
    } catch (err) {
      if (err instanceof NewerSchemaError) throw err; // not ours to set aside
      if (isFull(err)) {
        this.log.error(
          { err, file: this.file },
          `outbox: cannot open ${this.file}: the disk is full (${(err as Error).message}); buffering in memory only until restart. Free space on the device.`,
        );
        this.openAndLoad(':memory:', false);
        return;
      }
      this.moveAside(err);
      try {
        this.openAndLoad(this.file, false);
      } catch (err2) {
        this.log.error(
          { err: err2, file: this.file },
          `outbox: cannot create ${this.file} (${(err2 as Error).message}); buffering in memory only until restart — check that the data directory is writable and has space`,
        );
        this.openAndLoad(':memory:', false);
      }
    }
  }

  private openAndLoad(file: string, check: boolean, exclusive = false): void {
    const db = new Database(file);
    try {
      if (exclusive) db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('busy_timeout = 5000');
      const fresh = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type='table'").get() as { n: number }).n === 0;
      if (fresh) db.pragma('auto_vacuum = INCREMENTAL');
      if (file !== ':memory:') db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${this.cfg.durability === 'full' ? 'FULL' : 'NORMAL'}`);
      db.pragma('journal_size_limit = 4194304');
      if (this.maxPageCount) db.pragma(`max_page_count = ${this.maxPageCount}`);
      if (check && !fresh && this.cfg.check_on_open === 'quick') {
        const rows = db.pragma('quick_check') as { quick_check: string }[];
        if (rows.length !== 1 || rows[0]!.quick_check !== 'ok') {
          const e = new Error(`quick_check failed: ${rows.slice(0, 3).map((r) => r.quick_check).join('; ')}`) as Error & { code: string };
          e.code = 'SQLITE_CORRUPT';
          throw e;
        }
      }
      db.exec(`
        CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS keys (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, stream TEXT NOT NULL, last_seq INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS messages (
          priority INTEGER NOT NULL, id INTEGER NOT NULL, key_id INTEGER NOT NULL, seq INTEGER NOT NULL,
          created INTEGER NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (priority, id)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS dead_letters (id INTEGER PRIMARY KEY, source TEXT NOT NULL, reason TEXT NOT NULL,
          at INTEGER NOT NULL, detail TEXT, sample TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS drop_counts (reason TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
      `);
      this.savedDrops = new Map((db.prepare('SELECT reason, n FROM drop_counts').all() as { reason: string; n: number }[]).map((r) => [r.reason, r.n]));
      const meta = new Map((db.prepare('SELECT k, v FROM meta').all() as { k: string; v: string }[]).map((r) => [r.k, r.v]));
      const schema = migrateOutbox(db, file, meta.get('schema'));
      if (schema.from !== schema.to) this.log.info({ file, from: schema.from, to: schema.to }, `outbox: migrated ${file} from schema ${schema.from} to ${schema.to} in place`);
      let epoch = meta.get('epoch');
      if (!epoch) {
        epoch = randomBytes(8).toString('hex');
        db.prepare('INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?), (?, ?), (?, ?)').run('epoch', epoch, 'schema', String(OUTBOX_SCHEMA_VERSION), 'next_id', '1');
      }
      // Load state.
      this.keys.clear();
      this.keysById.clear();
      this.counts = [0, 0, 0];
      this.bytes = [0, 0, 0];
      let maxKey = 0;
      for (const r of db.prepare('SELECT id, kind, stream, last_seq FROM keys').iterate() as Iterable<{ id: number; kind: UpstreamKind; stream: string; last_seq: number }>) {
        const k: KeyState = { id: r.id, kind: r.kind, stream: r.stream, lastSeq: r.last_seq, count: 0, tip: 0, dirty: false };
        this.keys.set(keyName(r.kind, r.stream), k);
        this.keysById.set(r.id, k);
        if (r.id > maxKey) maxKey = r.id;
      }
      for (const r of db
        .prepare('SELECT key_id, priority, count(*) AS n, sum(length(payload)) AS b, max(id) AS tip FROM messages GROUP BY key_id, priority')
        .all() as { key_id: number; priority: number; n: number; b: number; tip: number }[]) {
        this.counts[r.priority] += r.n;
        this.bytes[r.priority] += r.b + r.n * ROW_OVERHEAD;
        const k = this.keysById.get(r.key_id);
        if (k) {
          k.count += r.n;
          k.tip = Math.max(k.tip, r.tip);
        }
      }
      const maxRow = (db.prepare('SELECT max(id) AS m FROM messages').get() as { m: number | null }).m ?? 0;
      this.nextId = Math.max(Number(meta.get('next_id') ?? 1), maxRow + 1);
      this.nextKeyId = maxKey + 1;
      this.epoch = epoch;
      this.st.deadLetters = (db.prepare('SELECT count(*) AS n FROM dead_letters').get() as { n: number }).n;
      this.seen.load(db);
      this.db = db;
      this.stmts = this.prepare();
      const depth = this.counts[0]! + this.counts[1]! + this.counts[2]!;
      this.log.info({ file, epoch, depth }, `outbox: opened ${file} (${depth} buffered messages)`);
    } catch (err) {
      try {
        db.close();
      } catch {
        /* already unusable */
      }
      throw err;
    }
  }

  private prepare() {
    const db = this.db;
    return {
      insert: db.prepare('INSERT INTO messages (priority, id, key_id, seq, created, payload) VALUES (?, ?, ?, ?, ?, ?)'),
      del: db.prepare('DELETE FROM messages WHERE priority = ? AND id = ?'),
      delUpTo: db.prepare('DELETE FROM messages WHERE priority = ? AND id <= ?'),
      scanPrio: db.prepare('SELECT id, key_id AS keyId, seq, created, length(payload) AS n FROM messages WHERE priority = ? ORDER BY id'),
      upsertKey: db.prepare('INSERT INTO keys (id, kind, stream, last_seq) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET last_seq = excluded.last_seq'),
      setMeta: db.prepare('INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)'),
      readFrom: db.prepare('SELECT id, key_id AS keyId, seq, payload FROM messages WHERE priority = ? AND id > ? ORDER BY id LIMIT ?'),
      oldest: db.prepare('SELECT min(created) AS c FROM messages'),
      dlInsert: db.prepare('INSERT INTO dead_letters (source, reason, at, detail, sample) VALUES (?, ?, ?, ?, ?)'),
      dlTrim: db.prepare('DELETE FROM dead_letters WHERE id <= (SELECT max(id) FROM dead_letters) - ?'),
      addDrops: db.prepare('INSERT INTO drop_counts (reason, n) VALUES (?, ?) ON CONFLICT(reason) DO UPDATE SET n = n + excluded.n'),
    };
  }

  /** Move a corrupt or unreadable file (and its WAL/SHM) aside as `<name>.corrupt-<timestamp>`. */
  private moveAside(err: unknown): void {
    const stamp = new Date(this.now()).toISOString().replace(/[:.]/g, '-');
    const aside = `${this.file}.corrupt-${stamp}`;
    let moved = false;
    try {
      if (existsSync(this.file)) {
        renameSync(this.file, aside);
        moved = true;
      }
      for (const sfx of ['-wal', '-shm']) if (existsSync(this.file + sfx)) renameSync(this.file + sfx, aside + sfx);
    } catch (e) {
      this.log.error({ err: e, file: this.file }, `outbox: could not move ${this.file} aside: ${(e as Error).message}`);
    }
    this.st.recoveries++;
    this.countDrop('corrupt_file', undefined, this.file, `${(err as Error).message}; moved to ${aside}`);
    this.log.error(
      { err, file: this.file, movedTo: moved ? aside : undefined, code: (err as { code?: string }).code },
      `outbox: ${this.file} is corrupt or unreadable (${(err as Error).message}); ${moved ? `moved it to ${aside}` : 'could not move it'} and started a new outbox. Messages buffered in the old file are not sent; inspect or delete the moved file.`,
    );
  }

  /** Corruption found while running: start over with a new file (what was buffered is counted as lost). */
  private recoverAtRuntime(err: unknown): void {
    const lost = this.counts[0]! + this.counts[1]! + this.counts[2]!;
    for (let i = 0; i < lost; i++) this.countDrop('corrupt_file', undefined, 'a buffered message');
    try {
      this.db.close();
    } catch {
      /* ignore */
    }
    this.moveAside(err);
    this.openDb(false);
    for (const l of this.resetListeners) l();
  }

  private readonly resetListeners: (() => void)[] = [];

  // ---------------------------------------------------------------- writing

  /** Buffer one emission for upstream. Synchronous; committed with its batch (flush()). */
  put(e: Emission): void {
    const now = this.now();
    if (this.closed) {
      this.countDrop('closed', undefined, JSON.stringify(e).slice(0, 200), 'put() after close()');
      return;
    }
    if (e.kind === 'late' && !this.cfg.forward_late) {
      this.st.lateSkipped++;
      return;
    }
    this.st.accepted++;
    const ks = upstreamKindOf(e);
    const name = keyName(ks.kind, ks.stream);
    let key = this.keys.get(name);
    if (!key) {
      key = { id: this.nextKeyId++, kind: ks.kind, stream: ks.stream, lastSeq: 0, count: 0, tip: 0, dirty: true };
      this.keys.set(name, key);
      this.keysById.set(key.id, key);
    }
    const msgId = this.ids.idOf(e, ks.kind, ks.stream, name);
    if (this.tracking) {
      if (this.seen.has(msgId)) {
        // A copy of a record already held or sent (a replay after a crash): not a loss, counted.
        this.duplicateIds++;
        return;
      }
      this.seen.add(msgId);
    }
    const id = this.nextId++;
    const seq = ++key.lastSeq;
    key.dirty = true;
    const payload = encodePayload(e, { gateway: this.gateway, id: msgId, epoch: this.epoch, seq, emitted: now }, ks);
    const priority = priorityOf(e);
    if (payload.length > this.cfg.max_message_bytes) {
      this.countDrop('too_large', priority, `${ks.kind} ${ks.stream} seq=${seq}`, `payload of ${payload.length} bytes > max_message_bytes ${this.cfg.max_message_bytes}`);
      this.arm(); // saves the drop count
      return;
    }
    this.batch.push({ id, msgId, priority, key, seq, created: now, payload });
    if (this.batch.length >= this.cfg.commit_max_messages) this.flush();
    else this.arm();
  }

  /**
   * Remember the ids put since the last checkpoint (in memory and in the file) and refuse a second
   * copy: for a gateway that takes checkpoints (they forget the ids), so a replay after a crash
   * does not send a record twice. Without checkpoints nothing is remembered (it would only grow).
   */
  trackIds(): void {
    this.tracking = true;
  }

  /** Write `part` in every commit transaction from now on (the ingest journal). */
  addTxPart(part: TxPart): void {
    this.txParts.push(part);
  }

  /**
   * A checkpoint: commit everything pending (messages, acknowledgements, every TxPart) together
   * with `state` in one transaction, so saved state and the emissions it led to never disagree.
   * Message ids from before it are forgotten: a replay after it cannot produce them again.
   */
  checkpoint(state: TxPart): void {
    if (this.closed) throw new Error(`outbox ${this.file}: closed`);
    this.oneShot = {
      write: (db, batch) => {
        state.write(db, batch);
        this.seen.clearIn(db);
      },
      committed: () => {
        this.seen.clear();
        state.committed();
      },
    };
    try {
      this.flush();
      // Nothing was pending, or the commit failed and its batch waits: commit the parts alone.
      if (this.oneShot) this.commitParts();
    } finally {
      this.oneShot = undefined;
    }
  }

  /** Commit the TxParts alone (no messages): the journal's group commit. */
  commitParts(): void {
    const parts = this.oneShot ? [...this.txParts, this.oneShot] : this.txParts;
    this.db.transaction(() => {
      for (const p of parts) p.write(this.db, []);
    })();
    this.oneShot = undefined;
    for (const p of parts) p.committed();
  }

  /** A small value another part keeps in the outbox file (e.g. the Sparkplug bdSeq); undefined when unset. */
  readMeta(k: string): string | undefined {
    return (this.db.prepare('SELECT v FROM meta WHERE k = ?').get(`ext:${k}`) as { v: string } | undefined)?.v;
  }

  /** Store such a value at once (its own transaction), so it survives a crash right after. */
  writeMeta(k: string, v: string): void {
    this.db.prepare('INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)').run(`ext:${k}`, v);
  }

  /** The open database (checkpoints and the journal live in it too). */
  get database(): Database.Database {
    return this.db;
  }

  /** Mark rows as acknowledged upstream: deleted with the next commit (never read back for sending again). */
  ack(row: OutboxRow): void {
    const m = this.mem.get(row.id);
    if (m) {
      this.mem.delete(row.id);
      this.memBytes -= m.payload.length + ROW_OVERHEAD;
      this.st.acked++;
      return;
    }
    this.ackedIds.add(row.id);
    this.acks.push(row);
    if (this.acks.length >= this.cfg.commit_max_messages && this.mem.size === 0) this.flush();
    else this.arm();
  }

  private arm(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.commitPending(COMMIT_SLICE);
    }, this.cfg.commit_interval);
  }

  /** Commit the open batch (and pending acknowledgements) now: one transaction. */
  flush(): void {
    this.commitPending(Infinity);
  }

  /** Commit up to `limit` pending messages and as many acknowledgements; the rest follow in the next turn of the event loop. */
  private commitPending(limit: number): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.sliceTimer) {
      clearImmediate(this.sliceTimer);
      this.sliceTimer = null;
    }
    const now = this.now();
    const sweep = this.cfg.max_age > 0 && now - this.lastAgeSweep >= AGE_SWEEP_EVERY_MS;
    if (this.batch.length === 0 && this.acks.length === 0 && !sweep && this.unsavedDrops.size === 0 && this.mem.size === 0) return;
    if (sweep) this.lastAgeSweep = now;
    const part = this.batch.length > limit ? this.batch.splice(0, limit) : this.batch;
    const acks = this.acks.length > limit ? this.acks.splice(0, limit) : this.acks;
    if (part === this.batch) this.batch = [];
    if (acks === this.acks) this.acks = [];
    if (this.mem.size && performance.now() < this.diskRetryAt && !this.memoryWouldOverflow(part)) {
      // The disk was full a moment ago: keep forwarding from memory, try the disk again later.
      this.acks = acks.concat(this.acks);
      this.hold(part);
      if (this.batch.length || this.acks.length || this.mem.size) this.arm();
      return;
    }
    // What was held in memory goes to the file first, in order, with the new batch.
    const batch = this.mem.size ? [...this.mem.values(), ...part] : part;
    try {
      // A bound lowered after the disk filled up drops for disk_full, not outbox_full.
      this.commit(batch, acks, sweep, now, this.effectiveMax, this.effectiveMax < this.cfg.max_bytes ? 'disk_full' : 'outbox_full');
      if ((this.batch.length || this.acks.length) && !this.closed && !this.sliceTimer) {
        this.sliceTimer = setImmediate(() => {
          this.sliceTimer = null;
          this.commitPending(COMMIT_SLICE);
        });
      }
    } catch (err) {
      if (isFull(err)) {
        this.onDiskFull(err, batch, part, acks, sweep, now);
      } else if (isCorrupt(err)) {
        this.recoverAtRuntime(err);
        for (const m of part) this.countDrop('corrupt_file', m.priority, `${m.key.kind} ${m.key.stream} seq=${m.seq}`);
      } else {
        // Unknown I/O error: keep the batch for the next try, bounded by the byte bound.
        this.log.error({ err, file: this.file }, `outbox: commit failed (${(err as Error).message}); will retry`);
        this.batch = part.concat(this.batch);
        this.acks = acks.concat(this.acks);
        const over = this.batch.length - this.cfg.commit_max_messages * 10;
        if (over > 0) for (const m of this.batch.splice(0, over)) this.countDrop('disk_full', m.priority, `${m.key.kind} ${m.key.stream} seq=${m.seq}`);
      }
    }
    // Whatever is still pending (the retry after an error included) goes with the next timer.
    if ((this.batch.length || this.acks.length || this.mem.size) && !this.sliceTimer) this.arm();
  }

  /**
   * A write failed for lack of space. In order: give the WAL back and delete what was acknowledged
   * (that is where space comes from) and try again; when the memory queue would overflow and
   * messages are buffered, lower the byte bound (dropping raw first) and try again; else hold the
   * batch in memory (bounded by outbox.memory_bytes), where the forwarder sends it all the same,
   * and try the disk again in a second.
   */
  private onDiskFull(err: unknown, batch: PendingMsg[], part: PendingMsg[], acks: OutboxRow[], sweep: boolean, now: number): void {
    this.st.diskFullEvents++;
    if (!this.diskFullLogged) {
      this.diskFullLogged = true;
      this.log.warn(
        { err, file: this.file, storedBytes: this.storedBytes() },
        `outbox: disk full writing ${this.file}; truncating the WAL, deleting acknowledged messages and holding new ones in memory (up to outbox.memory_bytes ${this.cfg.memory_bytes}) until space returns. Free space on the device or lower outbox.max_bytes.`,
      );
    }
    const tryCommit = (b: PendingMsg[], a: OutboxRow[], maxBytes: number): boolean => {
      try {
        this.commit(b, a, sweep, now, maxBytes, 'disk_full');
        return true;
      } catch (e) {
        if (!isFull(e)) throw e;
        return false;
      }
    };
    this.truncateWal();
    if (acks.length && tryCommit([], acks, Infinity)) acks = [];
    if (tryCommit(batch, acks, this.effectiveMax)) return;
    const stored = this.storedBytes();
    if (this.memoryWouldOverflow(part)) {
      this.effectiveMax = Math.max(0, Math.floor(stored * 0.9));
      this.log.warn({ file: this.file, storedBytes: stored }, `outbox: disk still full; lowering the outbox bound to ${this.effectiveMax} bytes (dropping raw first)`);
      if (tryCommit(batch, acks, this.effectiveMax)) return;
    }
    this.diskRetryAt = performance.now() + DISK_RETRY_MS;
    this.acks = acks.concat(this.acks); // their ids stay in ackedIds: not sent again
    this.hold(part);
  }

  /** Holding `part` in memory would overflow memory_bytes while the file has messages that could make room. */
  private memoryWouldOverflow(part: PendingMsg[]): boolean {
    let n = this.memBytes;
    for (const m of part) n += m.payload.length + ROW_OVERHEAD;
    return n > this.cfg.memory_bytes && this.storedBytes() > 0;
  }

  /** Hold messages in memory (the disk is full) and hand them to the forwarder; beyond memory_bytes, drop raw first, oldest first. */
  private hold(part: PendingMsg[]): void {
    for (const m of part) {
      this.mem.set(m.id, m);
      this.memBytes += m.payload.length + ROW_OVERHEAD;
    }
    const victims = new Set<PendingMsg>();
    for (let p = 0; p < 3 && this.memBytes > this.cfg.memory_bytes; p++) {
      for (const m of this.mem.values()) {
        if (this.memBytes <= this.cfg.memory_bytes) break;
        if (m.priority !== p) continue;
        this.mem.delete(m.id);
        this.memBytes -= m.payload.length + ROW_OVERHEAD;
        victims.add(m);
        this.countDrop('disk_full', m.priority, `${m.key.kind} ${m.key.stream} seq=${m.seq}`);
      }
    }
    const rows: OutboxRow[] = [];
    for (const m of part) {
      if (victims.has(m)) continue;
      m.announced = true;
      if (m.id > m.key.tip) m.key.tip = m.id;
      rows.push({ id: m.id, priority: m.priority, keyId: m.key.id, seq: m.seq, payload: m.payload });
    }
    if (rows.length) for (const l of this.listeners) l(rows);
  }

  private truncateWal(): void {
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.lastTruncate = performance.now();
    } catch (err) {
      this.log.debug({ err }, 'outbox: WAL checkpoint failed');
    }
  }

  /** Free space on the outbox's file system is low (checked at most once a second). */
  private spaceIsLow(): boolean {
    const t = performance.now();
    if (t - this.lastSpaceCheck < SPACE_CHECK_EVERY_MS) return this.lowOnSpace;
    this.lastSpaceCheck = t;
    try {
      const f = statfsSync(path.dirname(this.file));
      const free = f.bavail * f.bsize;
      this.lowOnSpace = free < LOW_SPACE_BYTES || free < (f.blocks * f.bsize) / 10;
    } catch {
      this.lowOnSpace = false;
    }
    return this.lowOnSpace;
  }

  private storedBytes(): number {
    return this.bytes[0]! + this.bytes[1]! + this.bytes[2]!;
  }

  /**
   * One transaction: acknowledgements, bounds, the batch, and the last seq of each key. While more
   * slices follow, only the batch's keys are saved, each with the last seq in the batch (a window
   * close touches every key: saving them all with the first slice would make it the slow one, and
   * a crash before the next slice must leave no gap for its uncommitted messages); with the last
   * slice, every changed key.
   */
  private commit(batch: PendingMsg[], acks: OutboxRow[], sweep: boolean, now: number, maxBytes: number, fullReason: OutboxDropReason): void {
    const s = this.stmts;
    const parts = this.oneShot ? [...this.txParts, this.oneShot] : this.txParts;
    const saveSeq = new Map<KeyState, number>();
    if (this.batch.length > 0) for (const m of batch) saveSeq.set(m.key, Math.max(saveSeq.get(m.key) ?? 0, m.seq));
    else for (const k of this.keys.values()) if (k.dirty) saveSeq.set(k, k.lastSeq);
    // Everything below runs in one transaction; in-memory state changes only after it commits.
    const counts = [...this.counts];
    const bytes = [...this.bytes];
    const keyDelta = new Map<KeyState, number>();
    const dropped: { reason: OutboxDropReason; priority: number; what: string }[] = [];
    let acked = 0;
    const inserted: PendingMsg[] = [];
    const toSave = new Map(this.unsavedDrops);
    const dec = (keyId: number, p: number, n: number, b: number) => {
      counts[p] -= n;
      bytes[p] -= b;
      const k = this.keysById.get(keyId);
      if (k) keyDelta.set(k, (keyDelta.get(k) ?? 0) - n);
    };
    this.db.transaction(() => {
      for (const a of acks) {
        if (s.del.run(a.priority, a.id).changes === 1) {
          acked++;
          dec(a.keyId, a.priority, 1, a.payload.length + ROW_OVERHEAD);
        }
      }
      // Age bound: oldest first in each priority.
      if (sweep) {
        const cutoff = now - this.cfg.max_age;
        for (let p = 0; p < 3; p++) {
          if (counts[p] === 0) continue;
          let upTo = -1;
          const victims: { id: number; keyId: number; seq: number; n: number }[] = [];
          for (const r of s.scanPrio.iterate(p) as Iterable<{ id: number; keyId: number; seq: number; created: number; n: number }>) {
            if (r.created >= cutoff) break;
            upTo = r.id;
            victims.push(r);
          }
          if (upTo >= 0) {
            s.delUpTo.run(p, upTo);
            for (const v of victims) {
              dec(v.keyId, p, 1, v.n + ROW_OVERHEAD);
              dropped.push({ reason: 'max_age', priority: p, what: `id=${v.id} seq=${v.seq}` });
            }
          }
        }
      }
      // Byte bound: make room for the batch, lowest priority first, oldest first within a priority.
      const batchBytes = [0, 0, 0];
      for (const m of batch) batchBytes[m.priority] += m.payload.length + ROW_OVERHEAD;
      let need = bytes[0]! + bytes[1]! + bytes[2]! + batchBytes[0]! + batchBytes[1]! + batchBytes[2]! - maxBytes;
      const refused = new Set<PendingMsg>();
      for (let p = 0; p < 3 && need > 0; p++) {
        if (counts[p]! > 0) {
          let upTo = -1;
          const victims: { id: number; keyId: number; seq: number; n: number }[] = [];
          for (const r of s.scanPrio.iterate(p) as Iterable<{ id: number; keyId: number; seq: number; n: number }>) {
            upTo = r.id;
            victims.push(r);
            need -= r.n + ROW_OVERHEAD;
            if (need <= 0) break;
          }
          if (upTo >= 0) {
            s.delUpTo.run(p, upTo);
            for (const v of victims) {
              dec(v.keyId, p, 1, v.n + ROW_OVERHEAD);
              dropped.push({ reason: fullReason, priority: p, what: `id=${v.id} seq=${v.seq}` });
            }
          }
        }
        for (const m of batch) {
          if (need <= 0) break;
          if (m.priority !== p) continue;
          refused.add(m);
          need -= m.payload.length + ROW_OVERHEAD;
          dropped.push({ reason: fullReason, priority: p, what: `${m.key.kind} ${m.key.stream} seq=${m.seq}` });
        }
      }
      for (const m of batch) {
        if (refused.has(m)) continue;
        s.insert.run(m.priority, m.id, m.key.id, m.seq, m.created, m.payload);
        counts[m.priority]++;
        bytes[m.priority] += m.payload.length + ROW_OVERHEAD;
        keyDelta.set(m.key, (keyDelta.get(m.key) ?? 0) + 1);
        inserted.push(m);
      }
      for (const [k, seq] of saveSeq) s.upsertKey.run(k.id, k.kind, k.stream, seq);
      if (batch.length) s.setMeta.run('next_id', String(this.nextId));
      for (const d of dropped) toSave.set(d.reason, (toSave.get(d.reason) ?? 0) + 1);
      for (const [reason, n] of toSave) s.addDrops.run(reason, n);
      for (const p of parts) p.write(this.db, batch);
    })();
    if (this.oneShot && parts.includes(this.oneShot)) this.oneShot = undefined;
    for (const p of parts) p.committed();
    // Committed: apply to memory.
    this.unsavedDrops.clear();
    for (const [reason, n] of toSave) this.savedDrops.set(reason, (this.savedDrops.get(reason) ?? 0) + n);
    for (const a of acks) this.ackedIds.delete(a.id);
    for (const m of batch) {
      if (!m.announced || !this.mem.delete(m.id)) continue;
      this.memBytes -= m.payload.length + ROW_OVERHEAD;
    }
    if (this.mem.size === 0 && this.diskRetryAt) {
      this.diskRetryAt = 0;
      this.log.info({ file: this.file }, `outbox: space on the disk again; messages are stored in ${this.file} again`);
    }
    for (const [k, seq] of saveSeq) if (seq === k.lastSeq) k.dirty = false;
    this.counts = counts;
    this.bytes = bytes;
    for (const [k, d] of keyDelta) k.count += d;
    for (const m of inserted) if (m.id > m.key.tip) m.key.tip = m.id;
    for (const d of dropped) this.countDrop(d.reason, d.priority as Priority, d.what, undefined, true);
    this.st.acked += acked;
    this.st.committed += inserted.length;
    this.st.commits++;
    const depth = counts[0]! + counts[1]! + counts[2]!;
    if (depth === 0 && this.effectiveMax !== this.cfg.max_bytes) {
      this.effectiveMax = this.cfg.max_bytes;
      this.diskFullLogged = false;
      this.log.info({ file: this.file }, `outbox: drained; byte bound back to ${this.cfg.max_bytes}`);
    }
    if (acked > 0 || dropped.length > 0) this.giveSpaceBack(depth);
    // Keep the WAL small as the disk fills (drained or not: with the uplink up it is drained after every batch).
    if (performance.now() - this.lastTruncate >= SPACE_CHECK_EVERY_MS && this.spaceIsLow()) this.truncateWal();
    const announce = inserted.filter((m) => !m.announced);
    if (announce.length && this.listeners.length) {
      const rows: OutboxRow[] = announce.map((m) => ({ id: m.id, priority: m.priority, keyId: m.key.id, seq: m.seq, payload: m.payload }));
      for (const l of this.listeners) l(rows);
    }
  }

  /**
   * Incremental vacuum: return free pages to the file system a slice at a time, and truncate the
   * WAL once empty. A vacuum follows a drained backlog and runs at once; truncating the WAL alone
   * (the steady state with the uplink up: drained after every batch) runs at most every
   * giveBackEveryMs, the last one deferred until then.
   */
  private giveSpaceBack(depth: number, force = false): void {
    try {
      const free = this.db.pragma('freelist_count', { simple: true }) as number;
      const pages = this.db.pragma('page_count', { simple: true }) as number;
      const vacuum = free > 64 && (depth === 0 || free * 4 > pages);
      if (vacuum) this.db.pragma(`incremental_vacuum(${depth === 0 ? free : 2048})`);
      if (depth !== 0) return;
      const wait = this.lastTruncate + this.giveBackEveryMs - performance.now();
      if (vacuum || force || wait <= 0) {
        this.db.pragma('wal_checkpoint(TRUNCATE)');
        this.lastTruncate = performance.now();
      } else if (!this.giveBackTimer) {
        this.giveBackTimer = setTimeout(() => {
          this.giveBackTimer = null;
          if (!this.closed && this.depth() === 0) this.giveSpaceBack(0, true);
        }, wait);
        this.giveBackTimer.unref();
      }
    } catch (err) {
      this.log.debug({ err }, 'outbox: incremental vacuum failed');
    }
  }

  /** Count a drop (stats, the rate-limited warn line) and save it with the next commit (`saved`: it is in this one). */
  private countDrop(reason: OutboxDropReason, priority: Priority | undefined, what: string, detail?: string, saved = false): void {
    if (priority !== undefined) this.droppedByPriority[priority]++;
    const text = priority === undefined ? what : `${PRIORITY_NAMES[priority]} ${what}`;
    this.drops.drop(reason, text, detail, this.now());
    if (!saved) this.unsavedDrops.set(reason, (this.unsavedDrops.get(reason) ?? 0) + 1);
    this.dropLog.note(reason, text);
  }

  // ---------------------------------------------------------------- reading (for the forwarder)

  /** Be told of every committed batch (the rows that were stored). */
  onCommit(l: CommitListener): void {
    this.listeners.push(l);
  }

  /** Be told when the database was replaced (runtime corruption): readers must start over. */
  onReset(l: () => void): void {
    this.resetListeners.push(l);
  }

  /** Committed rows of one priority with id > afterId, in id order. */
  readFrom(priority: Priority, afterId: number, limit: number): OutboxRow[] {
    try {
      const found = this.stmts.readFrom.all(priority, afterId, limit) as Omit<OutboxRow, 'priority'>[];
      const rows: OutboxRow[] = [];
      for (const r of found) if (!this.ackedIds.has(r.id)) rows.push({ ...r, priority });
      if (found.length < limit && this.mem.size) {
        // The file has nothing newer: then the rows held in memory (all newer than the file's).
        for (const m of this.mem.values()) {
          if (rows.length >= limit) break;
          if (m.priority === priority && m.id > afterId) rows.push({ id: m.id, priority, keyId: m.key.id, seq: m.seq, payload: m.payload });
        }
      }
      return rows;
    } catch (err) {
      if (isCorrupt(err)) this.recoverAtRuntime(err);
      else this.log.error({ err }, `outbox: read failed: ${(err as Error).message}`);
      return [];
    }
  }

  key(keyId: number): OutboxKey | undefined {
    return this.keysById.get(keyId);
  }

  /** Keys that have committed rows, with their newest row id. */
  keysWithRows(): Map<number, number> {
    const m = new Map<number, number>();
    for (const k of this.keysById.values()) if (k.count > 0) m.set(k.id, k.tip);
    for (const r of this.mem.values()) m.set(r.key.id, r.key.tip);
    return m;
  }

  /** Newest committed (or held in memory) row id still buffered; 0 when empty. */
  newestId(): number {
    let n = 0;
    for (const tip of this.keysWithRows().values()) if (tip > n) n = tip;
    return n;
  }

  /** Newest committed row id of a key (0 if none). */
  tipOf(keyId: number): number {
    return this.keysById.get(keyId)?.tip ?? 0;
  }

  depth(): number {
    return this.counts[0]! + this.counts[1]! + this.counts[2]! + this.mem.size;
  }

  // ---------------------------------------------------------------- dead letters

  /** Keep a drop sample from a driver or the engine in a bounded table (newest 1000 kept). */
  recordDeadLetter(source: string, sample: DropSample): void {
    try {
      this.stmts.dlInsert.run(source, sample.reason, sample.at, sample.detail ?? null, sample.sample);
      this.st.deadLetters++;
      if (this.st.deadLetters > DEAD_LETTER_MAX_ROWS * 1.1) {
        this.stmts.dlTrim.run(DEAD_LETTER_MAX_ROWS);
        this.st.deadLetters = DEAD_LETTER_MAX_ROWS;
      }
    } catch (err) {
      this.log.debug({ err }, 'outbox: dead letter not stored');
    }
  }

  deadLetters(limit = 100): (DropSample & { source: string })[] {
    return this.db
      .prepare('SELECT source, reason, at, detail, sample FROM dead_letters ORDER BY id DESC LIMIT ?')
      .all(limit)
      .map((r) => {
        const x = r as { source: string; reason: string; at: number; detail: string | null; sample: string };
        return { source: x.source, reason: x.reason, at: x.at, sample: x.sample, ...(x.detail != null ? { detail: x.detail } : {}) };
      });
  }

  // ---------------------------------------------------------------- stats and closing

  stats(): OutboxStats {
    let fileBytes = 0;
    for (const f of [this.file, `${this.file}-wal`]) {
      try {
        fileBytes += statSync(f).size;
      } catch {
        /* not there */
      }
    }
    let oldestAgeMs = 0;
    if (this.depth() > 0 && !this.closed) {
      try {
        const c = (this.stmts.oldest.get() as { c: number | null }).c;
        if (c != null) oldestAgeMs = Math.max(0, this.now() - c);
      } catch {
        /* ignore */
      }
    }
    const by = (a: number[]) => ({ raw: a[0]!, aggregate: a[1]!, alert: a[2]! });
    return {
      path: this.file,
      epoch: this.epoch,
      durability: this.cfg.durability,
      depth: { messages: this.depth(), bytes: this.storedBytes(), byPriority: by(this.counts) },
      pending: this.batch.length,
      fileBytes,
      effectiveMaxBytes: this.effectiveMax,
      accepted: this.st.accepted,
      committed: this.st.committed,
      commits: this.st.commits,
      acked: this.st.acked,
      lateSkipped: this.st.lateSkipped,
      dropped: this.drops.counters(),
      droppedByPriority: by(this.droppedByPriority),
      droppedTotal: this.droppedTotal(),
      recoveries: this.st.recoveries,
      duplicateIds: this.duplicateIds,
      diskFullEvents: this.st.diskFullEvents,
      diskFull: this.mem.size > 0,
      memory: { messages: this.mem.size, bytes: this.memBytes },
      ackedPending: this.ackedIds.size,
      oldestAgeMs,
      deadLetters: this.st.deadLetters,
    };
  }

  /** Drops by reason over the life of the file: saved ones plus those not saved yet. */
  private droppedTotal(): Record<string, number> {
    const t = new Map(this.savedDrops);
    for (const [r, n] of this.unsavedDrops) t.set(r, (t.get(r) ?? 0) + n);
    return Object.fromEntries([...t.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  get epochId(): string {
    return this.epoch;
  }

  /** Commit what is open and close the file. put() after close() is counted as a drop ("closed"). */
  close(): void {
    if (this.closed) return;
    this.diskRetryAt = 0;
    this.flush();
    if (this.mem.size) {
      // Still no space: what is held in memory is lost with the process.
      for (const m of this.mem.values()) this.countDrop('disk_full', m.priority, `${m.key.kind} ${m.key.stream} seq=${m.seq}`, 'held in memory at close: the disk was full');
      this.mem.clear();
      this.memBytes = 0;
      try {
        this.commit([], [], false, this.now(), Infinity, 'disk_full');
      } catch {
        /* the counts stay in the log line */
      }
    }
    this.dropLog.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.giveBackTimer) clearTimeout(this.giveBackTimer);
    this.giveBackTimer = null;
    if (this.sliceTimer) clearImmediate(this.sliceTimer);
    this.sliceTimer = null;
    try {
      if (this.depth() === 0) this.giveSpaceBack(0, true);
      this.db.close();
    } catch (err) {
      this.log.warn({ err }, `outbox: close failed: ${(err as Error).message}`);
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

function keyName(kind: string, stream: string): string {
  return `${kind}\u0000${stream}`;
}

export { PRIORITY };
