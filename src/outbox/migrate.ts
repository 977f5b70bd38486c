import type Database from 'better-sqlite3';
import { deserialize } from 'node:v8';
import type { Reading } from '../core/reading.js';
import { JournalBlockWriter, type JournalEntry } from './journal-blocks.js';

/**
 * Outbox file schema versions. 1: messages, keys, dead letters. 2: adds the checkpoint tables
 * (`state`, `state_aside`), the ingest journal and `seen_ids` (message ids since the last
 * checkpoint). 3: `state` rows carry a generation and a chunk number, so a checkpoint can be
 * written in slices beside the live one and made live by one small commit (src/state/store.ts).
 * 4: `seen_ids` is a plain append-only table: the ids are only ever read all at once, at start,
 * and an index on them (the version-3 primary key) cost ~16 µs an insert (ids of many streams land
 * all over the tree: a page written to the WAL for each) against ~1.4 µs now.
 * 5: the ingest journal is stored a block of entries per group commit (`journal_blocks`,
 * src/outbox/journal-blocks.ts), not a row per reading; the rows of a version-4 journal become blocks.
 * A file of an older version is brought up to date in place; nothing is set aside.
 */
export const OUTBOX_SCHEMA_VERSION = 5;

export class NewerSchemaError extends Error {
  readonly code = 'EDGEWISE_NEWER_SCHEMA';
}

const STATE_V3 = `CREATE TABLE IF NOT EXISTS state (id INTEGER PRIMARY KEY, gen INTEGER NOT NULL, pipeline TEXT NOT NULL, part TEXT NOT NULL,
    chunk INTEGER NOT NULL, version INTEGER NOT NULL, data BLOB NOT NULL, UNIQUE (gen, pipeline, part, chunk));`;

const SEEN_V4 = 'CREATE TABLE IF NOT EXISTS seen_ids (id TEXT NOT NULL);';

/** Keyed by the last position in the block: the blocks that hold entries after a position are a range of the key. */
const JOURNAL_V5 = 'CREATE TABLE IF NOT EXISTS journal_blocks (last INTEGER PRIMARY KEY, first INTEGER NOT NULL, n INTEGER NOT NULL, srcs INTEGER NOT NULL, data BLOB NOT NULL);';

const V5 = `
  ${STATE_V3}
  CREATE TABLE IF NOT EXISTS state_aside (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, pipeline TEXT NOT NULL, part TEXT NOT NULL,
    version INTEGER NOT NULL, error TEXT NOT NULL, data BLOB NOT NULL);
  ${JOURNAL_V5}
  ${SEEN_V4}
`;

/** Entries per block when the rows of a version-2–4 journal are rewritten as blocks. */
const MIGRATED_BLOCK = 2000;

/**
 * Create the tables of the current version that are missing and record the version. `from` is the
 * version in the file's meta table (undefined for a new file). A file from a newer Edgewise is
 * refused (never rewritten): `NewerSchemaError`, which names the file and what to do.
 */
export function migrateOutbox(db: Database.Database, file: string, from: string | undefined): { from: number; to: number } {
  const v = from === undefined ? OUTBOX_SCHEMA_VERSION : Number(from);
  if (!Number.isInteger(v) || v < 1) throw Object.assign(new Error(`outbox ${file}: unknown schema version "${from}"`), { code: 'SQLITE_NOTADB' });
  if (v > OUTBOX_SCHEMA_VERSION) {
    throw new NewerSchemaError(
      `outbox ${file} was written by a newer Edgewise (file schema ${v}; this build reads up to ${OUTBOX_SCHEMA_VERSION}). It was left as it is: run the newer version, or move the file away to start a new outbox.`,
    );
  }
  db.transaction(() => {
    if (v === 2) {
      // The one checkpoint of a version-2 file becomes generation 0 (meta has no checkpoint_gen: 0), one chunk a part.
      db.exec(`ALTER TABLE state RENAME TO state_v2; ${STATE_V3}
        INSERT INTO state (gen, pipeline, part, chunk, version, data) SELECT 0, pipeline, part, 0, version, data FROM state_v2;
        DROP TABLE state_v2;`);
    }
    if (v === 2 || v === 3) {
      db.exec(`ALTER TABLE seen_ids RENAME TO seen_ids_v3; ${SEEN_V4}
        INSERT INTO seen_ids (id) SELECT id FROM seen_ids_v3;
        DROP TABLE seen_ids_v3;`);
    }
    if (v >= 2 && v <= 4) {
      db.exec(JOURNAL_V5);
      migrateJournalRows(db);
    }
    db.exec(V5);
    db.prepare("INSERT OR REPLACE INTO meta (k, v) VALUES ('schema', ?)").run(String(OUTBOX_SCHEMA_VERSION));
  })();
  return { from: v, to: OUTBOX_SCHEMA_VERSION };
}

/** The ingest journal of a version-2–4 file (a row per entry) rewritten as blocks, in order; the row table dropped. */
function migrateJournalRows(db: Database.Database): void {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'journal'").get()) return;
  const insert = db.prepare('INSERT INTO journal_blocks (last, first, n, srcs, data) VALUES (?, ?, ?, ?, ?)');
  const block = new JournalBlockWriter();
  const put = () => {
    if (block.count > 0) insert.run(block.last, block.first, block.count, block.srcs, block.data());
    block.reset();
  };
  block.reset();
  type Row = { pos: number; at: number; stream: string | null; ts: number; value: number; extra: Buffer | string | null; src: string | null };
  // A page of rows at a time: better-sqlite3 writes nothing while a statement is being iterated.
  const page = db.prepare('SELECT pos, at, stream, ts, value, extra, src FROM journal WHERE pos > ? ORDER BY pos LIMIT ?');
  for (let after = -Infinity; ; ) {
    const rows = page.all(after, MIGRATED_BLOCK) as Row[];
    if (rows.length === 0) break;
    for (const r of rows) {
      let e: JournalEntry;
      if (Buffer.isBuffer(r.extra)) e = { pos: r.pos, at: r.at, reading: deserialize(r.extra) as Reading };
      else if (r.stream === null) e = { pos: r.pos, at: r.at, tick: true };
      else if (r.extra === null) e = { pos: r.pos, at: r.at, reading: { stream: r.stream, ts: r.ts, value: r.value } };
      else e = { pos: r.pos, at: r.at, reading: { stream: r.stream, ts: r.ts, value: r.value, ...(JSON.parse(r.extra) as Pick<Reading, 'fields' | 'tags'>) } };
      if (r.src !== null && !('tick' in e)) e.src = r.src;
      block.add(e);
    }
    put();
    after = rows.at(-1)!.pos;
  }
  put();
  db.exec('DROP TABLE journal');
}
