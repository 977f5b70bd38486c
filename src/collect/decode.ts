/**
 * Turn one MQTT message of the upstream contract into the row it lands as, or a reject with the
 * reason. Payloads are checked against the same zod schemas the JSON Schemas and the AsyncAPI
 * document are generated from.
 */
import { topicSafe } from '../upstream/payload.js';
import { payloadSchemas } from '../upstream/payload-schema.js';
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
  const p = r.data;
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
        row: { ...env, alert_id: d.alert_id, state: d.state, detector: d.detector, severity: d.severity, score: d.score, started: iso(d.start), ended: iso(d.end), value: d.value, baseline: d.baseline ?? null, reason: d.reason ?? null },
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
