/**
 * The uplink scenario, end to end with real parts: a QoS 1 publisher (mqtt.js) → `edgewise run`
 * (a child process; embedded broker as input, raw readings forwarded) → Mosquitto (started here,
 * unbounded queues, persistence) → a persistent QoS 1 consumer. Mosquitto is stopped (SIGTERM,
 * restarted on the same port) or paused (SIGSTOP, no TCP drop) for each outage. Used by
 * test/upstream/uplink.system.test.ts (short outages) and bench/uplink.bench.ts (the issue's numbers).
 *
 * The scenario ends early, stopping everything it started, when the gateway exits on its own or
 * `signal` aborts: every wait in it also waits on that.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort, startRuntime, waitFor } from '../runtime/helpers.js';
import { setTimeout as sleep } from 'node:timers/promises';
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
  /**
   * Ends the scenario early: it stops everything it started and rejects, saying where it was
   * (a test passes one that aborts a little before its own timeout).
   */
  signal?: AbortSignal;
  /** Called once everything is running (a test hook: `dir` is in every started process's command line). */
  onStarted?: (s: { dir: string; runtime: ChildProcess }) => void;
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

function tail(output: string, lines = 30): string {
  return output.trimEnd().split('\n').slice(-lines).join('\n');
}

export async function runUplinkScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const log = o.log ?? (() => {});
  const tmp = tempDir('edgewise-uplink-');
  const mosq = new Mosquitto(tmp.dir, await freePort());
  const inputPort = await freePort();
  const upUrl = `mqtt://127.0.0.1:${mosq.port}`;

  // Live state, for the message when the scenario ends early.
  let phase = 'starting Mosquitto';
  let published = 0;
  let acked = 0;
  let received = 0;
  let duplicates = 0;
  const ackedPerStream = new Array<number>(o.streams).fill(0);
  const prefix = new Array<number>(o.streams).fill(0);
  let rt: Awaited<ReturnType<typeof startRuntime>> | undefined;
  const behind = () => ackedPerStream.reduce((n, a, d) => n + Math.max(0, a - prefix[d]!), 0);
  const state = () => `published ${published}, acked ${acked}, received ${received}, ${behind()} acked readings not yet at the consumer`;

  // Aborted when the scenario must end early; its reason is the scenario's error.
  const stop = new AbortController();
  const fail = (why: string) => {
    if (stop.signal.aborted) return;
    const out = rt ? `\nedgewise run output (last lines):\n${tail(rt.output())}` : '';
    stop.abort(new Error(`uplink scenario: ${why}, during ${phase}; ${state()}${out}`));
  };
  const onCallerAbort = () => fail(`aborted by the caller (${String(o.signal!.reason)})`);
  o.signal?.addEventListener('abort', onCallerAbort, { once: true });
  if (o.signal?.aborted) onCallerAbort();
  // A promise that rejects (with the reason) as soon as the scenario is stopped.
  const stopped = new Promise<never>((_, reject) => stop.signal.addEventListener('abort', () => reject(stop.signal.reason), { once: true }));
  stopped.catch(() => {});
  const orStop = <T>(p: Promise<T>) => Promise.race([p, stopped]);
  const hold = (ms: number) => orStop(sleep(ms, undefined, { signal: stop.signal }));
  /** waitFor that also ends when the scenario is stopped, and then throws why. */
  const until = async (cond: () => boolean, what: () => string, timeoutMs: number) => {
    await waitFor(() => stop.signal.aborted || cond(), what, timeoutMs);
    stop.signal.throwIfAborted();
  };
  // Mosquitto's start or stop under way, awaited when cleaning up.
  let mosqOp: Promise<void> = Promise.resolve();
  const mosqDo = (op: Promise<void>) => orStop((mosqOp = op));

  let consumer: mqtt.MqttClient | undefined;
  let publisher: mqtt.MqttClient | undefined;
  let running = true;
  let pump: Promise<void> = Promise.resolve();
  let stoppingRuntime = false;
  try {
    await mosqDo(mosq.start());
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
    phase = 'connecting the consumer';
    const seen: Uint8Array[] = Array.from({ length: o.streams }, () => new Uint8Array(1 << 18));
    const seqs = new Map<string, Set<number>>();
    const c = (consumer = mqtt.connect(upUrl, { clientId: 'uplink-consumer', clean: false, reconnectPeriod: 200, keepalive: 60 }));
    c.on('message', (topic, payload) => {
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
    await orStop(new Promise((resolve) => c.once('connect', resolve)));
    await orStop(c.subscribeAsync('edgewise/v1/gw-up/#', { qos: 1 }));

    phase = 'starting edgewise run';
    const r = (rt = await orStop(startRuntime(cfg, {}, stop.signal)));
    r.child.once('exit', (code, signal) => {
      if (!stoppingRuntime) fail(`edgewise run exited unexpectedly (code ${code}, signal ${signal})`);
    });

    phase = 'connecting the publisher';
    const pub = (publisher = mqtt.connect(`mqtt://127.0.0.1:${inputPort}`, { reconnectPeriod: 0, clientId: 'uplink-publisher' }));
    await orStop(new Promise((resolve, reject) => pub.once('connect', resolve).once('error', reject)));
    (pub.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
    o.onStarted?.({ dir: tmp.dir, runtime: r.child });

    const t0 = performance.now();
    const cpu0 = cpuMsOf(r.child.pid!);
    const written0 = writtenBytesOf(r.child.pid!);
    pump = (async () => {
      const start = performance.now();
      while (running) {
        const owed = Math.floor(((performance.now() - start) / 1000) * o.rate) - published;
        for (let i = 0; i < owed; i++) {
          const d = published % o.streams;
          const v = Math.floor(published / o.streams);
          published++;
          pub.publish(`sensors/s${d}/v`, `{"value":${v},"ts":${Date.now()}}`, { qos: 1 }, (err) => {
            if (err) return;
            acked++;
            ackedPerStream[d] = Math.max(ackedPerStream[d]!, v + 1);
          });
        }
        await sleep(5); // the publisher's pace
      }
    })();

    // The waits below are the scenario's timings (up time, outage length), not waits for a state.
    const results: OutageResult[] = [];
    phase = `the lead (${o.leadMs ?? 3000} ms up before the first outage)`;
    await hold(o.leadMs ?? 3000);
    for (const [i, out] of o.outages.entries()) {
      const name = `outage ${i + 1}/${o.outages.length} (${out.kind} ${out.downMs} ms)`;
      const before = acked;
      phase = `${name}, taking the broker down`;
      if (out.kind === 'stop') await mosqDo(mosq.stop());
      else mosq.pause();
      phase = `${name}, broker down`;
      log(`${name}: broker down`);
      await hold(out.downMs);
      phase = `${name}, bringing the broker back`;
      if (out.kind === 'stop') await mosqDo(mosq.start());
      else mosq.resume();
      const ended = performance.now();
      const target = [...ackedPerStream];
      const bufferedDuring = acked - before;
      const left = () => target.reduce((n, a, d) => n + Math.max(0, a - prefix[d]!), 0);
      let catchUpMs = -1;
      phase = `${name}, waiting for the backlog to catch up`;
      await until(() => left() === 0, () => `${name}: the backlog to catch up (${left()} readings left)`, Math.max(out.upMs, 60_000, out.downMs * 5)).then(
        () => (catchUpMs = performance.now() - ended),
        () => stop.signal.throwIfAborted(), // not caught up in time: recorded as -1
      );
      results.push({ kind: out.kind, downMs: out.downMs, bufferedDuring, catchUpMs });
      log(`${name}: ${bufferedDuring} readings buffered, caught up ${catchUpMs < 0 ? 'NEVER' : `in ${Math.round(catchUpMs)} ms`}`);
      phase = `${name}, up time after it`;
      const rest = ended + out.upMs - performance.now();
      if (rest > 0) await hold(rest);
    }
    running = false;
    await pump;
    const seconds = (performance.now() - t0) / 1000;
    const pubStopped = performance.now();
    phase = 'waiting for the publisher acks';
    await until(() => acked >= published || pub.disconnected, () => `publisher acks (${acked} of ${published})`, 30_000).catch(() => stop.signal.throwIfAborted());
    let finalCatchUpMs = -1;
    phase = 'waiting for every acknowledged reading at the consumer';
    await until(() => behind() === 0, () => `every acknowledged reading at the consumer (${behind()} left)`, o.settleMs ?? 60_000).then(
      () => (finalCatchUpMs = performance.now() - pubStopped),
      () => stop.signal.throwIfAborted(),
    );
    const cpuMs = cpuMsOf(r.child.pid!) - cpu0;
    const writtenBytes = writtenBytesOf(r.child.pid!) - written0;
    let lost = 0;
    for (let d = 0; d < o.streams; d++) for (let v = 0; v < ackedPerStream[d]!; v++) if (!seen[d]![v]) lost++;
    let seqGaps = 0;
    for (const s of seqs.values()) {
      const max = Math.max(...s);
      seqGaps += max - s.size;
    }
    phase = 'stopping edgewise run';
    stoppingRuntime = true;
    r.child.kill('SIGTERM');
    await orStop(r.exited);
    const output = r.output();
    const summary = output.split('\n').find((l) => l.includes('"gateway stopped"'));
    const outboxDropped = summary ? (JSON.parse(summary) as { outbox?: { dropped: Record<string, number> } }).outbox?.dropped : undefined;
    return { published, acked, lost, received, duplicates, seqGaps, outages: results, finalCatchUpMs, outboxDropped, gatewayCpuMs: cpuMs, gatewayWrittenBytes: writtenBytes, seconds, output };
  } catch (err) {
    throw stop.signal.aborted ? stop.signal.reason : err;
  } finally {
    o.signal?.removeEventListener('abort', onCallerAbort);
    stoppingRuntime = true;
    running = false;
    await pump;
    const child = rt?.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await rt!.exited;
    }
    await Promise.all([publisher?.endAsync(true), consumer?.endAsync(true), mosqOp.catch(() => {}), mosq.stop()]);
    tmp.cleanup();
  }
}
