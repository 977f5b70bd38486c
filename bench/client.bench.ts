/**
 * Lean client mode: the MQTT driver as a client of Mosquitto (mqtt.js + topic mapping + payload
 * decoding + a counting sink; no pipelines) against the floor, a bare mqtt.js subscriber that only
 * parses (bench/peers/bare-subscriber.mjs), in the same run, alternating, with the same publisher
 * (bench/peers/run.ts, 400 sensors, JSON `{"value","ts"}`, QoS 0) through a fresh Mosquitto per run.
 * CPU per message: the subscriber process's CPU time (/proc) over the load / messages received.
 * Target (issue 16): the driver ≤ 1.2 × the bare subscriber.
 *
 * Run: npx tsx bench/client.bench.ts     (~1 min)
 *      CLIENT_BENCH_RATE=20000 msg/s, CLIENT_BENCH_SECONDS=8, CLIENT_BENCH_REPS=3;
 *      CLIENT_BENCH_PROF=<dir>: the driver runs with `node --cpu-prof` and writes its profile there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mqttPlugin } from '../drivers/mqtt/plugin.js';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEPLOY_ENV, DEPLOY_NODE_FLAGS } from './deploy-profile.js';
import { mosquittoSubscriptions, next, procSample, quantile, startMosquitto, stopProcess, until } from './processes.js';

const self = fileURLToPath(import.meta.url);
const here = dirname(self);
const RATE = Number(process.env.CLIENT_BENCH_RATE ?? 20_000);
const SECONDS = Number(process.env.CLIENT_BENCH_SECONDS ?? 8);
const REPS = Number(process.env.CLIENT_BENCH_REPS ?? 3);

// ---------- the driver in client mode with a counting sink ----------
async function driver(port: number): Promise<void> {
  await import('../drivers/mqtt/index.js');
  const { mqttConfigSchema } = await import('../test/helpers/schemas.js');
  const { DropCounter } = await import('../src/core/drops.js');
  const { silentLogger } = await import('../src/core/log.js');
  let count = 0;
  const drops = new DropCounter();
  const cfg = mqttConfigSchema.parse({ mode: 'client', topics: ['sensors/{device}/{metric}'], client: { url: `mqtt://127.0.0.1:${port}`, client_id: 'client-bench' } });
  const d = mqttPlugin.create('bench', cfg as never, { log: silentLogger(), dataDir: os.tmpdir(), services: new Map() });
  await d.start({ emit: () => void count++, drops, log: silentLogger(), now: Date.now } as never);
  process.on('message', (m: { cmd?: string }) => {
    if (m?.cmd === 'count') process.send!({ count, bad: drops.total() });
  });
  process.on('SIGTERM', () => void d.stop().then(() => process.exit(0)));
}

type Who = 'bare' | 'driver';

async function runOnce(who: Who): Promise<{ us: number; received: number; sent: number }> {
  const dir = mkdtempSync(join(os.tmpdir(), 'edgewise-client-bench-'));
  const procs: ChildProcess[] = [];
  try {
    const mosq = await startMosquitto(dir, false);
    procs.push(mosq.proc);
    const prof = process.env.CLIENT_BENCH_PROF;
    // Both with the deploy profile's Node flags and environment (its small young generation costs
    // CPU in GC; the same for both keeps the comparison about the code).
    const args =
      who === 'bare'
        ? [...DEPLOY_NODE_FLAGS, join(here, 'peers', 'bare-subscriber.mjs'), String(mosq.port)]
        : [...DEPLOY_NODE_FLAGS, ...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : []), '--import', 'tsx', self, 'driver', String(mosq.port)];
    const sub = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...DEPLOY_ENV, NODE_OPTIONS: '' } });
    procs.unshift(sub);
    await mosquittoSubscriptions(mosq.port, 1, 30_000);
    const pub = spawn(process.execPath, ['--import', 'tsx', join(here, 'peers', 'run.ts'), 'publisher', String(mosq.port), String(RATE), String(SECONDS), 'no-align'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    procs.push(pub);
    await next(pub, (m) => 'connected' in m);
    const a = procSample(sub.pid!);
    const { sent } = await next<{ sent: number }>(pub, (m) => 'sent' in m);
    let received = 0;
    await until(
      async () => {
        sub.send({ cmd: 'count' });
        received = (await next<{ count: number }>(sub, (m) => 'count' in m)).count;
        return received >= sent;
      },
      10_000,
      () => `${who}: received ${received} of ${sent} messages`,
    );
    const b = procSample(sub.pid!);
    return { us: ((b.cpuMs - a.cpuMs) * 1000) / received, received, sent };
  } finally {
    for (const p of procs) await stopProcess(p);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!existsSync('/usr/sbin/mosquitto')) {
    console.log('client bench skipped: it needs Mosquitto at /usr/sbin/mosquitto (apt-get install mosquitto)');
    return;
  }
  const us: Record<Who, number[]> = { bare: [], driver: [] };
  for (let rep = 0; rep < REPS; rep++) {
    for (const who of (rep % 2 ? ['driver', 'bare'] : ['bare', 'driver']) as Who[]) {
      const r = await runOnce(who);
      us[who].push(r.us);
      console.log(`  ${who.padEnd(6)} ${r.us.toFixed(2)} µs CPU/msg (${r.received} of ${r.sent})`);
    }
  }
  const med = (xs: number[]) => quantile(xs, 0.5);
  const f = (xs: number[]) => `${med(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
  console.log(`\nclient mode vs a bare mqtt.js subscriber, Mosquitto, ${RATE} msg/s for ${SECONDS} s, ${REPS} reps alternating`);
  console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, node ${process.version}; both with ${DEPLOY_NODE_FLAGS.join(' ')} (the deploy profile)`);
  console.table([
    { process: 'bare mqtt.js subscriber (parse only)', 'CPU µs/msg median (range)': f(us.bare) },
    { process: 'MQTT driver, client mode (+ counting sink)', 'CPU µs/msg median (range)': f(us.driver) },
    { process: 'ratio driver / bare (target ≤ 1.2)', 'CPU µs/msg median (range)': (med(us.driver) / med(us.bare)).toFixed(2) },
  ]);
}

if (process.argv[2] === 'driver') void driver(Number(process.argv[3]));
else
  main()
    .then(() => process.exit(0))
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
