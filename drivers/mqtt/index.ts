import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient, type IClientOptions } from 'mqtt';
import { deliveryHash, DriverHealthState, type Driver, type DriverContext, type DriverDeps, type DriverHealth, type DriverState } from '../../src/core/driver.js';
import type { Logger } from '../../src/core/log.js';
import { PayloadDecoder } from '../common/payload.js';
import { zoneOf } from '../common/ts-zone.js';
import { pathOf } from '../common/values-path.js';
import { isValidName, toName } from '../common/names.js';
import type { MqttConfig, BrokerConfig } from './config.js';
import { compileTemplate, matchTemplate, topicMatches, shortTopic as short, type CompiledTemplate } from './topic.js';
import type { SparkplugIngest } from './sparkplug.js';
import { startEmbeddedBroker, type BrokerCounters, type EmbeddedBroker, type EmbeddedBrokerOptions } from './broker.js';

export { startEmbeddedBroker, type EmbeddedBroker, type EmbeddedBrokerOptions } from './broker.js';
export { hashPassword, verifyPassword } from './password.js';
export type { MqttConfig } from './config.js';

/** Turn the `broker` config section into options for `startEmbeddedBroker`. */
export function brokerOptions(b: BrokerConfig): EmbeddedBrokerOptions {
  return {
    host: b.host,
    port: b.port,
    maxPacketSize: b.max_packet_size,
    noDelay: b.no_delay,
    allowAnonymous: b.allow_anonymous,
    users: b.users,
    anonymous: b.anonymous,
    maxClients: b.max_clients,
    maxPending: b.max_pending_connections,
    maxPendingPerAddress: b.max_pending_per_address,
    loginFailuresPerAddress: b.login_failures_per_address,
    loginQueue: b.login_queue,
    maxRetainedBytes: b.max_retained_bytes,
    maxQueuedMessages: b.max_queued_messages,
    maxQueuedBytes: b.max_queued_bytes,
    sessionExpiry: b.session_expiry === 'never' ? undefined : b.session_expiry,
    connectTimeout: b.connect_timeout,
    drainTimeout: b.drain_timeout,
  };
}

/** Map entry and TopicInfo object, roughly, besides the strings. */
const ENTRY_BYTES = 120;

interface TopicInfo {
  device: string;
  metric: string | undefined;
  /** Stream key for the value forms (device/metric, metric defaulting to `value`), built once per topic. */
  stream: string;
  where: string;
}

/** MQTT → readings: topic mapping by template and payload decoding. Transport-independent. */
export class MqttIngest {
  readonly templates: CompiledTemplate[];
  private readonly cache = new Map<string, TopicInfo | null>();
  /** What the cache holds, estimated as UTF-16 topic bytes plus a fixed cost per entry. */
  private cached = 0;
  private readonly decoder: PayloadDecoder;
  messages = 0;
  readings = 0;
  ignored = 0;

  /** QoS 1 resends of a delivery already taken (after a lost PUBACK): acknowledged, not taken again. */
  redelivered = 0;

  constructor(
    private readonly cfg: MqttConfig,
    private readonly ctx: Pick<DriverContext, 'emit' | 'drops' | 'now' | 'delivery'>,
    /** Decodes spBv1.0/ topics when the input has a `sparkplug:` section. */
    readonly sparkplug?: SparkplugIngest,
  ) {
    this.templates = cfg.topics.map(compileTemplate);
    this.decoder = new PayloadDecoder({ tsKeys: cfg.ts_keys, tsUnit: cfg.ts_unit, tsZone: zoneOf(cfg.ts_zone), maxFields: cfg.max_fields, ignoreKeys: ['device'], ignoreFields: cfg.ignore_fields, valuesPath: pathOf(cfg.values_path) });
  }

  get fieldsIgnored(): number {
    return this.decoder.fieldsIgnored + (this.sparkplug?.fieldsIgnored ?? 0);
  }

  /** Bytes held by the topic cache (bounded by topic_cache_bytes). */
  cacheBytes(): number {
    return this.cached;
  }

  private lookup(topic: string): TopicInfo | null {
    let info = this.cache.get(topic);
    if (info !== undefined) return info;
    info = null;
    const parts = topic.split('/');
    for (const t of this.templates) {
      const m = matchTemplate(t, parts);
      if (!m) continue;
      // Topic levels may hold what a stream name may not (Zigbee2MQTT's "Living Room Sensor"): `_`.
      const device = m.device !== undefined ? toName(m.device) : this.cfg.device;
      const metric = m.metric !== undefined ? toName(m.metric) : this.cfg.metric;
      if (device === undefined || !isValidName(device) || (metric !== undefined && !isValidName(metric))) {
        info = { device: '', metric: undefined, stream: '', where: `topic "${short(topic)}"` }; // marks a bad name
        break;
      }
      const stream = `${device}/${metric ?? 'value'}`;
      info = { device, metric, stream, where: `topic "${short(topic)}"` };
      break;
    }
    if (info === null && this.cfg.ignore_topics.some((f) => topicMatches(f, topic))) info = { device: '', metric: '', stream: '', where: '' };
    const cost = topic.length * 5 + ENTRY_BYTES; // the key, `where` which repeats it, and the stream key
    if (cost > this.cfg.topic_cache_bytes / 16) return info; // a huge topic is not worth a sixteenth of the cache
    if (this.cache.size >= this.cfg.topic_cache_size || this.cached + cost > this.cfg.topic_cache_bytes) {
      this.cache.clear();
      this.cached = 0;
    }
    this.cache.set(topic, info);
    this.cached += cost;
    return info;
  }

  /** One message (`from`: the client and packet id of a QoS 1/2 delivery). Never throws. */
  handle(topic: string, payload: Buffer, from?: { client: string; packetId: number }): void {
    this.messages++;
    if (from && this.ctx.delivery && !this.ctx.delivery(from.client, from.packetId, deliveryHash(topic, payload))) {
      this.redelivered++;
      return;
    }
    const drops = this.ctx.drops;
    if (this.sparkplug?.takes(topic)) {
      if (payload.length > this.cfg.max_payload_bytes) {
        drops.drop('oversized', { topic: short(topic), bytes: payload.length }, `topic "${short(topic)}": Sparkplug payload of ${payload.length} bytes > max_payload_bytes ${this.cfg.max_payload_bytes} (births with many metrics need more)`);
        return;
      }
      this.readings += this.sparkplug.handle(topic, payload, this.ctx.now(), this.ctx.emit, drops);
      return;
    }
    const info = this.lookup(topic);
    if (info === null) {
      drops.drop('unknown_topic', { topic: short(topic), payload: payload.subarray(0, 64).toString('utf8') }, `topic "${short(topic)}" matches none of the topic templates ${JSON.stringify(this.cfg.topics)}`);
      return;
    }
    if (info.device === '') {
      if (info.metric === '') {
        this.ignored++;
        return;
      }
      drops.drop('bad_name', { topic: short(topic) }, `topic "${short(topic)}": its device or metric level makes no name (empty, or over 64 characters once every character but letters, digits, _ . : - is _)`);
      return;
    }
    if (payload.length > this.cfg.max_payload_bytes) {
      drops.drop('oversized', { topic: short(topic), bytes: payload.length, head: payload.subarray(0, 64).toString('utf8') }, `topic "${short(topic)}": payload of ${payload.length} bytes > max_payload_bytes ${this.cfg.max_payload_bytes}`);
      return;
    }
    this.readings += this.decoder.decodeText(payload.toString('utf8'), info.device, info.metric, this.ctx.now(), this.ctx.emit, drops, info.where, info.stream);
  }
}

export class MqttDriver implements Driver {
  readonly kind = 'mqtt';
  private readonly status: DriverHealthState;
  private ingest: MqttIngest | undefined;
  private broker: EmbeddedBroker | undefined;
  private client: MqttClient | undefined;
  private reconnects = 0;
  private retainedSkipped = 0;
  private readonly log: Logger;

  constructor(readonly name: string, private readonly cfg: MqttConfig, deps: DriverDeps) {
    this.log = deps.log.child({ input: name, driver: 'mqtt' });
    this.status = new DriverHealthState(deps.now);
    const tpls = cfg.topics.map(compileTemplate);
    for (const t of tpls) {
      if (!t.hasDevice && !cfg.device) throw new Error(`mqtt input "${name}": topic template "${t.template}" has no {device}; add {device} to it or set device:`);
    }
    if (cfg.mode === 'client' && !cfg.client) throw new Error(`mqtt input "${name}": mode is client but there is no client: section (url, credentials)`);
  }

  /** The embedded broker, once started (mode: embedded). */
  get embeddedBroker(): EmbeddedBroker | undefined {
    return this.broker;
  }

  async start(ctx: DriverContext): Promise<void> {
    if (this.status.current !== 'stopped') return;
    this.status.set('starting');
    const ingest = (this.ingest = new MqttIngest(this.cfg, ctx, this.cfg.sparkplug ? await this.sparkplugIngest() : undefined));
    if (this.cfg.mode === 'embedded') {
      try {
        this.broker = await startEmbeddedBroker({
          ...brokerOptions(this.cfg.broker),
          log: this.log,
          onPublish: (topic, payload, clientId, packet) => ingest.handle(topic, payload, packet?.messageId !== undefined && packet.qos > 0 ? { client: clientId, packetId: packet.messageId } : undefined),
          whenDurable: ctx.whenDurable,
          onDrop: (reason, sample, detail) => ctx.drops.drop(reason, sample, detail),
        });
      } catch (e) {
        this.status.set('down', (e as Error).message);
        throw new Error(`mqtt input "${this.name}": ${(e as Error).message}`);
      }
      const hostId = this.cfg.sparkplug?.host_id;
      if (hostId) {
        const st = hostState(hostId, true, Date.now());
        void brokerPublish(this.broker, st.topic, st.payload, 1, true);
      }
      this.status.set('up', `embedded broker on ${this.broker.host}:${this.broker.port}`);
      return;
    }
    const c = this.cfg.client!;
    const password = c.password_env ? process.env[c.password_env] : c.password;
    if (c.password_env && password === undefined) this.log.warn(`mqtt input "${this.name}": environment variable ${c.password_env} (client.password_env) is not set`);
    const opts: IClientOptions = {
      clientId: c.client_id ?? `edgewise-${this.name}-${randomBytes(4).toString('hex')}`,
      username: c.username,
      password,
      keepalive: Math.max(1, Math.round(c.keepalive / 1000)),
      reconnectPeriod: c.reconnect_period,
      rejectUnauthorized: c.reject_unauthorized,
      clean: !c.persistent_session,
      // mqtt.js otherwise calls `debug` several times per packet, formatting its arguments each time.
      log: noLog,
    };
    const hostId = this.cfg.sparkplug?.host_id;
    // Sparkplug 3.0: the will and the next birth carry the same timestamp, new for every connection.
    let stateTs = Date.now();
    if (hostId) {
      const st = hostState(hostId, false, stateTs);
      opts.will = { topic: st.topic, payload: st.payload, qos: 1, retain: true };
    }
    try {
      if (c.ca_file) opts.ca = readFileSync(c.ca_file);
      if (c.cert_file) opts.cert = readFileSync(c.cert_file);
      if (c.key_file) opts.key = readFileSync(c.key_file);
    } catch (e) {
      this.status.set('down', (e as Error).message);
      throw new Error(`mqtt input "${this.name}": cannot read a TLS file: ${(e as Error).message}`);
    }
    const filters = [...new Set([...ingest.templates.map((t) => t.filter), ...(this.cfg.sparkplug?.groups.map((g) => `spBv1.0/${g}/+/+/#`) ?? [])])];
    const client = (this.client = mqtt.connect(c.url, opts));
    this.status.set('degraded', `connecting to ${c.url}`);
    client.on('connect', () => {
      (client.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
      client.subscribe(filters, { qos: c.qos }, (err, granted) => {
        if (err) {
          this.status.set('degraded', `subscribe failed at ${c.url}: ${err.message}`);
          return;
        }
        const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
        const report = () => {
          if (refused.length) this.status.set('degraded', `broker ${c.url} refused subscriptions ${refused.join(', ')}: check its ACL for user ${c.username ?? '(anonymous)'}`);
          else this.status.set('up', `subscribed to ${filters.join(', ')} at ${c.url}`);
        };
        if (!hostId) return report();
        // Up once the broker holds the primary host's STATE (its PUBACK), not before.
        const st = hostState(hostId, true, stateTs);
        client.publish(st.topic, st.payload, { qos: 1, retain: true }, report);
      });
    });
    client.on('close', () => {
      if (!hostId) return;
      stateTs = Date.now();
      const will = hostState(hostId, false, stateTs);
      if (client.options.will) client.options.will.payload = will.payload;
    });
    client.on('reconnect', () => {
      this.reconnects++;
    });
    client.on('close', () => {
      if (this.status.current !== 'stopped') this.status.set('degraded', `disconnected from ${c.url}; reconnecting every ${c.reconnect_period} ms`);
    });
    client.on('error', (err) => {
      this.log.warn({ err: err.message, url: c.url }, `mqtt input "${this.name}": ${err.message}`);
      this.status.set('degraded', `${c.url}: ${err.message}`);
    });
    client.on('message', (topic, payload, packet) => {
      // A retained message arrives with the flag set only when replayed at a subscription; live publishes arrive without it.
      if (packet.retain && c.retained === 'skip') this.retainedSkipped++;
      else ingest.handle(topic, payload);
    });
  }

  /** Loaded only for inputs with a `sparkplug:` section (the protobuf code is not small). */
  private async sparkplugIngest(): Promise<SparkplugIngest> {
    const { SparkplugIngest, sparkplugOptions } = await import('./sparkplug.js');
    return new SparkplugIngest(sparkplugOptions(this.cfg), (topic, payload) => {
      if (this.broker) void brokerPublish(this.broker, topic, payload, 0, false);
      else this.client?.publish(topic, payload, { qos: 0 });
    });
  }

  async stop(): Promise<void> {
    if (this.status.current === 'stopped') return;
    this.status.set('stopped');
    const b = this.broker;
    const c = this.client;
    this.broker = undefined;
    this.client = undefined;
    const hostId = this.cfg.sparkplug?.host_id;
    if (hostId) {
      // The primary host goes offline on purpose: say so before the connection closes (no will then).
      const st = hostState(hostId, false, Date.now());
      if (b) await brokerPublish(b, st.topic, st.payload, 1, true);
      // At most a second: a stuck broker must not hold the stop (its will says offline anyway).
      if (c?.connected) await Promise.race([c.publishAsync(st.topic, st.payload, { qos: 1, retain: true }).catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    await Promise.all([b?.close(), c ? new Promise<void>((r) => c.end(true, {}, () => r())) : undefined]);
  }

  health(): DriverHealth {
    const h = this.status.health();
    if (this.broker) h.listening = { host: this.broker.host, port: this.broker.port };
    return h;
  }

  counters(): Record<string, number> {
    const i = this.ingest;
    const out: Record<string, number> = {
      messages: i?.messages ?? 0,
      readings: i?.readings ?? 0,
      redelivered: i?.redelivered ?? 0,
      ignored_topics: i?.ignored ?? 0,
      fields_ignored: i?.fieldsIgnored ?? 0,
      topic_cache_bytes: i?.cacheBytes() ?? 0,
    };
    if (this.cfg.mode === 'client') {
      out.reconnects = this.reconnects;
      out.retained_skipped = this.retainedSkipped;
    }
    const sp = i?.sparkplug;
    if (sp) Object.assign(out, { sparkplug_births: sp.births, sparkplug_seq_gaps: sp.seqGaps, sparkplug_rebirth_requests: sp.rebirthRequests, sparkplug_alias_conflicts: sp.aliasConflicts, sparkplug_repeats: sp.repeats, sparkplug_ignored: sp.ignored, sparkplug_nodes_online: sp.nodesOnline(), sparkplug_stale_deaths: sp.staleDeaths, sparkplug_compressed: sp.compressed });
    if (this.broker) Object.assign(out, prefixed('broker_', this.broker.counters()));
    return out;
  }
}

function noLog(): void {}

/** A message from the embedded broker itself (not from a client): resolves once it is handed to subscribers and stored. */
function brokerPublish(b: EmbeddedBroker, topic: string, payload: Buffer, qos: 0 | 1, retain: boolean): Promise<void> {
  return new Promise<void>((r) => b.aedes.publish({ cmd: 'publish', topic, payload, qos, retain, dup: false }, () => r()));
}

/** A Sparkplug 3.0 host application's STATE message: topic and payload. */
function hostState(hostId: string, online: boolean, timestamp: number): { topic: string; payload: Buffer } {
  return { topic: `spBv1.0/STATE/${hostId}`, payload: Buffer.from(JSON.stringify({ online, timestamp })) };
}

function prefixed(p: string, o: BrokerCounters): Record<string, number> {
  const r: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) r[p + k] = v;
  return r;
}

