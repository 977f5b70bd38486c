/**
 * `edgewise collect` throughput: rows landed in PostgreSQL per second, and collector CPU per row,
 * for a backlog waiting in the collector's Mosquitto session (real Mosquitto and PostgreSQL on
 * loopback, started here; `npx tsx bench/collect.bench.ts`). Compares batch sizes: 1 is one commit
 * (and one fsync) per message, what acknowledging each message after its own commit costs.
 */
import mqtt from 'mqtt';
import pg from 'pg';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Collector } from '../src/collect/collector.js';
import { PgSink } from '../src/collect/sink.js';
import { silentLogger } from '../src/core/log.js';
import { encodePayload, messageTopic } from '../src/core/payload.js';
import { Mosquitto } from '../test/helpers/mosquitto.js';
import { freePort, TestPostgres } from '../test/collect/postgres.js';
import { machine, printTable } from './report.js';

const N = Number(process.env.COLLECT_BENCH_N ?? 20_000);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function publishBacklog(url: string, gateway: string, n: number): Promise<void> {
  const c = await mqtt.connectAsync(url, { protocolVersion: 5 });
  const epoch = `e${Date.now()}`;
  const sends: Promise<unknown>[] = [];
  for (let i = 1; i <= n; i++) {
    const stream = `pump-${i % 50}/vib`;
    const payload = encodePayload(
      { kind: 'aggregate', pipeline: 'pm', output: 'up', result: { stream, window: 'tumbling', start: i * 1000, end: i * 1000 + 1000, count: 10, values: { mean: i / 7, max: i / 6, p95: i / 6.5 } } },
      { gateway, id: `${epoch}-${i}`, epoch, seq: Math.ceil(i / 50), emitted: Date.now() },
    );
    sends.push(c.publishAsync(messageTopic('edgewise/v1', gateway, 'aggregate', stream), payload, { qos: 1 }));
  }
  await Promise.all(sends);
  await c.endAsync();
}

async function run(mosq: Mosquitto, db: TestPostgres, batch: number, n: number): Promise<string[]> {
  const schema = `bench_${batch}`;
  const sink = new PgSink(db.url, schema);
  await sink.init();
  const clientId = `bench-collector-${batch}`;
  const opts = { broker: mosq.url, sink, clientId, prefix: 'edgewise/v1', sessionExpiry: 3600, maxBatch: batch, log: silentLogger() };
  // Create the session, leave, fill it with a backlog, then time draining it into PostgreSQL.
  const first = new Collector(opts);
  await first.start();
  await first.stop();
  await publishBacklog(mosq.url, `gw-${batch}`, n);
  const q = new pg.Client(db.url);
  await q.connect();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const c = new Collector(opts);
  await c.start();
  while (c.stats().inserted < n) await new Promise((r) => setTimeout(r, 20));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const landed = Number((await q.query(`SELECT count(*) AS n FROM ${schema}.aggregates`)).rows[0].n);
  if (landed !== n) throw new Error(`expected ${n} rows, found ${landed}`);
  await c.stop();
  await q.end();
  await sink.close();
  return [String(batch), fmt(n), fmt(n / secs), ((cpu.user + cpu.system) / n).toFixed(1), String(c.stats().batches)];
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'edgewise-bench-collect-'));
const mosq = new Mosquitto(dir, await freePort());
const db = new TestPostgres();
try {
  await mosq.start();
  await db.start();
  const rows: string[][] = [];
  for (const [batch, n] of [[1, Math.min(N, 3000)], [100, N], [500, N], [2000, N]] as const) rows.push(await run(mosq, db, batch, n));
  printTable(`edgewise collect: a backlog in Mosquitto landed in PostgreSQL (fsync on), one collector — ${machine()}`, ['batch', 'messages', 'rows/s', 'collector CPU µs/row', 'transactions'], rows);
} finally {
  await mosq.stop();
  await db.stop();
  rmSync(dir, { recursive: true, force: true });
}
