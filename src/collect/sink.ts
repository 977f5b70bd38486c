/**
 * Writes decoded messages into PostgreSQL, one transaction per batch. A batch is committed before
 * any of its messages is acknowledged to the broker (the collector's job); here a resent message
 * costs nothing but a skipped row: `INSERT … ON CONFLICT DO NOTHING` on the key (gateway, id).
 */
import pg from 'pg';
import type { Decoded, Row } from './decode.js';
import { ident, MESSAGE_TABLES, schemaDdl, type MessageTable } from './tables.js';

export interface BatchResult {
  /** New rows in aggregates, alerts and readings. */
  inserted: number;
  /** Messages whose (gateway, id) was already there: resends and redeliveries. */
  duplicates: number;
  /** Gateway status messages applied. */
  statuses: number;
  /** Messages stored in `rejects` (bad payloads). */
  rejected: number;
}

export class PgSink {
  private readonly pool: pg.Pool;
  private readonly s: string;

  constructor(
    url: string,
    readonly schema = 'edgewise',
  ) {
    this.s = ident(schema);
    // One connection: batches are written one after another (ordering, and one commit at a time).
    this.pool = new pg.Pool({ connectionString: url, max: 1, application_name: 'edgewise-collect' });
    // An idle connection dropped by the server must not crash the process: the next batch reconnects.
    this.pool.on('error', () => {});
  }

  /** Create the schema, tables and views if missing. */
  /**
   * A pooled connection. The pool handles errors of idle connections only: one that breaks while
   * checked out (server shutdown mid-batch) emits 'error' too, which must not crash the process;
   * the query in progress rejects and the connection is discarded on release.
   */
  private async connect(): Promise<pg.PoolClient> {
    const c = await this.pool.connect();
    if (c.listenerCount('error') === 0) c.on('error', () => {});
    return c;
  }

  async init(): Promise<void> {
    const c = await this.connect();
    try {
      // Two collectors starting together would race on CREATE … IF NOT EXISTS: serialise them.
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`edgewise-collect:${this.schema}`]);
      await c.query(schemaDdl(this.schema));
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  /** Write a batch in one transaction. Resolves once it is committed; rejects (nothing written) on error. */
  async write(batch: readonly Decoded[]): Promise<BatchResult> {
    const byTable = new Map<MessageTable, Row[]>();
    const statuses: Row[] = [];
    const rejects: Row[] = [];
    for (const d of batch) {
      if (d.table === 'gateway_status') statuses.push(d.row);
      else if (d.table === 'rejects') rejects.push(d.row);
      else {
        let rows = byTable.get(d.table);
        if (!rows) byTable.set(d.table, (rows = []));
        rows.push(d.row);
      }
    }
    const c = await this.connect();
    let inserted = 0;
    let messages = 0;
    try {
      await c.query('BEGIN');
      for (const t of MESSAGE_TABLES) {
        const rows = byTable.get(t);
        if (!rows) continue;
        messages += rows.length;
        const r = await c.query(
          `INSERT INTO ${this.s}.${t} SELECT * FROM json_populate_recordset(NULL::${this.s}.${t}, $1::json) ON CONFLICT DO NOTHING`,
          [JSON.stringify(rows)],
        );
        inserted += r.rowCount ?? 0;
      }
      // Retained status: the last one received wins (the broker keeps only the latest anyway).
      for (const r of statuses)
        await c.query(
          `INSERT INTO ${this.s}.gateway_status (gateway, state, since, updated) VALUES ($1, $2, $3, $4)
           ON CONFLICT (gateway) DO UPDATE SET state = EXCLUDED.state, since = EXCLUDED.since, updated = EXCLUDED.updated`,
          [r.gateway, r.state, r.since, r.updated],
        );
      for (const r of rejects)
        await c.query(`INSERT INTO ${this.s}.rejects (received, topic, payload, error) VALUES ($1, $2, $3, $4)`, [r.received, r.topic, r.payload, r.error]);
      await c.query('COMMIT');
      c.release();
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      // A broken connection is discarded, not returned to the pool.
      c.release(err as Error);
      throw err;
    }
    return { inserted, duplicates: messages - inserted, statuses: statuses.length, rejected: rejects.length };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
