/**
 * Sparkplug B input: what edge nodes and devices publish under `spBv1.0/<group>/<type>/<node>[/<device>]`
 * (protobuf payloads, Eclipse Sparkplug 3.0) → readings. The gateway acts as a Sparkplug host
 * application that only listens: births teach it each node's metric aliases, data messages give
 * values by name or alias, and a data message with an alias it was never told about (the gateway
 * started after the node's birth) is dropped, counted and answered by asking the node for a
 * rebirth (`Node Control/Rebirth` in an NCMD), at most once per REBIRTH_EVERY_MS per node.
 *
 * Streams: `<node>/<metric>` for node metrics, `<node>.<device>/<metric>` for device metrics
 * (`<group>.` in front with `group_in_name`), metric names with every character a stream name may
 * not hold (`/`, spaces) turned into `_`: `Inputs/Temperature A` → `Inputs_Temperature_A`.
 * Imported only when an mqtt input has a `sparkplug:` section.
 */
import protoRoot from 'sparkplug-payload/lib/sparkplugPayloadProto.js';
import { gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import sparkplug from 'sparkplug-payload';
import type { Reading } from '../../src/core/reading.js';
import { MAX_DATE_MS } from '../../src/core/time.js';
import type { DropSink } from '../common/payload.js';
import { isValidName, toName } from '../common/names.js';
import { shortTopic as short } from './topic.js';
import type { MqttConfig } from './config.js';

const SPARKPLUG_PREFIX = 'spBv1.0/';
/** Least time between two rebirth requests to the same node. */
const REBIRTH_EVERY_MS = 10_000;
/** Nodes whose aliases are remembered; beyond, all are forgotten (and relearnt from rebirths). */
const MAX_NODES = 10_000;
/** Aliases remembered per node (its own metrics and its devices'). */
const MAX_ALIASES = 65_536;
/** Levels of templates (UDT instances) read inside one another. */
const MAX_DEPTH = 4;
/** Metric names whose stream part is remembered (all forgotten beyond). */
const MAX_NAMES = 100_000;

interface Long {
  low: number;
  high: number;
  unsigned: boolean;
  toNumber(): number;
}
/** A metric as the generated protobuf code decodes it: only the fields the message holds are own properties. */
interface ProtoMetric {
  name?: string;
  alias?: Long | number;
  timestamp?: Long | number;
  datatype?: number;
  isNull?: boolean;
  intValue?: number;
  longValue?: Long | number;
  floatValue?: number;
  doubleValue?: number;
  booleanValue?: boolean;
  bytesValue?: Uint8Array;
  templateValue?: { metrics?: ProtoMetric[]; isDefinition?: boolean };
}
interface ProtoPayload {
  timestamp?: Long | number;
  seq?: Long | number;
  metrics?: ProtoMetric[];
  uuid?: string;
  body?: Uint8Array;
}
/** Eclipse Tahu's compressed payload: this uuid, the real payload compressed in `body`, an `algorithm` metric. */
const COMPRESSED = 'SPBV1.0_COMPRESSED';
const Payload = (protoRoot as unknown as { org: { eclipse: { tahu: { protobuf: { Payload: { decode(b: Uint8Array): ProtoPayload } } } } } }).org.eclipse.tahu.protobuf.Payload;
const codec = sparkplug.get('spBv1.0')!;

export interface SparkplugOptions {
  /** Group ids taken (`+`: every group). */
  groups: readonly string[];
  groupInName: boolean;
  rebirth: boolean;
  maxFields: number;
  /** Metric names (after `_` replacement) that are not readings. */
  ignoreFields: ReadonlySet<string>;
  /** Most bytes a compressed payload may inflate to. */
  maxInflated: number;
}

/** The options of an mqtt input's `sparkplug:` section (its defaults when it has none). */
export function sparkplugOptions(cfg: MqttConfig): SparkplugOptions {
  const sp = cfg.sparkplug;
  return { groups: sp?.groups ?? ['+'], groupInName: sp?.group_in_name ?? false, rebirth: sp?.rebirth ?? true, maxFields: cfg.max_fields, ignoreFields: new Set(cfg.ignore_fields), maxInflated: 16 * cfg.max_payload_bytes };
}

interface NodeState {
  aliases: Map<number, string>;
  /** Between its NBIRTH and the NDEATH of the same session. */
  online: boolean;
  /** The bdSeq of its last NBIRTH: an NDEATH with another is an older session's will, arriving late. */
  bdSeq: number | undefined;
  /** Datatypes told by births, by `<device>\0<metric name>` (data messages may leave them out, as Sparkplug 3.0 says they should). */
  types: Map<string, number>;
  /** The last seq seen (0–255), -1 before any. */
  seq: number;
  lastRebirthAsk: number;
}

const own = (o: object, k: string) => Object.hasOwn(o, k);
const num = (v: Long | number): number => (typeof v === 'number' ? v : v.toNumber());

/**
 * A scalar metric as a number: datatypes 1–11 (`t`: the message's, else its birth's, else 0 and
 * read from the value field the message holds, integers as signed). Strings, dates, bytes, data
 * sets are not readings (undefined).
 */
function metricValue(m: ProtoMetric, t: number): number | undefined {
  // Integers may sit in int_value or long_value depending on the implementation and spec version
  // (UInt32 moved between them): whichever the message holds.
  const int = own(m, 'intValue') ? m.intValue! : own(m, 'longValue') ? m.longValue! : undefined;
  switch (t) {
    case 0: // no datatype in the message nor its birth: what the value field says
      if (own(m, 'doubleValue')) return finite(m.doubleValue);
      if (own(m, 'floatValue')) return finite(m.floatValue);
      if (own(m, 'booleanValue')) return m.booleanValue ? 1 : 0;
      if (own(m, 'intValue')) return m.intValue! | 0;
      return int === undefined ? undefined : typeof int === 'number' ? int : signedOf(int);
    case 1: // Int8: two's complement in 8 bits (some encoders) or sign-extended to 32 (others)
    case 2: // Int16
    case 3: {
      // Int32
      if (int === undefined) return undefined;
      const u = (typeof int === 'number' ? int : unsignedOf(int)) >>> 0;
      if (u >= 2 ** 31) return u | 0;
      const bits = t === 1 ? 8 : t === 2 ? 16 : 32;
      return bits < 32 && u >= 2 ** (bits - 1) && u < 2 ** bits ? u - 2 ** bits : u;
    }
    case 4: // Int64
      return int === undefined ? undefined : typeof int === 'number' ? int : signedOf(int);
    case 5: // UInt8
    case 6: // UInt16
    case 7: // UInt32
    case 8: // UInt64
      return int === undefined ? undefined : typeof int === 'number' ? int : unsignedOf(int);
    case 9:
      return own(m, 'floatValue') ? finite(m.floatValue) : undefined;
    case 10:
      return own(m, 'doubleValue') ? finite(m.doubleValue) : undefined;
    case 11:
      return own(m, 'booleanValue') ? (m.booleanValue ? 1 : 0) : undefined;
    default:
      return undefined;
  }
}

const finite = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : undefined);

const TEMPLATE = 19;
/** Bytes per element of the array datatypes 22–31 (Int8Array … DoubleArray); 32 is BooleanArray. */
const ARRAY_SIZES: Readonly<Record<number, number>> = { 22: 1, 23: 2, 24: 4, 25: 8, 26: 1, 27: 2, 28: 4, 29: 8, 30: 4, 31: 8 };
const BOOLEAN_ARRAY = 32;

/**
 * The elements of an array metric (Sparkplug 3.0: little-endian packed in bytes_value, as Eclipse
 * Tahu writes them; BooleanArray a 4-byte count then bits, first element in the high bit); a string
 * saying what is wrong when the bytes do not make one.
 */
function arrayValues(t: number, b: Uint8Array | undefined): number[] | string {
  if (!b) return 'no bytes_value';
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (t === BOOLEAN_ARRAY) {
    if (b.length < 4) return `${b.length} bytes, less than the 4-byte count`;
    const count = dv.getUint32(0, true);
    if (b.length < 4 + Math.ceil(count / 8)) return `a count of ${count} in ${b.length - 4} bytes of bits`;
    return Array.from({ length: count }, (_, i) => (b[4 + (i >> 3)]! >> (7 - (i & 7))) & 1);
  }
  const size = ARRAY_SIZES[t]!;
  if (b.length % size !== 0) return `${b.length} bytes are not whole ${size}-byte elements`;
  const out: number[] = [];
  for (let o = 0; o < b.length; o += size) {
    switch (t) {
      case 22: out.push(dv.getInt8(o)); break;
      case 23: out.push(dv.getInt16(o, true)); break;
      case 24: out.push(dv.getInt32(o, true)); break;
      case 25: out.push(Number(dv.getBigInt64(o, true))); break;
      case 26: out.push(dv.getUint8(o)); break;
      case 27: out.push(dv.getUint16(o, true)); break;
      case 28: out.push(dv.getUint32(o, true)); break;
      case 29: out.push(Number(dv.getBigUint64(o, true))); break;
      case 30: out.push(dv.getFloat32(o, true)); break;
      default: out.push(dv.getFloat64(o, true));
    }
  }
  return out;
}

function signedOf(l: Long): number {
  return (l.high | 0) * 4294967296 + (l.low >>> 0);
}
function unsignedOf(l: Long): number {
  return (l.high >>> 0) * 4294967296 + (l.low >>> 0);
}
function timeOf(v: Long | number): number {
  return typeof v === 'number' ? v : unsignedOf(v);
}

/** The `bdSeq` metric of a birth or death, if it has one. */
function bdSeqOf(p: ProtoPayload): number | undefined {
  const m = p.metrics?.find((x) => own(x, 'name') && x.name === 'bdSeq');
  if (!m) return undefined;
  const v = own(m, 'longValue') ? m.longValue : own(m, 'intValue') ? m.intValue : undefined;
  return v === undefined ? undefined : num(v);
}

/** Protocol metrics that are not measurements. */
function isControl(name: string): boolean {
  return name === 'bdSeq' || name.startsWith('Node Control/') || name.startsWith('Device Control/') || name.startsWith('Properties/');
}

/** Where one message's readings go, and how many went. */
interface Emission {
  topic: string;
  /** The stream's device part. */
  dev: string;
  /** The topic's device id ('' for the node's own metrics). */
  device: string;
  birth: boolean;
  /** The gateway clock, for metrics with no time of their own nor the payload's. */
  now: number;
  n: number;
  skipped: number;
  emit: (r: Reading) => void;
  drops: DropSink;
}

export class SparkplugIngest {
  births = 0;
  seqGaps = 0;
  rebirthRequests = 0;
  /** Compressed payloads inflated. */
  compressed = 0;
  /** NDEATHs of an older session than the node's last NBIRTH (ignored). */
  staleDeaths = 0;
  /** Births that gave one alias to two metrics (the later name is kept). */
  aliasConflicts = 0;
  /** Messages that carry no readings for us: deaths, commands, messages of other groups. */
  ignored = 0;
  fieldsIgnored = 0;
  private readonly nodes = new Map<string, NodeState>();
  private readonly names = new Map<string, string | null>();
  /** The time and value last taken of each stream (to tell a birth's or a resend's repeat). */
  private readonly last = new Map<string, [number, number]>();
  /** Values not taken again: a birth's repeat of data, or the same time and value twice. */
  repeats = 0;
  private readonly allGroups: boolean;

  constructor(
    private readonly opts: SparkplugOptions,
    /** Publishes an NCMD (rebirth request); undefined while the transport is down. */
    private readonly publish: (topic: string, payload: Buffer) => void,
  ) {
    this.allGroups = opts.groups.includes('+');
  }

  /** Whether a topic is this input's Sparkplug traffic (else the topic templates map it). */
  takes(topic: string): boolean {
    if (!topic.startsWith(SPARKPLUG_PREFIX)) return false;
    if (this.allGroups) return true;
    const end = topic.indexOf('/', SPARKPLUG_PREFIX.length);
    const group = topic.slice(SPARKPLUG_PREFIX.length, end < 0 ? undefined : end);
    return group === 'STATE' || this.opts.groups.includes(group);
  }

  /** One Sparkplug message. Returns the readings emitted; never throws. */
  handle(topic: string, payload: Buffer, now: number, emit: (r: Reading) => void, drops: DropSink): number {
    const parts = topic.split('/');
    const [, group, type, node, device] = parts;
    if (parts.length === 3 && group === 'STATE') {
      this.ignored++; // a host application's state (Sparkplug 3.0)
      return 0;
    }
    if (parts.length < 4 || parts.length > 5 || !group || !type || !node || (parts.length === 5 && !device)) {
      drops.drop('unknown_topic', { topic: short(topic) }, `topic "${short(topic)}" is not a Sparkplug B topic (spBv1.0/<group>/<type>/<edge node>[/<device>])`);
      return 0;
    }
    if (type === 'NDEATH') return this.death(group, node, payload);
    if (type !== 'NBIRTH' && type !== 'DBIRTH' && type !== 'NDATA' && type !== 'DDATA') {
      if (type === 'DDEATH' || type === 'NCMD' || type === 'DCMD') {
        this.ignored++;
        return 0;
      }
      drops.drop('unknown_topic', { topic: short(topic) }, `topic "${short(topic)}": "${type}" is not a Sparkplug B message type`);
      return 0;
    }
    let p: ProtoPayload;
    try {
      p = Payload.decode(payload);
    } catch (e) {
      drops.drop('bad_payload', { topic: short(topic), bytes: payload.length, head: payload.subarray(0, 32).toString('hex') }, `topic "${short(topic)}": not a Sparkplug B payload (${(e as Error).message})`);
      return 0;
    }
    if (p.uuid === COMPRESSED) {
      const inner = this.inflate(p);
      if (typeof inner === 'string') {
        drops.drop('bad_payload', { topic: short(topic), bytes: payload.length }, `topic "${short(topic)}": compressed Sparkplug payload: ${inner}`);
        return 0;
      }
      p = inner;
      this.compressed++;
    }
    const key = `${group}/${node}`;
    let st = this.nodes.get(key);
    if (type === 'NBIRTH') {
      this.births++;
      if (!st && this.nodes.size >= MAX_NODES) this.nodes.clear();
      st = { aliases: new Map(), types: new Map(), seq: -1, lastRebirthAsk: st?.lastRebirthAsk ?? -Infinity, online: true, bdSeq: bdSeqOf(p) };
      this.nodes.set(key, st);
    } else if (type === 'DBIRTH') this.births++;
    if (own(p, 'seq') && p.seq !== undefined) {
      const seq = num(p.seq) & 255;
      // Counted, never acted on: real nodes repeat and skip seq numbers (a node publishing from
      // several threads, a lost message), and every one of their readings is still worth taking.
      if (st && st.seq >= 0 && type !== 'NBIRTH' && seq !== ((st.seq + 1) & 255)) this.seqGaps++;
      if (st) st.seq = seq;
    }
    const birth = type === 'NBIRTH' || type === 'DBIRTH';
    const prefix = this.opts.groupInName ? `${group}.` : '';
    const dev = toName(device === undefined ? `${prefix}${node}` : `${prefix}${node}.${device}`);
    if (!isValidName(dev)) {
      drops.drop('bad_name', { topic: short(topic) }, `topic "${short(topic)}": "${dev.slice(0, 40)}" does not make a device name (at most 64 characters)`);
      return 0;
    }
    const payloadTs = own(p, 'timestamp') && p.timestamp !== undefined ? timeOf(p.timestamp) : undefined;
    const out: Emission = { topic, dev, device: device ?? '', birth, now, n: 0, skipped: 0, emit, drops };
    let unknown = 0;
    const named = birth ? new Map<number, string>() : undefined;
    for (const m of p.metrics ?? []) {
      let name = own(m, 'name') ? m.name : undefined;
      const alias = own(m, 'alias') && m.alias !== undefined ? num(m.alias) : undefined;
      if (birth && name !== undefined) {
        st ??= this.nodeState(key); // a DBIRTH before its node's NBIRTH reached us still counts
        if (alias !== undefined) {
          const before = named!.get(alias);
          if (before !== undefined && before !== name) this.aliasConflicts++;
          named!.set(alias, name);
          if (st.aliases.size < MAX_ALIASES || st.aliases.has(alias)) st.aliases.set(alias, name);
        }
      }
      if (name === undefined && alias === undefined) {
        drops.drop('bad_payload', { topic: short(topic) }, `topic "${short(topic)}": a metric with neither a name nor an alias`);
        continue;
      }
      if (name === undefined) name = st?.aliases.get(alias!);
      if (name === undefined) {
        unknown++;
        continue;
      }
      this.take(m, name, own(m, 'timestamp') && m.timestamp !== undefined ? timeOf(m.timestamp) : payloadTs, out, st, 1);
    }
    const n = out.n;
    const skipped = out.skipped;
    if (skipped > 0) drops.drop('too_many_fields', { topic: short(topic) }, `topic "${short(topic)}": ${skipped} metrics over the limit of ${this.opts.maxFields} per message`);
    if (unknown > 0) {
      const asked = this.askRebirth(group, node, key, now);
      drops.drop(
        'unknown_alias',
        { topic: short(topic), metrics: unknown },
        `topic "${short(topic)}": ${unknown} metric(s) by alias only, and no birth of edge node "${node}" has told this gateway their names${asked ? '; asked the node for a rebirth (NCMD Node Control/Rebirth)' : this.opts.rebirth ? '; a rebirth was asked for less than 10 s ago' : ' (sparkplug.rebirth is off)'}`,
      );
    }
    return n;
  }

  /**
   * One metric (or a template member, named `<template>/<member>` as Eclipse Tahu names them): its
   * datatype from the message, else from the birth; a template instance read member by member, an
   * array element by element (`<metric>_<i>`), a scalar as one reading.
   */
  private take(m: ProtoMetric, name: string, ts: number | undefined, o: Emission, st: NodeState | undefined, depth: number): void {
    const typeKey = `${o.device}\u0000${name}`;
    let t = own(m, 'datatype') ? m.datatype! : 0;
    if (t !== 0 && o.birth && st && (st.types.size < MAX_ALIASES || st.types.has(typeKey))) st.types.set(typeKey, t);
    if (t === 0) t = st?.types.get(typeKey) ?? 0;
    const metric = this.metricName(name);
    if (metric === '' || m.isNull === true) {
      this.fieldsIgnored++;
      return;
    }
    if (t === TEMPLATE) {
      const tv = own(m, 'templateValue') ? m.templateValue : undefined;
      if (!tv || tv.isDefinition === true || depth >= MAX_DEPTH) {
        this.fieldsIgnored++; // a definition (births' _types_/…) holds no values
        return;
      }
      for (const member of tv.metrics ?? []) {
        if (!own(member, 'name')) {
          this.fieldsIgnored++;
          continue;
        }
        this.take(member, `${name}/${member.name}`, own(member, 'timestamp') && member.timestamp !== undefined ? timeOf(member.timestamp) : ts, o, st, depth + 1);
      }
      return;
    }
    if (metric === null) {
      o.drops.drop('bad_name', { topic: short(o.topic), metric: name.slice(0, 80) }, `topic "${short(o.topic)}": metric "${name.slice(0, 40)}" does not make a metric name (at most 64 characters)`);
      return;
    }
    if (this.opts.ignoreFields.has(metric)) return;
    if (ts !== undefined && !(ts >= 0 && ts <= MAX_DATE_MS)) {
      o.drops.drop('bad_timestamp', { topic: short(o.topic), metric }, `topic "${short(o.topic)}": metric "${metric}" has timestamp ${ts}, not ms since 1970`);
      return;
    }
    if (t === BOOLEAN_ARRAY || ARRAY_SIZES[t] !== undefined) {
      const values = arrayValues(t, own(m, 'bytesValue') ? m.bytesValue : undefined);
      if (typeof values === 'string') {
        o.drops.drop('bad_payload', { topic: short(o.topic), metric }, `topic "${short(o.topic)}": array metric "${metric}" (datatype ${t}): ${values}`);
        return;
      }
      if (metric.length + 1 + String(values.length - 1).length > 64) {
        o.drops.drop('bad_name', { topic: short(o.topic), metric }, `topic "${short(o.topic)}": array metric "${metric.slice(0, 40)}" with ${values.length} elements does not make metric names <metric>_<i> of at most 64 characters`);
        return;
      }
      for (let i = 0; i < values.length; i++) {
        if (Number.isFinite(values[i])) this.put(o, `${metric}_${i}`, ts, values[i]!);
        else this.fieldsIgnored++;
      }
      return;
    }
    const v = metricValue(m, t);
    if (v === undefined) {
      this.fieldsIgnored++;
      return;
    }
    this.put(o, metric, ts, v);
  }

  /**
   * One reading, unless it repeats one already taken: a birth's value is the node's current value,
   * which it has sent or is about to send in data too (Eclipse Tahu's nodes and ours declare a
   * device's metrics in its DBIRTH with the values of the DDATA that follows; a rebirth repeats
   * the last ones). A value with the node's time, equal in time and value to the last one taken
   * of its stream, or from a birth and not newer, is counted (`sparkplug_repeats`), not taken again.
   */
  private put(o: Emission, metric: string, ts: number | undefined, value: number): void {
    const stream = `${o.dev}/${metric}`;
    if (ts !== undefined) {
      const last = this.last.get(stream);
      if (last && ((last[0] === ts && Object.is(last[1], value)) || (o.birth && ts <= last[0]))) {
        this.repeats++;
        return;
      }
    }
    if (o.n >= this.opts.maxFields) {
      o.skipped++;
      return;
    }
    if (ts !== undefined) {
      if (this.last.size >= MAX_NAMES) this.last.clear();
      this.last.set(stream, [ts, value]);
    }
    o.emit({ stream, ts: ts ?? o.now, value });
    o.n++;
  }

  private nodeState(key: string): NodeState {
    let st = this.nodes.get(key);
    if (!st) {
      if (this.nodes.size >= MAX_NODES) this.nodes.clear();
      st = { aliases: new Map(), types: new Map(), seq: -1, lastRebirthAsk: -Infinity, online: false, bdSeq: undefined };
      this.nodes.set(key, st);
    }
    return st;
  }

  /** The stream's metric part of a Sparkplug metric name ('' for protocol metrics, null when it makes no name), remembered. */
  private metricName(name: string): string | null {
    let m = this.names.get(name);
    if (m !== undefined) return m;
    if (isControl(name)) m = '';
    else {
      m = toName(name);
      if (!isValidName(m)) m = null;
    }
    if (this.names.size >= MAX_NAMES) this.names.clear();
    this.names.set(name, m);
    return m;
  }

  /**
   * NDEATH: the node is offline, unless its bdSeq is not its last NBIRTH's: then it is the will of
   * an older session that the broker delivered after the new session's birth (counted, ignored).
   */
  private death(group: string, node: string, payload: Buffer): number {
    this.ignored++;
    const st = this.nodes.get(`${group}/${node}`);
    if (!st?.online) return 0;
    let bd: number | undefined;
    try {
      bd = bdSeqOf(Payload.decode(payload));
    } catch {
      bd = undefined; // a death we cannot read still says the node is gone
    }
    if (bd !== undefined && st.bdSeq !== undefined && bd !== st.bdSeq) this.staleDeaths++;
    else st.online = false;
    return 0;
  }

  /** A compressed payload (Tahu's DEFLATE or GZIP, as Ignition's MQTT Transmission sends on slow links) decoded, or why not. */
  private inflate(p: ProtoPayload): ProtoPayload | string {
    const algorithm = p.metrics?.find((m) => own(m, 'name') && m.name === 'algorithm') as { stringValue?: string } | undefined;
    const alg = (algorithm?.stringValue ?? 'DEFLATE').toUpperCase();
    if (!p.body) return 'no body';
    const opts = { maxOutputLength: this.opts.maxInflated };
    let bytes: Buffer;
    try {
      if (alg === 'GZIP') bytes = gunzipSync(p.body, opts);
      else if (alg === 'DEFLATE') {
        try {
          bytes = inflateSync(p.body, opts); // zlib-wrapped, as java.util.zip.Deflater writes it
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw e;
          bytes = inflateRawSync(p.body, opts); // no zlib header: raw DEFLATE
        }
      } else return `algorithm "${alg}" (DEFLATE and GZIP are known)`;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return err.code === 'ERR_BUFFER_TOO_LARGE' ? `${alg} inflates to more than ${this.opts.maxInflated} bytes (16 × max_payload_bytes)` : `${alg}: ${err.message}`;
    }
    try {
      return Payload.decode(bytes);
    } catch (e) {
      return `${alg} body is not a Sparkplug B payload (${(e as Error).message})`;
    }
  }

  /** Edge nodes between their NBIRTH and NDEATH. */
  nodesOnline(): number {
    let n = 0;
    for (const st of this.nodes.values()) if (st.online) n++;
    return n;
  }

  private askRebirth(group: string, node: string, key: string, now: number): boolean {
    if (!this.opts.rebirth) return false;
    const st = this.nodeState(key);
    if (now - st.lastRebirthAsk < REBIRTH_EVERY_MS) return false;
    st.lastRebirthAsk = now;
    this.rebirthRequests++;
    this.publish(`${SPARKPLUG_PREFIX}${group}/NCMD/${node}`, rebirthPayload(now));
    return true;
  }
}

function rebirthPayload(now: number): Buffer {
  return Buffer.from(codec.encodePayload({ timestamp: now, metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] }));
}
