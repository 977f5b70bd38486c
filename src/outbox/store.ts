import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import type { Priority } from '../core/records.js';
import type { UpstreamKind } from '../core/payload.js';
import { migrateOutbox, OUTBOX_SCHEMA_VERSION } from './migrate.js';
import type { OutboxRow } from './types.js';

export interface StoreOptions {
  durability: 'normal' | 'full';
  /** Run PRAGMA quick_check on an existing file. */
  quickCheck: boolean;
  /** Exclusive locking mode: no -shm file (when the disk is too full for one). */
  exclusive?: boolean;
  /** Test hook: PRAGMA max_page_count, to simulate a full disk. */
  maxPageCount?: number;
}

/** A saved upstream topic and its last seq. */
export interface KeyRow {
  id: number;
  kind: UpstreamKind;
  stream: string;
  lastSeq: number;
}

/** Buffered rows of one key and priority. */
export interface RowGroup {
  keyId: number;
  priority: Priority;
  n: number;
  payloadBytes: number;
  /** Largest row id. */
  tip: number;
}

/** What an opened file holds. */
export interface StoreContents {
  epoch: string;
  /** The next message row id. */
  nextId: number;
  /** The keys of buffered rows (the others are read when their topic is put again: OutboxStore.keyOf). */
  keys: KeyRow[];
  /** The largest key id in the file. */
  maxKeyId: number;
  rows: RowGroup[];
  savedDrops: Map<string, number>;
  schema: { from: number; to: number };
}

/** A buffered row as the drop policy scans it (oldest first within a priority). */
export interface ScannedRow {
  id: number;
  keyId: number;
  seq: number;
  created: number;
  /** Payload bytes. */
  n: number;
}

/** How long a commit waits for another connection (the background checkpoint) before it fails. */
const BUSY_TIMEOUT_MS = 5000;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS keys (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, stream TEXT NOT NULL, last_seq INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS keys_topic ON keys (kind, stream);
  CREATE TABLE IF NOT EXISTS messages (
    priority INTEGER NOT NULL, id INTEGER NOT NULL, key_id INTEGER NOT NULL, seq INTEGER NOT NULL,
    created INTEGER NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (priority, id)) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS dead_letters (id INTEGER PRIMARY KEY, source TEXT NOT NULL, reason TEXT NOT NULL,
    at INTEGER NOT NULL, detail TEXT, sample TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS drop_counts (reason TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
`;

function prepare(db: Database.Database) {
  return {
    insert: db.prepare('INSERT INTO messages (priority, id, key_id, seq, created, payload) VALUES (?, ?, ?, ?, ?, ?)'),
    del: db.prepare('DELETE FROM messages WHERE priority = ? AND id = ?'),
    delUpTo: db.prepare('DELETE FROM messages WHERE priority = ? AND id <= ?'),
    scanPrio: db.prepare('SELECT id, key_id AS keyId, seq, created, length(payload) AS n FROM messages WHERE priority = ? ORDER BY id'),
    keyOf: db.prepare('SELECT id, kind, stream, last_seq AS lastSeq FROM keys WHERE kind = ? AND stream = ?'),
    upsertKey: db.prepare('INSERT INTO keys (id, kind, stream, last_seq) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET last_seq = excluded.last_seq'),
    setMeta: db.prepare('INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)'),
    readFrom: db.prepare('SELECT id, key_id AS keyId, seq, payload FROM messages WHERE priority = ? AND id > ? ORDER BY id LIMIT ?'),
    oldest: db.prepare('SELECT min(created) AS c FROM messages'),
    addDrops: db.prepare('INSERT INTO drop_counts (reason, n) VALUES (?, ?) ON CONFLICT(reason) DO UPDATE SET n = n + excluded.n'),
    // Prepared once: db.pragma() parses its statement at every call, and freePages() runs at every commit that frees rows.
    pageCount: db.prepare('PRAGMA page_count').pluck(),
    freePages: db.prepare('PRAGMA freelist_count').pluck(),
  };
}

/**
 * The outbox's SQLite file: pragmas, schema, what it holds at open, and the statements the
 * outbox runs (writes happen inside the outbox's commit transaction).
 */
export class OutboxStore {
  private readonly stmts: ReturnType<typeof prepare>;

  readonly pageSize: number;

  private constructor(
    readonly db: Database.Database,
    readonly file: string,
  ) {
    this.stmts = prepare(db);
    this.pageSize = db.pragma('page_size', { simple: true }) as number;
  }

  /** Open (or create) `file` (':memory:' for none) and read what it holds. Throws as SQLite does; a failed quick_check throws SQLITE_CORRUPT. */
  static open(file: string, opts: StoreOptions): { store: OutboxStore; contents: StoreContents } {
    const db = new Database(file);
    try {
      const contents = setUp(db, file, opts);
      return { store: new OutboxStore(db, file), contents };
    } catch (err) {
      try {
        db.close();
      } catch {
        /* already unusable */
      }
      throw err;
    }
  }

  // ---------------------------------------------------------------- writes (inside a transaction)

  insert(m: { priority: Priority; id: number; key: { id: number }; seq: number; created: number; payload: Buffer }): void {
    this.stmts.insert.run(m.priority, m.id, m.key.id, m.seq, m.created, m.payload);
  }

  /** Delete one row; true if it was there. */
  delete(priority: Priority, id: number): boolean {
    return this.stmts.del.run(priority, id).changes === 1;
  }

  deleteUpTo(priority: number, id: number): void {
    this.stmts.delUpTo.run(priority, id);
  }

  /** Rows of a priority, oldest first (iterate and stop early). */
  scan(priority: number): Iterable<ScannedRow> {
    return this.stmts.scanPrio.iterate(priority) as Iterable<ScannedRow>;
  }

  /** A topic's saved key (its id and last seq), if the file has one. */
  keyOf(kind: string, stream: string): KeyRow | undefined {
    return this.stmts.keyOf.get(kind, stream) as KeyRow | undefined;
  }

  saveKey(k: { id: number; kind: string; stream: string }, lastSeq: number): void {
    this.stmts.upsertKey.run(k.id, k.kind, k.stream, lastSeq);
  }

  saveNextId(nextId: number): void {
    this.stmts.setMeta.run('next_id', String(nextId));
  }

  addDrops(reason: string, n: number): void {
    this.stmts.addDrops.run(reason, n);
  }

  // ---------------------------------------------------------------- reads

  /** Rows of one priority with id > afterId, in id order. */
  readFrom(priority: Priority, afterId: number, limit: number): Omit<OutboxRow, 'priority'>[] {
    return this.stmts.readFrom.all(priority, afterId, limit) as Omit<OutboxRow, 'priority'>[];
  }

  /** Creation time of the oldest buffered row. */
  oldestCreated(): number | null {
    return (this.stmts.oldest.get() as { c: number | null }).c;
  }

  // ---------------------------------------------------------------- space

  /** Free pages in the file (reused by later inserts, or given back by `vacuum`). */
  freePages(): number {
    return this.stmts.freePages.get() as number;
  }

  /** Bytes in the file's free pages. */
  freeBytes(): number {
    return this.freePages() * this.pageSize;
  }

  /** Pages in the file, free ones included. */
  totalPages(): number {
    return this.stmts.pageCount.get() as number;
  }

  /** Return up to `pages` free pages to the file system (incremental vacuum: moves pages, holds the event loop). */
  vacuum(pages: number): void {
    this.db.pragma(`incremental_vacuum(${Math.max(1, Math.floor(pages))})`);
  }

  /**
   * Copy the WAL into the database and truncate it. False when another connection was in the way
   * (the background checkpoint at work, or a reader): then nothing waits for it, the caller retries.
   */
  truncateWal(): boolean {
    // Without a busy timeout: a reader would otherwise hold the event loop for the whole timeout.
    this.db.pragma('busy_timeout = 0');
    try {
      const [r] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
      return r?.busy === 0;
    } finally {
      this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  }

  close(): void {
    this.db.close();
  }
}

/**
 * SQLite's page cache for the outbox connection, in KB. better-sqlite3 builds SQLite with 16 MB
 * (`SQLITE_DEFAULT_CACHE_SIZE=-16000`); the journal's stream of new pages filled all of it: at
 * 20,000 readings/s the gateway's steady RSS was 10 MB higher (docs/state.md). The hot pages (the
 * ends of the journal and outbox tables, their indexes) fit in SQLite's own default of 2 MB; the
 * rest is read back through the OS's page cache.
 */
const PAGE_CACHE_KB = 2048;

function setUp(db: Database.Database, file: string, opts: StoreOptions): StoreContents {
  if (opts.exclusive) db.pragma('locking_mode = EXCLUSIVE');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  const fresh = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type='table'").get() as { n: number }).n === 0;
  if (fresh) db.pragma('auto_vacuum = INCREMENTAL');
  if (file !== ':memory:') db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.durability === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('journal_size_limit = 4194304');
  db.pragma(`cache_size = -${PAGE_CACHE_KB}`);
  if (opts.maxPageCount) db.pragma(`max_page_count = ${opts.maxPageCount}`);
  if (opts.quickCheck && !fresh) {
    const rows = db.pragma('quick_check') as { quick_check: string }[];
    if (rows.length !== 1 || rows[0]?.quick_check !== 'ok') {
      throw Object.assign(new Error(`quick_check failed: ${rows.slice(0, 3).map((r) => r.quick_check).join('; ')}`), { code: 'SQLITE_CORRUPT' });
    }
  }
  db.exec(SCHEMA);
  const savedDrops = new Map((db.prepare('SELECT reason, n FROM drop_counts').all() as { reason: string; n: number }[]).map((r) => [r.reason, r.n]));
  const meta = new Map((db.prepare('SELECT k, v FROM meta').all() as { k: string; v: string }[]).map((r) => [r.k, r.v]));
  const schema = migrateOutbox(db, file, meta.get('schema'));
  let epoch = meta.get('epoch');
  if (!epoch) {
    epoch = randomBytes(8).toString('hex');
    db.prepare('INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?), (?, ?), (?, ?)').run('epoch', epoch, 'schema', String(OUTBOX_SCHEMA_VERSION), 'next_id', '1');
  }
  const keys = db.prepare('SELECT id, kind, stream, last_seq AS lastSeq FROM keys WHERE id IN (SELECT key_id FROM messages)').all() as KeyRow[];
  const maxKeyId = (db.prepare('SELECT max(id) AS m FROM keys').get() as { m: number | null }).m ?? 0;
  const rows = db
    .prepare('SELECT key_id AS keyId, priority, count(*) AS n, sum(length(payload)) AS payloadBytes, max(id) AS tip FROM messages GROUP BY key_id, priority')
    .all() as RowGroup[];
  const maxRow = (db.prepare('SELECT max(id) AS m FROM messages').get() as { m: number | null }).m ?? 0;
  const nextId = Math.max(Number(meta.get('next_id') ?? 1), maxRow + 1);
  return { epoch, nextId, keys, maxKeyId, rows, savedDrops, schema };
}
