/**
 * The real runtime's memory and throughput: `edgewise run` with 100 devices at 5,000 msg/s.
 *
 * Three processes:
 * - this script (orchestrator), which also runs the **upstream broker** (an in-process aedes on a
 *   loopback ephemeral port) and counts what arrives there;
 * - the runtime: `node dist/src/cli/main.js run --config edgewise.yaml`, plain JavaScript with the
 *   module layout `npm run build` ships (each file transpiled by esbuild into node_modules/.cache,
 *   npm packages loaded from node_modules as installed; no tsx loader, which alone adds ~35 MB, and
 *   lazy imports stay lazy, as on a gateway), with a tiny preload (`--import`)
 *   that reports `process.memoryUsage()` and V8 heap spaces over IPC every 250 ms;
 * - a publisher (raw MQTT 3.1.1 over TCP, pre-encoded packets): 100 connections, one per device,
 *   5,000 QoS 0 messages/s in total, 4 metrics per device (400 streams), JSON `{"value","ts"}`.
 *
 * The gateway config: the embedded MQTT broker as input; one pipeline that runs the default
 * detector on every raw reading, then a 1 s tumbling window with count/mean/max/p95 per stream
 * (400 windows a second) sent upstream; alerts sent upstream; the SQLite outbox (defaults);
 * upstream QoS 1 to the orchestrator's aedes; log level info (JSON lines on stderr).
 *
 * Figures: peak RSS, steady RSS (mean of the last 15 s of load), heap, readings/s accepted by the
 * pipeline, readings counted upstream (sum of window counts), drops.
 *
 * Run: npx tsx bench/runtime.bench.ts      (~45 s)
 *      Node flags for the runtime: --max-semi-space-size=1 (recommended, see docs/drivers.md);
 *      RUNTIME_BENCH_NODE_FLAGS="" for Node's defaults, or other V8 flags;
 *      RUNTIME_BENCH_SECONDS=30 load duration (default 32); RUNTIME_BENCH_RATE=20000 total msg/s;
 *      RUNTIME_BENCH_HTTP=1 turns the HTTP server on (http:) and scrapes /metrics once a second, as
 *      a Prometheus would (the cost of metrics, the score histogram and the dashboard's series).
 *      RUNTIME_BENCH_SPIKE_S=20: each stream gets a +40 spike once in that many seconds (0: none).
 *
 * Also timed upstream: publish → window result (arrival − window end, event time = send time) and
 * publish → alert (arrival − the time of the reading that raised or cleared it).
 *      RUNTIME_BENCH_QOS=1: the publisher sends QoS 1 and measures publish → PUBACK (which waits
 *      for the ingest journal, docs/state.md); RUNTIME_BENCH_DURABILITY=off: no journal;
 *      RUNTIME_BENCH_CHECKPOINT=60s: state.checkpoint_interval (default 10s); RUNTIME_BENCH_JOURNAL_WAIT=2ms:
 *      state.journal_max_wait (default 5ms).
 *      RUNTIME_BENCH_PIN=1: the gateway on CPU 1 alone, the publisher and the upstream broker on
 *      CPU 0 (taskset), as on a gateway whose devices are other machines.
 *      RUNTIME_BENCH_SMAPS=1: where the runtime's resident memory is at the end of load, by mapping.
 *      RUNTIME_BENCH_LATENESS=0ms: the window's allowed lateness (default 200ms), which a window
 *      result always waits for; 0 for the lowest latency (each device's readings arrive in order).
 */
import { Aedes } from 'aedes';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transpileBuiltLayout } from './built-layout.js';
import { DEPLOY_ENV, DEPLOY_NODE_FLAGS, parseEnvList } from './deploy-profile.js';
import mqttPacket from 'mqtt-packet';
import { quantile, residentByMapping } from './processes.js';
import { freePort, openSockets, publishPacket } from './raw-mqtt.js';

const self = fileURLToPath(import.meta.url);
const role = process.argv[2];
const DEVICES = 100;
const RATE = Number(process.env.RUNTIME_BENCH_RATE ?? 5000);
/** The Node flags and environment the deploy files use (bench/deploy-profile.ts, docs/drivers.md). */
const DEFAULT_FLAGS = DEPLOY_NODE_FLAGS.join(' ');
const DEFAULT_ENV = Object.entries(DEPLOY_ENV).map(([k, v]) => `${k}=${v}`).join(' ');
const METRICS = ['temperature', 'vibration', 'current', 'pressure'];
/** Each stream spikes once in this many seconds (0: never), for the publish → alert upstream latency. */
const SPIKE_PERIOD_S = Number(process.env.RUNTIME_BENCH_SPIKE_S ?? 20);
const QOS = Number(process.env.RUNTIME_BENCH_QOS ?? 0) === 1 ? 1 : 0;
const DURABILITY = process.env.RUNTIME_BENCH_DURABILITY === 'off' ? 'off' : 'journal';
/** The window's allowed lateness: a window closes when its stream's newest reading is this far past its end. */
const LATENESS = process.env.RUNTIME_BENCH_LATENESS ?? '200ms';
/**
 * The first seconds of load are a gateway's warm-up (400 new streams' detector state, JIT, the heap
 * growing): "steady" latency figures leave them out; the whole-run p99 and max are printed beside.
 */
const WARMUP_S = Number(process.env.RUNTIME_BENCH_WARMUP_S ?? 5);

/** p99 per second of load, `lat[i]` taken at `atS[i]` seconds: where in the run the tail is. */
function latencyBySecond(lat: number[], atS: number[]): string {
  const buckets = new Map<number, number[]>();
  lat.forEach((x, i) => {
    const sec = Math.floor(atS[i]!);
    let b = buckets.get(sec);
    if (!b) buckets.set(sec, (b = []));
    b.push(x);
  });
  return [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, xs]) => quantile(xs, 0.99).toFixed(0))
    .join(' ');
}

// ---------- publisher: raw MQTT 3.1.1 over TCP (bench/raw-mqtt.ts) ----------
async function publisher(port: number, seconds: number): Promise<void> {
  const socks = await openSockets(port, DEVICES, 'dev-');
  // QoS 1: the send time of each packet id per connection, and publish → PUBACK latencies.
  const sentAt = socks.map(() => new Map<number, number>());
  let t0 = 0;
  const nextId = socks.map(() => 1);
  const acks: number[] = [];
  /** Per PUBACK: seconds since the start of load when it was sent (for the steady-state figure). */
  const ackSentS: number[] = [];
  if (QOS === 1) {
    socks.forEach((s, i) => {
      const parser = mqttPacket.parser();
      parser.on('packet', (pk) => {
        if (pk.cmd !== 'puback') return;
        const t = sentAt[i]!.get(pk.messageId!);
        if (t !== undefined) {
          acks.push(performance.now() - t);
          ackSentS.push((t - t0) / 1000);
          sentAt[i]!.delete(pk.messageId!);
        }
      });
      s.on('data', (d: Buffer) => parser.parse(d));
    });
  }
  process.send!({ connected: DEVICES });
  t0 = performance.now();
  const end = t0 + seconds * 1000;
  let sent = 0;
  const streams = DEVICES * METRICS.length;
  const spikeSlot = new Float64Array(streams).fill(-1);
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const owed = Math.floor(((Math.min(now, end) - t0) / 1000) * RATE) - sent;
      for (let i = 0; i < owed; i++) {
        const dev = sent % DEVICES;
        const k = Math.floor(sent / DEVICES);
        const metric = METRICS[k % METRICS.length]!;
        // `t`: the send time with sub-ms resolution, for the publish → reading latency (a field; windows ignore it).
        const wall = performance.timeOrigin + performance.now();
        const t = wall.toFixed(3);
        // A noisy sine per device and metric: the default detector stays mostly quiet, but for one
        // +40 spike per stream every SPIKE_PERIOD_S (staggered, after warm-up): alerts to time upstream.
        const stream = dev * METRICS.length + (k % METRICS.length);
        const slot = SPIKE_PERIOD_S > 0 ? Math.floor((wall / 1000 + (stream * SPIKE_PERIOD_S) / streams) / SPIKE_PERIOD_S) : 0;
        const spike = k / METRICS.length > 200 && spikeSlot[stream] !== slot && spikeSlot[stream] !== -1 ? 40 : 0;
        if (spikeSlot[stream] !== slot) spikeSlot[stream] = slot;
        const v = 50 + dev / 10 + 5 * Math.sin(k / 200) + ((sent * 7919) % 1000) / 1000 + spike;
        const topic = `sensors/dev-${dev}/${metric}`;
        const payload = `{"value":${v.toFixed(3)},"ts":${t},"t":${t}}`;
        if (QOS === 1) {
          const id = nextId[dev]!;
          nextId[dev] = (id % 65535) + 1;
          sentAt[dev]!.set(id, performance.now());
          socks[dev]!.write(mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 1, messageId: id, dup: false, retain: false }));
        } else socks[dev]!.write(publishPacket(topic, payload));
        sent++;
      }
      if (now < end) setTimeout(tick, 2);
      else resolve();
    };
    tick();
  });
  if (QOS === 1) {
    const until = performance.now() + 5000;
    while (sentAt.some((m) => m.size > 0) && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
  }
  const steadyAcks = acks.filter((_, i) => ackSentS[i]! >= WARMUP_S);
  const bySecond = latencyBySecond(acks, ackSentS);
  acks.sort((a, b) => a - b);
  const q = (x: number) => acks[Math.min(acks.length - 1, Math.floor(x * acks.length))] ?? NaN;
  process.send!({ sent, puback: QOS === 1 ? { n: acks.length, p50: q(0.5), p99: q(0.99), max: acks.at(-1) ?? NaN, steadyP99: quantile(steadyAcks, 0.99), bySecond, missing: sentAt.reduce((a, m) => a + m.size, 0) } : undefined });
  for (const s of socks) s.end();
}

// ---------- orchestrator ----------
const PROBE = `
import v8 from 'node:v8';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
if (process.send) {
  // Where latency goes: event-loop delay (a timer's lateness, 1 ms resolution) and GC pauses by kind.
  const eld = monitorEventLoopDelay({ resolution: 1 });
  const gc = { n: 0, ms: 0, max: 0, major: 0, majorMs: 0, majorMax: 0 };
  let gcOn = false;
  new PerformanceObserver((list) => {
    if (!gcOn) return;
    for (const e of list.getEntries()) {
      gc.n++;
      gc.ms += e.duration;
      if (e.duration > gc.max) gc.max = e.duration;
      if (e.detail?.kind === 4 /* major */) {
        gc.major++;
        gc.majorMs += e.duration;
        if (e.duration > gc.majorMax) gc.majorMax = e.duration;
      }
    }
  }).observe({ entryTypes: ['gc'] });
  const t = setInterval(() => {
    const m = process.memoryUsage();
    const spaces = {};
    for (const s of v8.getHeapSpaceStatistics()) spaces[s.space_name] = s.space_size;
    const c = process.cpuUsage();
    let written = 0;
    try { written = Number(/^write_bytes:\\s*(\\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? 0); } catch {}
    process.send({ t: Date.now(), cpuMs: (c.user + c.system) / 1000, written, rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, spaces });
  }, 250);
  t.unref();
  process.channel?.unref();
  // Publish → reading latency: the time a reading reaches the gateway (Gateway.push, after the
  // driver decoded it), minus its send time stamped by the publisher in the payload field t.
  // A histogram in 10 µs bins up to 200 ms (80 KB), so measuring adds no memory per reading.
  const BIN_MS = 0.01;
  const hist = new Uint32Array(20_000);
  const steadyHist = new Uint32Array(20_000); // from the 'steady' command on (after warm-up)
  let n = 0;
  let steadyN = 0;
  let max = 0;
  let collect = false;
  let steady = false;
  // As the CLI does first of all (src/cli/main.ts), before the gateway module loads aedes and mqtt.
  await import(pathToFileURL(process.env.RUNTIME_BENCH_GATEWAY_MODULE.replace(/runtime[\\/]gateway\.js$/, 'cli/quiet-debug.js')).href);
  const { Gateway } = await import(pathToFileURL(process.env.RUNTIME_BENCH_GATEWAY_MODULE).href);
  const push = Gateway.prototype.push;
  Gateway.prototype.push = function (r) {
    if (collect && typeof r.fields?.t === 'number') {
      const ms = performance.timeOrigin + performance.now() - r.fields.t;
      const bin = Math.min(hist.length - 1, Math.max(0, Math.floor(ms / BIN_MS)));
      hist[bin]++;
      n++;
      if (steady) {
        steadyHist[bin]++;
        steadyN++;
      }
      if (ms > max) max = ms;
    }
    return push.call(this, r);
  };
  const quantile = (p, h = hist, count = n) => {
    let seen = 0;
    for (let i = 0; i < h.length; i++) if ((seen += h[i]) >= p * count) return (i + 1) * BIN_MS;
    return NaN;
  };
  process.on('message', async (m) => {
    if (m?.cmd === 'snapshot') process.send({ snapshot: v8.writeHeapSnapshot(m.file) });
    else if (m?.cmd === 'collect') { collect = true; n = 0; max = 0; hist.fill(0); }
    else if (m?.cmd === 'steady' && process.env.RUNTIME_BENCH_ALLOC_PROFILE) {
      // Where the young generation fills from: sampled allocations, including those the GC has freed.
      const { Session } = await import('node:inspector');
      const session = new Session();
      session.connect();
      session.post('HeapProfiler.startSampling', { samplingInterval: 8192, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
      globalThis.__allocSession = session;
    }
    if (m?.cmd === 'steady') { steady = true; steadyN = 0; steadyHist.fill(0); eld.enable(); eld.reset(); gcOn = true; }
    else if (m?.cmd === 'latency') {
      collect = false;
      if (globalThis.__allocSession) {
        const { writeFileSync } = await import('node:fs');
        await new Promise((res) => globalThis.__allocSession.post('HeapProfiler.stopSampling', (err, r) => { if (!err) writeFileSync(process.env.RUNTIME_BENCH_ALLOC_PROFILE, JSON.stringify(r.profile)); res(); }));
      }
      eld.disable();
      gcOn = false;
      process.send({ latency: { n, p50: quantile(0.5), p99: quantile(0.99), max, steadyP99: quantile(0.99, steadyHist, steadyN), eld: { p50: eld.percentile(50) / 1e6, p99: eld.percentile(99) / 1e6, max: eld.max / 1e6 }, gc } });
    }
  });
}
`;

type Sample = { t: number; cpuMs: number; written: number; rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number; spaces: Record<string, number> };

/** Our code as `npm run build` lays it out (bench/built-layout.ts), plus the probe. */
async function transpile(): Promise<{ main: string; gateway: string; probe: string }> {
  const { dir, main } = await transpileBuiltLayout('edgewise-bench');
  const probe = join(dir, 'probe.mjs');
  writeFileSync(probe, PROBE);
  return { main, gateway: join(dir, 'src', 'runtime', 'gateway.js'), probe };
}

function writeConfig(dir: string, inputPort: number, upstreamPort: number, httpPort?: number): string {
  writeFileSync(
    join(dir, 'machines.yaml'),
    `name: machines
input:
  streams: ["*/*"]
steps:
  - detect: { detector: default }        # every raw reading judged; alerts to the "alerts" output
  - window:
      type: tumbling
      size: 1s
      lateness: ${LATENESS}
      aggregates: [count, mean, max, p95]
  - output: aggregates
`,
  );
  const cfg = join(dir, 'edgewise.yaml');
  writeFileSync(
    cfg,
    `gateway: { id: bench-gw, data_dir: data }
log: { level: info, format: json }
inputs:
  - name: devices
    type: mqtt
    topics: ["sensors/{device}/{metric}"]
    broker: { port: ${inputPort} }
pipelines: [machines.yaml]
outbox: { wal_checkpoint: ${process.env.RUNTIME_BENCH_WAL ?? 'background'} }
upstream: { url: "mqtt://127.0.0.1:${upstreamPort}" }
state: { durability: ${DURABILITY}, checkpoint_interval: ${process.env.RUNTIME_BENCH_CHECKPOINT ?? '10s'}${process.env.RUNTIME_BENCH_JOURNAL_WAIT ? `, journal_max_wait: ${process.env.RUNTIME_BENCH_JOURNAL_WAIT}` : ''} }
${httpPort ? `http: { port: ${httpPort} }\n` : ''}`,
  );
  return cfg;
}

/** Linux: resident memory split into anonymous (heap, malloc) and file-backed (the node binary, libraries). */
function procMemory(pid: number): string {
  try {
    const st = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)?.[1] ?? NaN) / 1024;
    return `RssAnon ${kb('RssAnon').toFixed(1)} MB, RssFile ${kb('RssFile').toFixed(1)} MB, threads ${/Threads:\s+(\d+)/.exec(st)?.[1]}`;
  } catch {
    return '';
  }
}

function next<T>(c: ChildProcess, pred: (m: object) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      if (typeof m === 'object' && m !== null && pred(m)) {
        c.off('message', on);
        resolve(m as T);
      }
    };
    c.on('message', on);
  });
}

async function main(): Promise<void> {
  const seconds = Number(process.env.RUNTIME_BENCH_SECONDS ?? 32);
  const flags = (process.env.RUNTIME_BENCH_NODE_FLAGS ?? DEFAULT_FLAGS).split(' ').filter(Boolean);
  const envText = process.env.RUNTIME_BENCH_ENV ?? DEFAULT_ENV;
  const runtimeEnv = parseEnvList(envText);
  const { main: entry, gateway: gatewayModule, probe } = await transpile();

  // Upstream broker, in this process.
  const broker = await Aedes.createBroker();
  let upMsgs = 0;
  let upAggregates = 0;
  let upAlerts = 0;
  let upReadings = 0;
  // Publish → upstream: arrival here minus the window end (event time = the publisher's clock), and
  // minus the time of the reading that raised or cleared an alert.
  const toWindow: number[] = [];
  /** The same, split: window end → put in the outbox (the gateway's clock, `emitted`) → arrival here. */
  const windowToPut: number[] = [];
  const putToArrival: number[] = [];
  const toAlert: number[] = [];
  /** The same, split at the put into the outbox (`emitted`). */
  const alertToPut: number[] = [];
  const alertPutToArrival: number[] = [];
  /** When each of those arrived (ms, wall clock), for the steady-state figures. */
  const windowAt: number[] = [];
  const alertAt: number[] = [];
  broker.on('publish', (p, client) => {
    if (!client || !p.topic.startsWith('edgewise/')) return;
    const at = performance.timeOrigin + performance.now();
    upMsgs++;
    if (p.topic.includes('/aggregate/')) {
      upAggregates++;
      const { data, emitted } = JSON.parse(p.payload.toString()) as { emitted: number; data: { count: number; end: number } };
      upReadings += data.count;
      toWindow.push(at - data.end);
      windowToPut.push(emitted - data.end);
      putToArrival.push(at - emitted);
      windowAt.push(at);
    } else if (p.topic.includes('/alert/')) {
      upAlerts++;
      const { data, emitted } = JSON.parse(p.payload.toString()) as { emitted: number; data: { state: string; start: number; end?: number } };
      const from = data.state === 'raised' ? data.start : data.state === 'cleared' ? data.end! : undefined;
      if (from === undefined) return;
      toAlert.push(at - from);
      alertToPut.push(emitted - from);
      alertPutToArrival.push(at - emitted);
      alertAt.push(at);
    }
  });
  const server = net.createServer({ noDelay: true }, broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const upstreamPort = (server.address() as net.AddressInfo).port;

  const dir = mkdtempSync(join(os.tmpdir(), 'edgewise-runtime-bench-'));
  const inputPort = await freePort();
  const httpPort = process.env.RUNTIME_BENCH_HTTP === '1' ? await freePort() : undefined;
  const cfg = writeConfig(dir, inputPort, upstreamPort, httpPort);
  // RUNTIME_BENCH_PIN=1: the gateway alone on CPU 1; this process (the upstream broker) and the
  // publisher on CPU 0, so that the load generators do not take the gateway's core (as on a gateway,
  // where the devices are other machines). Needs taskset (util-linux); the pid stays the gateway's.
  const pin = process.env.RUNTIME_BENCH_PIN === '1';
  if (pin) execFileSync('taskset', ['-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  const pinned = (cpu: number, args: string[]): [string, string[]] => (pin ? ['taskset', ['-c', String(cpu), process.execPath, ...args]] : [process.execPath, args]);
  const rt = spawn(...pinned(1, [...flags, '--import', probe, entry, 'run', '--config', cfg]), {
    stdio: ['ignore', process.env.RUNTIME_BENCH_STDOUT ? 'inherit' : 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, ...runtimeEnv, NODE_OPTIONS: '', RUNTIME_BENCH_GATEWAY_MODULE: gatewayModule },
  });
  let stderr = '';
  rt.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((r) => rt.on('exit', (code) => r(code)));
  const samples: Array<Sample & { phase: string }> = [];
  let phase = 'start';
  rt.on('message', (m: Sample) => {
    if (typeof m?.rss === 'number') samples.push({ ...m, phase });
  });
  for (let i = 0; !stderr.includes('"gateway running"'); i++) {
    if (rt.exitCode !== null || i > 300) throw new Error(`runtime did not start:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  phase = 'idle';
  await new Promise((r) => setTimeout(r, 1500));
  const idle = samples.at(-1)!;

  const pub = spawn(...pinned(0, ['--import', 'tsx', self, 'publisher', String(inputPort), String(seconds)]), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await next(pub, (m) => 'connected' in m);
  phase = 'load';
  rt.send({ cmd: 'collect' });
  let scrapes = 0;
  let scrapeBytes = 0;
  const scraper = httpPort
    ? setInterval(() => {
        void fetch(`http://127.0.0.1:${httpPort}/metrics`)
          .then((r) => r.text())
          .then((t) => {
            scrapes++;
            scrapeBytes = t.length;
          })
          .catch(() => {});
      }, 1000)
    : undefined;
  const tLoad = Date.now();
  const warm = setTimeout(() => rt.send({ cmd: 'steady' }), WARMUP_S * 1000);
  const { sent, puback } = await next<{ sent: number; puback?: { n: number; p50: number; p99: number; max: number; steadyP99: number; bySecond: string; missing: number } }>(pub, (m) => 'sent' in m);
  const loadSecs = (Date.now() - tLoad) / 1000;
  clearTimeout(warm);
  if (scraper) clearInterval(scraper);
  const procStatus = procMemory(rt.pid!);
  if (process.env.RUNTIME_BENCH_SMAPS) {
    const top = residentByMapping(rt.pid!).slice(0, 14);
    console.log(`resident memory at the end of load, by mapping: ${top.map((m) => `${m.what} ${(m.rssKB / 1024).toFixed(1)} MB${m.n > 1 ? ` (${m.n})` : ''}`).join(', ')}`);
  }
  rt.send({ cmd: 'latency' });
  const { latency } = await next<{ latency: { n: number; p50: number; p99: number; max: number; steadyP99: number; eld: { p50: number; p99: number; max: number }; gc: { n: number; ms: number; max: number; major: number; majorMs: number; majorMax: number } } }>(rt, (m) => 'latency' in m);
  phase = 'after';
  await new Promise((r) => setTimeout(r, 2000)); // last windows close (1 s + 200 ms lateness) and drain

  if (process.env.RUNTIME_BENCH_SNAPSHOT) {
    phase = 'snapshot'; // writing a snapshot costs memory of its own: not counted
    rt.send({ cmd: 'snapshot', file: process.env.RUNTIME_BENCH_SNAPSHOT });
    await next(rt, (m) => 'snapshot' in m);
  }
  phase = 'stopping';
  rt.kill('SIGTERM');
  const code = await exited;
  const stopped = stderr
    .split('\n')
    .filter((l) => l.includes('"gateway stopped"'))
    .map((l) => JSON.parse(l) as { readings: number; unrouted: number; pipelines: Array<{ accepted: number; dropped: Record<string, number>; late: number }>; state?: { checkpoints: number; maxCheckpointMs: number; checkpointBytes: number; journalCommits: number; maxCaptureMs?: number } })[0];
  await new Promise((r) => setTimeout(r, 300));
  await new Promise<void>((r) => broker.close(() => r()));
  server.close();
  rmSync(dir, { recursive: true, force: true });
  if (code !== 0 || !stopped) throw new Error(`runtime exited with ${code}:\n${stderr.slice(-3000)}`);

  const load = samples.filter((s) => s.phase === 'load');
  const lastMs = 15_000;
  const steady = load.filter((s) => s.t >= load.at(-1)!.t - lastMs);
  const avg = (xs: Sample[], f: (s: Sample) => number) => xs.reduce((a, s) => a + f(s), 0) / xs.length;
  const running = samples.filter((s) => s.phase !== 'snapshot' && s.phase !== 'stopping');
  const peak = (f: (s: Sample) => number) => Math.max(...running.map(f));
  const mb = (x: number) => Number((x / 1024 / 1024).toFixed(1));
  const pk = running.reduce((a, s) => (s.rss > a.rss ? s : a));
  const peakWhen = `${pk.phase}${pk.phase === 'load' ? ` +${((pk.t - load[0]!.t) / 1000).toFixed(1)} s` : ''}`;
  const p = stopped.pipelines[0]!;
  const cpuPct = ((load.at(-1)!.cpuMs - load[0]!.cpuMs) / (load.at(-1)!.t - load[0]!.t)) * 100;
  const dropped = Object.values(p.dropped).reduce((a, b) => a + b, 0);
  const warnings = stderr.split('\n').filter((l) => /"level":(40|50|60)/.test(l) && !l.includes('"alert ')).length;

  const q = (xs: number[], p: number) => Number(quantile(xs, p).toFixed(1));
  const sinceLoad = (at: number[]) => at.map((t) => (t - tLoad) / 1000);
  const afterWarmup = (xs: number[], at: number[]) => xs.filter((_, i) => (at[i]! - tLoad) / 1000 >= WARMUP_S);
  // A stream's last window has no next reading to close it (it closes when the stream goes idle):
  // the steady figure counts only windows that ended while the publisher was still sending.
  const lastEnd = Math.max(...windowAt.map((at, i) => at - toWindow[i]!));
  const steadyWindows = toWindow.filter((x, i) => (windowAt[i]! - tLoad) / 1000 >= WARMUP_S && windowAt[i]! - x <= lastEnd - 2000);
  const steadyText = `steady (after the first ${WARMUP_S} s)`;
  console.log(`\nedgewise run: ${DEVICES} devices (MQTT connections) × ${METRICS.length} metrics, ${RATE} msg/s QoS ${QOS} for ${loadSecs.toFixed(1)} s; state.durability ${DURABILITY}`);
  console.log(`pipeline: detect default on every reading → 1 s tumbling window (lateness ${LATENESS}) [count, mean, max, p95] → upstream (in-process aedes, QoS 1) via the SQLite outbox`);
  console.log(`runtime: plain node ${process.version} on the built layout (dist/src/cli/main.js), flags: ${flags.join(' ') || '(none)'}, env: ${envText || '(none)'}${process.env.RUNTIME_BENCH_PIN === '1' ? '; pinned: gateway on CPU 1, publisher and upstream broker on CPU 0' : ''}; machine: ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? '?'}`);
  console.table([
    { figure: 'RSS peak (MB)', value: mb(peak((s) => s.rss)), note: `target ≤ 90 MB; at ${peakWhen}: heap ${mb(pk.heapUsed)} / ${mb(pk.heapTotal)}, external ${mb(pk.external)} MB; at the end of load: ${procStatus}` },
    { figure: 'RSS steady (MB)', value: mb(avg(steady, (s) => s.rss)), note: `mean of the last ${lastMs / 1000} s of load; idle before load ${mb(idle.rss)} MB (heap ${mb(idle.heapUsed)} / ${mb(idle.heapTotal)})` },
    { figure: 'heap used / total, steady (MB)', value: `${mb(avg(steady, (s) => s.heapUsed))} / ${mb(avg(steady, (s) => s.heapTotal))}`, note: `peak total ${mb(peak((s) => s.heapTotal))}` },
    { figure: 'young gen (new_space) steady (MB)', value: mb(avg(steady, (s) => s.spaces.new_space ?? 0)), note: `old_space ${mb(avg(steady, (s) => s.spaces.old_space ?? 0))}, code ${mb(avg(steady, (s) => s.spaces.code_space ?? 0))}` },
    { figure: 'external / arrayBuffers steady (MB)', value: `${mb(avg(steady, (s) => s.external))} / ${mb(avg(steady, (s) => s.arrayBuffers))}`, note: 'Buffers, SQLite is outside V8 (in RSS only)' },
    { figure: 'p99 publish → reading (ms)', value: Number(latency.p99.toFixed(2)), note: `target ≤ 2 ms; ${steadyText} ${latency.steadyP99.toFixed(2)} ms; p50 ${latency.p50.toFixed(2)} ms, max ${latency.max.toFixed(1)} ms over ${latency.n} readings (send time in the payload → Gateway.push)` },
    {
      figure: 'event-loop delay, steady: p99 (ms)',
      value: Number(latency.eld.p99.toFixed(1)),
      note: `p50 ${latency.eld.p50.toFixed(1)}, max ${latency.eld.max.toFixed(1)} ms (monitorEventLoopDelay, 1 ms resolution); GC in the same span: ${latency.gc.n} pauses, ${latency.gc.ms.toFixed(0)} ms in all, longest ${latency.gc.max.toFixed(1)} ms; ${latency.gc.major} major, ${latency.gc.majorMs.toFixed(0)} ms, longest ${latency.gc.majorMax.toFixed(1)} ms`,
    },
    ...(puback
      ? [{ figure: 'p99 publish → PUBACK (ms)', value: Number(puback.p99.toFixed(2)), note: `target ≤ 15 ms; ${steadyText} ${puback.steadyP99.toFixed(2)} ms; QoS 1, PUBACK after the journal commit; p50 ${puback.p50.toFixed(2)} ms, max ${puback.max.toFixed(1)} ms over ${puback.n} publishes, ${puback.missing} without PUBACK; p99 by second of load: ${puback.bySecond}` }]
      : []),
    ...(stopped.state
      ? [
          {
            figure: 'checkpoints: longest hold of the event loop (ms)',
            value: stopped.state.maxCheckpointMs,
            note: `periodic ones (in slices: the capture, or one transaction of ~128 KB); ${stopped.state.checkpoints} checkpoints of ${(stopped.state.checkpointBytes / 1e6).toFixed(1)} MB;  longest capture ${stopped.state.maxCaptureMs} ms; ${stopped.state.journalCommits} journal commits`,
          },
        ]
      : []),
    { figure: 'readings/s accepted (pipeline)', value: Math.round(p.accepted / loadSecs), note: `${p.accepted} accepted of ${sent} sent; ${dropped} dropped, ${p.late} late, ${stopped.unrouted} unrouted` },
    { figure: 'written to storage under load (MB/s)', value: Number((((load.at(-1)!.written - load[0]!.written) / (load.at(-1)!.t - load[0]!.t)) * 1000 / 1e6).toFixed(2)), note: 'write_bytes of /proc/self/io: the outbox, the journal, checkpoints and their WAL (what wears an SD card)' },
    { figure: 'runtime CPU under load (% of one core)', value: Math.round(cpuPct), note: `${((cpuPct * 10_000) / RATE).toFixed(0)} µs of CPU per reading, end to end` },
    { figure: 'p99 publish → window result upstream (ms after window end)', value: q(toWindow, 0.99), note: `${steadyText}, windows that ended ≥ 2 s before the last one: ${q(steadyWindows, 0.99)} ms; p50 ${q(toWindow, 0.5)} ms over ${toWindow.length} window results; a window closes when its stream's next reading arrives ${LATENESS} after its end; p99 by second: ${latencyBySecond(toWindow, sinceLoad(windowAt))}` },
    { figure: '  of which: window end → put in the outbox, p50 / p99 (ms)', value: `${q(windowToPut, 0.5)} / ${q(windowToPut, 0.99)}`, note: `put → arrival upstream p50 / p99: ${q(putToArrival, 0.5)} / ${q(putToArrival, 0.99)} ms (put: the gateway's clock in the payload's "emitted", same machine)` },
    { figure: 'p99 publish → alert upstream (ms)', value: q(toAlert, 0.99), note: `${steadyText} ${q(afterWarmup(toAlert, alertAt), 0.99)} ms; p50 ${q(toAlert, 0.5)} ms over ${toAlert.length} raised/cleared alerts (from the time of the reading that raised or cleared it); p99 by second: ${latencyBySecond(toAlert, sinceLoad(alertAt))}` },
    { figure: '  of which: reading → put in the outbox, p50 / p99 (ms)', value: `${q(alertToPut, 0.5)} / ${q(alertToPut, 0.99)}`, note: `put → arrival upstream p50 / p99: ${q(alertPutToArrival, 0.5)} / ${q(alertPutToArrival, 0.99)} ms` },
    { figure: 'readings counted upstream', value: upReadings, note: `sum of window counts in ${upAggregates} aggregates; ${upAlerts} alerts; ${upMsgs} messages` },
    { figure: 'warnings/errors logged', value: warnings, note: '' },
    ...(httpPort ? [{ figure: 'HTTP server: /metrics scrapes', value: scrapes, note: `one a second during load; last ${(scrapeBytes / 1024).toFixed(0)} KB` }] : []),
  ]);
}

if (role === 'publisher') void publisher(Number(process.argv[3]), Number(process.argv[4])).then(() => setTimeout(() => process.exit(0), 100));
else
  main()
    .then(() => process.exit(0))
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
