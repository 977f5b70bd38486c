/**
 * A fleet that comes and goes, for longer than any test runs: `edgewise run` as the deploy files
 * start it (the built layout, bench/built-layout.ts; the deploy profile's flags and environment)
 * with devices that connect to the embedded broker under new ids — `SOAK_CHURN` a second, each
 * sending 4 metrics at 1 Hz for `SOAK_LIFE` seconds, then gone for good (trackers, patients, sensors
 * replaced) — `input.forget_after: 30s`, the default detector on every reading and a 10 s window
 * sent upstream, and the uplink (an aedes here) cut for 15 s every minute.
 *
 * Every 10 s the gateway's heap after a full GC and its RSS. At the end the devices stop, the uplink
 * stays up until the outbox is empty, and the records upstream (unique ids) are compared with what
 * the outbox accepted. Memory that grows with every device seen and never comes back is what this
 * is for: a gateway runs for months.
 *
 *   npx tsx bench/soak.ts [minutes, default 10]     SOAK_CHURN=5 (new devices a second), SOAK_LIFE=20 (s)
 *
 * One device a second comes back under its old id `SOAK_RETURN_AFTER` seconds (default 750) after it
 * first started, after its sequence keys left memory (10 minutes after its last record, swept once a
 * minute): each topic's `seq` upstream must run
 * 1, 2, 3, … without a gap, across the cuts and the returns.
 *
 * `SOAK_SNAPSHOTS=dir` writes the gateway's heap snapshot at the end of every minute
 * (`dir/minute-N.heapsnapshot`, Chromium DevTools' Memory tab opens them; compare two to see what a
 * gone device left behind: look for its id, e.g. `dev-100/`).
 */
import { Aedes } from 'aedes';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { transpileBuiltLayout } from './built-layout.js';
import { DEPLOY_ENV, DEPLOY_NODE_FLAGS } from './deploy-profile.js';
import { stopProcess, until } from './processes.js';
import { freePort } from './raw-mqtt.js';
import { machine, printTable } from './report.js';
import type { GatewayStats } from '../src/runtime/gateway.js';

const MINUTES = Number(process.argv[2] ?? 10);
const CHURN = Number(process.env.SOAK_CHURN ?? 5);
const LIFE_S = Number(process.env.SOAK_LIFE ?? 20);
/** A device gone this long comes back once, under its old id (its sequence keys long out of memory). */
const RETURN_S = Number(process.env.SOAK_RETURN_AFTER ?? 750);
const METRICS = ['temperature', 'vibration', 'current', 'pressure'];

// Reported by the gateway every 10 s: its heap after a full GC, memory outside the heap (Buffers,
// SQLite's and the native modules' allocations are in RSS only), its RSS and of it the anonymous
// memory (RSS less the pages of the node binary and libraries, ~45 MB shared and reclaimable: Linux only).
const PROBE = `
import v8 from 'node:v8';
import { readFileSync } from 'node:fs';
const anon = () => { try { return Number(/RssAnon:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024; } catch { return NaN; } };
if (process.send) {
  const t = setInterval(() => { globalThis.gc(); const m = process.memoryUsage(); process.send({ heap: m.heapUsed, external: m.external, rss: m.rss, anon: anon() }); }, 10_000);
  t.unref();
  process.channel?.unref();
  process.on('message', (m) => {
    if (m && m.snapshot) process.send({ snapshot: v8.writeHeapSnapshot(m.snapshot) });
  });
}
`;

/** The upstream broker, cut and restarted on the same port; unique record ids it has seen, and each topic's seqs (per epoch). */
class Upstream {
  readonly ids = new Set<string>();
  readonly seqs = new Map<string, Map<number, string>>();
  /** A seq that came again with another record's id (a topic that started again at 1, say). */
  readonly reused: string[] = [];
  private up: { server: net.Server; aedes: Aedes } | null = null;
  constructor(readonly port: number) {}
  async start(): Promise<void> {
    if (this.up) return;
    const aedes = await Aedes.createBroker();
    aedes.on('publish', (p) => {
      if (!p.topic.startsWith('edgewise/v1/soak-gw/') || p.topic.endsWith('/status') || p.topic.endsWith('/stats')) return;
      const m = JSON.parse(p.payload.toString()) as { id?: string; epoch?: string; seq?: number };
      if (m.id) this.ids.add(m.id);
      if (typeof m.seq === 'number') {
        const k = `${p.topic} ${m.epoch}`;
        let got = this.seqs.get(k);
        if (!got) this.seqs.set(k, (got = new Map()));
        const was = got.get(m.seq);
        if (was === undefined) got.set(m.seq, m.id ?? '');
        else if (was !== m.id) this.reused.push(`${k}: seq ${m.seq} is ${was} and ${m.id}`);
      }
    });
    const server = net.createServer(aedes.handle);
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', () => r()));
    this.up = { server, aedes };
  }
  async stop(): Promise<void> {
    const u = this.up;
    this.up = null;
    if (!u) return;
    await new Promise<void>((r) => u.aedes.close(() => r()));
    await new Promise<void>((r) => u.server.close(() => r()));
  }
}

/** A device that connects under its own id, sends its metrics once a second for LIFE_S, and is gone. */
function device(port: number, id: string, sent: { n: number }): void {
  const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: id, reconnectPeriod: 0 });
  let i = 0;
  c.on('connect', () => {
    const t = setInterval(() => {
      for (const m of METRICS) c.publish(`sensors/${id}/${m}`, JSON.stringify({ value: 20 + Math.random(), ts: Date.now() }));
      sent.n += METRICS.length;
      if (++i >= LIFE_S) {
        clearInterval(t);
        c.end();
      }
    }, 1000);
  });
  c.on('error', () => {});
}

async function main(): Promise<void> {
  const { dir: built, main: entry } = await transpileBuiltLayout('edgewise-soak');
  const probe = join(built, 'soak-probe.mjs');
  writeFileSync(probe, PROBE);
  const dir = mkdtempSync(join(os.tmpdir(), 'edgewise-soak-'));
  const [inPort, upPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(
    join(dir, 'fleet.yaml'),
    `name: fleet
input: { streams: ["*/*"], forget_after: 30s }
steps:
  - detect: { detector: default }
  - window: { type: tumbling, size: 10s, aggregates: [count, mean, max, p95] }
  - output: aggregates
`,
  );
  writeFileSync(
    join(dir, 'edgewise.yaml'),
    `gateway: { id: soak-gw, data_dir: data }
log: { level: error, format: json }
inputs:
  - { name: devices, type: mqtt, topics: ["sensors/{device}/{metric}"], broker: { port: ${inPort} } }
pipelines: [fleet.yaml]
upstream: { url: "mqtt://127.0.0.1:${upPort}" }
http: { port: ${httpPort} }
`,
  );
  const upstream = new Upstream(upPort);
  await upstream.start();
  const gw = spawn(process.execPath, [...DEPLOY_NODE_FLAGS, '--expose-gc', '--import', probe, entry, 'run', '--config', join(dir, 'edgewise.yaml')], {
    cwd: dir,
    env: { ...process.env, ...DEPLOY_ENV },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const memory: Array<{ s: number; heap: number; external: number; rss: number; anon: number }> = [];
  const t0 = Date.now();
  gw.on('message', (m: { heap: number; external: number; rss: number; anon: number } | { snapshot: string }) => {
    if ('heap' in m) memory.push({ s: (Date.now() - t0) / 1000, ...m });
  });
  const snapshot = (file: string) =>
    new Promise<void>((r) => {
      const done = (m: { snapshot?: string }) => {
        if (m.snapshot === undefined) return;
        gw.off('message', done);
        r();
      };
      gw.on('message', done);
      gw.send({ snapshot: file });
    });
  const status = async (): Promise<GatewayStats> => ((await (await fetch(`http://127.0.0.1:${httpPort}/api/status`)).json()) as { stats: GatewayStats }).stats;
  await until(async () => (await status().catch(() => null)) !== null, 30_000, () => 'the gateway did not start');

  const sent = { n: 0 };
  let seen = 0;
  const rows: string[][] = [];
  let returned = 0;
  const churn = setInterval(() => {
    for (let k = 0; k < CHURN; k++) device(inPort, `dev-${seen++}`, sent);
    // one device a second comes back, RETURN_S after it started (so gone RETURN_S − LIFE_S)
    const back = seen - CHURN * RETURN_S;
    if (back >= 0 && back % CHURN === 0) {
      device(inPort, `dev-${back}`, sent);
      returned++;
    }
  }, 1000);
  const flap = setInterval(() => {
    void upstream.stop().then(() => setTimeout(() => void upstream.start(), 15_000));
  }, 60_000);
  for (let minute = 1; minute <= MINUTES; minute++) {
    await new Promise((r) => setTimeout(r, 60_000));
    const s = await status();
    const p = s.pipelines[0]!;
    const m = memory.at(-1)!;
    if (process.env.SOAK_SNAPSHOTS) await snapshot(join(process.env.SOAK_SNAPSHOTS, `minute-${minute}.heapsnapshot`));
    rows.push([String(minute), String(seen), String(p.keys), String(p.forgottenDevices), String(s.outbox?.depth.messages ?? 0), (m.heap / 2 ** 20).toFixed(1), (m.external / 2 ** 20).toFixed(1), (m.rss / 2 ** 20).toFixed(1), (m.anon / 2 ** 20).toFixed(1)]);
  }
  clearInterval(churn);
  clearInterval(flap);
  // The last devices finish, are forgotten (their windows go out as partial), and the outbox drains.
  await new Promise((r) => setTimeout(r, 16_000));
  await upstream.start(); // (up already, unless a cut is still under way)
  await until(async () => {
    const s = await status();
    return s.pipelines[0]!.keys === 0 && s.outbox!.depth.messages === 0 && s.outbox!.pending === 0;
  }, 180_000, () => 'the outbox did not drain');
  const end = await status();
  await stopProcess(gw);
  await upstream.stop();
  rmSync(dir, { recursive: true, force: true });

  printTable(
    `Soak: ${CHURN} new devices a second, each ${LIFE_S} s at 1 Hz × 4 metrics, forget_after 30 s, the uplink cut 15 s a minute (${machine()})`,
    ['minute', 'devices seen', 'streams kept', 'devices forgotten', 'outbox', 'heap after GC (MB)', 'external (MB)', 'RSS (MB)', 'anonymous (MB)'],
    rows,
  );
  // Growth over the second half, per device seen: what each device leaves behind.
  const half = memory.filter((m) => m.s >= (MINUTES * 60) / 2 && m.s <= MINUTES * 60);
  const slope = (ys: number[]) => {
    const xs = half.map((m) => m.s);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    return xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  };
  const perDevice = (slope(half.map((m) => m.heap)) / CHURN).toFixed(0);
  const rssPerDevice = (slope(half.map((m) => m.rss)) / CHURN).toFixed(0);
  const anonPerDevice = (slope(half.map((m) => m.anon)) / CHURN).toFixed(0);
  console.log(`\nsecond half: heap ${perDevice} B, RSS ${rssPerDevice} B (anonymous ${anonPerDevice} B) more per device seen`);
  const accepted = end.outbox!.accepted;
  const dropped = JSON.stringify(end.outbox!.droppedTotal);
  console.log(`readings sent ${sent.n}, taken ${end.readings}; records accepted by the outbox ${accepted}, unique upstream ${upstream.ids.size}, outbox drops ${dropped}`);
  if (upstream.ids.size !== accepted) {
    console.error(`soak: ${accepted - upstream.ids.size} records accepted never arrived upstream`);
    process.exitCode = 1;
  }
  // Each topic's seq, per epoch: 1, 2, 3, … with no gap and none given twice, across cuts and across a device's return.
  let gaps = 0;
  let longest = 0;
  for (const [k, got] of upstream.seqs) {
    const max = Math.max(...got.keys());
    longest = Math.max(longest, max);
    if (got.size !== max || !got.has(1)) {
      if (gaps++ < 5) console.error(`soak: ${k}: seqs ${[...got.keys()].sort((a, b) => a - b).join(',')} are not 1..${max}`);
    }
  }
  for (const r of upstream.reused.slice(0, 5)) console.error(`soak: ${r}`);
  console.log(`${returned} devices came back after ${RETURN_S} s (sequence keys dropped from memory ${end.outbox!.keys.evicted}, still in it ${end.outbox!.keys.inMemory}); ${upstream.seqs.size} topics upstream, ${gaps} with a gap in seq, ${upstream.reused.length} seqs given to two records (longest run ${longest})`);
  if (gaps > 0 || upstream.reused.length > 0) process.exitCode = 1;
}

await main();
process.exit();
