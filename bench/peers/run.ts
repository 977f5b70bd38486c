/**
 * The peer comparison: the same flow (bench/peers/flow.ts) on Node-RED and on Edgewise (embedded
 * broker, and as a client of Mosquitto), the same publisher, alternating runs; plus the floor, a bare
 * mqtt.js subscriber of Mosquitto that only parses. See bench/peers/README.md.
 *
 * Processes: this script (orchestrator; it also runs the upstream broker, an in-process aedes, and
 * times what arrives there), the system under test, a fresh Mosquitto per run (not for Edgewise's
 * embedded mode), and a publisher (raw MQTT 3.1.1, pre-encoded packets: bench/raw-mqtt.ts).
 * CPU and RSS of the system under test are read from /proc (Linux), the same way for all.
 *
 * Run: npx tsx bench/peers/run.ts [--quick] [--rates 5000,10000,20000,40000] [--seconds 20] [--reps 2]
 *        [--systems bare,node-red,edgewise-embedded,edgewise-client] [--pin]
 *   --quick   one rate (5,000 msg/s), 10 s, one rep: a smoke run (~2 min with the Node-RED install)
 *   --pin     the system under test on CPU 0 only (taskset -c 0), everything else on CPU 1: the
 *             one-core figure, the closest proxy we have for a Raspberry Pi core
 *   PEERS_KEEP_STDERR=1  keep each system's stderr in $TMPDIR/edgewise-peers-<system>.stderr
 *   PEERS_EDGEWISE_NODE_FLAGS="..."  Node flags for Edgewise instead of the deploy files' (bench/deploy-profile.ts)
 *   PEERS_EDGEWISE_ENV="A=1 B=2"  environment for Edgewise instead of the deploy files' (e.g. another allocator)
 *   PEERS_SMAPS=1  print where the system's resident memory is at the end of load, by mapping
 * Node-RED (NODE_RED_VERSION below) is installed with npm into $TMPDIR/edgewise-peers-node-red-<version> (once; reused).
 */
import { Aedes } from 'aedes';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { transpileBuiltLayout } from '../built-layout.js';
import { DEPLOY_ENV, DEPLOY_NODE_FLAGS, parseEnvList } from '../deploy-profile.js';
import { mosquittoSubscriptions, next, procSample, quantile, residentByMapping, startMosquitto, stopProcess, until } from '../processes.js';
import { freePort, openSockets, publishPacket } from '../raw-mqtt.js';
import { WINDOW_MS, edgewiseFiles, nodeRedFiles } from './flow.js';

/** Node-RED 5 needs Node ≥ 22.9; 4.1 is the newest line that runs on Node 20 (our floor). */
export const NODE_RED_VERSION = '4.1.8';
const SYSTEMS = ['bare', 'node-red', 'edgewise-embedded', 'edgewise-client'] as const;
type System = (typeof SYSTEMS)[number];
const DEVICES = 100;
const METRICS = ['temperature', 'vibration', 'current', 'pressure'];
const CONNECTIONS = 20;

const self = fileURLToPath(import.meta.url);
const here = join(self, '..');
const wallNow = () => performance.timeOrigin + performance.now();

// ---------- publisher ----------
/** After the last counted window ends, this much more load: every sensor's next reading closes its window. */
const TAIL_MS = 1500;
/** Each sensor spikes once per this period (staggered), after its detector's warm-up: ~20 spikes/s in all at any rate. */
const SPIKE_PERIOD_S = 20;

/**
 * Publishes `rate` msg/s round-robin over 400 sensors from now to the first window boundary after
 * `seconds` (`boundary`), then TAIL_MS more (with `align` false: for `seconds`, and no more). Reports `counted`: the messages sent before `boundary`,
 * which the windows ending at or before it must add up to.
 */
async function publisher(port: number, rate: number, seconds: number, align: boolean): Promise<void> {
  const socks = await openSockets(port, CONNECTIONS, 'pub-');
  process.send!({ connected: true });
  const t0 = wallNow();
  const boundary = align ? Math.ceil((t0 + seconds * 1000) / WINDOW_MS) * WINDOW_MS : t0 + seconds * 1000;
  const end = align ? boundary + TAIL_MS : boundary;
  const sensors = DEVICES * METRICS.length;
  const lastSpike = new Float64Array(sensors).fill(-1);
  let sent = 0;
  let counted = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = wallNow();
      const owed = Math.floor(((Math.min(now, end) - t0) / 1000) * rate) - sent;
      for (let i = 0; i < owed; i++) {
        const sensor = sent % sensors;
        const dev = sensor % DEVICES;
        const k = Math.floor(sent / sensors);
        const ts = wallNow(); // sub-ms event time: latencies upstream are measured from it
        const slot = Math.floor((ts / 1000 + (sensor * SPIKE_PERIOD_S) / sensors) / SPIKE_PERIOD_S);
        let spike = 0;
        if (k > 60 && lastSpike[sensor] !== slot) {
          if (lastSpike[sensor] !== -1) spike = 40; // a +40 spike on noise of width 1 (well over 3σ)
          lastSpike[sensor] = slot;
        }
        const v = 50 + dev / 10 + 2 * Math.sin(k / 500 + sensor) + ((sent * 7919) % 1000) / 1000 + spike;
        const tsText = ts.toFixed(3);
        socks[sent % CONNECTIONS]!.write(publishPacket(`sensors/dev-${dev}/${METRICS[Math.floor(sensor / DEVICES)]}`, `{"value":${v.toFixed(3)},"ts":${tsText}}`));
        sent++;
        // Counted in the window the systems put it in: Edgewise reads times to the whole ms (rounded),
        // so a tick's burst just before the boundary belongs to the next window (24–55 readings
        // "missing" from some runs before this was counted the same way).
        if (Math.round(Number(tsText)) < boundary) counted++;
      }
      if (now < end) setTimeout(tick, 2);
      else resolve();
    };
    tick();
  });
  const secs = (wallNow() - t0) / 1000;
  await Promise.all(socks.map((s) => new Promise<void>((r) => s.end(() => r()))));
  process.send!({ sent, counted, boundary, secs });
}

// ---------- orchestrator helpers ----------
function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

/** Install Node-RED (pinned) with npm into a temp folder, once. Never a dependency of the package. */
function installNodeRed(): string {
  const dir = join(os.tmpdir(), `edgewise-peers-node-red-${NODE_RED_VERSION}`);
  const red = join(dir, 'node_modules', 'node-red', 'red.js');
  if (existsSync(red)) return red;
  rmSync(dir, { recursive: true, force: true });
  execFileSync('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'package.json'), '{ "name": "edgewise-peers-node-red", "private": true }\n');
  console.log(`installing node-red@${NODE_RED_VERSION} into ${dir} (npm) …`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', `node-red@${NODE_RED_VERSION}`], { cwd: dir, stdio: 'inherit' });
  return red;
}

// ---------- the upstream broker: counts and times what the systems send ----------
class Upstream {
  aggLat: number[] = [];
  alertLat: number[] = [];
  /** Readings counted by window results, per window end. */
  countsByEnd = new Map<number, number>();
  aggregates = 0;
  alerts = { raised: 0, cleared: 0 };
  bad = 0;
  port = 0;
  private readonly broker: Promise<Aedes> = Aedes.createBroker();
  private server: net.Server | undefined;

  async start(): Promise<void> {
    const broker = await this.broker;
    broker.on('publish', (p, client) => {
      if (!client || !/^(edgewise|nodered)\//.test(p.topic)) return;
      const at = wallNow();
      try {
        const m = JSON.parse(p.payload.toString()) as { kind: string; data: { end: number; count: number; state?: string; start?: number } };
        if (m.kind === 'aggregate') {
          this.aggregates++;
          this.countsByEnd.set(m.data.end, (this.countsByEnd.get(m.data.end) ?? 0) + m.data.count);
          this.aggLat.push(at - m.data.end);
        } else if (m.kind === 'alert' && (m.data.state === 'raised' || m.data.state === 'cleared')) {
          this.alerts[m.data.state]++;
          this.alertLat.push(at - (m.data.state === 'raised' ? m.data.start! : m.data.end));
        }
      } catch {
        this.bad++;
      }
    });
    this.server = net.createServer({ noDelay: true }, broker.handle);
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Readings counted by the windows ending at or before `boundary`. */
  countedUpTo(boundary: number): number {
    let n = 0;
    for (const [end, c] of this.countsByEnd) if (end <= boundary) n += c;
    return n;
  }

  reset(): void {
    this.aggLat = [];
    this.alertLat = [];
    this.countsByEnd.clear();
    this.aggregates = this.bad = 0;
    this.alerts = { raised: 0, cleared: 0 };
  }

  async close(): Promise<void> {
    const b = await this.broker;
    await new Promise<void>((r) => b.close(() => r()));
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}

interface RunResult {
  system: System;
  rate: number;
  sent: number;
  /** Messages that must be counted: all (bare) or those in windows ending by the boundary. */
  expected: number;
  pubRate: number;
  delivered: number;
  cpuUsPerMsg: number;
  cpuPct: number;
  rssIdleMB: number;
  rssSteadyMB: number;
  rssPeakMB: number;
  agg: { n: number; p50: number; p99: number };
  alert: { n: number; p50: number; p99: number };
  sustained: boolean;
}

interface Ctx {
  upstream: Upstream;
  edgewiseMain: string;
  nodeRed: string;
  pin: boolean;
}

/** One system at one rate: start it, load it, drain, stop it. */
async function runOnce(ctx: Ctx, system: System, rate: number, seconds: number): Promise<RunResult> {
  const dir = mkdtempSync(join(os.tmpdir(), `edgewise-peers-${system}-`));
  const up = ctx.upstream;
  up.reset();
  const pinArgs = (cpu: number, cmd: string, args: string[]): [string, string[]] => (ctx.pin ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args]);
  const procs: ChildProcess[] = [];
  let mosq: { port: number; proc: ChildProcess } | undefined;
  let stderr = '';
  try {
    if (system !== 'edgewise-embedded') {
      mosq = await startMosquitto(dir, ctx.pin);
      procs.push(mosq.proc);
    }
    let inputPort = mosq?.port ?? 0;
    let cmd: [string, string[]];
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
    if (system === 'bare') cmd = pinArgs(0, process.execPath, [join(here, 'bare-subscriber.mjs'), String(mosq!.port)]);
    else if (system === 'node-red') {
      writeFiles(dir, nodeRedFiles({ inputPort: mosq!.port, upstreamPort: up.port, uiPort: await freePort() }));
      cmd = pinArgs(0, process.execPath, [ctx.nodeRed, '--userDir', dir, '--settings', join(dir, 'settings.js'), 'flows.json']);
    } else {
      if (system === 'edgewise-embedded') inputPort = await freePort();
      writeFiles(dir, edgewiseFiles(system === 'edgewise-client' ? { clientUrl: `mqtt://127.0.0.1:${mosq!.port}`, upstreamPort: up.port } : { inputPort, upstreamPort: up.port }));
      Object.assign(env, process.env.PEERS_EDGEWISE_ENV !== undefined ? parseEnvList(process.env.PEERS_EDGEWISE_ENV) : DEPLOY_ENV);
      const flags = process.env.PEERS_EDGEWISE_NODE_FLAGS?.split(' ').filter(Boolean) ?? DEPLOY_NODE_FLAGS;
      cmd = pinArgs(0, process.execPath, [...flags, ctx.edgewiseMain, 'run', '--config', join(dir, 'edgewise.yaml')]);
    }
    const sys = spawn(cmd[0], cmd[1], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    procs.unshift(sys);
    sys.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-20_000)));
    const exited = () => sys.exitCode !== null || sys.signalCode !== null;
    if (system.startsWith('edgewise')) await until(() => exited() || stderr.includes('"gateway running"'), 30_000, () => `edgewise did not start:\n${stderr}`);
    if (mosq) await mosquittoSubscriptions(mosq.port, 1, 30_000);
    if (exited()) throw new Error(`${system} exited at start:\n${stderr}`);
    const idle = procSample(sys.pid!);

    const [pcmd, pargs] = pinArgs(1, process.execPath, ['--import', 'tsx', self, 'publisher', String(inputPort), String(rate), String(seconds)]);
    const pub = spawn(pcmd, pargs, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    procs.push(pub);
    await next(pub, (m) => 'connected' in m);
    const samples: Array<{ t: number; cpuMs: number; rss: number }> = [];
    const sample = () => samples.push({ t: Date.now(), ...procSample(sys.pid!) });
    sample();
    const timer = setInterval(sample, 250);
    const { sent, counted, boundary, secs } = await next<{ sent: number; counted: number; boundary: number; secs: number }>(pub, (m) => 'sent' in m);
    clearInterval(timer);
    sample();
    if (process.env.PEERS_SMAPS) {
      const top = residentByMapping(sys.pid!).slice(0, 12);
      console.log(`  ${system} resident memory at the end of load, by mapping: ${top.map((m) => `${m.what} ${(m.rssKB / 1024).toFixed(1)} MB${m.n > 1 ? ` (${m.n})` : ''}`).join(', ')}`);
    }

    // Drain: every message before the boundary counted in windows upstream (the bare subscriber:
    // every message received), or give up after 5 s.
    let delivered = 0;
    const expected = system === 'bare' ? sent : counted;
    const count = async () => {
      if (system === 'bare') {
        sys.send({ cmd: 'count' });
        delivered = (await next<{ count: number }>(sys, (m) => 'count' in m)).count;
      } else delivered = up.countedUpTo(boundary);
      return delivered >= expected;
    };
    await until(count, 5000, () => '').catch(() => undefined);
    const end = procSample(sys.pid!);

    const first = samples[0]!;
    const last = samples.at(-1)!;
    const cpuMs = last.cpuMs - first.cpuMs;
    const steady = samples.filter((s) => s.t >= first.t + (last.t - first.t) / 2);
    const mb = (x: number) => Number((x / 1048576).toFixed(1));
    const r = (x: number) => Number(x.toFixed(2));
    const aggregate = { n: up.aggLat.length, p50: r(quantile(up.aggLat, 0.5)), p99: r(quantile(up.aggLat, 0.99)) };
    const result: RunResult = {
      system,
      rate,
      sent,
      expected,
      pubRate: Math.round(sent / secs),
      delivered,
      cpuUsPerMsg: r((cpuMs * 1000) / sent),
      cpuPct: Math.round((cpuMs / (last.t - first.t)) * 100),
      rssIdleMB: mb(idle.rss),
      rssSteadyMB: mb(steady.reduce((a, s) => a + s.rss, 0) / steady.length),
      rssPeakMB: mb(end.hwm),
      agg: aggregate,
      alert: { n: up.alertLat.length, p50: r(quantile(up.alertLat, 0.5)), p99: r(quantile(up.alertLat, 0.99)) },
      // Kept up: (almost) every message counted, and window results not falling behind.
      sustained: delivered >= 0.99 * expected && (system === 'bare' || aggregate.p99 < 2000),
    };
    return result;
  } finally {
    for (const p of procs) await stopProcess(p);
    if (process.env.PEERS_KEEP_STDERR) writeFileSync(join(os.tmpdir(), `edgewise-peers-${system}.stderr`), stderr);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      rates: { type: 'string' },
      seconds: { type: 'string' },
      reps: { type: 'string' },
      systems: { type: 'string' },
      pin: { type: 'boolean', default: false },
    },
  });
  const rates = (values.rates ?? (values.quick ? '5000' : '5000,10000,20000,40000')).split(',').map(Number);
  const seconds = Number(values.seconds ?? (values.quick ? 10 : 20));
  const reps = Number(values.reps ?? (values.quick ? 1 : 2));
  const systems = (values.systems ?? SYSTEMS.join(',')).split(',') as System[];
  for (const s of systems) if (!SYSTEMS.includes(s)) throw new Error(`--systems: unknown system "${s}"; known: ${SYSTEMS.join(', ')}`);
  if (values.pin) execFileSync('taskset', ['-c', '0', 'true']); // fails clearly when taskset (util-linux) is missing

  const nodeRed = systems.includes('node-red') ? installNodeRed() : '';
  const { main: edgewiseMain } = await transpileBuiltLayout('edgewise-peers');
  const upstream = new Upstream();
  await upstream.start();
  const ctx: Ctx = { upstream, edgewiseMain, nodeRed, pin: values.pin };
  const results: RunResult[] = [];
  console.log(`peers: ${systems.join(', ')} at ${rates.join(', ')} msg/s, ${seconds} s each (to the next 10 s boundary), ${reps} rep(s), alternating${values.pin ? ', system pinned to CPU 0' : ''}`);
  for (let rep = 0; rep < reps; rep++) {
    for (const rate of rates) {
      // Alternate: each rep starts the round with the next system.
      for (let i = 0; i < systems.length; i++) {
        const system = systems[(i + rep) % systems.length]!;
        const r = await runOnce(ctx, system, rate, seconds);
        results.push(r);
        console.log(
          `  ${system.padEnd(18)} ${String(rate).padStart(6)} msg/s (sent ${r.pubRate}/s): ${r.cpuUsPerMsg} µs CPU/msg (${r.cpuPct} % core), RSS idle/steady/peak ${r.rssIdleMB}/${r.rssSteadyMB}/${r.rssPeakMB} MB, ` +
            `delivered ${r.delivered}/${r.expected}, → aggregate p50/p99 ${r.agg.p50}/${r.agg.p99} ms (${r.agg.n}), → alert ${r.alert.p50}/${r.alert.p99} ms (${r.alert.n})${r.sustained ? '' : ' NOT SUSTAINED'}`,
        );
      }
    }
  }
  await upstream.close();

  const med = (xs: number[]) => quantile(xs, 0.5);
  const rows = [];
  for (const system of systems) {
    const mine = results.filter((r) => r.system === system);
    const sustainedRates = rates.filter((rate) => mine.filter((r) => r.rate === rate).every((r) => r.sustained));
    const best = sustainedRates.length ? Math.max(...sustainedRates) : 0;
    for (const rate of rates) {
      const at = mine.filter((r) => r.rate === rate);
      const span = (f: (r: RunResult) => number) => {
        const v = at.map(f).filter(Number.isFinite);
        return v.length === 0 ? '–' : Math.min(...v) === Math.max(...v) ? String(v[0]) : `${Math.min(...v)}–${Math.max(...v)}`;
      };
      rows.push({
        system,
        'msg/s': rate,
        sustained: at.every((r) => r.sustained) ? 'yes' : 'no',
        'highest sustained': best,
        // Per message published: only meaningful when sustained (else part of the load waits elsewhere).
        'CPU µs/msg': span((r) => r.cpuUsPerMsg) + (at.every((r) => r.sustained) ? '' : ' *'),
        'CPU %': span((r) => r.cpuPct),
        'RSS steady MB': span((r) => r.rssSteadyMB),
        'RSS peak MB': span((r) => r.rssPeakMB),
        '→ aggregate p50/p99 ms': system === 'bare' ? '–' : `${med(at.map((r) => r.agg.p50))} / ${med(at.map((r) => r.agg.p99))}`,
        '→ alert p50/p99 ms': system === 'bare' ? '–' : `${med(at.map((r) => r.alert.p50))} / ${med(at.map((r) => r.alert.p99))}`,
      });
    }
  }
  console.log(`\nmachine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, node ${process.version}, ${new Date().toISOString()}; node-red ${NODE_RED_VERSION}, mosquitto ${mosquittoVersion()}`);
  console.table(rows);
  console.log('→ aggregate: upstream arrival − window end (event time = publish time); → alert: arrival − publish time of the reading that raised/cleared it.');
  console.log('CPU and RSS: the system process only (not Mosquitto, not the publisher). Values: span over reps; latencies: median over reps.');
  console.log('*: not sustained; CPU per message published then understates the cost (part of the load was still queued).');
  console.log(`load average at the end: ${os.loadavg().map((x) => x.toFixed(1)).join(', ')} (other work on the machine competes for the same cores)`);
}

function mosquittoVersion(): string {
  try {
    return /version ([\d.]+)/.exec(execFileSync('/usr/sbin/mosquitto', ['-h'], { encoding: 'utf8' }))?.[1] ?? '?';
  } catch (e) {
    return /version ([\d.]+)/.exec(String((e as { stdout?: string }).stdout))?.[1] ?? '?';
  }
}

// The publisher, also used by bench/client.bench.ts: publisher <port> <msg/s> <seconds> [no-align]
if (process.argv[2] === 'publisher') void publisher(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5]), process.argv[6] !== 'no-align').then(() => process.exit(0));
else
  main()
    .then(() => process.exit(0))
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
