import { Aedes } from 'aedes';
import type { TestContext } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { silentLogger, type Logger } from '../../src/core/log.js';
import { outboxConfigSchema, type OutboxConfig } from '../../src/outbox/config.js';
import { Outbox } from '../../src/outbox/index.js';
import { UpstreamForwarder } from '../../src/upstream/index.js';
import { upstreamConfigSchema, type UpstreamConfig } from '../../src/upstream/config.js';
import type { Emission } from '../../src/core/records.js';
import { BATCH_LEVEL, compressionOfLevel, readBatch } from '../../src/upstream/batch.js';
import { messageTopic, type UpstreamKind } from '../../src/core/payload.js';

export interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

/** A real aedes broker on 127.0.0.1 that can be stopped and started again on the same port. */
export class TestBroker {
  port = 0;
  readonly received: Received[] = [];
  /** Called for every message (status aside) once the broker has taken it, after its PUBACK was written. */
  onPublished: ((m: Received) => void) | undefined;
  /** While true, data publishes are neither recorded nor acknowledged (the gateway waits for PUBACKs that never come). */
  hold = false;
  /** Publishes held so far. */
  held = 0;
  private broker: Aedes | null = null;
  private server: net.Server | null = null;
  private sockets = new Set<net.Socket>();
  /** Retained status messages seen, in order. */
  get statuses(): string[] {
    return this.received.filter((r) => r.topic.endsWith('/status')).map((r) => JSON.parse(r.payload.toString()).state);
  }
  messages(): Received[] {
    return this.received.filter((r) => !r.topic.endsWith('/status'));
  }

  async start(): Promise<void> {
    const broker = await Aedes.createBroker();
    // Record a client publish where the broker accepts it, before its PUBACK is written (aedes acks
    // QoS 1 before its 'publish' event, so a broker stopped in between would hide acked messages).
    broker.authorizePublish = (_client, packet, cb) => {
      if (packet.topic.endsWith('/status')) return cb(null);
      if (this.hold) return void this.held++; // never accepted: no PUBACK
      this.received.push({ topic: packet.topic, payload: Buffer.from(packet.payload as Buffer), retain: packet.retain });
      cb(null);
    };
    // Status messages (birth from the client, Last Will from the broker) from the publish event.
    broker.on('publish', (packet) => {
      if (packet.topic.endsWith('/status')) this.received.push({ topic: packet.topic, payload: Buffer.from(packet.payload as Buffer), retain: packet.retain });
      else if (this.onPublished && !packet.topic.startsWith('$SYS')) this.onPublished({ topic: packet.topic, payload: Buffer.from(packet.payload as Buffer), retain: packet.retain });
    });
    const server = net.createServer({ noDelay: true }, (sock) => {
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
      broker.handle(sock);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.broker = broker;
    this.server = server;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Cut every connection (the broker stays up, its retained messages too): clients reconnect. */
  cutConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  /** Stop abruptly: every connection is cut (an outage), the port is freed. */
  async stop(): Promise<void> {
    const server = this.server;
    const broker = this.broker;
    this.server = null;
    this.broker = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((r) => server.close(() => r()));
    if (broker) await new Promise<void>((r) => broker.close(() => r()));
  }
}

export function tempDir(prefix = 'edgewise-outbox-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function outboxConfig(over: Partial<Record<keyof OutboxConfig, unknown>> = {}): OutboxConfig {
  return outboxConfigSchema.parse({ commit_interval: 10, ...over });
}

export function upstreamConfig(url: string, over: Record<string, unknown> = {}): UpstreamConfig {
  return upstreamConfigSchema.parse({ url, reconnect_min: 50, reconnect_max: 400, connect_timeout: 2000, drain_rate: 0, ...over });
}

export { waitFor } from '../runtime/helpers.js';

export function aggregate(stream: string, i: number): Emission {
  return {
    kind: 'aggregate',
    pipeline: 'p1',
    output: 'upstream',
    result: { stream, window: 'tumbling', start: i * 1000, end: (i + 1) * 1000, count: 10, values: { mean: i, max: i + 1 } },
  };
}

export function raw(stream: string, i: number, pad = 0): Emission {
  return { kind: 'reading', pipeline: 'p1', output: 'raw', reading: { stream, ts: i, value: i, ...(pad ? { tags: { pad: 'x'.repeat(pad) } } : {}) } };
}

export function alert(stream: string, i: number): Emission {
  return {
    kind: 'alert',
    pipeline: 'p1',
    output: 'alerts',
    alert: { id: `a${i}`, state: 'raised', stream, detector: 'zscore', severity: 'warning', score: 0.9, start: i, value: i, reason: 'z>4' },
  };
}

/** Check a set of received payloads: per topic, seqs are 1..n with no gaps, and a seq always carries the same id. */
export function checkSequences(msgs: Received[]): { topics: number; unique: number; duplicates: number; problems: string[] } {
  const byTopic = new Map<string, Map<number, string>>();
  const problems: string[] = [];
  let duplicates = 0;
  const ids = new Map<string, string>();
  for (const m of msgs) {
    const p = JSON.parse(m.payload.toString()) as { id: string; seq: number };
    let seqs = byTopic.get(m.topic);
    if (!seqs) byTopic.set(m.topic, (seqs = new Map()));
    const prev = seqs.get(p.seq);
    if (prev !== undefined) {
      duplicates++;
      if (prev !== p.id) problems.push(`${m.topic} seq ${p.seq} arrived with two ids: ${prev} and ${p.id}`);
    } else seqs.set(p.seq, p.id);
    const t = ids.get(p.id);
    if (t !== undefined && t !== `${m.topic}#${p.seq}`) problems.push(`id ${p.id} used for two messages`);
    ids.set(p.id, `${m.topic}#${p.seq}`);
  }
  let unique = 0;
  for (const [topic, seqs] of byTopic) {
    const max = Math.max(...seqs.keys());
    unique += seqs.size;
    if (seqs.size !== max) {
      const missing: number[] = [];
      for (let i = 1; i <= max && missing.length < 10; i++) if (!seqs.has(i)) missing.push(i);
      problems.push(`${topic}: ${max - seqs.size} seq gaps, e.g. ${missing.join(',')}`);
    }
  }
  return { topics: byTopic.size, unique, duplicates, problems };
}

/** A pino logger at warn level that keeps the messages it logs, in order. */
export function warnings(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, { write: (s: string) => void lines.push((JSON.parse(s) as { msg: string }).msg) });
  return { log, lines };
}

/** An outbox in a temp dir and a forwarder to `url`; close() stops both and removes the dir. */
export function forwarderTo(url: string, upOver: Record<string, unknown> = {}, gatewayId = 'gw-1', log: Logger = silentLogger()) {
  const tmp = tempDir();
  const outbox = Outbox.open({ config: outboxConfig(), dataDir: tmp.dir, gatewayId, log });
  const fwd = new UpstreamForwarder({ config: upstreamConfig(url, upOver), outbox, gatewayId, log });
  return {
    outbox,
    fwd,
    async close() {
      await fwd.stop();
      outbox.close();
      tmp.cleanup();
    },
  };
}

/** Reconnect at once after a lost connection (tests where the broker closes connections on purpose). */
export const FAST_RECONNECT = { reconnect_min: 20, reconnect_max: 200, reconnect_probe: 0 };

/** forwarderTo(broker.url) that is closed, and the broker stopped, when the test ends. */
export function forwarderFor(t: TestContext, broker: { url: string; stop(): Promise<void> }, upOver: Record<string, unknown> = {}, log?: Logger) {
  const s = forwarderTo(broker.url, upOver, 'gw-1', log);
  t.after(async () => {
    await s.close();
    await broker.stop();
  });
  return s;
}

/**
 * Batch messages (`<prefix>/<gw>/batch[/<compression>]`) expanded to their records, each as if it
 * had been published alone (on its own topic); other messages as they are.
 */
export function expandBatches(msgs: Received[], prefix = 'edgewise/v1'): Received[] {
  const out: Received[] = [];
  for (const m of msgs) {
    const [, level, ...rest] = m.topic.slice(prefix.length + 1).split('/');
    if (level !== BATCH_LEVEL) {
      out.push(m);
      continue;
    }
    const b = readBatch(m.payload, compressionOfLevel(rest[0])!, 1 << 26);
    for (const r of b.records as { kind: UpstreamKind; stream: string }[])
      out.push({ topic: messageTopic(prefix, b.gateway, r.kind, r.stream), payload: Buffer.from(JSON.stringify(r)), retain: m.retain });
  }
  return out;
}
