import type Database from 'better-sqlite3';
import { deserialize, serialize } from 'node:v8';
import type { PartSnapshot, PipelineSnapshot } from '../engine/snapshot.js';

/**
 * Checkpoints in the outbox database: table `state` holds one row per (pipeline, part), the
 * part's format version and its data (structured-clone encoded: Infinity, NaN and Maps survive;
 * readable with `node -e "v8.deserialize(...)"`). `meta.checkpoint_pos` is the last journal
 * position the state includes. A part that cannot be restored is copied to `state_aside` with
 * the error, for inspection.
 */

/** Pipeline name under which the outbox's own state (message-id ordinals) is saved. */
export const OUTBOX_STATE = '*outbox';

export interface Checkpoint {
  /** Journal position the saved state includes (replay starts after it). */
  pos: number;
  /** When it was taken (gateway clock, ms); 0 when there is none. */
  at: number;
  pipelines: PipelineSnapshot[];
  /** Parts whose data could not be decoded at all. */
  undecodable: Array<{ pipeline: string; part: string; version: number; error: string; data: Buffer }>;
}

export function readCheckpoint(db: Database.Database): Checkpoint {
  const meta = (k: string) => (db.prepare('SELECT v FROM meta WHERE k = ?').pluck().get(k) as string | undefined) ?? '0';
  const byPipeline = new Map<string, PipelineSnapshot>();
  const undecodable: Checkpoint['undecodable'] = [];
  for (const r of db.prepare('SELECT pipeline, part, version, data FROM state ORDER BY pipeline, part').iterate() as Iterable<{ pipeline: string; part: string; version: number; data: Buffer }>) {
    let data: unknown;
    try {
      data = deserialize(r.data);
    } catch (err) {
      undecodable.push({ ...r, error: `cannot decode: ${(err as Error).message}` });
      continue;
    }
    let p = byPipeline.get(r.pipeline);
    if (!p) byPipeline.set(r.pipeline, (p = { pipeline: r.pipeline, parts: {} }));
    p.parts[r.part] = { version: r.version, data };
  }
  return { pos: Number(meta('checkpoint_pos')), at: Number(meta('checkpoint_at')), pipelines: [...byPipeline.values()], undecodable };
}

/** Encode a checkpoint's rows (outside the transaction, so the commit stays short). */
export function encodeCheckpoint(pipelines: PipelineSnapshot[]): Array<{ pipeline: string; part: string; version: number; data: Buffer }> {
  const rows: Array<{ pipeline: string; part: string; version: number; data: Buffer }> = [];
  for (const p of pipelines) for (const [part, s] of Object.entries(p.parts)) rows.push({ pipeline: p.pipeline, part, version: s.version, data: serialize(s.data) });
  return rows;
}

/**
 * Inside the checkpoint transaction: replace the saved state, record the journal position, trim
 * the journal up to `trimTo` (the previous checkpoint's position: one interval is kept longer so a
 * restart still recognises resent deliveries from just before this checkpoint).
 */
export function writeCheckpoint(db: Database.Database, rows: ReturnType<typeof encodeCheckpoint>, pos: number, at: number, trimTo: number): void {
  db.prepare('DELETE FROM state').run();
  const ins = db.prepare('INSERT INTO state (pipeline, part, version, data) VALUES (?, ?, ?, ?)');
  for (const r of rows) ins.run(r.pipeline, r.part, r.version, r.data);
  const meta = db.prepare('INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)');
  meta.run('checkpoint_pos', String(pos));
  meta.run('checkpoint_at', String(at));
  db.prepare('DELETE FROM journal WHERE pos <= ?').run(trimTo);
}

/** Keep a part that could not be restored (newest 100 kept). */
export function setAside(db: Database.Database, at: number, a: { pipeline: string; part: string; version: number; error: string; data: Buffer | PartSnapshot }): void {
  const data = Buffer.isBuffer(a.data) ? a.data : serialize(a.data.data);
  db.transaction(() => {
    db.prepare('INSERT INTO state_aside (at, pipeline, part, version, error, data) VALUES (?, ?, ?, ?, ?, ?)').run(at, a.pipeline, a.part, a.version, a.error, data);
    db.prepare('DELETE FROM state_aside WHERE id <= (SELECT max(id) FROM state_aside) - 100').run();
  })();
}
