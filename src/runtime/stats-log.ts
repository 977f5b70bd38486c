import type { Logger } from '../core/log.js';
import type { GatewayStats } from './gateway.js';

/**
 * Drops by reason across the gateway: `<where>.<reason>` → count, where is `input:<name>`,
 * `pipeline:<name>` or `outbox`. Only reasons with a count appear.
 */
export function dropsByReason(s: GatewayStats): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (where: string, rec: Record<string, number> | undefined) => {
    for (const [reason, n] of Object.entries(rec ?? {})) if (typeof n === 'number' && n > 0) out[`${where}.${reason}`] = (out[`${where}.${reason}`] ?? 0) + n;
  };
  for (const i of s.inputs ?? []) add(`input:${i.name}`, i.dropped);
  for (const p of s.pipelines ?? []) add(`pipeline:${p.pipeline}`, p.dropped);
  add('outbox', s.outbox?.dropped);
  return out;
}

export interface StatsLine {
  readingsPerSecond: number;
  /** Drops by reason since the last line. */
  dropped: Record<string, number>;
  alertsActive: number;
  outboxDepth: number | null;
  uplink: string | null;
}

/** The numbers of one stats line: rates and drops since `prev` (the stats of the previous line). */
export function statsLine(prev: GatewayStats | undefined, cur: GatewayStats, elapsedMs: number, alertsActive: number): StatsLine {
  const before = prev ? dropsByReason(prev) : {};
  const dropped: Record<string, number> = {};
  for (const [k, n] of Object.entries(dropsByReason(cur))) if (n - (before[k] ?? 0) > 0) dropped[k] = n - (before[k] ?? 0);
  const readings = cur.readings - (prev?.readings ?? 0);
  return {
    readingsPerSecond: elapsedMs > 0 ? Math.round((readings / elapsedMs) * 10_000) / 10 : 0,
    dropped,
    alertsActive,
    outboxDepth: cur.outbox?.depth?.messages ?? null,
    uplink: uplinkState(cur),
  };
}

/** The uplink's state, and the records it keeps back in the outbox unsent, if any (docs/upstream.md). */
function uplinkState(s: GatewayStats): string | null {
  const u = s.upstream;
  if (!u) return null;
  const kept = u.tooLarge + u.quarantined;
  return `${u.state}${u.probing ? ', one at a time' : ''}${kept > 0 ? `, kept back ${kept}` : ''}`;
}

export function formatStatsLine(l: StatsLine): string {
  const drops = Object.entries(l.dropped);
  return [
    `${l.readingsPerSecond} readings/s`,
    `drops: ${drops.length === 0 ? 'none' : drops.map(([k, n]) => `${k}=${n}`).join(' ')}`,
    `alerts active: ${l.alertsActive}`,
    `outbox: ${l.outboxDepth ?? 'off'}`,
    `uplink: ${l.uplink ?? 'off'}`,
  ].join(' | ');
}

/** Log one stats line every `everyMs` (info level). Returns a stop function. */
export function startStatsLog(opts: { everyMs: number; stats: () => GatewayStats; alertsActive: () => number; log: Logger; now?: () => number }): () => void {
  if (opts.everyMs <= 0) return () => {};
  const now = opts.now ?? Date.now;
  let prev = opts.stats();
  let at = now();
  const timer = setInterval(() => {
    const cur = opts.stats();
    const t = now();
    const line = statsLine(prev, cur, t - at, opts.alertsActive());
    opts.log.info({ stats: line }, `stats: ${formatStatsLine(line)}`);
    prev = cur;
    at = t;
  }, opts.everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
