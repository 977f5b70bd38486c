/**
 * Memory of the real runtime under hostile MQTT input, against the same load of valid input
 * (issue 17, defect 5: "hostile input must not cost more memory than good input").
 *
 * Two runs, each a fresh `edgewise run` (child process, under tsx, with the deploy profile's Node
 * flags and glibc malloc settings from bench/deploy-profile.ts) with the embedded broker and
 * one pipeline on every stream. Both get the same warm-up (5 s of valid readings from 100
 * devices), then 30 s at 2,000 msg/s (QoS 0, raw MQTT from this process) of either
 * - good: `sensors/dev-<n>/<metric>` `{"value","ts"}` from 100 devices × 4 metrics, or
 * - hostile: a mix of distinct topics up to 8 KB long, distinct stream names (past the pipeline's
 *   max_keys), random bytes, broken JSON, 200-field objects, payloads over max_payload_bytes and
 *   retained messages on distinct topics.
 * Figures: RSS after warm-up, peak RSS (VmHWM) and RSS 5 s after the load, from /proc (Linux).
 *
 * Run: npx tsx bench/hostile-memory.bench.ts      (~90 s)
 *      HOSTILE_BENCH_SECONDS=30 HOSTILE_BENCH_RATE=2000
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqttPacket from 'mqtt-packet';
import { DEPLOY_ENV, DEPLOY_NODE_FLAGS } from './deploy-profile.js';
import { openSockets } from './raw-mqtt.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.HOSTILE_BENCH_SECONDS ?? 30);
const RATE = Number(process.env.HOSTILE_BENCH_RATE ?? 2000);
const DEVICES = 100;
const METRICS = ['temperature', 'vibration', 'current', 'pressure'];

function publish(topic: string, payload: Buffer | string, retain = false): Buffer {
  return mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, dup: false, retain });
}

function good(i: number): Buffer {
  return publish(`sensors/dev-${i % DEVICES}/${METRICS[Math.floor(i / DEVICES) % 4]}`, `{"value":${(50 + (i % 17) / 3).toFixed(3)},"ts":${Date.now()}}`);
}

/** A small deterministic PRNG (mulberry32), so both runs of a comparison see the same input. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = prng(17);
const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));

/** HOSTILE_BENCH_KINDS=0,2 sends only those kinds (to see which one costs). */
const KINDS = (process.env.HOSTILE_BENCH_KINDS ?? '0,1,2,3,4,5,6').split(',').map(Number);

function hostile(i: number): Buffer {
  const dev = `dev-${i % DEVICES}`;
  switch (KINDS[i % KINDS.length]) {
    case 0: // a distinct topic up to 8 KB long (the metric level is not a valid name: bad_name)
      return publish(`sensors/${dev}/${'m'.repeat(100 + Math.floor(rnd() * 8000))}${i}`, '1');
    case 1: // a distinct, valid stream name: new keys until the pipeline's max_keys (key_limit)
      return publish(`sensors/h${i}/m${i}`, '1');
    case 2: // random bytes
      return publish(`sensors/${dev}/temperature`, bytes(Math.floor(rnd() * 4096)));
    case 3: // broken JSON
      return publish(`sensors/${dev}/temperature`, `{"value": ${'9'.repeat(Math.floor(rnd() * 10_000))}`);
    case 4: // 200 fields (too_many_fields)
      return publish(`sensors/${dev}/env`, JSON.stringify(Object.fromEntries(Array.from({ length: 200 }, (_, k) => [`f${k}`, k]))));
    case 5: // over max_payload_bytes (oversized)
      return publish(`sensors/${dev}/temperature`, 'x'.repeat(20_000));
    default: // retained, on a distinct topic
      return publish(`sensors/${dev}/r${i}`, bytes(1024), true);
  }
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

function proc(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function send(socks: net.Socket[], seconds: number, make: (i: number) => Buffer): Promise<number> {
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const owed = Math.floor(((Math.min(now, end) - t0) / 1000) * RATE) - sent;
      for (let k = 0; k < owed; k++, sent++) socks[sent % socks.length]!.write(make(sent));
      if (now < end) setTimeout(tick, 5);
      else resolve();
    };
    tick();
  });
  return sent;
}

async function run(kind: 'good' | 'hostile'): Promise<{ warm: number; peak: number; end: number; sent: number }> {
  const dir = mkdtempSync(join(os.tmpdir(), 'edgewise-hostile-bench-'));
  const port = await freePort();
  writeFileSync(join(dir, 'p.yaml'), 'name: all\ninput: { streams: ["*/*"] }\nsteps:\n  - window: { type: tumbling, size: 1s, aggregates: [count, mean, max] }\n');
  writeFileSync(join(dir, 'edgewise.yaml'), `gateway: { id: bench, data_dir: data }\nlog: { level: warn }\ninputs:\n  - { name: devices, type: mqtt, broker: { port: ${port} } }\npipelines: [p.yaml]\n`);
  const child: ChildProcess = spawn(process.execPath, [...DEPLOY_NODE_FLAGS, '--import', import.meta.resolve('tsx'), join(root, 'src/cli/main.ts'), 'run', '--config', join(dir, 'edgewise.yaml')], {
    cwd: dir,
    env: { ...process.env, ...DEPLOY_ENV },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
  try {
    const until = Date.now() + 30_000;
    for (;;) {
      try {
        await new Promise<void>((resolve, reject) => net.connect(port, '127.0.0.1', function (this: net.Socket) { this.destroy(); resolve(); }).once('error', reject));
        break;
      } catch {
        if (Date.now() > until || child.exitCode !== null) throw new Error(`runtime did not start:\n${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const socks = await openSockets(port, DEVICES, 'dev-');
    await send(socks, 5, good);
    const warm = proc(child.pid!, 'VmRSS');
    const sent = await send(socks, SECONDS, kind === 'good' ? good : hostile);
    await new Promise((r) => setTimeout(r, 5000));
    const peak = proc(child.pid!, 'VmHWM');
    const end = proc(child.pid!, 'VmRSS');
    for (const s of socks) s.destroy();
    return { warm, peak, end, sent };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Record<string, Awaited<ReturnType<typeof run>>> = {};
for (const kind of process.env.HOSTILE_BENCH_ONLY ? ['hostile' as const] : (['good', 'hostile'] as const)) results[kind] = await run(kind);
console.log(`\nhostile-memory: edgewise run (under tsx, ${DEPLOY_NODE_FLAGS.join(' ')}), ${SECONDS} s at ${RATE} msg/s after a 5 s warm-up, AMD EPYC 2 vCPU, Node ${process.version}`);
console.log('input     messages   RSS after warm-up   peak RSS   RSS 5 s after');
for (const [k, r] of Object.entries(results)) {
  console.log(`${k.padEnd(9)} ${String(r.sent).padStart(8)}   ${r.warm.toFixed(0).padStart(14)} MB   ${r.peak.toFixed(0).padStart(5)} MB   ${r.end.toFixed(0).padStart(10)} MB`);
}
