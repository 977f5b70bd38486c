/**
 * Turn one MQTT message of the upstream contract into the row it lands as, or a reject with the
 * reason. Payloads are checked against the same zod schemas the JSON Schemas and the AsyncAPI
 * document are generated from.
 */
import { BATCH_LEVEL, compressionOfLevel, readBatch } from '../upstream/batch.js';
import { messageTopic, topicSafe } from '../core/payload.js';
import { payloadSchemas } from '../upstream/payload-schema.js';
import type { UpstreamPayload } from '../upstream/payload-schema.js';
import type { MessageTable } from './tables.js';

export type Row = Record<string, unknown>;

export type Decoded =
  | { table: MessageTable; row: Row }
  | { table: 'gateway_status'; row: Row }
  | { table: 'rejects'; row: Row };

const iso = (ms: number | null | undefined) => (ms === undefined || ms === null ? null : new Date(ms).toISOString());

function reject(topic: string, payload: Buffer, received: string, error: string): Decoded {
  return { table: 'rejects', row: { received, topic, payload, error } };
}

/** A batch may inflate to this many bytes at most (a decompression bomb is rejected, not expanded). */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

const RECORD_KINDS = ['aggregate', 'alert', 'reading', 'late'] as const;
type RecordKind = (typeof RECORD_KINDS)[number];

/**
 * Decode one MQTT message into the rows it lands as: one for a single message, one per record for
 * a batch (`<prefix>/<gateway>/batch[/<compression>]`, see docs/upstream.md). A batch that cannot be
 * read is one reject; a bad record in a good batch is a reject of its own, the others land.
 */
export function decodePublish(topic: string, payload: Buffer, received: number, prefix = 'edgewise/v1', maxBatchBytes = MAX_BATCH_BYTES): Decoded[] {
  if (!topic.startsWith(`${prefix}/`)) return [decodeMessage(topic, payload, received, prefix)];
  const [gw, kind, ...rest] = topic.slice(prefix.length + 1).split('/');
  if (kind !== BATCH_LEVEL) return [decodeMessage(topic, payload, received, prefix)];
  const at = iso(received)!;
  const compression = rest.length <= 1 ? compressionOfLevel(rest[0]) : undefined;
  if (!compression) return [reject(topic, payload, at, `unknown batch compression "${rest.join('/')}" in the topic (expected none, gzip, deflate or brotli)`)];
  let batch: ReturnType<typeof readBatch>;
  try {
    batch = readBatch(payload, compression, maxBatchBytes);
  } catch (err) {
    return [reject(topic, payload, at, (err as Error).message)];
  }
  if (topicSafe(batch.gateway) !== gw) return [reject(topic, payload, at, `batch gateway "${batch.gateway}" does not match the topic`)];
  return batch.records.map((rec, i) => {
    const bad = (why: string) => reject(topic, Buffer.from(JSON.stringify(rec) ?? 'null'), at, `batch record ${i}: ${why}`);
    const k = (rec as { kind?: unknown } | null)?.kind;
    if (!RECORD_KINDS.includes(k as RecordKind)) return bad(`unknown kind ${JSON.stringify(k)} (expected aggregate, alert, reading or late)`);
    const r = payloadSchemas[k as RecordKind].safeParse(rec);
    if (!r.success) return bad(`${k as string} payload: ${issues(r.error.issues)}`);
    if (r.data.gateway !== batch.gateway) return bad(`record gateway "${r.data.gateway}" is not the batch's "${batch.gateway}"`);
    // The topic it would have had alone: gaps are reported per (gateway, topic, epoch) however it travelled.
    return rowOf(r.data, messageTopic(prefix, r.data.gateway, r.data.kind, r.data.stream), at);
  });
}

/**
 * Decode a message received on `topic` (under `prefix`); `received` is the collector's wall clock (ms).
 * The topic must name the payload's gateway and kind: a gateway cannot write as another.
 */
export function decodeMessage(topic: string, payload: Buffer, received: number, prefix = 'edgewise/v1'): Decoded {
  const at = iso(received)!;
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return reject(topic, payload, at, `not JSON: ${(err as Error).message}`);
  }
  if (!topic.startsWith(`${prefix}/`)) return reject(topic, payload, at, `topic is not under the prefix ${prefix}`);
  const [gw, kind, ...stream] = topic.slice(prefix.length + 1).split('/');
  if (kind === 'status' && stream.length === 0) {
    const r = payloadSchemas.status.safeParse(json);
    if (!r.success) return reject(topic, payload, at, `status payload: ${issues(r.error.issues)}`);
    if (topicSafe(r.data.gateway) !== gw) return reject(topic, payload, at, `payload gateway "${r.data.gateway}" does not match the topic`);
    return { table: 'gateway_status', row: { gateway: r.data.gateway, state: r.data.state, since: iso(r.data.since), updated: at } };
  }
  if (kind !== 'aggregate' && kind !== 'alert' && kind !== 'reading' && kind !== 'late')
    return reject(topic, payload, at, `unknown kind "${kind}" in the topic (expected aggregate, alert, reading, late or status)`);
  const r = payloadSchemas[kind].safeParse(json);
  if (!r.success) return reject(topic, payload, at, `${kind} payload: ${issues(r.error.issues)}`);
  if (topicSafe(r.data.gateway) !== gw) return reject(topic, payload, at, `payload gateway "${r.data.gateway}" does not match the topic`);
  return rowOf(r.data, topic, at);
}

function rowOf(p: UpstreamPayload, topic: string, at: string): Decoded {
  const env = { gateway: p.gateway, id: p.id, epoch: p.epoch, seq: p.seq, topic, stream: p.stream, pipeline: p.pipeline, output: p.output, emitted: iso(p.emitted), received: at };
  switch (p.kind) {
    case 'aggregate': {
      const d = p.data;
      return { table: 'aggregates', row: { ...env, window_kind: d.window, window_start: iso(d.start), window_end: iso(d.end), count: d.count, agg_values: d.values, partial: d.partial ?? null } };
    }
    case 'alert': {
      const d = p.data;
      return {
        table: 'alerts',
        row: { ...env, alert_id: d.alert_id, state: d.state, detector: d.detector, severity: d.severity, score: d.score, started: iso(d.start), ended: iso(d.end), value: d.value, baseline: d.baseline ?? null, reason: d.reason ?? null, judged: iso(d.judged) },
      };
    }
    case 'reading':
    case 'late': {
      const d = p.data;
      return {
        table: 'readings',
        row: { ...env, kind: p.kind, ts: iso(d.ts), value: d.value, fields: d.fields ?? null, tags: d.tags ?? null, watermark: p.kind === 'late' ? iso(p.data.watermark) : null },
      };
    }
  }
}

function issues(list: readonly { path: PropertyKey[]; message: string }[]): string {
  return list
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
