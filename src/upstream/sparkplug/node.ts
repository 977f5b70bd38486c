import type { IClientOptions, MqttClient } from 'mqtt';
import type { Logger } from '../../core/log.js';
import type { Outbox, OutboxKey, OutboxRow } from '../../outbox/index.js';
import type { UpstreamConfig } from '../config.js';
import { OpeningStep, subscribe } from '../opening.js';
import type { Publish, UplinkFormat } from '../format.js';
import {
  aliased,
  decodeSparkplugPayload,
  encodeSparkplugPayload,
  historical,
  parseRecord,
  REBIRTH_METRIC,
  recordMetrics,
  SparkplugAliases,
  sparkplugDevice,
  sparkplugId,
  sparkplugTopic,
  type SparkplugMessageType,
  type UMetric,
} from './encode.js';

const BDSEQ_META = 'sparkplug_bdseq';

/** What the node has told the host about one device in this session. */
interface Device {
  /** Metric name → datatype and last value: what its DBIRTH declares (kept across sessions, dropped at DDEATH). */
  metrics: Map<string, UMetric>;
  born: boolean;
  lastSent: number;
}

/**
 * The gateway as a Sparkplug B edge node (docs/upstream.md, "Sparkplug B"). Per connection: a new
 * bdSeq (persisted in the outbox file, so a restart never reuses the one of the last session), the
 * NDEATH with it as the Last Will, NBIRTH on connect, then seq 0–255 on every message of the node.
 * A device gets a DBIRTH before its first DDATA (again when it shows a metric its birth did not
 * declare) and a DDEATH after `device_idle` without records or on a clean stop. An NCMD
 * `Node Control/Rebirth` brings a new NBIRTH and the DBIRTHs of the devices alive.
 * With `aliases` (the default) DDATA names metrics by the alias each DBIRTH declares.
 * DDATA goes at QoS 1 (not 0 as the specification asks for data) because the outbox deletes a
 * record only on its PUBACK; births and device deaths at QoS 0, NDEATH at QoS 1, none retained.
 */
export class SparkplugNode implements UplinkFormat {
  private readonly group: string;
  private readonly node: string;
  private readonly idleMs: number;
  private bdSeq: number;
  private seq = 0;
  private client: MqttClient | null = null;
  private readonly devices = new Map<string, Device>();
  private idleTimer: NodeJS.Timeout | null = null;
  private readonly aliases: SparkplugAliases | undefined;
  private readonly ncmd: OpeningStep;
  private readonly onMessage = (topic: string, payload: Buffer) => this.command(topic, payload);
  /** Counters for tests and stats: births sent, rebirth requests answered, commands refused. */
  readonly counts = { nbirth: 0, dbirth: 0, ddeath: 0, rebirths: 0, badCommands: 0 };

  private constructor(
    private readonly cfg: UpstreamConfig,
    gatewayId: string,
    private readonly outbox: Outbox,
    private readonly log: Logger,
  ) {
    this.group = cfg.sparkplug.group_id;
    this.node = cfg.sparkplug.edge_node_id ?? sparkplugId(gatewayId);
    this.idleMs = cfg.sparkplug.device_idle;
    this.aliases = cfg.sparkplug.aliases ? new SparkplugAliases() : undefined;
    const ncmd = this.topic('NCMD');
    this.ncmd = new OpeningStep(`subscribe ${ncmd}`, subscribe(ncmd, 1), 'rebirth requests from the host will not be answered', log);
    const stored = Number(outbox.readMeta(BDSEQ_META));
    this.bdSeq = Number.isInteger(stored) && stored >= 0 && stored <= 255 ? stored : -1;
  }

  static async open(o: { config: UpstreamConfig; gatewayId: string; outbox: Outbox; log: Logger }): Promise<SparkplugNode> {
    return new SparkplugNode(o.config, o.gatewayId, o.outbox, o.log);
  }

  get ids(): { group: string; node: string; bdSeq: number } {
    return { group: this.group, node: this.node, bdSeq: this.bdSeq };
  }

  private topic(type: SparkplugMessageType, device?: string): string {
    return sparkplugTopic(this.group, type, this.node, device);
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (s + 1) & 0xff;
    return s;
  }

  private bdSeqMetric(): UMetric {
    return { name: 'bdSeq', type: 'UInt64', value: this.bdSeq };
  }

  /** A new connection: a new bdSeq, stored before connecting, and the NDEATH that carries it. */
  will(): NonNullable<IClientOptions['will']> {
    this.bdSeq = (this.bdSeq + 1) & 0xff;
    if (!this.outbox.isClosed) this.outbox.writeMeta(BDSEQ_META, String(this.bdSeq));
    return { topic: this.topic('NDEATH'), payload: Buffer.from(this.ndeath()), qos: 1, retain: false };
  }

  private ndeath(): Uint8Array {
    return encodeSparkplugPayload({ timestamp: Date.now(), metrics: [this.bdSeqMetric()] });
  }

  online(client: MqttClient, ready: () => void): void {
    this.client = client;
    client.on('message', this.onMessage);
    // NCMD before the NBIRTH, as the specification asks; the birth and the rows wait for its SUBACK.
    this.ncmd.open(client, () => {
      if (this.client !== client) return;
      this.birth();
      if (this.idleMs > 0 && !this.idleTimer) {
        this.idleTimer = setInterval(() => this.sweepIdle(), Math.max(100, Math.min(10_000, this.idleMs / 4)));
        this.idleTimer.unref();
      }
      ready();
    });
  }

  /** NBIRTH (seq 0), then a DBIRTH for every device alive. */
  private birth(): void {
    const c = this.client;
    if (!c) return;
    this.seq = 0;
    const metrics: UMetric[] = [this.bdSeqMetric(), { name: REBIRTH_METRIC, type: 'Boolean', value: false }];
    c.publish(this.topic('NBIRTH'), Buffer.from(encodeSparkplugPayload({ timestamp: Date.now(), seq: this.nextSeq(), metrics })), { qos: 0 });
    this.counts.nbirth++;
    for (const [id, d] of this.devices) if (d.born) this.dbirth(id, d);
  }

  private dbirth(id: string, d: Device): void {
    const metrics = [...d.metrics.values()].map((m) => ({
      name: m.name,
      ...(this.aliases ? { alias: this.aliases.of(id, m.name!) } : {}),
      type: m.type,
      value: m.value,
      ...(m.timestamp !== undefined ? { timestamp: m.timestamp } : {}),
    }));
    this.client!.publish(this.topic('DBIRTH', id), Buffer.from(encodeSparkplugPayload({ timestamp: Date.now(), seq: this.nextSeq(), metrics })), { qos: 0 });
    d.born = true;
    this.counts.dbirth++;
  }

  private ddeath(id: string): void {
    this.client?.publish(this.topic('DDEATH', id), Buffer.from(encodeSparkplugPayload({ timestamp: Date.now(), seq: this.nextSeq() })), { qos: 0 });
    this.forget(id);
    this.counts.ddeath++;
  }

  encode(row: OutboxRow, key: OutboxKey, isHistorical: boolean): Publish {
    const record = parseRecord(row.payload);
    let metrics = recordMetrics(record);
    const id = sparkplugDevice(key.stream);
    let d = this.devices.get(id);
    if (!d) this.devices.set(id, (d = { metrics: new Map(), born: false, lastSent: 0 }));
    let declared = d.born;
    for (const m of metrics) {
      if (!d.metrics.has(m.name!)) declared = false;
      d.metrics.set(m.name!, m);
    }
    d.lastSent = performance.now(); // monotonic, as the idle sweep's cutoff
    if (!declared && this.client) this.dbirth(id, d);
    if (isHistorical) historical(metrics);
    if (this.aliases) metrics = aliased(id, metrics, this.aliases);
    return { topic: this.topic('DDATA', id), payload: Buffer.from(encodeSparkplugPayload({ timestamp: Date.now(), seq: this.nextSeq(), metrics })) };
  }

  private forget(id: string): void {
    this.devices.delete(id);
    this.aliases?.forget(id);
  }

  private sweepIdle(): void {
    if (!this.client) return;
    const cutoff = performance.now() - this.idleMs;
    for (const [id, d] of this.devices) {
      if (d.lastSent > cutoff) continue;
      if (d.born) this.ddeath(id);
      else this.forget(id); // known from an earlier session, silent since
    }
  }

  private command(topic: string, payload: Buffer): void {
    if (topic !== this.topic('NCMD')) return;
    let metrics: UMetric[];
    try {
      metrics = decodeSparkplugPayload(payload).metrics ?? [];
    } catch (err) {
      this.counts.badCommands++;
      this.log.warn({ topic, err: (err as Error).message }, `sparkplug: ignored an NCMD that is not a Sparkplug B payload (${(err as Error).message})`);
      return;
    }
    for (const m of metrics) {
      if (m.name === REBIRTH_METRIC && m.value === true) {
        this.counts.rebirths++;
        this.log.info({ topic }, 'sparkplug: rebirth requested: sending NBIRTH and DBIRTHs');
        this.birth();
      } else {
        this.counts.badCommands++;
        this.log.warn({ topic, metric: m.name }, `sparkplug: ignored NCMD metric "${m.name}" (only "${REBIRTH_METRIC}" = true is supported)`);
      }
    }
  }

  /** Clean stop: DDEATH for every device, then the NDEATH (the Will is not sent on a clean disconnect). */
  offline(client: MqttClient, done: () => void): void {
    for (const [id, d] of this.devices) if (d.born) this.ddeath(id);
    client.publish(this.topic('NDEATH'), Buffer.from(this.ndeath()), { qos: 1 }, () => done());
  }

  refused(): string[] {
    return this.ncmd.refused ? [this.ncmd.what] : [];
  }

  closed(): void {
    this.client?.removeListener('message', this.onMessage);
    this.client = null;
    // Unborn in the next session, but their metrics are kept: the first DBIRTH declares them all.
    for (const d of this.devices.values()) d.born = false;
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.idleTimer = null;
    this.ncmd.closed();
  }
}
