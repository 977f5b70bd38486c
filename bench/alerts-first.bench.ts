/**
 * Alerts first, the outbox → upstream leg alone: how long an alert and a window result wait
 * between the pipeline's emission (outbox.put) and their arrival at the upstream broker, with the
 * ingest journal on, at the runtime bench's load (10,000 readings/s journaled, 400 window results
 * a second, an alert every 50 ms), in one process, so the figure does not depend on how much CPU a
 * busy machine gives a separate gateway process.
 *
 * Two variants, alternating in the same run:
 * - `group commit`: alerts wait for the group commit (alert_commit_delay 0) and the journal commits
 *   alone (before issue 16);
 * - `alerts first`: alert_commit_delay 1 ms, and messages ride on the journal's commits (now).
 *
 * Run: npx tsx bench/alerts-first.bench.ts   (~25 s; ALERTS_BENCH_SECONDS=5 per variant and rep)
 */
import { Aedes } from 'aedes';
import net from 'node:net';
import os from 'node:os';
import { silentLogger } from '../src/core/log.js';
import { IngestJournal } from '../src/journal/journal.js';
import { outboxConfigSchema } from '../src/outbox/config.js';
import { Outbox } from '../src/outbox/index.js';
import { upstreamConfigSchema } from '../src/upstream/config.js';
import { UpstreamForwarder } from '../src/upstream/index.js';
import { tempDir } from '../test/upstream/helpers.js';
import { quantile } from './processes.js';

const SECONDS = Number(process.env.ALERTS_BENCH_SECONDS ?? 5);
const READINGS_PER_S = 10_000;
const STREAMS = 400;

type Variant = 'group commit' | 'alerts first';

async function run(variant: Variant, port: number, arrivals: Map<string, number>) {
  const tmp = tempDir('edgewise-alerts-bench-');
  const outbox = Outbox.open({
    config: outboxConfigSchema.parse({ alert_commit_delay: variant === 'alerts first' ? 1 : 0 }),
    dataDir: tmp.dir,
    gatewayId: `gw-${variant === 'alerts first' ? 'new' : 'old'}`,
    log: silentLogger(),
  });
  const journal = new IngestJournal({
    lastPos: 0,
    maxWait: 5,
    unackedWait: 5,
    commit: () => (variant === 'alerts first' ? outbox.commitJournal() : outbox.commitParts()),
    onError: (err) => {
      throw err;
    },
  });
  outbox.addTxPart(journal);
  const fwd = new UpstreamForwarder({ config: upstreamConfigSchema.parse({ url: `mqtt://127.0.0.1:${port}` }), outbox, gatewayId: 'gw', log: silentLogger() });
  await fwd.start();
  while (fwd.state() !== 'online') await new Promise((r) => setTimeout(r, 10));
  const put = new Map<string, number>();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let readings = 0;
  let n = 0;
  // Every 2 ms: the readings of 2 ms journaled; window results as the streams' windows close (400 a second, spread); an alert every 50 ms.
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const owed = Math.floor(((now - t0) / 1000) * READINGS_PER_S) - readings;
      for (let i = 0; i < owed; i++, readings++) journal.append({ stream: `d${readings % 100}/m${readings % 4}`, ts: Date.now(), value: readings % 97 }, Date.now());
      const windowsOwed = Math.floor(((now - t0) / 1000) * STREAMS) - n;
      for (let i = 0; i < windowsOwed; i++, n++) {
        const id = `w${n}`;
        put.set(id, performance.now());
        outbox.put({ kind: 'aggregate', pipeline: 'p', output: 'agg', result: { stream: id, window: 'tumbling', start: n, end: n + 1, count: 25, values: { mean: 1 } } });
        if (n % 20 === 0) {
          const a = `a${n}`;
          put.set(a, performance.now());
          outbox.put({ kind: 'alert', pipeline: 'p', output: 'alerts', alert: { id: a, state: 'raised', stream: 'd1/m1', detector: 'ewma', severity: 'warning', score: 1, start: n, value: 1 } });
        }
      }
      if (now - t0 < SECONDS * 1000) setTimeout(tick, 2);
      else resolve();
    };
    tick();
  });
  const until = performance.now() + 3000;
  while ([...put.keys()].some((k) => !arrivals.has(k)) && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
  const cpu = process.cpuUsage(cpu0);
  const commits = outbox.stats().commits;
  await fwd.stop();
  journal.close();
  outbox.close();
  tmp.cleanup();
  const lat = (prefix: string) => [...put].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => (arrivals.get(k) ?? NaN) - t);
  const q = (xs: number[], p: number) => Number(quantile(xs, p).toFixed(1));
  const alerts = lat('a');
  const windows = lat('w');
  arrivals.clear();
  return {
    variant,
    'alert p50 / p99 (ms)': `${q(alerts, 0.5)} / ${q(alerts, 0.99)}`,
    'window result p50 / p99 (ms)': `${q(windows, 0.5)} / ${q(windows, 0.99)}`,
    'outbox commits / s': Math.round(commits / SECONDS),
    'journal commits / s': Math.round(journal.stats.commits / SECONDS),
    'CPU µs per reading (all of it)': Number(((cpu.user + cpu.system) / readings).toFixed(2)),
    missing: alerts.filter((x) => Number.isNaN(x)).length + windows.filter((x) => Number.isNaN(x)).length,
  };
}

async function main(): Promise<void> {
  const broker = await Aedes.createBroker();
  const arrivals = new Map<string, number>();
  broker.on('publish', (p, client) => {
    if (!client || p.topic.endsWith('/status')) return;
    const { kind, data } = JSON.parse(p.payload.toString()) as { kind: string; stream: string; data: { alert_id?: string } };
    const key = kind === 'alert' ? data.alert_id! : (JSON.parse(p.payload.toString()) as { stream: string }).stream;
    if (!arrivals.has(key)) arrivals.set(key, performance.now());
  });
  const server = net.createServer({ noDelay: true }, broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const rows = [];
  for (let rep = 0; rep < 2; rep++) for (const v of (rep % 2 ? ['alerts first', 'group commit'] : ['group commit', 'alerts first']) as Variant[]) rows.push(await run(v, port, arrivals));
  console.log(`\nalerts first, outbox → upstream (in-process aedes), journal on, ${READINGS_PER_S} readings/s journaled, ${STREAMS} window results/s, an alert every 50 ms; ${SECONDS} s per run; ${os.cpus().length} cores ${os.cpus()[0]?.model ?? ''}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.table(rows);
  await new Promise<void>((r) => broker.close(() => r()));
  server.close();
}

void main().then(() => process.exit(0));
