/**
 * The Sparkplug B mapping of an upstream record (docs/upstream.md, "Sparkplug B"): which device,
 * which metrics with which datatypes and timestamps, and the payload bytes. Pure apart from the
 * codec; imported only when `upstream.format: sparkplug_b` (or by a benchmark).
 */
import sparkplug from 'sparkplug-payload';
import type { UMetric, UPayload, UPropertyValue } from 'sparkplug-payload/lib/sparkplugbpayload.js';
import { deviceOf, metricOf } from '../../core/reading.js';

export type { UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload.js';

const SPARKPLUG_NAMESPACE = 'spBv1.0';
const codec = sparkplug.get(SPARKPLUG_NAMESPACE)!;

/** An upstream record as the outbox holds it (the JSON envelope of payload.ts, parsed). */
export interface UpstreamRecord {
  gateway: string;
  id: string;
  seq: number;
  kind: 'reading' | 'late' | 'aggregate' | 'alert';
  stream: string;
  pipeline: string;
  output: string;
  data: Record<string, unknown>;
}

export type SparkplugMessageType = 'NBIRTH' | 'NDEATH' | 'DBIRTH' | 'DDEATH' | 'NDATA' | 'DDATA' | 'NCMD' | 'DCMD';

/** The metric the host sends in an NCMD to ask for a rebirth (Sparkplug B 3.0). */
export const REBIRTH_METRIC = 'Node Control/Rebirth';

/** One level of a Sparkplug topic: `/ + #` and NUL are not allowed in ids, replaced by `_`. */
export function sparkplugId(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is refused on purpose (not allowed in MQTT topics)
  const t = s.replace(/[/+#\u0000]/g, '_');
  return t === '' ? '_' : t;
}

export function sparkplugTopic(group: string, type: SparkplugMessageType, node: string, device?: string): string {
  return `${SPARKPLUG_NAMESPACE}/${group}/${type}/${node}${device === undefined ? '' : `/${device}`}`;
}

/** The Sparkplug device of a stream: its device part (before the first `/`). */
export function sparkplugDevice(stream: string): string {
  return sparkplugId(deviceOf(stream));
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function need(r: UpstreamRecord, field: string): unknown {
  const v = r.data[field];
  if (v === undefined) throw new Error(`record ${r.id}: ${r.kind} without data.${field}`);
  return v;
}

function prop(v: number | string | boolean): UPropertyValue {
  return typeof v === 'number' ? { type: 'Double', value: v } : typeof v === 'boolean' ? { type: 'Boolean', value: v } : { type: 'String', value: v };
}

/**
 * The metrics of one record, in a fixed order. The first one carries the record's properties:
 * `id` (String: the dedupe id, the same on every resend) and `seq` (UInt64: the per-topic gap-free
 * sequence of the JSON format), plus what the kind adds (docs/upstream.md has the table).
 */
export function recordMetrics(r: UpstreamRecord): UMetric[] {
  const m = metricOf(r.stream) || 'value';
  const props: Record<string, UPropertyValue> = { id: { type: 'String', value: r.id }, seq: { type: 'UInt64', value: r.seq } };
  const d = r.data;
  switch (r.kind) {
    case 'reading':
    case 'late': {
      const ts = need(r, 'ts') as number;
      for (const bag of [d.fields, d.tags] as (Record<string, string | number | boolean> | undefined)[]) {
        if (bag) for (const [k, v] of Object.entries(bag)) if (!(k in props)) props[k] = prop(v);
      }
      if (r.kind === 'late') props.watermark = { type: 'DateTime', value: need(r, 'watermark') as number };
      return [{ name: r.kind === 'late' ? `late/${m}` : m, type: 'Double', value: num(d.value), timestamp: ts, properties: props }];
    }
    case 'aggregate': {
      const end = need(r, 'end') as number;
      props.start = { type: 'DateTime', value: need(r, 'start') as number };
      props.window = { type: 'String', value: String(need(r, 'window')) };
      if (d.partial === true) props.partial = { type: 'Boolean', value: true };
      const out: UMetric[] = [{ name: `aggregate/${m}/count`, type: 'UInt32', value: need(r, 'count') as number, timestamp: end, properties: props }];
      const values = need(r, 'values') as Record<string, number | null>;
      // a `count` aggregate is the window's count, sent once (as the first metric)
      for (const k in values) if (k !== 'count') out.push({ name: `aggregate/${m}/${k}`, type: 'Double', value: num(values[k]), timestamp: end });
      return out;
    }
    case 'alert': {
      const start = need(r, 'start') as number;
      const ts = typeof d.end === 'number' ? d.end : start;
      props.alert_id = { type: 'String', value: String(need(r, 'alert_id')) };
      props.detector = { type: 'String', value: String(need(r, 'detector')) };
      props.start = { type: 'DateTime', value: start };
      if (typeof d.judged === 'number') props.judged = { type: 'DateTime', value: d.judged };
      const base = `alert/${m}`;
      const out: UMetric[] = [
        { name: `${base}/state`, type: 'String', value: String(need(r, 'state')), timestamp: ts, properties: props },
        { name: `${base}/severity`, type: 'String', value: String(need(r, 'severity')), timestamp: ts },
        { name: `${base}/score`, type: 'Double', value: num(d.score), timestamp: ts },
        { name: `${base}/value`, type: 'Double', value: num(d.value), timestamp: ts },
      ];
      if (d.baseline !== undefined) out.push({ name: `${base}/baseline`, type: 'Double', value: num(d.baseline), timestamp: ts });
      if (typeof d.reason === 'string') out.push({ name: `${base}/reason`, type: 'String', value: d.reason, timestamp: ts });
      return out;
    }
    default:
      throw new Error(`record ${(r as UpstreamRecord).id}: unknown kind "${(r as UpstreamRecord).kind}"`);
  }
}

/** Mark metrics as historical (drained from the outbox after an outage): hosts store them without updating live values. */
export function historical(metrics: UMetric[]): UMetric[] {
  for (const x of metrics) x.isHistorical = true;
  return metrics;
}

export function encodeSparkplugPayload(p: UPayload): Uint8Array {
  return codec.encodePayload(p);
}

export function decodeSparkplugPayload(bytes: Uint8Array): UPayload {
  return codec.decodePayload(bytes);
}

/** Parse the JSON payload the outbox holds into a record; throws with what is wrong. */
export function parseRecord(payload: Buffer | string): UpstreamRecord {
  const r = JSON.parse(payload.toString()) as UpstreamRecord;
  if (!r || typeof r !== 'object' || typeof r.id !== 'string' || typeof r.stream !== 'string' || !r.data) throw new Error('not an upstream record (no id, stream or data)');
  return r;
}

/**
 * Metric aliases of one edge node (Sparkplug B 3.0): a number per (device, metric name), declared
 * with the name in the device's DBIRTH; DDATA then names each metric by its alias alone, which
 * saves most of the bytes of a record. Unique across the node's devices; never reused.
 */
export class SparkplugAliases {
  private next = 1;
  private readonly byDevice = new Map<string, Map<string, number>>();

  /** The alias of a metric of a device, assigned on first use. */
  of(device: string, name: string): number {
    let m = this.byDevice.get(device);
    if (!m) this.byDevice.set(device, (m = new Map()));
    let a = m.get(name);
    if (a === undefined) m.set(name, (a = this.next++));
    return a;
  }

  has(device: string, name: string): boolean {
    return this.byDevice.get(device)?.has(name) ?? false;
  }

  /** The device is gone (DDEATH): its aliases are declared anew with its next DBIRTH. */
  forget(device: string): void {
    this.byDevice.delete(device);
  }
}

/** DDATA form of metrics: the alias instead of the name. */
export function aliased(device: string, metrics: UMetric[], aliases: SparkplugAliases): UMetric[] {
  return metrics.map(({ name, ...rest }) => ({ ...rest, alias: aliases.of(device, name!) }));
}

export interface SparkplugRecordContext {
  /** Sparkplug group id (default `edgewise`). */
  groupId?: string;
  /** Edge node id (default: the record's gateway). */
  edgeNodeId?: string;
  /** The node's message sequence number, 0–255 (default 0). */
  seq?: number;
  /** Drained from the outbox after an outage: `is_historical` on every metric. */
  historical?: boolean;
  /** Payload timestamp, ms (default: now). */
  now?: number;
  /**
   * The node's aliases: metrics go by alias, as the gateway sends them after their DBIRTH
   * (`upstream.sparkplug.aliases`, the default). Without it, by name.
   */
  aliases?: SparkplugAliases;
}

/**
 * One record as the DDATA a gateway publishes for it: topic and payload bytes. The bytes
 * benchmark (bench/uplink-bytes.bench.ts) calls this with the records of the domain pipelines.
 */
export function encodeSparkplugRecord(record: UpstreamRecord, ctx: SparkplugRecordContext = {}): { topic: string; payload: Uint8Array } {
  const device = sparkplugDevice(record.stream);
  let metrics = recordMetrics(record);
  if (ctx.historical) historical(metrics);
  if (ctx.aliases) metrics = aliased(device, metrics, ctx.aliases);
  const topic = sparkplugTopic(ctx.groupId ?? 'edgewise', 'DDATA', ctx.edgeNodeId ?? sparkplugId(record.gateway), device);
  return { topic, payload: encodeSparkplugPayload({ timestamp: ctx.now ?? Date.now(), seq: ctx.seq ?? 0, metrics }) };
}
