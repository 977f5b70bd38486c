/**
 * The consumer side of the upstream contract: subscribes to gateways' topics (MQTT 5, QoS 1,
 * persistent session) and lands every message in PostgreSQL exactly once.
 *
 * Exactly once = at-least-once delivery + idempotent writes. A message is acknowledged (PUBACK)
 * only after the transaction holding its row has committed; the broker keeps everything not
 * acknowledged in the collector's session and delivers it again after a crash or reconnect, and
 * the key (gateway, id) turns those redeliveries into skipped rows.
 *
 * mqtt.js acknowledges a QoS 1 message when `handleMessage` calls back, and processes one message
 * at a time: waiting for a commit there would make every batch one message long. So handleMessage
 * calls back at once with an error (mqtt.js then continues without sending PUBACK) and the collector
 * writes the PUBACKs itself when the batch has committed. The broker's flow control bounds what is
 * unacknowledged: it sends at most `receiveMaximum` messages before waiting for PUBACKs.
 */
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import type { Logger } from '../core/log.js';
import { decodePublish, type Decoded } from './decode.js';
import type { PgSink } from './sink.js';

export interface CollectorOptions {
  /** Broker URL: mqtt://host:1883, mqtts://… */
  broker: string;
  sink: PgSink;
  /** Fixed per collector process: the broker keeps the session (and what is unacknowledged) under it. */
  clientId: string;
  /** Shared-subscription group: collectors with the same group share the messages. */
  group?: string;
  /** Topic prefix of the gateways (`upstream.topic_prefix`), default edgewise/v1. */
  prefix: string;
  /** Seconds the broker keeps the session while the collector is away. */
  sessionExpiry: number;
  /** Largest batch per transaction; also the MQTT 5 receive maximum is twice this. */
  maxBatch: number;
  /** 5 (default) or 4 = MQTT 3.1.1 for brokers without MQTT 5 (aedes): no shared subscriptions, no session expiry. */
  protocolVersion?: 4 | 5;
  username?: string;
  password?: string;
  /** Log the counters this often (0: never). */
  statsEveryMs?: number;
  log: Logger;
}

export interface CollectorStats {
  state: 'connecting' | 'online' | 'offline' | 'stopped';
  /** PUBLISH packets received (redeliveries included). */
  received: number;
  inserted: number;
  duplicates: number;
  statuses: number;
  rejected: number;
  batches: number;
  /** PUBACKs sent (each after its batch committed). */
  acked: number;
  /** Committed messages whose connection had closed before the commit: not acked, the broker redelivers them. */
  ackSkipped: number;
  commitErrors: number;
  connects: number;
  lastError: string | null;
}

interface Pending {
  /** Its rows: one, or one per record of a batch. */
  d: Decoded[];
  /** Packet id to acknowledge (QoS 1), on connection `conn`. */
  messageId?: number;
  conn: number;
}

/** Passed to handleMessage's callback: mqtt.js then skips its PUBACK; ours follows the commit. */
const ACK_AFTER_COMMIT = new Error('acknowledged after the commit');

/** The MQTT topic filters a collector subscribes to. Status is never shared: brokers do not send retained messages on shared subscriptions. */
function collectTopics(prefix: string, group?: string): { shared: string[]; status: string } {
  const share = group ? `$share/${group}/` : '';
  return { shared: ['aggregate', 'alert', 'reading', 'late', 'batch'].map((k) => `${share}${prefix}/+/${k}/#`), status: `${prefix}/+/status` };
}

export class Collector {
  private client: MqttClient | null = null;
  private conn = 0;
  private batch: Pending[] = [];
  private writing: Promise<void> | null = null;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private protocolVersion: 4 | 5 = 5;
  private statsTimer: NodeJS.Timeout | null = null;
  private readonly s: CollectorStats = {
    state: 'connecting',
    received: 0,
    inserted: 0,
    duplicates: 0,
    statuses: 0,
    rejected: 0,
    batches: 0,
    acked: 0,
    ackSkipped: 0,
    commitErrors: 0,
    connects: 0,
    lastError: null,
  };

  constructor(private readonly o: CollectorOptions) {}

  stats(): CollectorStats {
    return { ...this.s };
  }

  /** Connect and subscribe; resolves after the first SUBACK. */
  async start(): Promise<void> {
    const o = this.o;
    const v5 = (o.protocolVersion ?? 5) === 5;
    if (!v5 && o.group) throw new Error('--group needs MQTT 5 shared subscriptions: use --protocol 5 with a broker that has them');
    this.protocolVersion = v5 ? 5 : 4;
    const client = mqtt.connect(o.broker, {
      protocolVersion: this.protocolVersion,
      clientId: o.clientId,
      clean: false,
      ...(v5 ? { properties: { sessionExpiryInterval: o.sessionExpiry, receiveMaximum: Math.min(65535, o.maxBatch * 2) } } : {}),
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      username: o.username,
      password: o.password,
      manualConnect: true,
    });
    this.client = client;
    client.handleMessage = (packet, cb) => this.onPublish(packet, cb);
    const topics = collectTopics(o.prefix, o.group);
    let first: ((err?: Error) => void) | null = null;
    client.on('connect', (connack) => {
      this.conn++;
      (client.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
      this.s.connects++;
      this.s.state = 'online';
      o.log.info({ broker: o.broker, clientId: o.clientId, sessionPresent: connack.sessionPresent }, 'collector connected');
      // Subscribing again on a kept session is harmless; it also applies changed --topics/--group.
      const filters = Object.fromEntries([...topics.shared, topics.status].map((t) => [t, { qos: 1 as const }]));
      client.subscribe(filters, (err, granted) => {
          const refused = granted?.filter((g) => g.qos > 2) ?? [];
          const e = err ?? (refused.length ? new Error(`broker refused subscription to ${refused.map((g) => g.topic).join(', ')} (shared subscriptions need MQTT 5 support)`) : undefined);
          if (e) {
            this.s.lastError = e.message;
            o.log.error({ err: e.message }, 'subscribe failed');
          }
          first?.(e);
          first = null;
      });
    });
    client.on('close', () => {
      this.conn++; // acks for messages of the closed connection are no longer sent
      if (this.s.state !== 'stopped') this.s.state = 'offline';
    });
    client.on('error', (err) => {
      this.s.lastError = err.message;
      o.log.warn({ err: err.message }, 'broker connection error');
    });
    await new Promise<void>((resolve, reject) => {
      first = (err) => (err ? reject(err) : resolve());
      client.connect();
    });
    if (o.statsEveryMs) {
      this.statsTimer = setInterval(() => o.log.info({ ...this.stats(), pending: this.batch.length }, 'collector stats'), o.statsEveryMs);
      this.statsTimer.unref();
    }
  }

  private onPublish(packet: IPublishPacket, cb: (err?: Error) => void): void {
    if (this.stopping) { // not acknowledged: the broker keeps it for the next run
      cb(ACK_AFTER_COMMIT);
      return;
    }
    this.s.received++;
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const d = decodePublish(packet.topic, payload, Date.now(), this.o.prefix);
    if (packet.qos === 0) {
      this.batch.push({ d, conn: this.conn });
      cb();
    } else {
      this.batch.push({ d, messageId: packet.messageId, conn: this.conn });
      cb(ACK_AFTER_COMMIT);
    }
    this.schedule();
  }

  /** Write once the messages already read are in the batch (or at once when it is full). */
  private schedule(): void {
    if (this.writing || this.retryTimer) return;
    if (this.batch.length >= this.o.maxBatch) return void this.flush();
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.writing && !this.retryTimer) void this.flush();
    });
  }

  private flush(): Promise<void> {
    if (this.writing) return this.writing;
    if (!this.batch.length) return Promise.resolve();
    // Up to maxBatch rows (a message of a batch brings many), at least one message.
    let n = 0;
    let rows = 0;
    for (const { d } of this.batch) {
      if (n > 0 && rows + d.length > this.o.maxBatch) break;
      rows += d.length;
      n++;
    }
    const b = this.batch.splice(0, n);
    this.writing = this.write(b).finally(() => {
      this.writing = null;
      if (this.batch.length && !this.retryTimer) this.schedule();
    });
    return this.writing;
  }

  private async write(b: Pending[]): Promise<void> {
    try {
      const r = await this.o.sink.write(b.flatMap((p) => p.d));
      this.s.batches++;
      this.s.inserted += r.inserted;
      this.s.duplicates += r.duplicates;
      this.s.statuses += r.statuses;
      this.s.rejected += r.rejected;
      if (r.rejected) this.o.log.warn({ rejected: r.rejected }, 'bad payloads stored in the rejects table');
      this.ack(b);
    } catch (err) {
      this.s.commitErrors++;
      this.s.lastError = (err as Error).message;
      this.o.log.error({ err: (err as Error).message }, 'database write failed; nothing acknowledged, retrying in 1 s');
      // Messages of a closed connection will be redelivered anyway: keep only the current ones.
      this.batch = [...b, ...this.batch].filter((p) => p.conn === this.conn);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        void this.flush();
      }, 1000);
    }
  }

  private ack(b: Pending[]): void {
    const client = this.client;
    const bufs: Buffer[] = [];
    for (const p of b) {
      if (p.messageId === undefined) continue;
      if (p.conn !== this.conn || !client?.connected) {
        this.s.ackSkipped++;
        continue;
      }
      bufs.push(mqttPacket.generate({ cmd: 'puback', messageId: p.messageId, ...(this.protocolVersion === 5 ? { reasonCode: 0 } : {}) }, { protocolVersion: this.protocolVersion }));
    }
    if (!bufs.length) return;
    client!.stream.write(Buffer.concat(bufs));
    this.s.acked += bufs.length;
  }

  /** Commit and acknowledge what was received, then disconnect (the session stays on the broker). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.statsTimer) clearInterval(this.statsTimer);
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    try {
      const errors = this.s.commitErrors;
      // Until all is committed, or the database fails (then the broker redelivers the rest next run).
      while ((this.writing || this.batch.length) && this.s.commitErrors === errors) await (this.writing ?? this.flush());
    } finally {
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.s.state = 'stopped';
      await this.client?.endAsync();
    }
  }
}
