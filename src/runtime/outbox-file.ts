import Database from 'better-sqlite3';
import { countJournal } from '../journal/journal.js';

/** One row of the outbox's dead-letter table: something refused, when, where and why. */
export interface DeadLetter {
  id: number;
  /** `input:<name>` or `pipeline:<name>`. */
  source: string;
  reason: string;
  /** When it was refused (ms since epoch; 0 in rows written before this was recorded). */
  at: number;
  detail?: string;
  sample: string;
}

export interface DeadLetterQuery {
  /** Only rows refused at or after this time (ms since epoch). */
  since?: number;
  /** Only rows of this input or pipeline name (`input:<name>`/`pipeline:<name>`, or the bare name). */
  source?: string;
  /** Newest rows first, at most this many. */
  limit?: number;
}

/** Open an outbox file read-only: works while the gateway runs (WAL lets a reader in beside the writer) and when it does not. */
function openReadOnly(file: string): Database.Database {
  try {
    return new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new Error(`cannot open the outbox ${file} (${(err as Error).message}); give the gateway's data dir (--data-dir) or its config (--config)`);
  }
}

/** What an outbox file holds while its gateway is stopped: buffered messages and dead letters. */
export interface OutboxFileSummary {
  file: string;
  messages: number;
  bytes: number;
  byPriority: { raw: number; aggregate: number; alert: number };
  /** When the oldest buffered message was written (ms since epoch), if any. */
  oldest?: number;
  deadLetters: number;
  /** The last checkpoint of pipeline state (docs/state.md), if one was taken. */
  checkpoint?: {
    at: number;
    /** Saved parts per pipeline (keys, window, detectors, operators). */
    pipelines: Array<{ pipeline: string; parts: number }>;
    /** Journaled readings after it: what a restart replays. */
    journalAfter: number;
    /** Parts that could not be restored, kept aside for inspection. */
    aside: number;
  };
}

export function readOutboxSummary(file: string): OutboxFileSummary {
  const db = openReadOnly(file);
  try {
    const s: OutboxFileSummary = { file, messages: 0, bytes: 0, byPriority: { raw: 0, aggregate: 0, alert: 0 }, deadLetters: 0 };
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type='table'").all() as { name: string }[]).map((r) => r.name));
    if (tables.has('messages')) {
      const names = ['raw', 'aggregate', 'alert'] as const;
      for (const r of db.prepare('SELECT priority, count(*) AS n, sum(length(payload)) AS b, min(created) AS c FROM messages GROUP BY priority').all() as { priority: number; n: number; b: number; c: number }[]) {
        s.messages += r.n;
        s.bytes += r.b;
        const name = names[r.priority];
        if (name) s.byPriority[name] = r.n;
        s.oldest = s.oldest === undefined ? r.c : Math.min(s.oldest, r.c);
      }
    }
    if (tables.has('dead_letters')) s.deadLetters = (db.prepare('SELECT count(*) AS n FROM dead_letters').get() as { n: number }).n;
    if (tables.has('state') && tables.has('meta')) {
      const meta = (k: string) => Number((db.prepare('SELECT v FROM meta WHERE k = ?').pluck().get(k) as string | undefined) ?? 0);
      // Schema 3 keeps the live checkpoint's generation beside others (being written, or garbage); schema 2 has one.
      const hasGen = (db.prepare("SELECT count(*) FROM pragma_table_info('state') WHERE name = 'gen'").pluck().get() as number) > 0;
      const pipelines = db
        .prepare(`SELECT pipeline, count(DISTINCT part) AS parts FROM state WHERE pipeline NOT LIKE '*%' ${hasGen ? 'AND gen = ?' : ''} GROUP BY pipeline ORDER BY pipeline`)
        .all(...(hasGen ? [meta('checkpoint_gen')] : [])) as Array<{ pipeline: string; parts: number }>;
      const at = meta('checkpoint_at');
      if (at > 0 || pipelines.length > 0) {
        const pos = meta('checkpoint_pos');
        const journalAfter = tables.has('journal_blocks') ? countJournal(db, pos) : tables.has('journal') ? (db.prepare('SELECT count(*) FROM journal WHERE pos > ?').pluck().get(pos) as number) : 0;
        const aside = tables.has('state_aside') ? (db.prepare('SELECT count(*) FROM state_aside').pluck().get() as number) : 0;
        s.checkpoint = { at, pipelines, journalAfter, aside };
      }
    }
    return s;
  } finally {
    db.close();
  }
}

/** The dead letters of an outbox file, newest first. */
export function readDeadLetters(file: string, q: DeadLetterQuery = {}): DeadLetter[] {
  const db = openReadOnly(file);
  try {
    const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='dead_letters'").get();
    if (!has) return [];
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.since !== undefined) {
      where.push('at >= ?');
      args.push(q.since);
    }
    if (q.source) {
      where.push(q.source.includes(':') ? 'source = ?' : "(source = 'input:' || ? OR source = 'pipeline:' || ?)");
      args.push(q.source);
      if (!q.source.includes(':')) args.push(q.source);
    }
    const sql = `SELECT id, source, reason, at, detail, sample FROM dead_letters ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    const rows = db.prepare(sql).all(...args, q.limit ?? 100) as Array<{ id: number; source: string; reason: string; at: number; detail: string | null; sample: string }>;
    return rows.map((r) => ({ id: r.id, source: r.source, reason: r.reason, at: r.at, sample: r.sample, ...(r.detail != null ? { detail: r.detail } : {}) }));
  } finally {
    db.close();
  }
}
