import { readFileSync } from 'node:fs';
import net from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../core/log.js';
import type { Outbox, OutboxRow } from '../outbox/index.js';
import type { UpstreamConfig } from './config.js';
import { batchJsonBytes, batchTopic, encodeBatch } from './batch.js';
import { jsonFormat, type Publish, type UplinkFormat } from './format.js';
import { topicSafe } from '../core/payload.js';
import { PACKET_TOO_LARGE, PacketLimit, publishPacketBytes, type Learnt } from './packet-limit.js';
import { CloseProbe, PROBE_ACKS } from './close-probe.js';
import { SameIdWatch } from './same-id.js';
import { Lanes } from './lanes.js';
import { connackAdvice } from './connack.js';

export type { UpstreamConfig } from './config.js';

export type UpstreamState = 'connecting' | 'online' | 'offline' | 'stopped';

export interface UpstreamStats {
  state: UpstreamState;
  /** Records handed to the client (resends included); a batch counts its records. */
  sent: number;
  /** Of those, sent from the backlog lane (read back from the outbox). */
  sentBacklog: number;
  /** Batch publishes handed to the client (0 unless `upstream.batch` is set). */
  batches: number;
  /** Payload bytes handed to the client (after compression): what the records cost upstream, before MQTT, TCP and TLS. */
  payloadBytes: number;
  /** Of those, rows that were already buffered when the connection came up (the only ones `drain_rate` limits). */
  sentMetered: number;
  /** Records acknowledged (a batch's PUBACK acknowledges all its records). */
  acked: number;
  inFlight: number;
  /** Fresh messages waiting in memory for an in-flight slot. */
  freshQueued: number;
  /** Topics (kind + stream) still draining their backlog. */
  backlogKeys: number;
  /** Messages in the outbox (committed, not yet acknowledged). */
  backlog: number;
  connects: number;
  reconnects: number;
  /** Connection attempts that failed or connections that dropped. */
  disconnects: number;
  /** Connection attempts the broker closed, or left unanswered for connect_timeout, without a CONNACK or an error saying why. */
  noConnack: number;
  publishErrors: number;
  /** Rows the format could not encode: dropped, each logged with its reason. */
  encodeErrors: number;
  /** Records kept back in the outbox because their packet is over the broker's limit (each counted once). */
  tooLarge: number;
  /** Records kept back because the broker closed the connection twice with each alone in flight (until restart; see CloseProbe). */
  quarantined: number;
  /** Publishes go one at a time (batches of one record) to find a record the broker closes the connection on (see CloseProbe). */
  probing: boolean;
  /** The largest packet the broker takes, in bytes, as far as known (configured, announced or learnt); 0 = none known. */
  maxPacketBytes: number;
  /** Connections ended because publishes awaited a PUBACK and none came for `ack_timeout`. */
  ackTimeouts: number;
  /** Signs that another gateway uses this gateway's id (its status on our topic, or MQTT 5 DISCONNECT 0x8E); logged at most once a minute. */
  sameId: number;
  /** Data publishes awaiting their PUBACK at most on this connection: the MQTT 5 broker's Receive Maximum less the status and stats publishes; 0 = no limit announced. */
  receiveMaximum: number;
  /** The opening steps the broker refused (its status subscription or birth, Sparkplug's NCMD subscription), e.g. "publish <topic>"; absent when none. */
  refused?: string[];
  /** Delay (ms) before the next connection attempt, when offline. */
  nextRetryMs: number;
  /** Connection attempts started early because a TCP probe found the broker reachable. */
  probeReconnects: number;
  /** The last thing that went wrong with the uplink (kept after it reconnects: see lastErrorAt). */
  lastError?: string;
  /** When lastError happened (ms since the epoch, the gateway's clock). */
  lastErrorAt?: number;
}

export interface UpstreamOptions {
  config: UpstreamConfig;
  outbox: Outbox;
  gatewayId: string;
  log: Logger;
  /** Test/bench hook: extra mqtt.js options (merged last). */
  mqttOptions?: Partial<IClientOptions>;
  /** Test hook: how long a connection must last to reset the backoff (default STABLE_CONNECTION_MS). */
  stableAfterMs?: number;
}

/** QoS 1 publishes of the gateway's own (status birth, retained stats) that may be in flight beside the data. */
const OWN_PUBLISHES = 2;
/** MQTT 5 reason code: Retain not supported (a CONNACK refusing a Last Will with retain, or a DISCONNECT). */
const RETAIN_NOT_SUPPORTED = 0x9a;
/** MQTT 5 DISCONNECT reason code: Session taken over (another client connected with this client id). */
const SESSION_TAKEN_OVER = 0x8e;
/**
 * MQTT 5 DISCONNECT reasons a record can cause (unspecified error, malformed packet, protocol error, implementation
 * specific, not authorised, topic name invalid, packet too large, payload format invalid); the
 * others (server busy, shutting down, quota, session taken over, ...) say the close is not a record's.
 */
const RECORD_REASONS = new Set([0x80, 0x81, 0x82, 0x83, 0x87, 0x90, 0x95, 0x99]);
/** Connections lost this soon after a sign of another gateway with this id are its doing, not a record's. */
const SAME_ID_EXPLAINS_MS = 60_000;
/** Connections closed without a CONNACK are logged at most this often (each is counted). */
const NO_CONNACK_LOG_EVERY_MS = 60_000;
/** Signs of a second gateway with this id are logged at most this often. */
const SAME_ID_LOG_EVERY_MS = 60_000;
/** Rows kept back as too large that are remembered (logged and counted once each). */
const TOO_LARGE_REMEMBERED = 10_000;
/** A connection that lasted this long resets the reconnect backoff. */
const STABLE_CONNECTION_MS = 10_000;
/**
 * Time the pump publishes per turn of the event loop before it yields to I/O (ingest), in ms.
 * A budget of time rather than of messages: 16 messages a turn could not keep up with the burst
 * of window results that closes each second once turns took ~2 ms (10,000 readings/s: 400
 * results queued for ~35 ms, p50 put → upstream 39 ms).
 */
const PUBLISH_SLICE_MS = 1;

/** The format's opening steps the broker refused, as a stats field (absent when none). */
function refusedOf(format: UplinkFormat): { refused?: string[] } {
  const refused = format.refused();
  return refused.length ? { refused } : {};
}

/**
 * Forwards committed outbox rows to an upstream MQTT broker at QoS 1 and acknowledges them to the
 * outbox (which deletes them) on PUBACK. Which row goes next is the lanes' choice (lanes.ts: fresh
 * rows first, then the backlog, alerts first); they share `max_inflight`. The total rate is what
 * the link and broker acknowledge, so whenever that exceeds the input rate the backlog reaches
 * zero. The connection follows the broker's rules: its packet limit (packet-limit.ts), its Receive
 * Maximum, a record it closes the connection on (close-probe.ts), the steps the gateway takes as a
 * connection opens (opening.ts), another gateway with this id (same-id.ts).
 */
export class UpstreamForwarder {
  private readonly cfg: UpstreamConfig;
  private readonly outbox: Outbox;
  private readonly gateway: string;
  private readonly log: Logger;
  private readonly extra: Partial<IClientOptions>;
  private readonly stableAfterMs: number;
  private client: MqttClient | null = null;
  private gen = 0;
  private link: UpstreamState = 'offline';
  private started = false;
  private stopping = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private pumpTimer: NodeJS.Timeout | null = null;
  private pumpSoon: NodeJS.Immediate | null = null;
  private nextRetryMs = 0;
  private everConnected = false;
  private readonly inflight = new Map<number, OutboxRow>();
  private readonly lanes: Lanes;
  private probeTimer: NodeJS.Timeout | null = null;
  private probeSocket: net.Socket | null = null;
  private idleWaiters: (() => void)[] = [];
  /** Rows waiting to be published as one batch (upstream.batch); they are in `inflight` already. */
  private batch: OutboxRow[] = [];
  private batchBytes = 0;
  private batchBacklog = 0;
  private batchSince = 0;
  private batchTimer: NodeJS.Timeout | null = null;
  private counters = { sent: 0, sentBacklog: 0, batches: 0, payloadBytes: 0, acked: 0, noConnack: 0, connects: 0, reconnects: 0, disconnects: 0, publishErrors: 0, encodeErrors: 0, tooLarge: 0, quarantined: 0, sameId: 0, ackTimeouts: 0, probeReconnects: 0 };
  private ackWatch: NodeJS.Timeout | null = null;
  /** The connection's end has a cause other than a record (ack_timeout, an MQTT 5 reason): not a close the probe should count. */
  private closeExplained = false;
  /** When the last sign of another gateway with this id came (performance.now()). */
  private sameIdAt = -Infinity;
  private readonly probe = new CloseProbe();
  /** Row ids the broker closed the connection on (kept in the outbox, never sent by this process). */
  private readonly quarantine = new Set<number>();
  private readonly sameId = new SameIdWatch((other) => this.sameIdSeen(`its status (instance ${other}; this one is ${this.sameId.instance}) came on this gateway's status topic`));
  /** Status and stats go retained (upstream.retain, until a broker says it has no retained messages). */
  private retain: boolean;
  private sameIdLoggedAt = -Infinity;
  private noConnackLoggedAt = -Infinity;
  private readonly packetLimit: PacketLimit;
  /** Row ids kept back as too large (so each is logged and counted once). */
  private readonly tooLargeIds = new Set<number>();
  /**
   * Data publishes awaiting a PUBACK at most (MQTT 5: the broker's Receive Maximum — HiveMQ's
   * default is 10 — which the spec lets a broker enforce by closing the connection, DISCONNECT 0x93),
   * and how many are now. mqtt.js does not hold to it for us.
   */
  private receiveMax = Infinity;
  private publishing = 0;
  /** The batch is ready but waits for a publish slot (receiveMax). */
  private batchDue = false;
  /** The format's birth is out on this connection: rows may go. */
  private ready = false;
  /** The largest publish (bytes) sent on this connection: the one a broker refusing a packet as too large (0x95) means. */
  private largestSent = 0;
  private format: UplinkFormat;
  /** upstream.batch applies to the JSON format; Sparkplug B has its own message sequence. */
  private readonly batching: boolean;
  private lastError?: string;
  private lastErrorAt?: number;
  private onlineSince = 0;

  constructor(opts: UpstreamOptions) {
    this.cfg = opts.config;
    this.outbox = opts.outbox;
    this.gateway = opts.gatewayId;
    this.log = opts.log;
    this.extra = opts.mqttOptions ?? {};
    this.stableAfterMs = opts.stableAfterMs ?? STABLE_CONNECTION_MS;
    this.packetLimit = new PacketLimit(this.cfg.max_packet_size);
    this.lanes = new Lanes(this.outbox, this.cfg, this.inflight, () => this.schedulePump());
    this.retain = this.cfg.retain;
    this.format = jsonFormat(this.cfg.topic_prefix, this.gateway, { watch: this.sameId, retain: () => this.retain, log: this.log });
    this.batching = !!this.cfg.batch && this.cfg.format !== 'sparkplug_b';
    if (this.cfg.batch && !this.batching) this.log.warn('upstream.batch is ignored with upstream.format: sparkplug_b (batches are a JSON-format feature)');
    this.outbox.onCommit((rows) => {
      this.lanes.committed(rows, this.link === 'online');
      this.pump();
    });
    this.outbox.onReset(() => {
      this.inflight.clear();
      this.forgetBatch();
      this.lanes.resync();
    });
  }

  /** Start connecting in the background. Never throws because the broker is down. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    if (this.cfg.format === 'sparkplug_b') {
      // Loaded only when used: the codec (protobufjs) stays out of a JSON gateway's memory.
      const { SparkplugNode } = await import('./sparkplug/node.js');
      this.format = await SparkplugNode.open({ config: this.cfg, gatewayId: this.gateway, outbox: this.outbox, log: this.log });
    }
    this.connect();
  }

  state(): UpstreamState {
    return this.link;
  }

  /**
   * Publish a retained QoS 1 message on `<topic_prefix>/<gateway>/<name>` now, beside the outbox:
   * latest-value data (the gateway's stats), not buffered. False when offline.
   */
  publishRetained(name: string, payload: string): boolean {
    if (!this.client || this.link !== 'online') return false;
    this.client.publish(`${this.cfg.topic_prefix}/${topicSafe(this.gateway)}/${name}`, payload, { qos: 1, retain: this.retain }, () => {});
    return true;
  }

  private failed(why: string): void {
    this.lastError = why;
    this.lastErrorAt = Date.now();
  }

  stats(): UpstreamStats {
    return {
      state: this.link,
      ...this.counters,
      sentMetered: this.lanes.metered,
      inFlight: this.inflight.size,
      freshQueued: this.lanes.freshQueued,
      backlogKeys: this.lanes.backlogKeys,
      backlog: this.outbox.depth(),
      probing: this.probe.active,
      maxPacketBytes: Number.isFinite(this.packetLimit.max) ? this.packetLimit.max : 0,
      receiveMaximum: Number.isFinite(this.receiveMax) ? this.receiveMax : 0,
      nextRetryMs: this.link === 'online' ? 0 : this.nextRetryMs,
      ...(this.lastError ? { lastError: this.lastError, lastErrorAt: this.lastErrorAt } : {}),
      ...refusedOf(this.format),
    };
  }

  // ---------------------------------------------------------------- connection management

  private clientOptions(): IClientOptions {
    const c = this.cfg;
    const o: IClientOptions = {
      protocolVersion: c.protocol_version,
      clientId: c.client_id ?? `edgewise-${this.gateway}`,
      clean: true,
      keepalive: Math.max(1, Math.round(c.keepalive / 1000)),
      connectTimeout: c.connect_timeout,
      reconnectPeriod: 0, // we manage reconnects (exponential backoff with jitter)
      resubscribe: false,
      queueQoSZero: false,
      will: this.format.will(),
      rejectUnauthorized: c.tls.reject_unauthorized,
    };
    if (c.username !== undefined) o.username = c.username;
    if (c.password !== undefined) o.password = c.password;
    if (c.password_file) o.password = readFileSync(c.password_file, 'utf8').replace(/\r?\n$/, '');
    if (c.tls.ca) o.ca = readFileSync(c.tls.ca);
    if (c.tls.cert) o.cert = readFileSync(c.tls.cert);
    if (c.tls.key) o.key = readFileSync(c.tls.key);
    if (c.tls.servername) o.servername = c.tls.servername;
    return { ...o, ...this.extra };
  }

  private connect(): void {
    if (this.stopping) return;
    this.retryTimer = null;
    const gen = ++this.gen;
    this.link = 'connecting';
    let client: MqttClient;
    try {
      client = mqtt.connect(this.cfg.url, this.clientOptions());
    } catch (err) {
      this.failed((err as Error).message);
      this.log.error({ err, url: this.cfg.url }, `upstream: cannot connect to ${this.cfg.url}: ${(err as Error).message} (check upstream.url and upstream.tls)`);
      this.scheduleReconnect(gen);
      return;
    }
    this.client = client;
    const attemptAt = performance.now();
    /** The broker answered this attempt: a CONNACK, or an error that says why not. */
    let answered = false;
    client.on('connect', (connack) => {
      if (gen !== this.gen) return;
      answered = true;
      (client.stream as { setNoDelay?: (b: boolean) => void } | undefined)?.setNoDelay?.(true);
      this.counters.connects++;
      if (this.everConnected) this.counters.reconnects++;
      this.everConnected = true;
      this.link = 'online';
      this.onlineSince = performance.now();
      this.log.info({ url: this.cfg.url, backlog: this.outbox.depth() }, `upstream: online (${this.cfg.url}), ${this.outbox.depth()} messages buffered`);
      if (connack.properties?.maximumQoS === 0) {
        // Every QoS 1 publish (the birth, each record) would close the connection (DISCONNECT 0x9B).
        this.failed('the broker takes QoS 0 only (MQTT 5 Maximum QoS 0)');
        this.log.error({ url: this.cfg.url }, `upstream: ${this.lastError}: ${connackAdvice(0x9b)}. Not publishing; trying again with backoff`);
        this.closeExplained = true;
        this.lost(gen, client);
        return;
      }
      this.packetLimit.connected(connack.properties?.maximumPacketSize);
      if (connack.properties?.retainAvailable === false) this.noRetain('its CONNACK says Retain Available 0');
      const receiveMaximum = connack.properties?.receiveMaximum;
      this.receiveMax = receiveMaximum ? Math.max(1, receiveMaximum - OWN_PUBLISHES) : Infinity;
      this.publishing = 0;
      this.sameId.connected();
      this.ready = false;
      this.largestSent = 0;
      this.inflight.clear();
      this.forgetBatch();
      this.lanes.connected();
      this.armAckWatch(gen, client);
      this.format.online(client, () => {
        if (gen !== this.gen) return;
        this.ready = true;
        this.pump();
      });
    });
    client.on('error', (err) => {
      if (gen !== this.gen) return;
      answered = true;
      if ((err as Error & { code?: unknown }).code === RETAIN_NOT_SUPPORTED) this.noRetain(`it refused the connection: ${err.message}`);
      this.failed(err.message);
      const advice = client.connected ? undefined : connackAdvice((err as Error & { code?: unknown }).code);
      this.log.warn({ err: err.message, url: this.cfg.url }, `upstream: ${err.message}${advice ? `: ${advice}` : ''}`);
      // mqtt.js emits 'close' after errors that end the connection; make sure we do not hang.
      if (!client.connected) this.lost(gen, client);
    });
    client.on('disconnect', (packet) => {
      if (gen !== this.gen) return;
      if (packet.reasonCode === PACKET_TOO_LARGE) this.learnt(this.packetLimit.refused(this.largestSent));
      if (packet.reasonCode === RETAIN_NOT_SUPPORTED) this.noRetain('it closed the connection with reason 0x9A (retain not supported)');
      if (packet.reasonCode !== undefined && !RECORD_REASONS.has(packet.reasonCode)) this.closeExplained = true;
      if (packet.reasonCode === SESSION_TAKEN_OVER) this.sameIdSeen('the broker closed this connection because another client connected with the same client id (MQTT 5 reason 0x8E)');
    });
    client.on('close', () => {
      if (gen === this.gen && !answered) this.unanswered(performance.now() - attemptAt);
      this.lost(gen, client);
    });
    client.on('offline', () => this.lost(gen, client));
  }

  /**
   * The connection closed without a CONNACK and without an error saying why: nothing in mqtt.js
   * logs it. A TLS listener reached without TLS, a broker refusing this client or its Last Will
   * (Mosquitto closes a 3.1.1 client whose Will's QoS is over its max_qos; AWS IoT Core one its
   * policy does not let connect), a connection limit, or no answer within connect_timeout.
   */
  private unanswered(afterMs: number): void {
    this.counters.noConnack++;
    const timedOut = afterMs >= this.cfg.connect_timeout;
    this.failed(timedOut ? `no CONNACK within ${this.cfg.connect_timeout} ms` : 'the broker closed the connection before accepting it (no CONNACK)');
    const at = performance.now();
    if (at - this.noConnackLoggedAt < NO_CONNACK_LOG_EVERY_MS) return;
    this.noConnackLoggedAt = at;
    this.log.error(
      { url: this.cfg.url, attempts: this.counters.noConnack, protocolVersion: this.cfg.protocol_version },
      timedOut
        ? `upstream: ${this.cfg.url} did not answer the MQTT CONNECT within upstream.connect_timeout (${this.cfg.connect_timeout} ms): a broker too busy, or something that is not an MQTT broker on that port (counted as noConnack). Check the URL and the broker`
        : `upstream: ${this.cfg.url} closed the connection before accepting it, without saying why (no CONNACK; counted as noConnack). Likely: a TLS port reached without TLS (mqtts:// and upstream.tls), a broker that refuses this client id or its Last Will (Mosquitto's max_qos below 1: the gateway needs QoS 1; an AWS IoT policy without iot:Connect for it), or its connection limit. The broker's log says which`,
    );
  }

  private lost(gen: number, client: MqttClient): void {
    if (gen !== this.gen) return;
    this.gen++; // ignore anything more from this client
    const wasOnline = this.link === 'online';
    // Only a connection that lasted resets the backoff: a broker that accepts and drops at once is not hammered.
    if (wasOnline && performance.now() - this.onlineSince >= this.stableAfterMs) this.attempt = 0;
    this.counters.disconnects++;
    this.ready = false;
    this.format.closed();
    if (this.ackWatch) clearInterval(this.ackWatch);
    this.ackWatch = null;
    // A close with another cause is not one a record caused: this process (ack_timeout), an MQTT 5
    // reason that is not about a record, or another gateway with this id throwing this one off.
    const explained = this.closeExplained || performance.now() - this.sameIdAt < SAME_ID_EXPLAINS_MS;
    this.closeExplained = false;
    // An attempt that never came up had nothing in flight: what `publishing` still counts went with the last connection.
    if (!explained && wasOnline) this.probed(performance.now() - this.onlineSince, this.publishing);
    this.publishing = 0;
    this.client = null;
    this.inflight.clear();
    for (const w of this.idleWaiters.splice(0)) w(); // a stop waiting for PUBACKs waits no longer: none will come
    this.forgetBatch();
    this.lanes.clearFresh();
    try {
      client.removeAllListeners('connect');
      client.on('error', () => {});
      client.end(true);
    } catch {
      /* ignore */
    }
    if (this.stopping) return;
    this.link = 'offline';
    if (wasOnline) this.log.warn({ url: this.cfg.url, buffered: this.outbox.depth() }, `upstream: connection to ${this.cfg.url} lost; buffering in the outbox`);
    this.scheduleReconnect(this.gen);
  }

  private scheduleReconnect(_gen: number): void {
    if (this.stopping || this.retryTimer) return;
    const base = Math.min(this.cfg.reconnect_max, this.cfg.reconnect_min * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    this.nextRetryMs = delay;
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.armProbe(delay);
  }

  /**
   * A long backoff (after many failed attempts) would keep the gateway offline for up to
   * `reconnect_max` after the broker is back: while waiting, open a bare TCP connection every
   * `reconnect_probe`, and connect at once when it succeeds.
   */
  private armProbe(delay: number): void {
    const every = this.cfg.reconnect_probe;
    if (every <= 0 || delay <= every || this.probeTimer) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      if (this.stopping || !this.retryTimer) return;
      const { host, port } = brokerAddress(this.cfg.url);
      const sock = net.connect({ host, port });
      this.probeSocket = sock;
      const done = (reachable: boolean) => {
        sock.destroy();
        if (this.probeSocket !== sock) return;
        this.probeSocket = null;
        if (this.stopping || !this.retryTimer) return;
        if (reachable) {
          clearTimeout(this.retryTimer);
          this.counters.probeReconnects++;
          this.connect();
        } else this.armProbe(Infinity);
      };
      sock.setTimeout(Math.min(every, this.cfg.connect_timeout), () => done(false));
      sock.once('connect', () => done(true));
      sock.once('error', () => done(false));
    }, every);
  }

  private pump(): void {
    if (this.link !== 'online' || !this.client || !this.ready) return;
    const client = this.client;
    const gen = this.gen;
    const max = this.stopping ? 0 : this.cfg.max_inflight;
    // Publishing is synchronous work (~15 µs a message): send for a slice of time, then let I/O (ingest) run.
    const until = performance.now() + PUBLISH_SLICE_MS;
    while (this.inflight.size < max && this.publishing < Math.min(this.receiveMax, this.probe.window)) {
      if (performance.now() > until) {
        this.pumpLater();
        break;
      }
      if (this.batchDue) {
        this.publishBatch(); // a slot is free now
        continue;
      }
      const row = this.lanes.next();
      if (!row) break;
      const backlog = this.lanes.fromBacklog;
      if (!backlog && this.inflight.has(row.id)) continue;
      const key = this.outbox.key(row.keyId);
      if (!key || (this.quarantine.size && this.quarantine.has(row.id))) continue;
      let msg: Publish;
      try {
        msg = this.format.encode(row, key, this.lanes.historical(row));
      } catch (err) {
        this.counters.encodeErrors++;
        this.log.error(
          { err: (err as Error).message, kind: key.kind, stream: key.stream, seq: row.seq },
          `upstream: cannot encode the ${key.kind} of ${key.stream} (seq ${row.seq}) as ${this.cfg.format}: ${(err as Error).message}; dropped it (counted as encodeErrors)`,
        );
        if (!this.outbox.isClosed) this.outbox.ack(row);
        continue;
      }
      if (this.batching) {
        this.inflight.set(row.id, row);
        this.addToBatch(row, backlog);
        continue;
      }
      const size = publishPacketBytes(msg.topic, msg.payload.length, this.cfg.protocol_version);
      if (size > this.packetLimit.max) {
        this.keepBack(row, size);
        continue;
      }
      this.inflight.set(row.id, row);
      this.probe.sent(row.id);
      if (size > this.largestSent) this.largestSent = size;
      this.publishing++;
      this.counters.sent++;
      this.counters.payloadBytes += msg.payload.length;
      if (backlog) this.counters.sentBacklog++;
      const r = row;
      client.publish(msg.topic, msg.payload, { qos: 1 }, (err) => {
        if (gen !== this.gen) return; // connection gone: the row is still in the outbox and will be resent
        this.inflight.delete(r.id);
        this.publishing--;
        if (err) {
          this.counters.publishErrors++;
          this.failed(err.message);
          this.log.warn({ err: err.message }, `upstream: publish failed: ${err.message}`);
          this.pumpLater();
          return;
        }
        this.counters.acked++;
        this.probe.acked(r.id);
        this.packetLimit.acked(size);
        if (!this.outbox.isClosed) this.outbox.ack(r);
        if (this.inflight.size === 0) for (const w of this.idleWaiters.splice(0)) w();
        this.pumpLater(); // PUBACKs arrive by the hundred in one read: one pump after them, not one each
      });
    }
    if (this.batch.length) {
      // No row can join while every in-flight slot is taken: send it now; else wait for more up to max_delay.
      if (this.batchDue || this.inflight.size >= max) this.publishBatch();
      else this.armBatchTimer();
    }
  }

  // ---------------------------------------------------------------- batches (upstream.batch)

  private addToBatch(row: OutboxRow, backlog: boolean): void {
    const b = this.cfg.batch!;
    if (this.batch.length && batchJsonBytes(this.gateway, this.batchBytes + row.payload.length, this.batch.length + 1) > b.max_bytes) this.publishBatch();
    if (!this.batch.length) this.batchSince = performance.now();
    this.batch.push(row);
    this.batchBytes += row.payload.length;
    if (backlog) this.batchBacklog++;
    if (this.batch.length >= (this.probe.active ? 1 : b.max_records)) this.publishBatch(); // one record a publish while probing
  }

  private armBatchTimer(): void {
    if (this.batchTimer) return;
    const wait = Math.max(0, this.batchSince + this.cfg.batch!.max_delay - performance.now());
    this.batchTimer = setTimeout(() => {
      this.batchTimer = null;
      this.publishBatch();
      this.pump();
    }, wait);
  }

  /** Rows of a batch not yet published stay in the outbox: the next connection sends them again. */
  private forgetBatch(): void {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = null;
    this.batchDue = false;
    this.batch = [];
    this.batchBytes = this.batchBacklog = 0;
  }

  /** Publish the waiting rows as one batch; its PUBACK acknowledges every one of them to the outbox. */
  private publishBatch(): void {
    const client = this.client;
    if (client && this.link === 'online' && this.batch.length && this.publishing >= this.receiveMax) {
      this.batchDue = true; // goes when a PUBACK frees a slot
      return;
    }
    const rows = this.batch;
    const backlog = this.batchBacklog;
    this.forgetBatch();
    if (!rows.length) return;
    if (!client || this.link !== 'online') {
      for (const r of rows) this.inflight.delete(r.id); // still in the outbox: sent after the next connect
      return;
    }
    this.counters.sentBacklog += backlog;
    this.sendBatch(client, rows);
  }

  /** One batch publish; a batch whose packet is over the broker's limit goes as two halves, a single record over it is kept back. */
  private sendBatch(client: MqttClient, rows: OutboxRow[]): void {
    const gen = this.gen;
    const compression = this.cfg.batch!.compression;
    const topic = batchTopic(this.cfg.topic_prefix, this.gateway, compression);
    const payload = encodeBatch(this.gateway, rows.map((r) => r.payload), compression);
    const size = publishPacketBytes(topic, payload.length, this.cfg.protocol_version);
    if (size > this.packetLimit.max) {
      if (rows.length === 1) {
        this.inflight.delete(rows[0]!.id);
        this.keepBack(rows[0]!, size);
        return;
      }
      const half = rows.length >> 1;
      this.sendBatch(client, rows.slice(0, half));
      this.sendBatch(client, rows.slice(half));
      return;
    }
    this.counters.batches++;
    this.counters.sent += rows.length;
    this.counters.payloadBytes += payload.length;
    this.probe.sent(rows[0]!.id);
    if (size > this.largestSent) this.largestSent = size;
    this.publishing++;
    client.publish(topic, payload, { qos: 1 }, (err) => {
      if (gen !== this.gen) return; // connection gone: the rows are still in the outbox and will be resent (same ids)
      for (const r of rows) this.inflight.delete(r.id);
      this.publishing--;
      if (err) {
        this.counters.publishErrors++;
        this.failed(err.message);
        this.log.warn({ err: err.message, records: rows.length }, `upstream: batch publish failed: ${err.message}`);
        this.pumpLater();
        return;
      }
      this.counters.acked += rows.length;
      this.probe.acked(rows[0]!.id);
      this.packetLimit.acked(size);
      if (!this.outbox.isClosed) for (const r of rows) this.outbox.ack(r);
      if (this.inflight.size === 0) for (const w of this.idleWaiters.splice(0)) w();
      this.pumpLater();
    });
  }

  /**
   * A record whose packet is over the broker's limit stays in the outbox, unsent: sent, it would
   * close the connection, and the next connection would send it first again. It goes when a
   * connection allows it (a broker whose limit was raised), else `outbox.max_age` drops it.
   */
  private keepBack(row: OutboxRow, size: number): void {
    if (this.tooLargeIds.has(row.id)) return;
    if (this.tooLargeIds.size >= TOO_LARGE_REMEMBERED) this.tooLargeIds.clear();
    this.tooLargeIds.add(row.id);
    this.counters.tooLarge++;
    const key = this.outbox.key(row.keyId);
    const what = key ? `the ${key.kind} of ${key.stream} (seq ${row.seq})` : `outbox row ${row.id}`;
    this.log.error(
      { kind: key?.kind, stream: key?.stream, seq: row.seq, bytes: size, limit: this.packetLimit.max, source: this.packetLimit.source },
      `upstream: ${what} makes a ${size}-byte MQTT packet, over the broker's limit of ${this.packetLimit.max} bytes (${this.packetLimit.source}): kept in the outbox, not sent, as it would close the connection and stop the uplink (counted as tooLarge). Raise the broker's limit (Mosquitto: max_packet_size) or set outbox.max_message_bytes below it; it goes once a connection allows it, else outbox.max_age drops it`,
    );
  }

  /**
   * Every quarter of `ack_timeout`: publishes awaited and no PUBACK for that long — end the connection
   * (lost() reconnects). Progress is read from the acked counter here, so a PUBACK costs no clock read.
   */
  private armAckWatch(gen: number, client: MqttClient): void {
    const timeout = this.cfg.ack_timeout;
    if (timeout <= 0) return;
    if (this.ackWatch) clearInterval(this.ackWatch);
    let acked = this.counters.acked;
    let waitingSince = performance.now();
    this.ackWatch = setInterval(() => {
      const at = performance.now();
      if (this.publishing === 0 || this.counters.acked !== acked) {
        acked = this.counters.acked;
        waitingSince = at;
      }
      if (gen !== this.gen || at - waitingSince < timeout) return;
      this.counters.ackTimeouts++;
      this.failed(`no PUBACK for ${timeout} ms`);
      this.log.warn(
        { publishes: this.publishing, ackTimeoutMs: timeout },
        `upstream: ${this.publishing} publishes await their PUBACK and none has come for ${timeout} ms although the broker is connected: ending the connection to send them again (upstream.ack_timeout; counted as ackTimeouts)`,
      );
      this.closeExplained = true;
      this.lost(gen, client); // ends the client, after which its publishes' callbacks are ignored (no 'publish failed' for each)
    }, Math.max(50, timeout / 4));
    this.ackWatch.unref();
  }

  /** The broker has no retained messages: from now on status and stats go unretained (the Last Will from the next connection). */
  private noRetain(evidence: string): void {
    if (!this.retain) return;
    this.retain = false;
    this.log.warn(
      { url: this.cfg.url },
      `upstream: the broker has no retained messages (${evidence}): status and stats now go unretained, so a consumer that subscribes later sees a gateway's state only when it next changes; set upstream.retain: false to start so`,
    );
  }

  private sameIdSeen(evidence: string): void {
    this.counters.sameId++;
    this.sameIdAt = performance.now();
    const clientId = this.cfg.client_id ?? `edgewise-${this.gateway}`;
    this.failed(`another gateway uses gateway id ${this.gateway}`);
    const at = performance.now();
    if (at - this.sameIdLoggedAt < SAME_ID_LOG_EVERY_MS) return;
    this.sameIdLoggedAt = at;
    this.log.error(
      { clientId, signs: this.counters.sameId },
      `upstream: another gateway uses gateway id "${this.gateway}" (client id ${clientId}): ${evidence}. The broker closes one's connection whenever the other connects, and both publish on the same topics with clashing seqs. Give each gateway its own gateway.id (EDGEWISE_GATEWAY__ID; on balena a device variable); counted as sameId`,
    );
  }

  /** The connection is gone: what the close probe makes of it (before the in-flight rows are forgotten). */
  private probed(onlineMs: number, publishes: number): void {
    const v = this.probe.lost(onlineMs, publishes);
    if (v.kind === 'probing') {
      this.log.warn(
        { closes: v.closes },
        `upstream: the broker closed ${v.closes} connections in a row with publishes in flight: sending one at a time to find a record it refuses (until ${PROBE_ACKS} are acknowledged in a row)`,
      );
    } else if (v.kind === 'quarantine') {
      const row = this.inflight.get(v.first);
      this.quarantine.add(v.first);
      this.counters.quarantined++;
      const key = row && this.outbox.key(row.keyId);
      const what = key ? `the ${key.kind} of ${key.stream} (seq ${row.seq}, ${row.payload.length} bytes)` : `outbox row ${v.first}`;
      this.log.error(
        { kind: key?.kind, stream: key?.stream, seq: row?.seq, bytes: row?.payload.length },
        `upstream: the broker closed the connection twice with ${what} alone in flight: kept in the outbox and not sent again until restart (counted as quarantined), so the rest can go. A broker does this for a packet over its size limit or a topic its ACL or policy refuses (AWS IoT Core closes the connection on an unauthorised publish): check the broker's log, its limit (upstream.max_packet_size) and what it lets this client publish`,
      );
    }
  }

  private learnt(l: Learnt | undefined): void {
    if (!l) return;
    this.log.error(
      { bytes: l.size, limit: l.limit },
      `upstream: the broker closed the connection on a ${l.size}-byte packet as too large (MQTT 5 reason 0x95): taking ${l.limit} bytes as its packet limit until restart; larger records stay in the outbox. Set upstream.max_packet_size to the broker's limit (Mosquitto: max_packet_size; AWS IoT Core: 128KB)`,
    );
  }

  /** pump() in the next turn of the event loop (once, however often asked). */
  private pumpLater(): void {
    this.pumpSoon ??= setImmediate(() => {
      this.pumpSoon = null;
      this.pump();
    });
  }

  private schedulePump(): void {
    if (this.pumpTimer) return;
    const wait = Math.max(5, Math.ceil(1000 / Math.max(1, this.cfg.drain_rate)));
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = null;
      this.pump();
    }, wait);
  }

  // ---------------------------------------------------------------- stopping

  /** Publish nothing new, wait up to stop_timeout for in-flight PUBACKs, announce offline, end the client. */
  async stop(): Promise<void> {
    if (!this.started) {
      this.link = 'stopped';
      return;
    }
    this.stopping = true;
    this.started = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeSocket?.destroy();
    this.probeSocket = this.probeTimer = null;
    if (this.ackWatch) clearInterval(this.ackWatch);
    this.ackWatch = null;
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    if (this.pumpSoon) clearImmediate(this.pumpSoon);
    this.retryTimer = this.pumpTimer = this.pumpSoon = null;
    const client = this.client;
    if (client && this.link === 'online') {
      this.publishBatch(); // what waits for a batch goes now, within stop_timeout like the rest
      if (this.inflight.size > 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.cfg.stop_timeout);
          this.idleWaiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      // The goodbye only on a connection still up: lost while waiting, mqtt.js's client is ended and its publish throws.
      if (this.client === client) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(1000, this.cfg.stop_timeout));
          this.format.offline(client, () => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    }
    this.gen++;
    this.client = null;
    this.inflight.clear();
    this.forgetBatch();
    this.lanes.clearFresh();
    if (client) {
      client.on('error', () => {});
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          client.end(true);
          resolve();
        }, 1000);
        client.end(false, {}, () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.link = 'stopped';
  }
}

/** Host and port of a broker URL (mqtt://, tcp:// default 1883; mqtts://, tls://, ssl:// default 8883). */
function brokerAddress(url: string): { host: string; port: number } {
  const u = new URL(url);
  const tls = /^(mqtts|tls|ssl):$/.test(u.protocol);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : tls ? 8883 : 1883 };
}
