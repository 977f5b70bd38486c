import type { Command } from 'commander';
import type { StepStatus } from '../engine/pipeline.js';
import type { StatusReport } from '../http/server.js';
import type { UpstreamStats } from '../upstream/index.js';
import { linkSummary } from '../upstream/link-summary.js';
import { readDeadLetters, readOutboxSummary } from '../runtime/outbox-file.js';
import { gatewayTarget, getJson, type GatewayTarget, type TargetFlags } from './gateway-target.js';
import { textTable } from './text-table.js';

const n = (v: number | undefined) => (v === undefined ? '–' : v.toLocaleString('en'));
const kv = (rec: Record<string, number> | undefined) => Object.entries(rec ?? {}).map(([k, v]) => `${k}=${v}`).join(' ') || '0';
const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
function ago(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 172_800_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

/** The uplink's line, then what an operator must act on in its counters (docs/upstream.md), a line each. */
export function uplinkLines(u: UpstreamStats | undefined): string[] {
  if (!u) return ['uplink: not configured'];
  const out = [`uplink: ${linkSummary(u)}, sent ${n(u.sent)}, acked ${n(u.acked)}, in flight ${u.inFlight}, connects ${u.connects}, reconnects ${u.reconnects}`];
  const limit = u.maxPacketBytes ? ` of ${n(u.maxPacketBytes)} bytes` : '';
  if (u.tooLarge) out.push(`  kept back: ${n(u.tooLarge)} records over the broker's packet limit${limit} since start, each in the outbox until a connection takes it (raise the broker's limit, or outbox.max_message_bytes below it)`);
  if (u.probing) out.push('  probing: sending one record at a time — the broker closed connections in a row with publishes in flight; finding the record it refuses (check the broker\'s log)');
  if (u.quarantined) out.push(`  kept back: ${n(u.quarantined)} records the broker closed the connection on, in the outbox until restart (check the broker's log and ACL)`);
  if (u.sameId) out.push(`  another gateway uses this gateway id: ${n(u.sameId)} signs (give each gateway its own gateway.id)`);
  if (u.ackTimeouts) out.push(`  the broker stopped acknowledging: ${n(u.ackTimeouts)} connections ended by upstream.ack_timeout`);
  if (u.refused?.length) out.push(`  the broker refused: ${u.refused.join(', ')} (allow it and restart to have it back)`);
  return out;
}

/** A status cell for the terminal: numbers to 4 significant digits, lists space-separated, nothing as –. */
function cell(v: unknown): string | number {
  if (typeof v === 'number') return Number.isFinite(v) ? Number(v.toPrecision(4)) : String(v);
  if (Array.isArray(v)) return v.length ? v.map((x) => String(cell(x))).join(' ') : '–';
  if (v === undefined || v === null) return '–';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Each operator step's rows (a vehicle's forward, a patient's band) as a table under its name. */
export function stepLines(steps: StepStatus[] | undefined): string[] {
  const out: string[] = [];
  for (const st of steps ?? []) {
    if (st.rows.length === 0) continue;
    const rows = st.rows as Array<Record<string, unknown>>;
    const head = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    const more = st.total > rows.length ? ` (the first ${rows.length} of ${st.total})` : '';
    out.push('', `${st.pipeline} ${st.step}${more}:`, textTable(head, rows.map((r) => head.map((k) => cell(r[k])))));
  }
  return out;
}

/** The running gateway's status as terminal tables (from GET /api/status). */
export function formatStatus(s: StatusReport): string {
  const st = s.stats;
  const out: string[] = [];
  out.push(`gateway ${s.gateway}: ${s.ready.ready ? 'ready' : 'NOT READY'}, up ${ago(s.uptimeSeconds * 1000)}, ${n(st.readings)} readings, ${n(st.unrouted)} unrouted`);
  for (const [name, c] of Object.entries(s.ready.checks)) if (!c.ok) out.push(`  not ready: ${name}: ${c.detail}`);
  out.push('', textTable(['input', 'kind', 'state', 'readings', 'dropped', 'detail'], st.inputs.map((i) => [i.name, i.kind, i.state, i.counters.readings ?? 0, kv(i.dropped), i.detail ?? ''])));
  out.push(
    '',
    textTable(
      ['pipeline', 'received', 'accepted', 'late', 'filtered', 'dropped', 'emitted', 'keys', 'forgotten', 'open windows'],
      st.pipelines.map((p) => [p.pipeline, p.received, p.accepted, p.late, p.filtered, kv(p.dropped), kv(p.emitted), p.keys, p.forgotten ?? 0, p.openWindows]),
    ),
  );
  for (const p of st.pipelines) for (const [op, c] of Object.entries(p.operators ?? {})) out.push(`  ${p.pipeline} ${op}: ${kv(c)}`);
  // (a gateway older than 2026-12-07 reports no detectors)
  const detectors = st.pipelines.flatMap((p) => (p.detectors ?? []).map((d) => [p.pipeline, d.step, d.streams, d.learning, d.streams - d.learning]));
  if (detectors.length > 0) out.push('', textTable(['pipeline', 'detect step', 'streams', 'learning', 'judging'], detectors));
  out.push(...stepLines(s.steps));
  const active = s.alerts.active;
  out.push('', `alerts: ${active.length} active`);
  if (active.length > 0) {
    out.push(
      textTable(
        ['severity', 'stream', 'detector', 'since (UTC)', 'value', 'baseline', 'rule'],
        active.map((a) => [a.severity, a.stream, a.detector, time(a.start), Number(a.value.toPrecision(6)), a.baseline === undefined ? '–' : String(Number(a.baseline.toPrecision(6))), a.reason ?? '']),
      ),
    );
  }
  const o = st.outbox;
  out.push(
    '',
    o
      ? `outbox: ${n(o.depth.messages)} buffered (alert ${o.depth.byPriority.alert}, aggregate ${o.depth.byPriority.aggregate}, raw ${o.depth.byPriority.raw}), oldest ${o.oldestAgeMs ? ago(o.oldestAgeMs) : '–'}, file ${(o.fileBytes / 1048576).toFixed(1)} MB, dropped ${kv(o.dropped)}, dead letters ${o.deadLetters}`
      : 'outbox: off',
  );
  out.push(...uplinkLines(st.upstream));
  const drops = Object.entries(s.dropped);
  out.push(`drops by reason: ${drops.length ? drops.map(([k, v]) => `${k}=${v}`).join(' ') : 'none'}`);
  return out.join('\n');
}

/** What the data dir tells while the gateway is stopped: the outbox, dead letters and the last checkpoint. */
export function formatOffline(t: GatewayTarget, now = Date.now()): string {
  const out = [`gateway not running${t.url ? ` (nothing answers at ${t.url})` : ''}; from ${t.dataDir ?? t.outboxFile}:`];
  try {
    const o = readOutboxSummary(t.outboxFile!);
    out.push(`outbox: ${n(o.messages)} buffered (alert ${o.byPriority.alert}, aggregate ${o.byPriority.aggregate}, raw ${o.byPriority.raw}), oldest ${o.oldest ? `${ago(now - o.oldest)} old` : '–'}; dead letters ${o.deadLetters}`);
    const last = readDeadLetters(t.outboxFile!, { limit: 1 })[0];
    if (last) out.push(`last dead letter: ${last.at ? time(last.at) : 'unknown time'} ${last.source} ${last.reason}`);
    const c = o.checkpoint;
    if (!c) out.push('pipeline state: no checkpoint saved');
    else {
      const ps = c.pipelines.map((p) => `${p.pipeline} (${p.parts} parts)`).join(', ');
      out.push(`pipeline state: checkpoint ${c.at ? `${time(c.at)} UTC` : 'at an unknown time'}: ${ps || 'empty'}; ${n(c.journalAfter)} journaled readings after it (replayed at start)${c.aside ? `; ${c.aside} parts kept aside (could not be restored)` : ''}`);
    }
  } catch (err) {
    out.push(`outbox: ${(err as Error).message}`);
  }
  return out.join('\n');
}

interface Flags extends TargetFlags {
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('status')
    .description("A gateway's inputs, pipelines, alerts, outbox and uplink: from its HTTP server while it runs, from its data dir when it does not.")
    .option('-c, --config <file>', 'the gateway config (finds its HTTP server and data dir); default $EDGEWISE_CONFIG')
    .option('--url <url>', "the running gateway's HTTP server (default http://127.0.0.1:9464)")
    .option('--token <token>', 'bearer token of the HTTP server (http.token)')
    .option('--data-dir <dir>', "the gateway's data dir, read when nothing answers at the URL")
    .option('--json', 'print the status as JSON (GET /api/status)')
    .action(async (f: Flags) => {
      const target = gatewayTarget(f);
      const s = await getJson<StatusReport>(target, 'api/status');
      if (s) {
        process.stdout.write(`${f.json ? JSON.stringify(s, null, 2) : formatStatus(s)}\n`);
        return;
      }
      if (!target.outboxFile) throw new Error(`no gateway answers at ${target.url}; is it running with an http: section? Give --data-dir or --config to read its data dir instead`);
      process.stdout.write(`${formatOffline(target)}\n`);
      process.exitCode = 3; // not running: scripts can tell
    });
}
