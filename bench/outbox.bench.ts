/**
 * Outbox and upstream benchmarks: `npx tsx bench/outbox.bench.ts`.
 * - messages/s buffered during an outage (group commit), durability normal and full
 * - drain rate to a loopback aedes broker at QoS 1
 * - bytes on disk per buffered message, measured directly for three message shapes (after the
 *   outbox is closed, i.e. the WAL checkpointed into the file): a raw reading whose `data` body
 *   (what the device sent: ts, value, fields) is exactly 100 bytes of JSON — the "100-byte
 *   message" of issue 4 — the smallest reading, and a window aggregate
 * - file size after a full drain
 * - bad input vs good input: CPU per dead letter (a refused line, `recordDeadLetter`) and per
 *   message (`put`), each committed, in the same run
 */
import Database from 'better-sqlite3';
import { Aedes } from 'aedes';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../src/core/log.js';
import type { Emission } from '../src/core/records.js';
import { outboxConfigSchema } from '../src/outbox/config.js';
import { Outbox } from '../src/outbox/index.js';
import { upstreamConfigSchema } from '../src/upstream/config.js';
import { UpstreamForwarder } from '../src/upstream/index.js';

const N = Number(process.env.OUTBOX_BENCH_N ?? 200_000);
const rows: [string, string][] = [];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function emission(i: number): Emission {
  return {
    kind: 'aggregate',
    pipeline: 'pm',
    output: 'up',
    result: { stream: `pump-${i % 50}/vib`, window: 'tumbling', start: i * 1000, end: i * 1000 + 1000, count: 10, values: { mean: i / 7 } },
  };
}

const T0 = 1_700_000_000_000;
/** A raw reading whose upstream `data` body ({"ts":…,"value":…,"fields":{"raw":"…"}}) is `bodyBytes` long. */
function reading(i: number, bodyBytes: number | undefined): Emission {
  const r = { stream: `dev-${i % 50}/temp`, ts: T0 + i * 100, value: 20 + (i % 100) / 10 };
  if (bodyBytes === undefined) return { kind: 'reading', pipeline: 'p', output: 'raw', reading: r };
  const base = JSON.stringify({ ts: r.ts, value: r.value, fields: { raw: '' } }).length;
  const pad = bodyBytes - base;
  if (pad < 0) throw new Error(`body of ${bodyBytes} bytes is too small`);
  return { kind: 'reading', pipeline: 'p', output: 'raw', reading: { ...r, fields: { raw: 'x'.repeat(pad) } } };
}

/** Buffer n messages, close (checkpoints the WAL into the file), and read the file's own figures. */
function diskPerMessage(label: string, n: number, make: (i: number) => Emission): void {
  const dir = tmp();
  const outbox = Outbox.open({ config: outboxConfigSchema.parse({ max_bytes: '1GB', check_on_open: 'none' }), dataDir: dir, gatewayId: 'bench-gw', log: silentLogger() });
  for (let i = 0; i < n; i++) outbox.put(make(i));
  outbox.flush();
  outbox.close();
  const file = path.join(dir, 'outbox.db');
  const db = new Database(file, { readonly: true });
  const q = db.prepare('SELECT count(*) AS n, avg(length(payload)) AS avg, avg(length(json_extract(payload, \'$.data\'))) AS body FROM messages').get() as { n: number; avg: number; body: number };
  db.close();
  const bytes = statSync(file).size;
  const perMsg = bytes / q.n;
  rows.push([
    `${label}: bytes on disk per message`,
    `${perMsg.toFixed(0)} B (data body ${q.body.toFixed(0)} B, stored payload ${q.avg.toFixed(0)} B, overhead ${(perMsg - q.avg).toFixed(0)} B; ${fmt(q.n)} msgs, ${fmt(bytes / 1024)} KiB)`,
  ]);
  rmSync(dir, { recursive: true, force: true });
}

function tmp(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'edgewise-bench-'));
}

const cpuMicros = (since: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(since);
  return c.user + c.system;
};

function buffer(durability: 'normal' | 'full'): { rate: number; cpuPerMsg: number; dir: string; outbox: Outbox } {
  const dir = tmp();
  const outbox = Outbox.open({
    config: outboxConfigSchema.parse({ durability, max_bytes: '1GB', check_on_open: 'none' }),
    dataDir: dir,
    gatewayId: 'bench-gw',
    log: silentLogger(),
  });
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) outbox.put(emission(i));
  outbox.flush();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { rate: N / secs, cpuPerMsg: cpuMicros(c0) / N, dir, outbox };
}

/**
 * What a bad line costs the ingest callback against a good one, each with its share of the
 * commit: n readings put (the good lines' messages), then n dead letters recorded (what the
 * gateway keeps of a refused line), both committed 100 at a time (the commit timer's cadence at
 * 1,000 lines/s). The gateway keeps at most 10 dead letters a second per input; this measures
 * them unlimited.
 */
function goodVsBad(durability: 'normal' | 'full', n: number): void {
  const dir = tmp();
  const outbox = Outbox.open({ config: outboxConfigSchema.parse({ durability, max_bytes: '1GB', check_on_open: 'none' }), dataDir: dir, gatewayId: 'bench-gw', log: silentLogger() });
  let c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    outbox.put(reading(i, undefined));
    if (i % 100 === 99) outbox.flush();
  }
  outbox.flush();
  const good = cpuMicros(c0) / n;
  c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    outbox.recordDeadLetter('input:bench', { reason: 'parse', sample: `{"value": 21.${i}, "ts": oops}`, detail: 'not JSON: unexpected token o at column 25', at: T0 + i });
    if (i % 100 === 99) outbox.flush();
  }
  outbox.flush();
  const bad = cpuMicros(c0) / n;
  outbox.close();
  rows.push([`CPU per line, durability ${durability} (${fmt(n)} each): good (put) / bad (dead letter)`, `${good.toFixed(1)} / ${bad.toFixed(1)} µs`]);
  rmSync(dir, { recursive: true, force: true });
}

async function main() {
  // 1. Buffering during an outage.
  const full = buffer('full');
  rows.push([`buffered (durability full, ${fmt(N)} msgs)`, `${fmt(full.rate)} msg/s, CPU ${full.cpuPerMsg.toFixed(1)} µs/msg`]);
  full.outbox.close();
  rmSync(full.dir, { recursive: true, force: true });

  const normal = buffer('normal');
  rows.push([`buffered (durability normal, ${fmt(N)} msgs)`, `${fmt(normal.rate)} msg/s, CPU ${normal.cpuPerMsg.toFixed(1)} µs/msg`]);
  const outbox = normal.outbox;
  const st = outbox.stats();
  const payloadAvg = (st.depth.bytes - N * 32) / N;
  rows.push(['payload size (aggregate, JSON)', `${payloadAvg.toFixed(0)} B`]);
  const perMsg = st.fileBytes / N;
  rows.push(['bytes on disk per buffered message (db + WAL, open)', `${perMsg.toFixed(0)} B (file ${fmt(st.fileBytes / 1024)} KiB)`]);

  // 2. Drain to a loopback aedes at QoS 1.
  const broker = await Aedes.createBroker();
  let received = 0;
  broker.on('publish', (_p, client) => {
    if (client && !_p.topic.endsWith('/status')) received++;
  });
  const server = net.createServer({ noDelay: true }, broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const fwd = new UpstreamForwarder({
    config: upstreamConfigSchema.parse({ url: `mqtt://127.0.0.1:${port}`, drain_rate: 0, max_inflight: 1000 }),
    outbox,
    gatewayId: 'bench-gw',
    log: silentLogger(),
  });
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  await fwd.start();
  await new Promise<void>((resolve) => {
    const iv = setInterval(() => {
      if (outbox.depth() === 0 && fwd.stats().inFlight === 0) {
        clearInterval(iv);
        resolve();
      }
    }, 5);
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  // The broker runs in this process: the CPU is the gateway's side and aedes's together.
  rows.push([`drain to loopback aedes, QoS 1 (${fmt(N)} msgs)`, `${fmt(N / secs)} msg/s, CPU ${((cpu.user + cpu.system) / N).toFixed(1)} µs/msg (with the broker)`]);
  outbox.flush();
  rows.push(['file size after a full drain (db + WAL)', `${fmt(outbox.stats().fileBytes / 1024)} KiB`]);
  // When the background WAL checkpoint was at work, the truncation is put off 250 ms (give-back.ts).
  await new Promise((r) => setTimeout(r, 400));
  rows.push(['  the same 400 ms later', `${fmt(outbox.stats().fileBytes / 1024)} KiB`]);
  rows.push(['messages the broker received', fmt(received)]);
  await fwd.stop();
  outbox.close();
  rows.push(['file size after a full drain, closed', `${fmt(statSync(path.join(normal.dir, 'outbox.db')).size / 1024)} KiB`]);
  await new Promise<void>((r) => broker.close(() => r()));
  server.close();
  rmSync(normal.dir, { recursive: true, force: true });

  // 3. Bytes on disk per message, measured directly per message shape.
  const M = Math.min(N, 100_000);
  diskPerMessage('reading, 100-byte data body', M, (i) => reading(i, 100));
  diskPerMessage('reading, smallest ({ts, value})', M, (i) => reading(i, undefined));
  diskPerMessage('aggregate (mean)', M, emission);

  // 4. Bad input against good input.
  goodVsBad('normal', Math.min(N, 20_000));
  goodVsBad('full', Math.min(N, 2_000));

  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`outbox bench — node ${process.version}, ${os.cpus().length} cpu (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
}

await main();
