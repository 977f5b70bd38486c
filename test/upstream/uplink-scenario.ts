/**
 * The uplink scenario, end to end with real parts: a QoS 1 publisher (mqtt.js) → `edgewise run`
 * (a child process; embedded broker as input, raw readings forwarded) → Mosquitto (started here,
 * unbounded queues, persistence) → a persistent QoS 1 consumer. Mosquitto is stopped (SIGTERM,
 * restarted on the same port) or paused (SIGSTOP, no TCP drop) for each outage. Used by
 * test/upstream/uplink.system.test.ts (short outages) and bench/uplink.bench.ts (the issue's numbers).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort, startRuntime, waitFor } from '../runtime/helpers.js';
import { setTimeout as hold } from 'node:timers/promises';
import { tempDir } from './helpers.js';
import { Mosquitto } from '../helpers/mosquitto.js';

export interface Outage {
  /** stop: SIGTERM and a restart (connections drop); pause: SIGSTOP/SIGCONT (connections hang). */
  kind: 'stop' | 'pause';
  downMs: number;
  /** Uplink up after the outage, before the next one. */
  upMs: number;
}

export interface ScenarioOptions {
  rate: number;
  streams: number;
  outages: Outage[];
  /** Up time before the first outage. */
  leadMs?: number;
  /** How long to wait for the last readings to arrive after the publisher stops. */
  settleMs?: number;
  /** Extra upstream settings (YAML flow, starting with a comma). */
  upstreamYaml?: string;
  /** The outbox's byte bound (default: the gateway's default, 64MB). */
  outboxMaxBytes?: string;
  log?: (line: string) => void;
}

export interface OutageResult {
  kind: Outage['kind'];
  downMs: number;
  /** Readings acknowledged by the gateway while the uplink was down (what had to be buffered). */
  bufferedDuring: number;
  /** From the end of the outage until every reading acknowledged before that end had arrived; -1 if never. */
  catchUpMs: number;
}

export interface ScenarioResult {
  published: number;
  acked: number;
  /** Acknowledged readings that never arrived at the consumer. */
  lost: number;
  received: number;
  duplicates: number;
  /** Topics whose seqs are not 1..n, and the seqs missing. */
  seqGaps: number;
  outages: OutageResult[];
  /** From the publisher's stop until every acknowledged reading had arrived; -1 if not within settleMs. */
  finalCatchUpMs: number;
  /** Drops the gateway's outbox counted (from its stop summary), by reason; undefined without a summary. */
  outboxDropped: Record<string, number> | undefined;
  /** CPU time (user + system) of the gateway process, ms, and the run's length (publisher start to stop). */
  gatewayCpuMs: number;
  /** Bytes the gateway process wrote to storage during the run (/proc/<pid>/io write_bytes; NaN off Linux). */
  gatewayWrittenBytes: number;
  seconds: number;
  output: string;
}

function writtenBytesOf(pid: number): number {
  try {
    return Number(/^write_bytes:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

function cpuMsOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, clock ticks of 10 ms
  } catch {
    return NaN;
  }
}

export async function runUplinkScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const log = o.log ?? (() => {});
  const tmp = tempDir('edgewise-uplink-');
  const mosq = new Mosquitto(tmp.dir, await freePort());
  await mosq.start();
  const upUrl = `mqtt://127.0.0.1:${mosq.port}`;
  const inputPort = await freePort();
  writeFileSync(join(tmp.dir, 'raw.yaml'), 'name: raw\ninput: { streams: ["**"] }\nsteps:\n  - output: raw\n');
  const cfg = join(tmp.dir, 'edgewise.yaml');
  writeFileSync(
    cfg,
    [
      'gateway: { id: gw-up, data_dir: data }',
      'log: { level: info }',
      `inputs:\n  - { name: local, type: mqtt, broker: { port: ${inputPort} } }`,
      'pipelines: [raw.yaml]',
      ...(o.outboxMaxBytes ? [`outbox: { max_bytes: ${o.outboxMaxBytes} }`] : []),
      `upstream: { url: "${upUrl}", keepalive: 2s, connect_timeout: 2s, reconnect_min: 100ms, reconnect_max: 5s${o.upstreamYaml ?? ''} }`,
      '',
    ].join('\n'),
  );

  // The consumer: a persistent session, so Mosquitto queues for it across its own restarts.
  const seen: Uint8Array[] = Array.from({ length: o.streams }, () => new Uint8Array(1 << 18));
  const prefix = new Array<number>(o.streams).fill(0);
  const seqs = new Map<string, Set<number>>();
  let received = 0;
  let duplicates = 0;
  const consumer = mqtt.connect(upUrl, { clientId: 'uplink-consumer', clean: false, reconnectPeriod: 200, keepalive: 60 });
  consumer.on('message', (topic, payload) => {
    if (topic.endsWith('/status') || topic.endsWith('/stats')) return; // gateway health, not data
    const p = JSON.parse(payload.toString()) as { seq: number; stream: string; data: { value: number } };
    let s = seqs.get(topic);
    if (!s) seqs.set(topic, (s = new Set()));
    if (s.has(p.seq)) {
      duplicates++;
      return;
    }
    s.add(p.seq);
    received++;
    const d = Number(p.stream.slice(1, p.stream.indexOf('/')));
    const arr = seen[d]!;
    arr[p.data.value] = 1;
    while (arr[prefix[d]!]) prefix[d]!++;
  });
  await new Promise<void>((resolve, reject) => {
    consumer.once('connect', () => consumer.subscribe('edgewise/v1/gw-up/#', { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  });

  const rt = await startRuntime(cfg);
  const publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${inputPort}`, { reconnectPeriod: 0, clientId: 'uplink-publisher' });
  (publisher.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
  const ackedPerStream = new Array<number>(o.streams).fill(0);
  let published = 0;
  let acked = 0;
  let running = true;
  const t0 = performance.now();
  const cpu0 = cpuMsOf(rt.child.pid!);
  const written0 = writtenBytesOf(rt.child.pid!);
  const pump = (async () => {
    const start = performance.now();
    while (running) {
      const owed = Math.floor(((performance.now() - start) / 1000) * o.rate) - published;
      for (let i = 0; i < owed; i++) {
        const d = published % o.streams;
        const v = Math.floor(published / o.streams);
        published++;
        publisher.publish(`sensors/s${d}/v`, `{"value":${v},"ts":${Date.now()}}`, { qos: 1 }, (err) => {
          if (err) return;
          acked++;
          ackedPerStream[d] = Math.max(ackedPerStream[d]!, v + 1);
        });
      }
      await hold(5);
    }
  })();

  const results: OutageResult[] = [];
  try {
    await hold(o.leadMs ?? 3000);
    for (const [i, out] of o.outages.entries()) {
      const before = acked;
      if (out.kind === 'stop') await mosq.stop();
      else mosq.pause();
      await hold(out.downMs);
      if (out.kind === 'stop') await mosq.start();
      else mosq.resume();
      const ended = performance.now();
      const target = [...ackedPerStream];
      const bufferedDuring = acked - before;
      const caughtUp = () => target.every((n, d) => prefix[d]! >= n);
      let catchUpMs = -1;
      const until = ended + Math.max(out.upMs, 60_000, out.downMs * 5);
      while (performance.now() < until) {
        if (caughtUp()) {
          catchUpMs = performance.now() - ended;
          break;
        }
        await hold(20);
      }
      results.push({ kind: out.kind, downMs: out.downMs, bufferedDuring, catchUpMs });
      log(`outage ${i + 1}/${o.outages.length} (${out.kind} ${out.downMs} ms): ${bufferedDuring} readings buffered, caught up ${catchUpMs < 0 ? 'NEVER' : `in ${Math.round(catchUpMs)} ms`}`);
      const rest = ended + out.upMs - performance.now();
      if (rest > 0) await hold(rest);
    }
  } finally {
    running = false;
    await pump;
  }
  const seconds = (performance.now() - t0) / 1000;
  const stopped = performance.now();
  await waitFor(() => acked >= published || publisher.disconnected, 'publisher acks', 30_000).catch(() => {});
  let finalCatchUpMs = -1;
  await waitFor(() => ackedPerStream.every((n, d) => prefix[d]! >= n), 'every acknowledged reading at the consumer', o.settleMs ?? 60_000)
    .then(() => (finalCatchUpMs = performance.now() - stopped))
    .catch(() => {});
  const cpuMs = cpuMsOf(rt.child.pid!) - cpu0;
  const writtenBytes = writtenBytesOf(rt.child.pid!) - written0;
  let lost = 0;
  for (let d = 0; d < o.streams; d++) for (let v = 0; v < ackedPerStream[d]!; v++) if (!seen[d]![v]) lost++;
  let seqGaps = 0;
  for (const s of seqs.values()) {
    const max = Math.max(...s);
    seqGaps += max - s.size;
  }
  await publisher.endAsync();
  rt.child.kill('SIGTERM');
  await rt.exited;
  consumer.end(true);
  await mosq.stop();
  const output = rt.output();
  tmp.cleanup();
  const summary = output.split('\n').find((l) => l.includes('"gateway stopped"'));
  const outboxDropped = summary ? (JSON.parse(summary) as { outbox?: { dropped: Record<string, number> } }).outbox?.dropped : undefined;
  return { published, acked, lost, received, duplicates, seqGaps, outages: results, finalCatchUpMs, outboxDropped, gatewayCpuMs: cpuMs, gatewayWrittenBytes: writtenBytes, seconds, output };
}
