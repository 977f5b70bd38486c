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
import sparkplug from 'sparkplug-payload';
import type { Reading } from '../../src/core/reading.js';
import { MAX_DATE_MS } from '../../src/core/time.js';
import type { DropSink } from '../common/payload.js';
import { isValidName } from '../common/names.js';
import { shortTopic as short } from './topic.js';

const SPARKPLUG_PREFIX = 'spBv1.0/';
/** Least time between two rebirth requests to the same node. */
const REBIRTH_EVERY_MS = 10_000;
/** Nodes whose aliases are remembered; beyond, all are forgotten (and relearnt from rebirths). */
const MAX_NODES = 10_000;
/** Aliases remembered per node (its own metrics and its devices'). */
const MAX_ALIASES = 65_536;
/** Metric names whose stream part is remembered (all forgotten beyond). */
const MAX_NAMES = 100_000;
const NOT_IN_NAME = /[^A-Za-z0-9_.:-]/g;

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
}
interface ProtoPayload {
  timestamp?: Long | number;
  seq?: Long | number;
  metrics?: ProtoMetric[];
}
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
}

interface NodeState {
  aliases: Map<number, string>;
  /** The last seq seen (0–255), -1 before any. */
  seq: number;
  lastRebirthAsk: number;
}

const own = (o: object, k: string) => Object.hasOwn(o, k);
const num = (v: Long | number): number => (typeof v === 'number' ? v : v.toNumber());

/** Sparkplug datatypes 1–11 as numbers (the rest are not readings: strings, dates, bytes, data sets, templates). */
function metricValue(m: ProtoMetric): number | undefined {
  const t = m.datatype;
  // Integers may sit in int_value or long_value depending on the implementation and spec version
  // (UInt32 moved between them): whichever the message holds.
  const int = own(m, 'intValue') ? m.intValue! : own(m, 'longValue') ? m.longValue! : undefined;
  switch (t) {
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
      return own(m, 'floatValue') && Number.isFinite(m.floatValue) ? m.floatValue : undefined;
    case 10:
      return own(m, 'doubleValue') && Number.isFinite(m.doubleValue) ? m.doubleValue : undefined;
    case 11:
      return own(m, 'booleanValue') ? (m.booleanValue ? 1 : 0) : undefined;
    default:
      return undefined;
  }
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

/** Protocol metrics that are not measurements. */
function isControl(name: string): boolean {
  return name === 'bdSeq' || name.startsWith('Node Control/') || name.startsWith('Device Control/') || name.startsWith('Properties/');
}

export class SparkplugIngest {
  births = 0;
  seqGaps = 0;
  rebirthRequests = 0;
  /** Births that gave one alias to two metrics (the later name is kept). */
  aliasConflicts = 0;
  /** Messages that carry no readings for us: deaths, commands, messages of other groups. */
  ignored = 0;
  fieldsIgnored = 0;
  private readonly nodes = new Map<string, NodeState>();
  private readonly names = new Map<string, string | null>();
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
    if (type !== 'NBIRTH' && type !== 'DBIRTH' && type !== 'NDATA' && type !== 'DDATA') {
      if (type === 'NDEATH' || type === 'DDEATH' || type === 'NCMD' || type === 'DCMD') {
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
    const key = `${group}/${node}`;
    let st = this.nodes.get(key);
    if (type === 'NBIRTH') {
      this.births++;
      if (!st && this.nodes.size >= MAX_NODES) this.nodes.clear();
      st = { aliases: new Map(), seq: -1, lastRebirthAsk: st?.lastRebirthAsk ?? -Infinity };
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
    const dev = (device === undefined ? `${prefix}${node}` : `${prefix}${node}.${device}`).replace(NOT_IN_NAME, '_');
    if (!isValidName(dev)) {
      drops.drop('bad_name', { topic: short(topic) }, `topic "${short(topic)}": "${dev.slice(0, 40)}" does not make a device name (at most 64 characters)`);
      return 0;
    }
    const payloadTs = own(p, 'timestamp') && p.timestamp !== undefined ? timeOf(p.timestamp) : now;
    let n = 0;
    let skipped = 0;
    let unknown = 0;
    const named = birth ? new Map<number, string>() : undefined;
    for (const m of p.metrics ?? []) {
      let name = own(m, 'name') ? m.name : undefined;
      const alias = own(m, 'alias') && m.alias !== undefined ? num(m.alias) : undefined;
      if (name !== undefined && alias !== undefined && birth) {
        if (!st) {
          // A DBIRTH before its node's NBIRTH reached us: its aliases still count.
          if (this.nodes.size >= MAX_NODES) this.nodes.clear();
          st = { aliases: new Map(), seq: -1, lastRebirthAsk: -Infinity };
          this.nodes.set(key, st);
        }
        const before = named!.get(alias);
        if (before !== undefined && before !== name) this.aliasConflicts++;
        named!.set(alias, name);
        if (st.aliases.size < MAX_ALIASES || st.aliases.has(alias)) st.aliases.set(alias, name);
      }
      if (name === undefined && alias !== undefined) name = st?.aliases.get(alias);
      if (name === undefined) {
        unknown++;
        continue;
      }
      const metric = this.metricName(name);
      if (metric === '' || m.isNull === true) {
        this.fieldsIgnored++;
        continue;
      }
      const v = metricValue(m);
      if (v === undefined) {
        this.fieldsIgnored++;
        continue;
      }
      if (metric !== null && this.opts.ignoreFields.has(metric)) continue;
      if (metric === null) {
        drops.drop('bad_name', { topic: short(topic), metric: name.slice(0, 80) }, `topic "${short(topic)}": metric "${name.slice(0, 40)}" does not make a metric name (at most 64 characters)`);
        continue;
      }
      const ts = own(m, 'timestamp') && m.timestamp !== undefined ? timeOf(m.timestamp) : payloadTs;
      if (!(ts >= 0 && ts <= MAX_DATE_MS)) {
        drops.drop('bad_timestamp', { topic: short(topic), metric }, `topic "${short(topic)}": metric "${metric}" has timestamp ${ts}, not ms since 1970`);
        continue;
      }
      if (n >= this.opts.maxFields) {
        skipped++;
        continue;
      }
      emit({ stream: `${dev}/${metric}`, ts, value: v });
      n++;
    }
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

  /** The stream's metric part of a Sparkplug metric name ('' for protocol metrics, null when it makes no name), remembered. */
  private metricName(name: string): string | null {
    let m = this.names.get(name);
    if (m !== undefined) return m;
    if (isControl(name)) m = '';
    else {
      m = name.replace(NOT_IN_NAME, '_');
      if (!isValidName(m)) m = null;
    }
    if (this.names.size >= MAX_NAMES) this.names.clear();
    this.names.set(name, m);
    return m;
  }

  private askRebirth(group: string, node: string, key: string, now: number): boolean {
    if (!this.opts.rebirth) return false;
    let st = this.nodes.get(key);
    if (!st) {
      if (this.nodes.size >= MAX_NODES) this.nodes.clear();
      st = { aliases: new Map(), seq: -1, lastRebirthAsk: -Infinity };
      this.nodes.set(key, st);
    }
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
