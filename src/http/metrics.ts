import { readFileSync } from 'node:fs';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GatewayStats } from '../runtime/gateway.js';
import type { LiveState } from './live.js';

type Labels = Record<string, string>;
type Sample = [Labels, number];

/**
 * One Prometheus metric read from the gateway's stats at scrape time. A counter the runtime adds
 * later is one more line in METRICS; a stats field that is missing gives no sample, not an error.
 */
interface StatMetric {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  labels: string[];
  samples: (s: GatewayStats, live: LiveState) => Sample[];
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const one = (v: unknown, labels: Labels = {}): Sample[] => (num(v) === undefined ? [] : [[labels, v as number]]);
const each = (rec: unknown, key: string, extra: Labels = {}): Sample[] =>
  rec && typeof rec === 'object' ? Object.entries(rec as Record<string, unknown>).flatMap(([k, v]) => one(v, { ...extra, [key]: k })) : [];
const UPSTREAM_STATES = ['connecting', 'online', 'offline', 'stopped'] as const;
const INPUT_STATES = ['starting', 'up', 'degraded', 'down', 'stopped'] as const;
const SEVERITIES = ['info', 'warning', 'critical'] as const;

const perInput = (f: (i: GatewayStats['inputs'][number]) => Sample[]) => (s: GatewayStats) => (s.inputs ?? []).flatMap(f);
const perPipeline = (f: (p: GatewayStats['pipelines'][number]) => Sample[]) => (s: GatewayStats) => (s.pipelines ?? []).flatMap(f);
const pipelineField = (field: string) => perPipeline((p) => one((p as unknown as Record<string, unknown>)[field], { pipeline: p.pipeline }));

/** The mapping from GatewayStats to Prometheus metrics (docs/operations.md lists them). */
export const METRICS: StatMetric[] = [
  { name: 'edgewise_readings_total', help: 'Readings the inputs handed to the pipelines.', type: 'counter', labels: [], samples: (s) => one(s.readings) },
  { name: 'edgewise_unrouted_readings_total', help: 'Readings no pipeline takes (no pipeline matches their stream).', type: 'counter', labels: [], samples: (s) => one(s.unrouted) },
  { name: 'edgewise_gateway_clock_correction_seconds', help: 'Added to the gateway clock because at least 3 devices agree it is off (gateway.clock_from_devices); 0 when it is trusted.', type: 'gauge', labels: [], samples: (s) => one(s.clock === undefined ? undefined : s.clock.correctionMs / 1000) },
  { name: 'edgewise_input_up', help: '1 when the input is up, 0 otherwise.', type: 'gauge', labels: ['input', 'kind'], samples: perInput((i) => [[{ input: i.name, kind: i.kind }, i.state === 'up' ? 1 : 0]]) },
  {
    name: 'edgewise_input_state',
    help: 'State of each input: 1 for its current state, 0 for the others.',
    type: 'gauge',
    labels: ['input', 'state'],
    samples: perInput((i) => INPUT_STATES.map((st): Sample => [{ input: i.name, state: st }, i.state === st ? 1 : 0])),
  },
  { name: 'edgewise_input_readings_total', help: 'Readings produced by each input.', type: 'counter', labels: ['input'], samples: perInput((i) => one(i.counters?.readings, { input: i.name })) },
  {
    name: 'edgewise_input_events_total',
    help: "Each input driver's own counters (messages, bytes, reconnects, ignored topics, ...), by counter name.",
    type: 'counter',
    labels: ['input', 'event'],
    samples: perInput((i) => each(i.counters, 'event', { input: i.name }).filter(([l]) => l.event !== 'readings')),
  },
  { name: 'edgewise_input_dropped_total', help: 'Input data refused by each input, by reason (dead letters keep samples).', type: 'counter', labels: ['input', 'reason'], samples: perInput((i) => each(i.dropped, 'reason', { input: i.name })) },
  { name: 'edgewise_pipeline_received_total', help: 'Readings offered to a pipeline that matched its streams.', type: 'counter', labels: ['pipeline'], samples: pipelineField('received') },
  { name: 'edgewise_pipeline_accepted_total', help: 'Readings a pipeline accepted into its steps.', type: 'counter', labels: ['pipeline'], samples: pipelineField('accepted') },
  { name: 'edgewise_pipeline_late_total', help: 'Readings later than the allowed lateness (sent to the late side output).', type: 'counter', labels: ['pipeline'], samples: pipelineField('late') },
  { name: 'edgewise_pipeline_filtered_total', help: 'Readings or results a filter step dropped by design.', type: 'counter', labels: ['pipeline'], samples: pipelineField('filtered') },
  { name: 'edgewise_pipeline_windows_fired_total', help: 'Windows closed and computed.', type: 'counter', labels: ['pipeline'], samples: pipelineField('windowsFired') },
  { name: 'edgewise_pipeline_dropped_total', help: 'Readings a pipeline refused, and readings or results a step dropped (e.g. not_judged), by reason.', type: 'counter', labels: ['pipeline', 'reason'], samples: perPipeline((p) => each(p.dropped, 'reason', { pipeline: p.pipeline })) },
  { name: 'edgewise_pipeline_emitted_total', help: 'Records a pipeline emitted, by output.', type: 'counter', labels: ['pipeline', 'output'], samples: perPipeline((p) => each(p.emitted, 'output', { pipeline: p.pipeline })) },
  {
    name: 'edgewise_pipeline_operator_events_total',
    help: "Each operator step's own counters, by operator and counter name (telematics: harsh events raised, rebounds, samples it could not judge, speed gaps, devices moved in their mounts; news2: intervals scored, incomplete, missing per vital, not scored for want of any current vital, patients forgotten).",
    type: 'counter',
    labels: ['pipeline', 'operator', 'event'],
    samples: perPipeline((p) => Object.entries(p.operators ?? {}).flatMap(([op, c]) => each(c, 'event', { pipeline: p.pipeline, operator: op }))),
  },
  {
    name: 'edgewise_pipeline_operator_state',
    help: "Where each operator step's things stand now, by operator and name (telematics: vehicles, forward_unknown — vehicles on an IMU whose forward axis is not learnt yet —, waiting — harsh manoeuvres kept to be judged once it is; running: running, stopped, unknown; news2: patients, alerting).",
    type: 'gauge',
    labels: ['pipeline', 'operator', 'name'],
    samples: perPipeline((p) => Object.entries(p.gauges ?? {}).flatMap(([op, g]) => each(g, 'name', { pipeline: p.pipeline, operator: op }))),
  },
  { name: 'edgewise_pipeline_keys', help: 'Streams (keys) a pipeline tracks.', type: 'gauge', labels: ['pipeline'], samples: pipelineField('keys') },
  { name: 'edgewise_pipeline_forgotten_devices_total', help: 'Devices a pipeline forgot after input.forget_after of silence (their streams freed, their alerts cleared).', type: 'counter', labels: ['pipeline'], samples: pipelineField('forgottenDevices') },
  { name: 'edgewise_pipeline_forgotten_streams_total', help: 'Streams (keys) freed with those devices.', type: 'counter', labels: ['pipeline'], samples: pipelineField('forgotten') },
  { name: 'edgewise_pipeline_open_windows', help: 'Windows open in a pipeline.', type: 'gauge', labels: ['pipeline'], samples: pipelineField('openWindows') },
  {
    name: 'edgewise_detector_streams',
    help: "Streams each detect step keeps a detector for, by state: learning (its detector in warm-up, or nothing judged yet: no alert can come from it) or judging.",
    type: 'gauge',
    labels: ['pipeline', 'detector', 'state'],
    samples: perPipeline((p) =>
      (p.detectors ?? []).flatMap((d): Sample[] => [
        [{ pipeline: p.pipeline, detector: d.step, state: 'learning' }, d.learning],
        [{ pipeline: p.pipeline, detector: d.step, state: 'judging' }, d.streams - d.learning],
      ]),
    ),
  },
  {
    name: 'edgewise_alerts_active',
    help: 'Alerts raised and not cleared, by severity.',
    type: 'gauge',
    labels: ['severity'],
    samples: (_s, live) => {
      const n = live.activeBySeverity();
      return SEVERITIES.map((sev): Sample => [{ severity: sev }, n[sev] ?? 0]);
    },
  },
  { name: 'edgewise_alerts_raised_total', help: 'Alerts raised since start, by severity.', type: 'counter', labels: ['severity'], samples: (_s, live) => SEVERITIES.map((sev): Sample => [{ severity: sev }, live.raised[sev] ?? 0]) },
  { name: 'edgewise_outbox_messages', help: 'Messages buffered in the outbox (committed, not yet acknowledged upstream), by priority.', type: 'gauge', labels: ['priority'], samples: (s) => each(s.outbox?.depth?.byPriority, 'priority') },
  { name: 'edgewise_outbox_bytes', help: 'Bytes of the buffered messages (payload plus row overhead).', type: 'gauge', labels: [], samples: (s) => one(s.outbox?.depth?.bytes) },
  { name: 'edgewise_outbox_file_bytes', help: 'Size of the outbox SQLite file plus its WAL.', type: 'gauge', labels: [], samples: (s) => one(s.outbox?.fileBytes) },
  { name: 'edgewise_outbox_max_bytes', help: 'The byte bound in force (lowered after the disk filled up).', type: 'gauge', labels: [], samples: (s) => one(s.outbox?.effectiveMaxBytes) },
  { name: 'edgewise_outbox_oldest_message_age_seconds', help: 'Age of the oldest buffered message (0 when empty).', type: 'gauge', labels: [], samples: (s) => one(num(s.outbox?.oldestAgeMs) === undefined ? undefined : s.outbox!.oldestAgeMs / 1000) },
  { name: 'edgewise_outbox_pending_messages', help: 'Messages in the open batch, not yet committed.', type: 'gauge', labels: [], samples: (s) => one(s.outbox?.pending) },
  { name: 'edgewise_outbox_accepted_total', help: 'Messages the outbox accepted.', type: 'counter', labels: [], samples: (s) => one(s.outbox?.accepted) },
  { name: 'edgewise_outbox_committed_total', help: 'Messages committed to the SQLite file.', type: 'counter', labels: [], samples: (s) => one(s.outbox?.committed) },
  { name: 'edgewise_outbox_commits_total', help: 'SQLite transactions committed.', type: 'counter', labels: [], samples: (s) => one(s.outbox?.commits) },
  { name: 'edgewise_outbox_acked_total', help: 'Messages acknowledged upstream and deleted.', type: 'counter', labels: [], samples: (s) => one(s.outbox?.acked) },
  { name: 'edgewise_outbox_dropped_total', help: 'Messages the outbox dropped, by reason (outbox_full, max_age, disk_full, too_large, closed, corrupt_file).', type: 'counter', labels: ['reason'], samples: (s) => each(s.outbox?.dropped, 'reason') },
  { name: 'edgewise_outbox_dropped_by_priority_total', help: 'Messages the outbox dropped, by priority.', type: 'counter', labels: ['priority'], samples: (s) => each(s.outbox?.droppedByPriority, 'priority') },
  { name: 'edgewise_outbox_recoveries_total', help: 'Times a corrupt outbox file was moved aside.', type: 'counter', labels: [], samples: (s) => one(s.outbox?.recoveries) },
  { name: 'edgewise_outbox_disk_full_total', help: 'Times the disk was found full.', type: 'counter', labels: [], samples: (s) => one(s.outbox?.diskFullEvents) },
  { name: 'edgewise_outbox_topics_in_memory', help: 'Upstream topics the outbox keeps in memory, by kind: keys (sequence keys, dropped 10 minutes after the last record), ids (last message ids for the #n ordinals, 24 h or 10,000 topics at most).', type: 'gauge', labels: ['kind'], samples: (s) => [...one(s.outbox?.keys?.inMemory, { kind: 'keys' }), ...one(s.outbox?.ids?.kept, { kind: 'ids' })] },
  { name: 'edgewise_dead_letters', help: 'Rows in the dead-letter table (newest 1000 kept; `edgewise dead-letters` shows them).', type: 'gauge', labels: [], samples: (s) => one(s.outbox?.deadLetters) },
  { name: 'edgewise_upstream_up', help: '1 when the uplink is online.', type: 'gauge', labels: [], samples: (s) => (s.upstream ? [[{}, s.upstream.state === 'online' ? 1 : 0]] : []) },
  {
    name: 'edgewise_upstream_state',
    help: 'Uplink state: 1 for the current state, 0 for the others.',
    type: 'gauge',
    labels: ['state'],
    samples: (s) => (s.upstream ? UPSTREAM_STATES.map((st): Sample => [{ state: st }, s.upstream!.state === st ? 1 : 0]) : []),
  },
  { name: 'edgewise_upstream_connects_total', help: 'Connections to the upstream broker.', type: 'counter', labels: [], samples: (s) => one(s.upstream?.connects) },
  { name: 'edgewise_upstream_reconnects_total', help: 'Reconnections after a lost connection.', type: 'counter', labels: [], samples: (s) => one(s.upstream?.reconnects) },
  { name: 'edgewise_upstream_no_connack_total', help: 'Connection attempts the broker closed, or left unanswered for connect_timeout, without a CONNACK or an error saying why (a TLS port reached without TLS, a client or Last Will it refuses, a connection limit).', type: 'counter', labels: [], samples: (s) => one(s.upstream?.noConnack) },
  { name: 'edgewise_upstream_disconnects_total', help: 'Failed connection attempts and dropped connections.', type: 'counter', labels: [], samples: (s) => one(s.upstream?.disconnects) },
  { name: 'edgewise_upstream_sent_total', help: 'Records sent upstream (resends included; a batch counts its records).', type: 'counter', labels: [], samples: (s) => one(s.upstream?.sent) },
  { name: 'edgewise_upstream_acked_total', help: 'Records acknowledged by a PUBACK (a batch\'s PUBACK acknowledges all its records).', type: 'counter', labels: [], samples: (s) => one(s.upstream?.acked) },
  { name: 'edgewise_upstream_batches_total', help: 'Batch publishes sent upstream (upstream.batch).', type: 'counter', labels: [], samples: (s) => one(s.upstream?.batches) },
  { name: 'edgewise_upstream_payload_bytes_total', help: 'Payload bytes sent upstream, after compression (before MQTT, TCP and TLS).', type: 'counter', labels: [], samples: (s) => one(s.upstream?.payloadBytes) },
  { name: 'edgewise_upstream_publish_errors_total', help: 'Publishes that failed.', type: 'counter', labels: [], samples: (s) => one(s.upstream?.publishErrors) },
  { name: 'edgewise_upstream_too_large_total', help: "Records kept in the outbox, unsent, because their packet is over the broker's limit (each counted once; see upstream.max_packet_size).", type: 'counter', labels: [], samples: (s) => one(s.upstream?.tooLarge) },
  { name: 'edgewise_upstream_ack_timeouts_total', help: 'Connections ended because publishes awaited a PUBACK and none came for upstream.ack_timeout (the broker answered pings but stopped acknowledging).', type: 'counter', labels: [], samples: (s) => one(s.upstream?.ackTimeouts) },
  { name: 'edgewise_upstream_quarantined_total', help: 'Records kept in the outbox until restart because the broker closed the connection twice with each alone in flight (a topic it refuses, a packet over its limit).', type: 'counter', labels: [], samples: (s) => one(s.upstream?.quarantined) },
  { name: 'edgewise_upstream_probing', help: 'The broker closed connections in a row with publishes in flight: 1 while publishes go one record at a time to find the one it refuses (until 100 are acknowledged in a row).', type: 'gauge', labels: [], samples: (s) => (s.upstream ? [[{}, s.upstream.probing ? 1 : 0]] : []) },
  { name: 'edgewise_upstream_same_id_total', help: "Signs that another gateway uses this gateway's id (its status on this gateway's status topic, or MQTT 5 DISCONNECT 0x8E).", type: 'counter', labels: [], samples: (s) => one(s.upstream?.sameId) },
  { name: 'edgewise_upstream_opening_refused', help: "The steps the gateway takes as a connection opens (its status subscription and birth, Sparkplug's NCMD subscription) that the broker refused; the gateway works without them (docs/upstream.md).", type: 'gauge', labels: [], samples: (s) => (s.upstream ? [[{}, s.upstream.refused?.length ?? 0]] : []) },
  { name: 'edgewise_upstream_max_packet_bytes', help: 'The largest packet the upstream broker takes, as far as known (configured, announced by an MQTT 5 broker, or learnt); 0 = none known.', type: 'gauge', labels: [], samples: (s) => one(s.upstream?.maxPacketBytes) },
  { name: 'edgewise_upstream_encode_errors_total', help: 'Outbox rows the upstream format could not encode (dropped, each logged).', type: 'counter', labels: [], samples: (s) => one(s.upstream?.encodeErrors) },
  { name: 'edgewise_outbox_wal_checkpoints_total', help: 'WAL checkpoints run by the background worker (outbox.wal_checkpoint: background).', type: 'counter', labels: [], samples: (s) => one(s.outbox?.walCheckpoints?.runs) },
  { name: 'edgewise_outbox_wal_checkpoint_failures_total', help: 'WAL checkpoints of the background worker that failed (the gateway then checkpoints inline).', type: 'counter', labels: [], samples: (s) => one(s.outbox?.walCheckpoints?.failures) },
  { name: 'edgewise_state_journal_appended_total', help: 'Readings (and clock ticks) written to the ingest journal (state.durability: journal).', type: 'counter', labels: [], samples: (s) => one(s.state?.journal?.appended) },
  { name: 'edgewise_state_journal_commits_total', help: "The ingest journal's group commits (each acknowledges the QoS 1 publishes it made durable).", type: 'counter', labels: [], samples: (s) => one(s.state?.journal?.commits) },
  { name: 'edgewise_state_journal_entries_since_checkpoint', help: 'Journal entries (readings and clock ticks) after the last checkpoint: what a restart would replay. A periodic checkpoint waits for state.checkpoint_min_entries of them.', type: 'gauge', labels: [], samples: (s) => one(s.state?.journal?.sinceCheckpoint) },
  { name: 'edgewise_state_journal_dropped_total', help: 'Readings not journaled because commits kept failing (a full disk) and 20,000 entries were held: the pipelines had them, a crash before the next checkpoint loses their effect. QoS 1 readings are never dropped (their PUBACK waits).', type: 'counter', labels: [], samples: (s) => one(s.state?.journal?.dropped) },
  { name: 'edgewise_state_journal_failed_commits_total', help: 'Journal commits that failed (retried every second; QoS 1 publishes stay unacknowledged until one succeeds).', type: 'counter', labels: [], samples: (s) => one(s.state?.journal?.failedCommits) },
  { name: 'edgewise_state_redelivered_total', help: 'QoS 1 resends of deliveries already taken (a PUBACK lost in a crash): acknowledged, not taken twice.', type: 'counter', labels: [], samples: (s) => one(s.state?.redelivered) },
  { name: 'edgewise_state_checkpoints_total', help: 'Checkpoints of the pipelines\' state made live (periodic, and at start, stop and reload).', type: 'counter', labels: [], samples: (s) => one(s.state?.checkpoints) },
  { name: 'edgewise_state_checkpoint_failures_total', help: 'Periodic checkpoints that failed (a full disk, an I/O error); the journal is kept and the next one retries.', type: 'counter', labels: [], samples: (s) => one(s.state?.failedCheckpoints) },
  { name: 'edgewise_state_last_checkpoint_timestamp_seconds', help: 'When the last checkpoint went live (Unix time). On a slow gateway checkpoints wait for state.checkpoint_min_entries journal entries: watch edgewise_state_journal_entries_since_checkpoint for what a restart would replay.', type: 'gauge', labels: [], samples: (s) => one(s.state?.lastCheckpoint ? s.state.lastCheckpoint.at / 1000 : undefined) },
  { name: 'edgewise_state_last_checkpoint_bytes', help: 'Encoded size of the last checkpoint.', type: 'gauge', labels: [], samples: (s) => one(s.state?.lastCheckpoint?.bytes) },
  { name: 'edgewise_state_last_checkpoint_duration_seconds', help: 'From capture to live, for the last checkpoint (wall clock; a periodic one is written in slices meanwhile).', type: 'gauge', labels: [], samples: (s) => one(s.state?.lastCheckpoint ? s.state.lastCheckpoint.ms / 1000 : undefined) },
  { name: 'edgewise_state_checkpoint_hold_max_seconds', help: 'Longest a periodic checkpoint held the event loop at once since start (its capture, or one slice): what it adds to PUBACK and alert latency.', type: 'gauge', labels: [], samples: (s) => one(s.state ? s.state.maxCheckpointMs / 1000 : undefined) },
  {
    name: 'edgewise_reloads_total',
    help: 'Reloads of the config and pipelines (SIGHUP, POST /reload, file watch), by result: applied, invalid (config errors), refused (a setting needs a restart), failed.',
    type: 'counter',
    labels: ['result'],
    samples: (s) => each(s.reloads, 'result'),
  },
  { name: 'edgewise_upstream_in_flight_messages', help: 'Messages published and not yet acknowledged.', type: 'gauge', labels: [], samples: (s) => one(s.upstream?.inFlight) },
];

/** Bytes this process made the kernel write to storage (/proc/self/io write_bytes): SQLite's SD-card wear. Undefined off Linux. */
function storageBytesWritten(): number | undefined {
  try {
    const m = /^write_bytes:\s*(\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export interface MetricsOptions {
  stats: () => GatewayStats;
  live: LiveState;
  /** Label the detector score histogram by stream too (http.metrics.per_stream). */
  perStream?: boolean;
}

/** A prom-client registry with the gateway's metrics, process metrics and the detector score histogram. */
export function createMetrics(opts: MetricsOptions): { registry: Registry; observeScore: (pipeline: string, detector: string, stream: string, score: number) => void } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'edgewise_' });
  // One stats snapshot per scrape, shared by every metric below.
  let snapshot: GatewayStats | undefined;
  let taken = 0;
  const stats = () => {
    const now = performance.now(); // monotonic: with the wall clock stepped back, the cached snapshot would be served for as long
    if (!snapshot || now - taken > 250) {
      snapshot = opts.stats();
      taken = now;
    }
    return snapshot;
  };
  for (const m of METRICS) {
    if (m.type === 'counter') {
      new Counter({
        name: m.name,
        help: m.help,
        labelNames: m.labels,
        registers: [registry],
        collect() {
          this.reset();
          for (const [labels, v] of m.samples(stats(), opts.live)) this.inc(labels, v);
        },
      });
    } else {
      new Gauge({
        name: m.name,
        help: m.help,
        labelNames: m.labels,
        registers: [registry],
        collect() {
          this.reset();
          for (const [labels, v] of m.samples(stats(), opts.live)) this.set(labels, v);
        },
      });
    }
  }
  new Counter({
    name: 'edgewise_storage_written_bytes_total',
    help: 'Bytes the gateway process wrote to storage (Linux /proc/self/io): the outbox, state files. rate(...[1h]) * 3600 = bytes per hour of SD-card wear.',
    registers: [registry],
    collect() {
      const v = storageBytesWritten();
      this.reset();
      if (v !== undefined) this.inc(v);
    },
  });
  const labelNames = opts.perStream ? ['pipeline', 'detector', 'stream'] : ['pipeline', 'detector'];
  const scores = new Histogram({
    name: 'edgewise_detector_score',
    help: 'Anomaly scores in [0, 1] the detectors gave (one per judgement).',
    labelNames,
    buckets: [0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1],
    registers: [registry],
  });
  // Children by label set: observe() on a child skips hashing the labels each time.
  const children = new Map<string, ReturnType<typeof scores.labels>>();
  const observeScore = (pipeline: string, detector: string, stream: string, score: number) => {
    if (!Number.isFinite(score)) return;
    const key = opts.perStream ? `${pipeline}\u0000${detector}\u0000${stream}` : `${pipeline}\u0000${detector}`;
    let child = children.get(key);
    if (!child) {
      child = opts.perStream ? scores.labels(pipeline, detector, stream) : scores.labels(pipeline, detector);
      children.set(key, child);
    }
    child.observe(score);
  };
  return { registry, observeScore };
}
