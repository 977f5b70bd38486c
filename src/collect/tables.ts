/**
 * The PostgreSQL tables `edgewise collect` writes (documented in docs/collect.md). Every message
 * table has the primary key (gateway, id): the dedupe rule of the upstream contract, so a resend
 * or a redelivery after a collector restart inserts nothing (`ON CONFLICT DO NOTHING`).
 */

/** A PostgreSQL identifier, quoted. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The columns every message table starts with: the payload envelope plus where and when it arrived. */
const ENVELOPE = `
  gateway    text        NOT NULL,
  id         text        NOT NULL,
  epoch      text        NOT NULL,
  seq        bigint      NOT NULL,
  topic      text        NOT NULL,
  stream     text        NOT NULL,
  pipeline   text        NOT NULL,
  output     text        NOT NULL,
  emitted    timestamptz NOT NULL,
  received   timestamptz NOT NULL,`;

export type MessageTable = 'aggregates' | 'alerts' | 'readings';
export const MESSAGE_TABLES: readonly MessageTable[] = ['aggregates', 'alerts', 'readings'];

/** DDL creating the schema, tables and views if they are missing (idempotent). */
export function schemaDdl(schema: string): string {
  const s = ident(schema);
  const seqIndex = (t: MessageTable) => `CREATE INDEX IF NOT EXISTS ${ident(`${t}_seq`)} ON ${s}.${t} (gateway, topic, epoch, seq);`;
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.aggregates (${ENVELOPE}
  window_kind  text        NOT NULL,
  window_start timestamptz NOT NULL,
  window_end   timestamptz NOT NULL,
  count        integer     NOT NULL,
  agg_values   jsonb       NOT NULL,
  partial      boolean,
  PRIMARY KEY (gateway, id)
);
CREATE TABLE IF NOT EXISTS ${s}.alerts (${ENVELOPE}
  alert_id   text             NOT NULL,
  state      text             NOT NULL,
  detector   text             NOT NULL,
  severity   text             NOT NULL,
  score      double precision,
  started    timestamptz      NOT NULL,
  ended      timestamptz,
  value      double precision,
  baseline   double precision,
  reason     text,
  PRIMARY KEY (gateway, id)
);
-- since 2026-12-06 (an alert judged after it began): added to tables made before, too
ALTER TABLE ${s}.alerts ADD COLUMN IF NOT EXISTS judged timestamptz;
CREATE TABLE IF NOT EXISTS ${s}.readings (${ENVELOPE}
  kind       text             NOT NULL,
  ts         timestamptz      NOT NULL,
  value      double precision,
  fields     jsonb,
  tags       jsonb,
  watermark  timestamptz,
  PRIMARY KEY (gateway, id)
);
${MESSAGE_TABLES.map(seqIndex).join('\n')}
CREATE TABLE IF NOT EXISTS ${s}.gateway_status (
  gateway  text        PRIMARY KEY,
  state    text        NOT NULL,
  since    timestamptz,
  updated  timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS ${s}.rejects (
  received timestamptz NOT NULL,
  topic    text        NOT NULL,
  payload  bytea       NOT NULL,
  error    text        NOT NULL
);
CREATE OR REPLACE VIEW ${s}.gaps AS
WITH m AS (
  ${MESSAGE_TABLES.map((t) => `SELECT gateway, topic, epoch, seq FROM ${s}.${t}`).join('\n  UNION ALL ')}
), ordered AS (
  SELECT gateway, topic, epoch, seq,
         lag(seq, 1, 0::bigint) OVER (PARTITION BY gateway, topic, epoch ORDER BY seq) AS prev
  FROM m
)
SELECT gateway, topic, epoch, prev + 1 AS first_missing, seq - 1 AS last_missing, seq - prev - 1 AS missing
FROM ordered WHERE seq > prev + 1;
CREATE OR REPLACE VIEW ${s}.dropped AS
SELECT gateway, sum(missing)::bigint AS missing, count(*)::bigint AS gaps
FROM ${s}.gaps GROUP BY gateway;
`;
}
