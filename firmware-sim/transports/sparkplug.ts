import mqtt, { type MqttClient } from 'mqtt';
import sparkplug from 'sparkplug-payload';
import type { UMetric } from 'sparkplug-payload/lib/sparkplugbpayload.js';
import type { Sample } from '../sim.js';
import type { DeviceModel } from '../types.js';
import { connected } from './mqtt.js';

const codec = sparkplug.get('spBv1.0')!;

/** An NDEATH's payload: the bdSeq of the session it ends. */
const death = (bdSeq: number) => Buffer.from(codec.encodePayload({ timestamp: Date.now(), metrics: [{ name: 'bdSeq', type: 'UInt64', value: bdSeq }] }));

export interface SparkplugTransportOptions {
  url: string;
  /** Sparkplug group id. */
  group: string;
  /** Edge node id (default `sim`). */
  node?: string;
}

/**
 * The simulator as a Sparkplug B edge node, as PLC gateways publish: NBIRTH at every connect
 * (bdSeq, `Node Control/Rebirth`), a DBIRTH per device before its first data (every metric with
 * its alias, Double, and the values about to be sent), then one DDATA per sample with the metrics
 * by alias and the sample's time; NDEATH as the will; an NCMD rebirth answered with NBIRTH and
 * every DBIRTH again. Births QoS 0, data QoS 0 (as the specification asks).
 */
export class SparkplugTransport {
  published = 0;
  notConnected = 0;
  births = 0;
  private seq = 0;
  private bdSeq = 0;
  private readonly node: string;
  /** Per device: the alias of its first metric (the others follow) and its last values. */
  private readonly devices = new Map<DeviceModel, { base: number; last: Float64Array; t: number; born: boolean }>();

  private constructor(
    readonly client: MqttClient,
    private readonly o: SparkplugTransportOptions,
  ) {
    this.node = o.node ?? 'sim';
  }

  static async connect(o: SparkplugTransportOptions): Promise<SparkplugTransport> {
    const node = o.node ?? 'sim';
    const client = mqtt.connect(o.url, {
      clientId: `edgewise-sim-sparkplug-${process.pid}`,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      queueQoSZero: false,
      will: { topic: `spBv1.0/${o.group}/NDEATH/${node}`, payload: death(0), qos: 1, retain: false },
    });
    const t = new SparkplugTransport(client, o);
    client.on('connect', () => {
      (client.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
      client.subscribe(`spBv1.0/${o.group}/NCMD/${node}`, { qos: 1 });
      t.birth();
    });
    client.on('close', () => {
      // The next connection's will carries the bdSeq of the NBIRTH that follows it.
      t.bdSeq = (t.bdSeq + 1) & 255;
      if (client.options.will) client.options.will.payload = death(t.bdSeq);
    });
    client.on('message', (_topic, payload) => {
      try {
        if (codec.decodePayload(payload).metrics?.some((m) => m.name === 'Node Control/Rebirth' && m.value === true)) t.birth();
      } catch {
        // not a Sparkplug command: ignored, as the specification allows
      }
    });
    await connected(client, o.url);
    return t;
  }

  private topic(type: string, device?: string): string {
    return `spBv1.0/${this.o.group}/${type}/${this.node}${device === undefined ? '' : `/${device}`}`;
  }

  private publish(type: string, device: string | undefined, timestamp: number, metrics: UMetric[]): void {
    this.client.publish(this.topic(type, device), Buffer.from(codec.encodePayload({ timestamp, seq: this.seq, metrics })), { qos: 0 });
    this.seq = (this.seq + 1) & 255;
  }

  /** NBIRTH (seq 0), then a DBIRTH for every device already seen. */
  private birth(): void {
    this.seq = 0;
    this.publish('NBIRTH', undefined, Date.now(), [
      { name: 'bdSeq', type: 'UInt64', value: this.bdSeq },
      { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
    ]);
    this.births++;
    for (const [d, st] of this.devices) if (st.born) this.dbirth(d);
  }

  private dbirth(d: DeviceModel): void {
    const st = this.devices.get(d)!;
    this.publish(
      'DBIRTH',
      d.id,
      Date.now(),
      d.metrics.map((name, i) => ({ name, alias: st.base + i, type: 'Double', value: Number.isNaN(st.last[i]!) ? null : st.last[i]!, timestamp: st.t, ...(Number.isNaN(st.last[i]!) ? { isNull: true } : {}) }) as UMetric),
    );
    st.born = true;
    this.births++;
  }

  write(s: Sample): void {
    if (!this.client.connected) {
      for (const v of s.values) if (!Number.isNaN(v)) this.notConnected++;
      return;
    }
    let st = this.devices.get(s.device);
    if (!st) this.devices.set(s.device, (st = { base: this.devices.size * 1000 + 1, last: new Float64Array(s.device.metrics.length).fill(Number.NaN), t: s.t, born: false }));
    st.last.set(s.values);
    st.t = s.t;
    if (!st.born) this.dbirth(s.device);
    const metrics: UMetric[] = [];
    for (const [i, v] of s.values.entries()) if (!Number.isNaN(v)) metrics.push({ alias: st.base + i, type: 'Double', value: v, timestamp: s.t } as UMetric);
    if (metrics.length === 0) return;
    this.publish('DDATA', s.device.id, Date.now(), metrics);
    this.published += metrics.length;
  }

  async close(): Promise<void> {
    // A clean stop: NDEATH ourselves (the will goes only when the connection dies).
    if (this.client.connected) await this.client.publishAsync(this.topic('NDEATH'), death(this.bdSeq), { qos: 1 }).catch(() => undefined);
    await this.client.endAsync();
  }
}
