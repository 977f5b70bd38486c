import type { Logger } from '../core/log.js';
import { PAYLOAD_SCHEMA_VERSION } from '../core/payload.js';
import type { GatewayStats } from './gateway.js';
import { dropsByReason } from './stats-log.js';

/**
 * The retained `<prefix>/<gateway>/stats` payload (docs/upstream.md, docs/schemas/stats.schema.json).
 * `now`: the wall clock (the payload's time); `mono`, `startedAt`, `prev.at`: the monotonic clock
 * (spans: a wall clock stepped by NTP must not make the rates or the uptime jump).
 */
function statsPayload(s: GatewayStats, o: { now: number; mono: number; startedAt: number; prev?: { at: number; readings: number }; alertsActive: Record<string, number> }) {
  const interval = o.prev ? (o.mono - o.prev.at) / 1000 : 0;
  const mem = process.memoryUsage.rss();
  const cpu = process.cpuUsage();
  return {
    schema: PAYLOAD_SCHEMA_VERSION,
    gateway: s.gateway,
    time: o.now,
    uptime_s: Math.round((o.mono - o.startedAt) / 1000),
    interval_s: interval,
    readings: s.readings,
    readings_per_s: interval > 0 ? Math.round(((s.readings - o.prev!.readings) / interval) * 10) / 10 : 0,
    unrouted: s.unrouted,
    dropped: dropsByReason(s),
    inputs: (s.inputs ?? []).map((i) => ({ name: i.name, kind: i.kind, state: i.state, readings: i.counters?.readings ?? 0 })),
    pipelines: (s.pipelines ?? []).map((p) => ({
      name: p.pipeline,
      received: p.received,
      accepted: p.accepted,
      late: p.late,
      filtered: p.filtered,
      ...(p.operators && Object.keys(p.operators).length > 0 ? { operators: p.operators } : {}),
      ...(p.detectors?.length ? { detectors: p.detectors.map((d) => ({ step: d.step, streams: d.streams, learning: d.learning })) } : {}),
    })),
    alerts_active: o.alertsActive,
    ...(s.outbox ? { outbox: { messages: s.outbox.depth.messages, bytes: s.outbox.depth.bytes, oldest_age_ms: s.outbox.oldestAgeMs, dead_letters: s.outbox.deadLetters } } : {}),
    ...(s.upstream ? { uplink: { connects: s.upstream.connects, reconnects: s.upstream.reconnects } } : {}),
    process: { rss_bytes: mem, cpu_s: Math.round((cpu.user + cpu.system) / 1000) / 1000 },
  };
}

/**
 * Every `everyMs`, publish the gateway's stats upstream as a retained message (skipped while the
 * uplink is down: only the latest value matters, so nothing is buffered). Returns a stop function.
 */
export function startStatsUpstream(opts: {
  everyMs: number;
  stats: () => GatewayStats;
  alertsActive: () => Record<string, number>;
  publish: (name: string, payload: string) => boolean;
  log: Logger;
}): () => void {
  if (opts.everyMs <= 0) return () => {};
  const startedAt = performance.now();
  let prev: { at: number; readings: number } | undefined;
  const send = () => {
    const s = opts.stats();
    const mono = performance.now();
    try {
      opts.publish('stats', JSON.stringify(statsPayload(s, { now: Date.now(), mono, startedAt, prev, alertsActive: opts.alertsActive() })));
    } catch (err) {
      opts.log.warn({ err: (err as Error).message }, 'stats upstream: not published');
    }
    prev = { at: mono, readings: s.readings };
  };
  const timer = setInterval(send, opts.everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
