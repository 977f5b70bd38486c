/**
 * Outbox and upstream benchmarks: `npx tsx bench/outbox.bench.ts`.
 * - messages/s buffered during an outage (group commit), durability normal and full
 * - drain rate to a loopback aedes broker at QoS 1
 * - bytes on disk per buffered message, file size after a full drain
 */
import { Aedes } from 'aedes';
import { mkdtempSync, rmSync } from 'node:fs';
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

function tmp(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'edgewise-bench-'));
}

function buffer(durability: 'normal' | 'full'): { rate: number; dir: string; outbox: Outbox } {
  const dir = tmp();
  const outbox = Outbox.open({
    config: outboxConfigSchema.parse({ durability, max_bytes: '1GB', check_on_open: 'none' }),
    dataDir: dir,
    gatewayId: 'bench-gw',
    log: silentLogger(),
  });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) outbox.put(emission(i));
  outbox.flush();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { rate: N / secs, dir, outbox };
}

async function main() {
  // 1. Buffering during an outage.
  const full = buffer('full');
  rows.push([`buffered (durability full, ${fmt(N)} msgs)`, `${fmt(full.rate)} msg/s`]);
  full.outbox.close();
  rmSync(full.dir, { recursive: true, force: true });

  const normal = buffer('normal');
  rows.push([`buffered (durability normal, ${fmt(N)} msgs)`, `${fmt(normal.rate)} msg/s`]);
  const outbox = normal.outbox;
  const st = outbox.stats();
  const payloadAvg = (st.depth.bytes - N * 32) / N;
  rows.push(['payload size (aggregate, JSON)', `${payloadAvg.toFixed(0)} B`]);
  const perMsg = st.fileBytes / N;
  rows.push(['bytes on disk per buffered message', `${perMsg.toFixed(0)} B (file ${fmt(st.fileBytes / 1024)} KiB)`]);
  rows.push(['  → per 100-byte payload (overhead + 100)', `${(perMsg - payloadAvg + 100).toFixed(0)} B`]);

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
  rows.push([`drain to loopback aedes, QoS 1 (${fmt(N)} msgs)`, `${fmt(N / secs)} msg/s`]);
  outbox.flush();
  rows.push(['file size after a full drain', `${fmt(outbox.stats().fileBytes / 1024)} KiB`]);
  rows.push(['messages the broker received', fmt(received)]);
  await fwd.stop();
  outbox.close();
  await new Promise<void>((r) => broker.close(() => r()));
  server.close();
  rmSync(normal.dir, { recursive: true, force: true });

  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`outbox bench — node ${process.version}, ${os.cpus().length} cpu (${os.cpus()[0]?.model ?? '?'})`);
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
}

await main();
