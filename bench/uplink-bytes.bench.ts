/**
 * Upstream bytes per aggregate and per alert: JSON one by one vs batched (upstream.batch) vs
 * batched and compressed (gzip, deflate, brotli) vs Sparkplug B (when its encoder is there), for the
 * three domain pipelines on simulator data, and what that means per month on a cellular plan.
 *
 * Real parts: each shipped pipeline runs on a seeded simulator fleet with injected faults; its
 * emissions go through a real outbox (SQLite in a temp dir), whose committed rows are exactly
 * what the forwarder publishes; batches are built by the forwarder's own encoder (src/upstream/
 * batch.ts), MQTT packets by mqtt-packet (what mqtt.js writes). Batches are cut the way the
 * forwarder cuts them: max_records, max_bytes, and max_delay measured on the records' event time
 * (the simulated clock), as a live gateway would see them.
 *
 * Run: npx tsx bench/uplink-bytes.bench.ts   (UPLINK_BYTES_HOURS=24 for a longer simulated run)
 */
import { join } from 'node:path';
import mqttPacket from 'mqtt-packet';
import { loadPipelineFile } from '../src/config/load.js';
import { pipelineSchema, type PipelineSpec } from '../src/config/pipeline.js';
import { silentLogger } from '../src/core/log.js';
import { compilePipeline } from '../src/compile.js';
import { Outbox, type OutboxRow } from '../src/outbox/index.js';
import { batchJsonBytes, batchTopic, encodeBatch, type Compression } from '../src/upstream/batch.js';
import { messageTopic } from '../src/core/payload.js';
import { Simulation, type Domain } from '../firmware-sim/index.js';
import { outboxConfig, tempDir } from '../test/upstream/helpers.js';
import { machine, printTable } from './report.js';

const ROOT = join(import.meta.dirname, '..');
const HOURS = Number(process.env.UPLINK_BYTES_HOURS ?? 12);
const PREFIX = 'edgewise/v1';
const GATEWAY = 'van-17';
/** The batch settings of the comparison: what a metered uplink would use. */
const BATCH = { max_records: 100, max_bytes: 64 * 1024, max_delay: 30_000 };

/** Cellular cost model (stated in the output and docs/upstream.md). */
const NET = {
  /** IPv4 20 + TCP 20 + TCP timestamps 12, per segment. */
  tcpIp: 52,
  /** TLS 1.3 record with AES-GCM: 5 header + 1 content type + 16 tag. */
  tls: 22,
  /** Payload bytes per TCP segment (1500 MTU − 52). */
  mss: 1448,
  /** MQTT keepalive: an idle link sends PINGREQ/PINGRESP this often. */
  keepaliveMs: 30_000,
  /** A new connection (cellular drops it now and then): TCP handshake + full TLS 1.3 handshake with a 2-certificate chain + CONNECT/CONNACK, both directions. */
  reconnectBytes: 6_500,
  reconnectsPerDay: 24,
};

interface Scenario {
  name: string;
  domain: Domain;
  devices: number;
  pipelines: PipelineSpec[];
  /** Hours a month the gateway is on. */
  hoursPerMonth: number;
  what: string;
}

const file = (f: string) => loadPipelineFile(join(ROOT, 'pipelines', f));
const vanSummary = pipelineSchema().parse({
  name: 'van-summary',
  input: { streams: ['*/speed_kmh', '*/rpm', '*/coolant_c', '*/accel_ms2'] },
  steps: [{ window: { type: 'tumbling', size: '1m', aggregates: ['mean', 'max'] } }, { output: 'upstream' }],
});

const SCENARIOS: Scenario[] = [
  { name: 'maintenance', domain: 'maintenance', devices: 4, pipelines: [file('predictive-maintenance.yaml')], hoursPerMonth: 720, what: 'a pump cabinet: 4 pumps, predictive-maintenance.yaml, 24/7' },
  { name: 'vitals', domain: 'vitals', devices: 12, pipelines: [file('vitals.yaml')], hoursPerMonth: 720, what: 'a ward: 12 beds, vitals.yaml (NEWS2 every 30 s), 24/7' },
  { name: 'telematics', domain: 'telematics', devices: 1, pipelines: [file('telematics.yaml')], hoursPerMonth: 300, what: 'a van: telematics.yaml (alerts only), 10 h/day' },
  {
    name: 'telematics + 1 min summary',
    domain: 'telematics',
    devices: 1,
    pipelines: [file('telematics.yaml'), vanSummary],
    hoursPerMonth: 300,
    what: 'a van: telematics.yaml + mean/max of speed, rpm, coolant, acceleration per minute, 10 h/day',
  },
];

interface Rec {
  row: OutboxRow;
  kind: 'aggregate' | 'alert' | 'reading' | 'late';
  topic: string;
  /** Simulated time the record was emitted (the reading that produced it). */
  at: number;
}

/** Run the scenario's pipelines on the simulator and return the outbox's committed rows, in order. */
function records(s: Scenario): { recs: Rec[]; hours: number } {
  const tmp = tempDir('edgewise-bytes-');
  const outbox = Outbox.open({ config: outboxConfig({ max_bytes: '1GB' }), dataDir: tmp.dir, gatewayId: GATEWAY, log: silentLogger() });
  const rows: OutboxRow[] = [];
  outbox.onCommit((r) => rows.push(...r));
  let now = 0;
  /** Simulated time of each put, in put order (rows come back in the same order). */
  const times: number[] = [];
  const ps = s.pipelines.map((spec) =>
    compilePipeline(spec, (e) => {
      if (e.kind === 'late') return; // not forwarded by default (outbox.forward_late)
      times.push(now);
      outbox.put(e);
    }),
  );
  const start = Date.UTC(2024, 0, 1);
  const sim = new Simulation({ domains: [s.domain], devices: s.devices, rateHz: 1, seed: 7, start, durationMs: HOURS * 3_600_000 });
  sim.run(0, sim.ticks, (smp) => {
    now = smp.t;
    const metrics = smp.device.metrics;
    for (let i = 0; i < metrics.length; i++) {
      const v = smp.values[i]!;
      if (!Number.isNaN(v)) for (const p of ps) p.push({ stream: `${smp.device.id}/${metrics[i]}`, ts: smp.t, value: v });
    }
  });
  for (const p of ps) p.flush();
  outbox.flush();
  const st = outbox.stats();
  if (rows.length !== times.length) throw new Error(`outbox kept ${rows.length} of ${times.length} emissions (${JSON.stringify(st.dropped)}): the time mapping needs one row per put`);
  const recs = rows.map((row, i) => {
    const key = outbox.key(row.keyId)!;
    return { row, kind: key.kind, topic: messageTopic(PREFIX, GATEWAY, key.kind, key.stream), at: times[i]! } as Rec;
  });
  outbox.close();
  tmp.cleanup();
  return { recs, hours: HOURS };
}

const publishBytes = (topic: string, payload: Buffer) => mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 1, messageId: 1, retain: false, dup: false }).length;
const PUBACK = mqttPacket.generate({ cmd: 'puback', messageId: 1 }).length;
const PING = mqttPacket.generate({ cmd: 'pingreq' }).length;

/** One publish: which records, its payload and MQTT bytes, and when it went (simulated). */
interface Publish {
  recs: Rec[];
  payload: number;
  mqtt: number;
  at: number;
}

function oneByOne(recs: Rec[]): Publish[] {
  return recs.map((r) => ({ recs: [r], payload: r.row.payload.length, mqtt: publishBytes(r.topic, r.row.payload), at: r.at }));
}

/** Cut batches as the forwarder does (max_records, max_bytes, max_delay from the first record). */
function batched(recs: Rec[], compression: Compression): { pubs: Publish[]; cpuUs: number } {
  const groups: Rec[][] = [];
  let g: Rec[] = [];
  let bytes = 0;
  for (const r of recs) {
    const late = g.length && r.at - g[0]!.at >= BATCH.max_delay;
    const big = g.length && batchJsonBytes(GATEWAY, bytes + r.row.payload.length, g.length + 1) > BATCH.max_bytes;
    if (late || big) {
      groups.push(g);
      g = [];
      bytes = 0;
    }
    g.push(r);
    bytes += r.row.payload.length;
    if (g.length >= BATCH.max_records) {
      groups.push(g);
      g = [];
      bytes = 0;
    }
  }
  if (g.length) groups.push(g);
  const topic = batchTopic(PREFIX, GATEWAY, compression);
  const cpu0 = process.cpuUsage();
  const payloads = groups.map((grp) => encodeBatch(GATEWAY, grp.map((r) => r.row.payload), compression));
  const cpu = process.cpuUsage(cpu0);
  // Sent when the batch closes: at its last record, or max_delay after its first.
  const pubs = groups.map((grp, i) => ({ recs: grp, payload: payloads[i]!.length, mqtt: publishBytes(topic, payloads[i]!), at: Math.min(grp.at(-1)!.at, grp[0]!.at + BATCH.max_delay) }));
  return { pubs, cpuUs: cpu.user + cpu.system };
}

/** Bytes on the cellular link, both directions, for these publishes over `hours`. */
function linkBytes(pubs: Publish[], hours: number): number {
  let total = 0;
  for (const p of pubs) {
    const up = p.mqtt + NET.tls;
    total += up + Math.ceil(up / NET.mss) * NET.tcpIp; // PUBLISH
    total += PUBACK + NET.tls + NET.tcpIp; // PUBACK (carries the ACK of the PUBLISH)
    total += NET.tcpIp; // the gateway's ACK of the PUBACK
  }
  // Keepalive: a link idle for longer than the keepalive sends PINGREQ/PINGRESP (and an ACK).
  const times = pubs.map((p) => p.at).sort((a, b) => a - b);
  const span = hours * 3_600_000;
  let pings = 0;
  let prev = 0;
  for (const t of [...times.map((t) => t - times[0]!), span]) {
    pings += Math.max(0, Math.floor((t - prev) / NET.keepaliveMs));
    prev = t;
  }
  total += pings * (2 * (PING + NET.tls + NET.tcpIp) + NET.tcpIp);
  total += (hours / 24) * NET.reconnectsPerDay * NET.reconnectBytes;
  return total;
}

/** Per aggregate and per alert: a batch's bytes are shared among its records by their JSON size. */
function perKind(pubs: Publish[]): Record<'aggregate' | 'alert', { payload: number; mqtt: number; n: number }> {
  const out = { aggregate: { payload: 0, mqtt: 0, n: 0 }, alert: { payload: 0, mqtt: 0, n: 0 } };
  for (const p of pubs) {
    const json = p.recs.reduce((s, r) => s + r.row.payload.length, 0);
    for (const r of p.recs) {
      const k = r.kind === 'alert' ? out.alert : r.kind === 'aggregate' ? out.aggregate : null;
      if (!k) continue;
      const share = r.row.payload.length / json;
      k.payload += p.payload * share;
      k.mqtt += p.mqtt * share;
      k.n++;
    }
  }
  return out;
}

/** What the bench uses of the Sparkplug helper's encoder (src/upstream/sparkplug/encode.ts). */
interface SparkplugCodec {
  parseRecord(payload: Buffer): unknown;
  encodeSparkplugRecord(record: unknown, ctx: { seq?: number; now?: number; aliases?: unknown }): { topic: string; payload: Uint8Array };
  SparkplugAliases: new () => unknown;
}

/**
 * Sparkplug B column: each record as the DDATA the gateway publishes for it (`upstream.format:
 * sparkplug_b`, metrics by alias, the default), one record per publish; births (once per device and
 * connection) are not counted. Left out when the encoder is not in this checkout.
 */
async function sparkplugCodec(): Promise<SparkplugCodec | undefined> {
  const path = '../src/upstream/sparkplug/encode.js'; // not a literal: this file builds before the encoder lands
  try {
    return (await import(path)) as SparkplugCodec;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

function sparkplug(codec: SparkplugCodec, recs: Rec[]): Publish[] {
  const aliases = new codec.SparkplugAliases();
  return recs.map((r, i) => {
    const m = codec.encodeSparkplugRecord(codec.parseRecord(r.row.payload), { seq: i % 256, now: r.at, aliases });
    const payload = Buffer.from(m.payload);
    return { recs: [r], payload: payload.length, mqtt: publishBytes(m.topic, payload), at: r.at };
  });
}

const codec = await sparkplugCodec();
const rows: string[][] = [];
const monthly: string[][] = [];
const t0 = Date.now();
for (const s of SCENARIOS) {
  const { recs, hours } = records(s);
  const aggs = recs.filter((r) => r.kind === 'aggregate').length;
  const alerts = recs.filter((r) => r.kind === 'alert').length;
  const variants: [string, Publish[], number | null][] = [['JSON one by one', oneByOne(recs), null]];
  for (const c of ['none', 'gzip', 'deflate', 'brotli'] as const) {
    const b = batched(recs, c);
    variants.push([c === 'none' ? 'batched JSON' : `batched ${c}`, b.pubs, b.cpuUs / recs.length]);
  }
  if (codec) variants.push(['Sparkplug B (DDATA, aliases)', sparkplug(codec, recs), null]);
  const base = linkBytes(variants[0]![1], hours);
  for (const [name, pubs, cpu] of variants) {
    const k = perKind(pubs);
    const f = (x: { payload: number; mqtt: number; n: number }, w: 'payload' | 'mqtt') => (x.n ? (x[w] / x.n).toFixed(0) : '–');
    const link = linkBytes(pubs, hours);
    const mb = (link / hours) * s.hoursPerMonth / 1e6;
    rows.push([s.name, name, f(k.aggregate, 'payload'), f(k.aggregate, 'mqtt'), f(k.alert, 'payload'), f(k.alert, 'mqtt'), (pubs.length / hours).toFixed(0), cpu === null ? '–' : cpu.toFixed(1)]);
    monthly.push([s.name, name, `${(aggs / hours).toFixed(0)} agg + ${(alerts / hours).toFixed(1)} alerts`, mb.toFixed(2), `${((100 * link) / base).toFixed(0)} %`]);
  }
}

printTable(
  `Upstream bytes per record, ${HOURS} h simulated per scenario (seed 7, faults injected), batches of ≤ ${BATCH.max_records} records / ${BATCH.max_bytes / 1024} KB / ${BATCH.max_delay / 1000} s; ${machine()}. ` +
    'Payload = MQTT payload; MQTT = the whole PUBLISH packet (fixed header, topic, packet id, payload), MQTT 3.1.1; batched bytes shared among a batch\'s records by JSON size. ' +
    'CPU = encoding + compression per record.' +
    (codec ? ' Sparkplug B: births not counted.' : ' Sparkplug B: its encoder is not in this checkout, left out.'),
  ['pipeline', 'encoding', 'B/aggregate payload', 'B/aggregate MQTT', 'B/alert payload', 'B/alert MQTT', 'publishes/h', 'CPU µs/record'],
  rows,
);
printTable(
  `Per month on a cellular link, both directions: each publish + TLS 1.3 record (${NET.tls} B) + TCP/IPv4 (${NET.tcpIp} B/segment, MSS ${NET.mss}), its PUBACK the same way and a TCP ACK; ` +
    `keepalive ${NET.keepaliveMs / 1000} s when idle; ${NET.reconnectsPerDay} reconnects/day at ${NET.reconnectBytes} B (TCP + full TLS 1.3 handshake + CONNECT). ` +
    SCENARIOS.map((s) => `${s.name}: ${s.what}`).join('; ') +
    `. Ran in ${((Date.now() - t0) / 1000).toFixed(0)} s.`,
  ['pipeline', 'encoding', 'records/h', 'MB/month', 'vs one by one'],
  monthly,
);
