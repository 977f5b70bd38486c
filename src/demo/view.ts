import type { Domain } from '../../firmware-sim/index.js';
import type { Demo } from './demo.js';

/** Rates between two looks at the counters. */
export class RateMeter {
  private last = new Map<string, { at: number; n: number }>();
  rate(key: string, n: number, at = Date.now()): number {
    const prev = this.last.get(key);
    this.last.set(key, { at, n });
    if (!prev || at <= prev.at) return 0;
    return ((n - prev.n) * 1000) / (at - prev.at);
  }
}

const DOMAINS: Domain[] = ['maintenance', 'vitals', 'telematics'];

function hhmmss(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function bytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** Per-domain readings taken by the domain's pipelines, per second. */
function domainRates(demo: Demo, meter: RateMeter, at = Date.now()): Record<Domain, number> {
  const per: Record<Domain, number> = { maintenance: 0, vitals: 0, telematics: 0 };
  for (const p of demo.stats().pipelines) {
    const d = demo.domainOf.get(p.pipeline);
    if (d) per[d] += p.received;
  }
  return { maintenance: meter.rate('maintenance', per.maintenance, at), vitals: meter.rate('vitals', per.vitals, at), telematics: meter.rate('telematics', per.telematics, at) };
}

/** Drops counted anywhere on the path: input, pipelines (refused + late), outbox. */
export function dropsOf(demo: Demo): { input: number; pipelines: number; outbox: number; reasons: Record<string, number> } {
  const s = demo.stats();
  const sum = (r: Record<string, number> | undefined) => Object.values(r ?? {}).reduce((a, b) => a + b, 0);
  const reasons: Record<string, number> = {};
  const add = (r: Record<string, number> | undefined) => {
    for (const [k, v] of Object.entries(r ?? {})) if (v) reasons[k] = (reasons[k] ?? 0) + v;
  };
  for (const i of s.inputs) add(i.dropped);
  for (const p of s.pipelines) add({ ...(p.dropped as unknown as Record<string, number>), late: p.late });
  add(s.outbox?.dropped);
  return {
    reasons,
    input: s.inputs.reduce((a, i) => a + sum(i.dropped), 0),
    pipelines: s.pipelines.reduce((a, p) => a + sum(p.dropped as unknown as Record<string, number>) + p.late, 0),
    outbox: sum(s.outbox?.dropped),
  };
}

function uplinkText(demo: Demo): string {
  const s = demo.stats();
  const state = s.upstream?.state ?? 'none';
  const left = demo.outageLeft();
  return left > 0 ? `CUT (outage, ${Math.ceil(left / 1000)} s left), forwarder ${state}` : `${state === 'online' ? 'online' : state} (${demo.uplink.url})`;
}

/** The live view: at most 24 lines of at most 80 columns. */
export function renderView(demo: Demo, meter: RateMeter, startedAt: number, keysHint: boolean, outageMs: number): string[] {
  const now = Date.now();
  const s = demo.stats();
  const rates = domainRates(demo, meter, now);
  const drops = dropsOf(demo);
  const c = demo.consumer;
  const lines: string[] = [];
  lines.push(`Edgewise demo · ${elapsed(now - startedAt)} · ${demo.opts.devices} devices/domain at ${demo.opts.rateHz} Hz · seed ${demo.opts.seed}`);
  lines.push('');
  lines.push(' domain        readings/s   pipelines');
  for (const d of DOMAINS) {
    const ch = demo.choice.find((x) => x.domain === d);
    const names = [...demo.domainOf].filter(([, dd]) => dd === d).map(([p]) => p).join(', ');
    lines.push(` ${d.padEnd(13)} ${Math.round(rates[d]).toString().padStart(10)}   ${`${names}${ch?.source === 'demo' ? ' (demo)' : ''}`.slice(0, 50)}`);
  }
  lines.push('');
  const ob = s.outbox;
  lines.push(` uplink   ${uplinkText(demo)}`.slice(0, 80));
  lines.push(` outbox   ${ob?.depth.messages ?? 0} msgs buffered (${bytes(ob?.depth.bytes ?? 0)}), oldest ${Math.round((ob?.oldestAgeMs ?? 0) / 1000)} s; sent ${s.upstream?.acked ?? 0} acked`.slice(0, 80));
  lines.push(` upstream received ${c.byKind.aggregate ?? 0} aggregates, ${c.byKind.alert ?? 0} alerts (unique), ${c.duplicates} duplicates`.slice(0, 80));
  lines.push(` produced ${demo.produced.aggregate} aggregates, ${demo.produced.alert} alerts · drops: input ${drops.input}, pipelines ${drops.pipelines}, outbox ${drops.outbox}`.slice(0, 80));
  lines.push('');
  const active = [...demo.active.values()].sort((a, b) => b.since - a.since);
  lines.push(` active alerts: ${active.length}`);
  const room = 24 - lines.length - (keysHint ? 2 : 0);
  for (const a of active.slice(0, Math.max(0, room - (active.length > room ? 1 : 0)))) {
    lines.push(`   ${a.stream.padEnd(28).slice(0, 28)} ${a.detector.padEnd(12).slice(0, 12)} ${a.severity.padEnd(8)} since ${hhmmss(a.since)}`);
  }
  if (active.length > room && room > 0) lines.push(`   … and ${active.length - (room - 1)} more`);
  if (keysHint) {
    lines.push('');
    lines.push(` [o] cut the uplink for ${Math.round(outageMs / 1000)} s   [q] or Ctrl-C: stop`);
  }
  return lines.slice(0, 24);
}

/** One plain line for logs and pipes (no TTY). */
export function renderLine(demo: Demo, meter: RateMeter, startedAt: number): string {
  const now = Date.now();
  const s = demo.stats();
  const rates = domainRates(demo, meter, now);
  const drops = dropsOf(demo);
  const d = (x: Domain) => Math.round(rates[x]);
  return (
    `[${elapsed(now - startedAt)}] readings/s pumps ${d('maintenance')} beds ${d('vitals')} vans ${d('telematics')} · ` +
    `alerts active ${demo.active.size} · outbox ${s.outbox?.depth.messages ?? 0} · uplink ${demo.outageLeft() > 0 ? 'CUT' : (s.upstream?.state ?? 'none')} · ` +
    `upstream ${demo.consumer.byKind.aggregate ?? 0} agg ${demo.consumer.byKind.alert ?? 0} alert · drops ${drops.input + drops.pipelines + drops.outbox}`
  );
}
