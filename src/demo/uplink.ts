import { Aedes } from 'aedes';
import net from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';

/**
 * The demo's "cloud": an aedes broker with two loopback listeners. The gateway's (`url`) is its
 * uplink: a cut drops every connection on it and every new one until `restore` (what a gateway
 * sees when its uplink goes). The port stays bound through a cut: closed, another socket could
 * take it (a reconnect attempt connected to itself, another process's outgoing connection), and the
 * link could not come back on it. The backend's (`backendUrl`), where the consumer connects, is
 * never cut: a fleet's backend is not behind the gateway's uplink. The aedes instance lives on
 * across a cut, as a real broker's would across a network outage.
 *
 * The consumer must not be cut with the gateway: aedes (1.2, memory persistence) can lose QoS 1
 * messages of a persistent session whose subscriber reconnects while messages are unacknowledged.
 * Each connection numbers its messages from a random start, queued messages keep the ids of the
 * connection that sent them, and a PUBACK deletes the first queued message with its id; when the
 * new connection's ids run into the old ones, the subscriber's PUBACKs delete queued messages not
 * yet resent, and the resend skips them ("no such packet"). Seen here: 14 of 7,651 lost after a
 * cut, every one of them acknowledged to the gateway's outbox.
 */
export class UplinkBroker {
  /** Port of the gateway's (cuttable) listener. */
  port = 0;
  /** Port of the backend's listener (never cut). */
  backendPort = 0;
  private broker: Aedes | null = null;
  private gatewaySide: net.Server | null = null;
  private backend: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private readonly backendSockets = new Set<net.Socket>();
  private isCut = false;
  private cuts = 0;

  async start(port = 0): Promise<void> {
    this.broker = await Aedes.createBroker();
    this.gatewaySide = await this.serve(port, this.sockets, () => this.isCut);
    this.port = (this.gatewaySide.address() as net.AddressInfo).port;
    this.backend = await this.serve(0, this.backendSockets, () => false);
    this.backendPort = (this.backend.address() as net.AddressInfo).port;
  }

  /** Where the gateway connects (cut by `cut`). */
  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Where the consumer connects (never cut). */
  get backendUrl(): string {
    return `mqtt://127.0.0.1:${this.backendPort}`;
  }

  /** True while the gateway's link is up. */
  get up(): boolean {
    return this.gatewaySide !== null && !this.isCut;
  }

  /** Times the link was cut. */
  get outages(): number {
    return this.cuts;
  }

  /** Cut the uplink: drop every connection on the gateway's listener, and every new one until `restore`. */
  async cut(): Promise<void> {
    if (!this.up) return;
    this.cuts++;
    this.isCut = true;
    dropAll(this.sockets);
  }

  /** Restore the uplink (on the same port). */
  async restore(): Promise<void> {
    this.isCut = false;
  }

  async close(): Promise<void> {
    const servers = [this.gatewaySide, this.backend];
    this.gatewaySide = this.backend = null;
    dropAll(this.sockets);
    dropAll(this.backendSockets);
    for (const s of servers) if (s) await new Promise<void>((r) => s.close(() => r()));
    const b = this.broker;
    this.broker = null;
    if (b) await new Promise<void>((r) => b.close(() => r()));
  }

  private async serve(port: number, sockets: Set<net.Socket>, refuse: () => boolean): Promise<net.Server> {
    const broker = this.broker!;
    const server = net.createServer({ noDelay: true }, (sock) => {
      sock.on('error', () => {});
      if (refuse()) {
        sock.destroy();
        return;
      }
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
      broker.handle(sock);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`demo uplink broker: cannot listen on 127.0.0.1:${port}: ${err.message}`)));
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return server;
  }
}

function dropAll(sockets: Set<net.Socket>): void {
  for (const s of sockets) s.destroy();
  sockets.clear();
}

/** What the consumer saw of one upstream message. */
export interface ConsumedMessage {
  topic: string;
  gateway: string;
  id: string;
  kind: string;
  seq: number;
  stream: string;
  pipeline: string;
  data: Record<string, unknown>;
}

/**
 * A small upstream consumer, as a fleet's backend would be: subscribes to `<prefix>/+/#` at QoS 1
 * with a persistent session, drops duplicates by (gateway, id), counts per kind, and keeps the
 * sequence numbers per topic so gaps can be checked.
 */
export class UpstreamConsumer {
  readonly client: MqttClient;
  /** Unique messages by kind. */
  readonly byKind: Record<string, number> = {};
  /** Deliveries seen again (same gateway and id): at-least-once resends. */
  duplicates = 0;
  /** Payloads that were not Edgewise JSON. */
  unreadable = 0;
  /** Last gateway status seen (`online`/`offline`). */
  status = '';
  /** Connections made (1 unless the consumer's own link dropped). */
  connects = 0;
  readonly messages: ConsumedMessage[] = [];
  private readonly ids = new Set<string>();
  private readonly seqs = new Map<string, number[]>();
  private readonly keepMessages: boolean;

  private constructor(client: MqttClient, keepMessages: boolean) {
    this.client = client;
    this.keepMessages = keepMessages;
    client.on('message', (topic, payload) => this.take(topic, payload));
    client.on('connect', () => this.connects++);
  }

  /** Connect and subscribe; resolves once subscribed. `keepMessages` keeps every unique payload (tests). */
  static async connect(url: string, o: { prefix?: string; keepMessages?: boolean; clientId?: string } = {}): Promise<UpstreamConsumer> {
    const client = mqtt.connect(url, {
      clientId: o.clientId ?? `edgewise-demo-consumer-${process.pid}`,
      clean: false,
      reconnectPeriod: 250,
      connectTimeout: 5_000,
    });
    client.on('connect', () => (client.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true));
    client.on('error', () => {}); // reconnects on its own; the uplink being cut is the point of the demo
    const c = new UpstreamConsumer(client, o.keepMessages ?? false);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`demo consumer: cannot connect to ${url} within 5 s`)), 5_000);
      client.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
    });
    await client.subscribeAsync(`${o.prefix ?? 'edgewise/v1'}/+/#`, { qos: 1 });
    return c;
  }

  get unique(): number {
    return this.ids.size;
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Topics whose sequence numbers, sorted, are not 1, 2, 3, … (each with what was seen). */
  gaps(): Array<{ topic: string; seqs: number[] }> {
    const out: Array<{ topic: string; seqs: number[] }> = [];
    for (const [topic, seqs] of this.seqs) {
      const sorted = [...seqs].sort((a, b) => a - b);
      const [name = topic] = topic.split('\u0000', 1);
      if (sorted.some((s, i) => s !== i + 1)) out.push({ topic: name, seqs: sorted });
    }
    return out;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }

  private take(topic: string, payload: Buffer): void {
    let p: Partial<ConsumedMessage> & { state?: string };
    try {
      p = JSON.parse(payload.toString('utf8'));
    } catch {
      this.unreadable++;
      return;
    }
    if (topic.endsWith('/status')) {
      this.status = p.state ?? '';
      return;
    }
    if (typeof p.id !== 'string' || typeof p.kind !== 'string' || typeof p.gateway !== 'string') {
      this.unreadable++;
      return;
    }
    const key = `${p.gateway}\u0000${p.id}`;
    if (this.ids.has(key)) {
      this.duplicates++;
      return;
    }
    this.ids.add(key);
    this.byKind[p.kind] = (this.byKind[p.kind] ?? 0) + 1;
    const seqKey = `${topic}\u0000${(p as { epoch?: string }).epoch ?? ''}`;
    let s = this.seqs.get(seqKey);
    if (!s) this.seqs.set(seqKey, (s = []));
    s.push(p.seq ?? 0);
    if (this.keepMessages) this.messages.push({ topic, gateway: p.gateway, id: p.id, kind: p.kind, seq: p.seq ?? 0, stream: p.stream ?? '', pipeline: p.pipeline ?? '', data: (p.data ?? {}) as Record<string, unknown> });
  }
}
