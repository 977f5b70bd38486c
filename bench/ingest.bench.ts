/**
 * Ingest through the embedded broker, from an external publisher process.
 *
 * The measured "gateway" is a process running the embedded aedes broker + the MQTT driver + a
 * counting sink (no pipelines): ingest alone. The whole runtime (`edgewise run` with pipelines,
 * outbox and upstream) is measured by bench/runtime.bench.ts. Three processes: this script
 * (orchestrator), the gateway, and a publisher that speaks MQTT over raw sockets with
 * pre-encoded packets (so the publisher is not the bottleneck).
 *
 * 1. Throughput: 4 connections publish QoS 0 as fast as the gateway takes them, 8 s; readings/s
 *    counted in the gateway, and its CPU time (the gateway is one Node thread: one core).
 * 2. 100 devices (connections) publishing 5,000 msg/s in total for 10 s: p50/p99 latency from
 *    publish (wall clock with sub-ms resolution, stamped in the payload) to the reading reaching
 *    the sink, and the gateway's resident memory (RSS).
 *
 * Run: npx tsx bench/ingest.bench.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mqttPlugin } from '../drivers/mqtt/plugin.js';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { DEPLOY_ENV, DEPLOY_NODE_FLAGS, parseEnvList } from './deploy-profile.js';
import { openSockets, publishPacket } from './raw-mqtt.js';

const self = fileURLToPath(import.meta.url);
const role = process.argv[2];
const hiresNow = () => performance.timeOrigin + performance.now();

// ---------- gateway: broker + MQTT driver + counting sink ----------
async function gateway(): Promise<void> {
  await import('../drivers/mqtt/index.js');
  const { mqttConfigSchema } = await import('../test/helpers/schemas.js');
  const { DropCounter } = await import('../src/core/drops.js');
  const { silentLogger } = await import('../src/core/log.js');
  let readings = 0;
  let collect = false;
  const lat = new Float64Array(200_000);
  let nLat = 0;
  const ctx = {
    emit(r: { fields?: Record<string, unknown> }) {
      readings++;
      if (collect && nLat < lat.length) {
        const t = r.fields?.t;
        if (typeof t === 'number') lat[nLat++] = hiresNow() - t;
      }
    },
    drops: new DropCounter(),
    log: silentLogger(),
    now: Date.now,
  };
  const cfg = mqttConfigSchema.parse({ broker: { port: 0, max_clients: 1000 } });
  const driver = mqttPlugin.create('bench', cfg as never, { log: silentLogger(), dataDir: '/tmp', services: new Map() });
  await driver.start(ctx);
  const port = (driver as unknown as { embeddedBroker: { port: number } }).embeddedBroker.port;
  let peakRss = 0;
  setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 250).unref();
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'stats') {
      const cpu = process.cpuUsage();
      process.send!({ readings, drops: ctx.drops.total(), cpuMs: (cpu.user + cpu.system) / 1000, rss: process.memoryUsage.rss(), peakRss });
    } else if (m.cmd === 'collect') {
      collect = true;
      nLat = 0;
      peakRss = 0;
    } else if (m.cmd === 'latency') {
      collect = false;
      const a = Array.from(lat.subarray(0, nLat)).sort((x, y) => x - y);
      const q = (p: number) => (a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))]! : NaN);
      process.send!({ n: a.length, p50: q(0.5), p99: q(0.99), max: a.at(-1) ?? NaN, peakRss });
    } else if (m.cmd === 'exit') {
      void driver.stop().then(() => process.exit(0));
    }
  });
  process.send!({ port });
}

// ---------- publisher: raw MQTT 3.1.1 over TCP (bench/raw-mqtt.ts) ----------
async function publisher(port: number, mode: string, seconds: number): Promise<void> {
  const end = Date.now() + seconds * 1000;
  if (mode === 'flood') {
    const socks = await openSockets(port, 4, 'bench-dev-');
    let sent = 0;
    await Promise.all(
      socks.map(async (s, k) => {
        const batch = Buffer.concat(Array.from({ length: 200 }, (_, i) => publishPacket(`sensors/dev-${k}-${i % 20}/flow`, `{"value":${i}.5,"ts":1700000000000}`)));
        while (Date.now() < end) {
          sent += 200;
          if (!s.write(batch)) await new Promise((r) => s.once('drain', r));
        }
      }),
    );
    process.send!({ sent });
    for (const s of socks) s.end();
    return;
  }
  // paced: 100 devices, 5,000 msg/s in total
  const socks = await openSockets(port, 100, 'bench-dev-');
  const rate = 5000;
  const t0 = hiresNow();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = hiresNow();
      const owed = Math.floor(((now - t0) / 1000) * rate) - sent;
      for (let i = 0; i < owed; i++) {
        const dev = sent % 100;
        socks[dev]!.write(publishPacket(`sensors/dev-${dev}/temp`, `{"value":${(sent % 1000) / 10},"ts":${Date.now()},"t":${hiresNow()}}`));
        sent++;
      }
      if (Date.now() < end) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  process.send!({ sent });
  for (const s of socks) s.end();
}

// ---------- orchestrator ----------
function child(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', self, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/**
 * The gateway runs as plain JavaScript (as the built runtime will), not under the tsx loader,
 * which alone adds ~35 MB of RSS: this file is bundled with esbuild (tsx's own compiler) into
 * node_modules/.cache, dependencies left external. Falls back to tsx if esbuild is missing.
 */
let gatewayCmd: { args: string[]; how: string } = { args: ['--import', 'tsx', self], how: 'under tsx' };
async function prepareGateway(): Promise<void> {
  try {
    const { build } = (await import('esbuild' as string)) as typeof import('esbuild');
    const out = join(dirname(self), '..', 'node_modules', '.cache', 'edgewise-bench', 'ingest.mjs');
    await build({ entryPoints: [self], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: out, logLevel: 'error' });
    gatewayCmd = { args: [out], how: 'plain node (esbuild bundle)' };
  } catch (e) {
    console.error(`esbuild unavailable (${(e as Error).message}); running the gateway under tsx`);
  }
}
/** The gateway runs with the deploy files' Node flags and environment unless told otherwise. */
const gatewayFlags = process.env.INGEST_GATEWAY_NODE_FLAGS ?? DEPLOY_NODE_FLAGS.join(' ');
const gatewayEnv = process.env.INGEST_GATEWAY_ENV ?? Object.entries(DEPLOY_ENV).map(([k, v]) => `${k}=${v}`).join(' ');
function gatewayChild(): ChildProcess {
  const flags = gatewayFlags.split(' ').filter(Boolean);
  return spawn(process.execPath, [...flags, ...gatewayCmd.args, 'gateway'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...parseEnvList(gatewayEnv) } });
}
function next<T>(c: ChildProcess): Promise<T> {
  return new Promise((resolve) => c.once('message', (m) => resolve(m as T)));
}
type Stats = { readings: number; drops: number; cpuMs: number; rss: number; peakRss: number };

async function main(): Promise<void> {
  await prepareGateway();
  const gw = gatewayChild();
  const { port } = await next<{ port: number }>(gw);
  const stats = async () => {
    gw.send({ cmd: 'stats' });
    return next<Stats>(gw);
  };

  // 1. throughput
  const a = await stats();
  const t0 = Date.now();
  const pub = child(['publisher', String(port), 'flood', '8']);
  const { sent } = await next<{ sent: number }>(pub);
  // wait until the gateway has taken what was sent (or stops progressing)
  let b = await stats();
  for (let last = -1; b.readings - a.readings < sent && b.readings !== last; ) {
    last = b.readings;
    await new Promise((r) => setTimeout(r, 200));
    b = await stats();
  }
  const secs = (Date.now() - t0) / 1000;
  const got = b.readings - a.readings;
  const cpuSecs = (b.cpuMs - a.cpuMs) / 1000;

  gw.send({ cmd: 'exit' });

  // 2. 100 devices, 5,000 msg/s: latency and RSS, in a fresh gateway process
  const gw2 = gatewayChild();
  const { port: port2 } = await next<{ port: number }>(gw2);
  gw2.send({ cmd: 'stats' });
  const idle = await next<Stats>(gw2);
  gw2.send({ cmd: 'collect' });
  const pub2 = child(['publisher', String(port2), 'paced', '10']);
  const { sent: sent2 } = await next<{ sent: number }>(pub2);
  await new Promise((r) => setTimeout(r, 300));
  gw2.send({ cmd: 'latency' });
  const l = await next<{ n: number; p50: number; p99: number; max: number; peakRss: number }>(gw2);
  gw2.send({ cmd: 'stats' });
  const end = await next<Stats>(gw2);
  gw2.send({ cmd: 'exit' });

  const mb = (x: number) => (x / 1024 / 1024).toFixed(1);
  console.log(`\ningest through the embedded broker (aedes + MQTT driver + counting sink; no pipelines yet)`);
  console.log(`machine: ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? '?'}, node ${process.version}`);
  console.table([
    { figure: 'readings/s (4 publishers flooding QoS 0)', value: Math.round(got / secs), note: `${got} of ${sent} sent in ${secs.toFixed(1)} s` },
    { figure: 'readings per gateway CPU-second (one core)', value: Math.round(got / cpuSecs), note: `gateway CPU ${((cpuSecs / secs) * 100).toFixed(0)}% of one core` },
    { figure: 'p50 latency publish → reading (ms) @5k msg/s', value: Number(l.p50.toFixed(3)), note: `${l.n} samples, 100 devices` },
    { figure: 'p99 latency publish → reading (ms) @5k msg/s', value: Number(l.p99.toFixed(3)), note: `max ${l.max.toFixed(2)} ms; target ≤ 2 ms` },
    { figure: 'gateway RSS, 100 devices @5k msg/s (MB)', value: Number(mb(l.peakRss)), note: `peak; idle before load ${mb(idle.rss)} MB; target ≤ 90 MB; gateway ran as ${gatewayCmd.how}, flags: ${gatewayFlags || '(none)'}, env: ${gatewayEnv || '(none)'}` },
    { figure: 'messages sent / drops', value: sent2, note: `${end.drops} drops` },
  ]);
}

if (role === 'gateway') void gateway();
else if (role === 'publisher') void publisher(Number(process.argv[3]), process.argv[4]!, Number(process.argv[5])).then(() => setTimeout(() => process.exit(0), 100));
else
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
