import type Database from 'better-sqlite3';
import { deserialize, serialize } from 'node:v8';
import { itemAt } from '../core/item-at.js';
import type { PartSnapshot, PipelineSnapshot } from '../engine/snapshot.js';

/**
 * Checkpoints in the outbox database. Table `state` holds the rows of a checkpoint: one per
 * (pipeline, part, chunk), with the part's format version and its data (structured-clone encoded:
 * Infinity, NaN, Maps and typed arrays survive; readable with `node -e "v8.deserialize(...)"`).
 * A part that is a list of per-key entries (`[[stream, state], ...]`) is cut into chunks of about
 * 64 KB, so that a checkpoint can be written a few rows at a time; every other part is one chunk.
 *
 * Every checkpoint is written as a new generation beside the live one; `meta.checkpoint_gen` says
 * which generation is live, `meta.checkpoint_pos` the last journal position it includes. Making a
 * generation live is one small commit (with the outbox's pending messages), so a crash while the
 * rows are being written leaves the previous checkpoint whole. Rows of other generations are
 * garbage, deleted a few at a time. A part that cannot be restored is copied to `state_aside`
 * with the error, for inspection.
 */

/** Pipeline name under which the outbox's own state (message-id ordinals) is saved. */
export const OUTBOX_STATE = '*outbox';

/** Aimed size of a chunk of a per-key part: as many keys as fit, judged from the first few (at least 1, at most 1,024). */
const CHUNK_BYTES = 64 * 1024;
const MAX_CHUNK_ENTRIES = 1024;

export interface Checkpoint {
  /** Journal position the saved state includes (replay starts after it). */
  pos: number;
  /** When it was taken (gateway clock, ms); 0 when there is none. */
  at: number;
  pipelines: PipelineSnapshot[];
  /** Parts whose data could not be decoded at all. */
  undecodable: Array<{ pipeline: string; part: string; version: number; error: string; data: Buffer }>;
}

/** One encoded row of a checkpoint. */
export interface StateRow {
  pipeline: string;
  part: string;
  chunk: number;
  version: number;
  data: Buffer;
}

const metaOf = (db: Database.Database, k: string): number => Number((db.prepare('SELECT v FROM meta WHERE k = ?').pluck().get(k) as string | undefined) ?? 0);

/** The live checkpoint: its rows joined back into parts (a part's chunks are one list again). */
export function readCheckpoint(db: Database.Database): Checkpoint {
  const gen = metaOf(db, 'checkpoint_gen');
  const byPipeline = new Map<string, PipelineSnapshot>();
  const undecodable: Checkpoint['undecodable'] = [];
  type Row = { pipeline: string; part: string; chunk: number; version: number; data: Buffer };
  const rows = db.prepare('SELECT pipeline, part, chunk, version, data FROM state WHERE gen = ? ORDER BY pipeline, part, chunk').all(gen) as Row[];
  // The chunks of one part are consecutive rows (ordered by pipeline, part, chunk).
  const parts: Array<[Row, ...Row[]]> = [];
  for (const row of rows) {
    const chunks = parts.at(-1);
    if (chunks && chunks[0].pipeline === row.pipeline && chunks[0].part === row.part) chunks.push(row);
    else parts.push([row]);
  }
  for (const chunks of parts) {
    const [r] = chunks;
    let data: unknown;
    try {
      data = joinChunks(chunks.map((c) => deserialize(c.data)));
    } catch (err) {
      const whole = chunks.length === 1 ? r.data : serialize(chunks.map((c) => c.data));
      undecodable.push({ pipeline: r.pipeline, part: r.part, version: r.version, data: whole, error: `cannot decode: ${(err as Error).message}` });
      continue;
    }
    let p = byPipeline.get(r.pipeline);
    if (!p) byPipeline.set(r.pipeline, (p = { pipeline: r.pipeline, parts: {} }));
    p.parts[r.part] = { version: r.version, data };
  }
  return { pos: metaOf(db, 'checkpoint_pos'), at: metaOf(db, 'checkpoint_at'), pipelines: [...byPipeline.values()], undecodable };
}

function joinChunks(chunks: unknown[]): unknown {
  if (chunks.length === 1) return chunks[0];
  if (!chunks.every(Array.isArray)) throw new Error('a part of several chunks must be a list in each');
  return (chunks as unknown[][]).flat(1);
}

/**
 * A checkpoint's rows, encoded as they are taken: one per part, a per-key list cut into chunks of
 * about CHUNK_BYTES. The snapshots must not change until every row is out (detectors that share
 * their arrays with a capture copy them before a change: src/core/shared-capture.ts); `release`
 * is called once they are all encoded, or given up.
 */
export class CheckpointRows {
  /** Bytes encoded so far. */
  bytes = 0;
  private readonly parts: Array<{ pipeline: string; part: string; version: number; data: unknown }> = [];
  private index = 0;
  /** Within the current part: keys per chunk (Infinity: one row), next chunk. */
  private perChunk = 0;
  private chunk = 0;

  constructor(
    pipelines: PipelineSnapshot[],
    private readonly onRelease: () => void = () => {},
  ) {
    for (const p of pipelines) for (const [part, s] of Object.entries(p.parts)) this.parts.push({ pipeline: p.pipeline, part, version: s.version, data: s.data });
  }

  /** Every row has been taken. */
  get done(): boolean {
    return this.index >= this.parts.length;
  }

  /** The snapshots are no longer needed (all encoded, or the checkpoint was given up). */
  release(): void {
    this.index = this.parts.length;
    this.parts.length = 0;
    this.onRelease();
  }

  /** The next rows, about `budget` bytes in all (at least one row while any is left). */
  take(budget = Infinity): StateRow[] {
    const rows: StateRow[] = [];
    let n = 0;
    while (!this.done && (rows.length === 0 || n < budget)) {
      const row = this.next();
      rows.push(row);
      n += row.data.length;
    }
    this.bytes += n;
    if (this.done) this.release();
    return rows;
  }

  private next(): StateRow {
    const p = itemAt(this.parts, this.index, 'checkpoint parts');
    const d = p.data;
    if (this.chunk === 0) this.perChunk = Array.isArray(d) && d.length > 1 ? entriesPerChunk(d) : Infinity;
    if (!Array.isArray(d) || this.perChunk >= d.length) {
      this.index++;
      return { pipeline: p.pipeline, part: p.part, chunk: 0, version: p.version, data: serialize(d) };
    }
    const c = this.chunk++;
    const from = c * this.perChunk;
    if (from + this.perChunk >= d.length) {
      this.index++;
      this.chunk = 0;
    }
    return { pipeline: p.pipeline, part: p.part, chunk: c, version: p.version, data: serialize(d.slice(from, from + this.perChunk)) };
  }
}

/** Keys per chunk, from the encoded size of the first few. */
function entriesPerChunk(list: unknown[]): number {
  const probe = Math.min(4, list.length);
  const each = serialize(list.slice(0, probe)).length / probe;
  return Math.max(1, Math.min(MAX_CHUNK_ENTRIES, Math.floor(CHUNK_BYTES / each)));
}

/** Generations in the file: the live one and the next free number (above any left by a crash mid-write). */
export function generations(db: Database.Database): { live: number; next: number } {
  const live = metaOf(db, 'checkpoint_gen');
  const max = (db.prepare('SELECT max(gen) FROM state').pluck().get() as number | null) ?? live;
  return { live, next: Math.max(live, max) + 1 };
}

/** Write rows of a generation that is not live yet (in the caller's transaction). */
export function writeRows(db: Database.Database, gen: number, rows: readonly StateRow[]): void {
  const ins = db.prepare('INSERT OR REPLACE INTO state (gen, pipeline, part, chunk, version, data) VALUES (?, ?, ?, ?, ?, ?)');
  for (const r of rows) ins.run(gen, r.pipeline, r.part, r.chunk, r.version, r.data);
}

/** Inside the checkpoint's last transaction: generation `gen`, fully written, becomes the live checkpoint. */
export function makeLive(db: Database.Database, gen: number, pos: number, at: number): void {
  const meta = db.prepare('INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)');
  meta.run('checkpoint_gen', String(gen));
  meta.run('checkpoint_pos', String(pos));
  meta.run('checkpoint_at', String(at));
}

/** Delete up to `limit` rows of generations other than the live one; how many were deleted. */
export function deleteStaleRows(db: Database.Database, live: number, limit: number): number {
  return db.prepare('DELETE FROM state WHERE id IN (SELECT id FROM state WHERE gen <> ? LIMIT ?)').run(live, limit).changes;
}

/**
 * Trim the journal up to `upTo` (the previous checkpoint's position: one interval is kept longer so
 * a restart still recognises resent deliveries from just before the live checkpoint), at most
 * `limit` positions from `from` on; returns the position reached.
 */
export function trimJournal(db: Database.Database, from: number, upTo: number, limit: number): number {
  const to = Math.min(upTo, from + limit);
  // Whole blocks only: one that reaches past `to` stays until a later trim (a replay skips what it has).
  db.prepare('DELETE FROM journal_blocks WHERE last > ? AND last <= ?').run(from, to);
  return to;
}

/** Keep a part that could not be restored (newest 100 kept). */
export function setAside(db: Database.Database, at: number, a: { pipeline: string; part: string; version: number; error: string; data: Buffer | PartSnapshot }): void {
  const data = Buffer.isBuffer(a.data) ? a.data : serialize(a.data.data);
  db.transaction(() => {
    db.prepare('INSERT INTO state_aside (at, pipeline, part, version, error, data) VALUES (?, ?, ?, ?, ?, ?)').run(at, a.pipeline, a.part, a.version, a.error, data);
    db.prepare('DELETE FROM state_aside WHERE id <= (SELECT max(id) FROM state_aside) - 100').run();
  })();
}
