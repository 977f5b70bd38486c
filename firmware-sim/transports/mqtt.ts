import mqtt, { type MqttClient } from 'mqtt';
import type { Sample } from '../sim.js';
import type { DeviceModel } from '../types.js';

export interface MqttTransportOptions {
  /** Broker URL, e.g. `mqtt://127.0.0.1:1883`. */
  url: string;
  /** Topic template: `{device}` and `{metric}` are filled in. Default `sensors/{device}/{metric}` (the MQTT driver's default). */
  topic?: string;
  clientId?: string;
  username?: string;
  password?: string;
  /** Bytes queued in the socket before `publish` asks the caller to wait (`ready()`). Default 4 MiB. */
  highWaterBytes?: number;
  /** How long to wait for the broker (it may be starting) before a clear error (ms). Default 10 s. */
  connectTimeoutMs?: number;
}

/**
 * Publishes each reading as `{"value": v, "ts": ms}` to `sensors/<device>/<metric>` at QoS 0,
 * which the MQTT driver maps to stream `<device>/<metric>`. For throughput: TCP_NODELAY, topics
 * built once per device/metric, and writes corked per batch (one syscall for many packets).
 */
export class MqttTransport {
  readonly client: MqttClient;
  published = 0;
  /** Readings not sent because the client was not connected (counted, not queued). */
  notConnected = 0;
  private readonly topics = new Map<DeviceModel, string[]>();
  private readonly template: string;
  private readonly highWater: number;
  private corked = false;

  private constructor(client: MqttClient, opts: MqttTransportOptions) {
    this.client = client;
    this.template = opts.topic ?? 'sensors/{device}/{metric}';
    this.highWater = opts.highWaterBytes ?? 4 * 1024 * 1024;
  }

  /** Connect; rejects with a clear error if the broker cannot be reached within `connectTimeoutMs` (10 s). */
  static async connect(opts: MqttTransportOptions): Promise<MqttTransport> {
    const client = mqtt.connect(opts.url, {
      clientId: opts.clientId ?? `edgewise-sim-${process.pid}-${Math.floor(Math.random() * 1e6)}`,
      username: opts.username,
      password: opts.password,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: opts.connectTimeoutMs ?? 10_000,
      queueQoSZero: false,
    });
    const t = new MqttTransport(client, opts);
    client.on('connect', () => (client.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true));
    await connected(client, opts.url, opts.connectTimeoutMs);
    return t;
  }

  private topicsOf(d: DeviceModel): string[] {
    let t = this.topics.get(d);
    if (!t) {
      t = d.metrics.map((m) => this.template.replace('{device}', d.id).replace('{metric}', m));
      this.topics.set(d, t);
    }
    return t;
  }

  /** Publish one sample (NaN values are not sent: the device is silent for them). */
  write(s: Sample): void {
    if (!this.client.connected) {
      for (const v of s.values) if (!Number.isNaN(v)) this.notConnected++;
      return;
    }
    if (!this.corked) {
      this.corked = true;
      this.client.stream.cork();
      process.nextTick(() => this.uncork());
    }
    const topics = this.topicsOf(s.device);
    const tail = `,"ts":${s.t}}`;
    const v = s.values;
    for (const [m, x] of v.entries()) {
      const topic = topics[m]; // one per metric
      if (Number.isNaN(x) || topic === undefined) continue;
      this.client.publish(topic, `{"value":${x}${tail}`, { qos: 0 });
      this.published++;
    }
  }

  private uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.client.stream.uncork();
  }

  /** Resolves when the socket has room again (bounded memory when the broker is slower than us). */
  async ready(): Promise<void> {
    this.uncork();
    const stream = this.client.stream as unknown as { writableLength?: number; once(e: string, f: () => void): void };
    if ((stream.writableLength ?? 0) < this.highWater) return;
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      stream.once('drain', done);
      setTimeout(done, 1000);
    });
  }

  async close(): Promise<void> {
    this.uncork();
    await this.client.endAsync();
  }
}

/** Resolves at the client's first connect; rejects with a clear error (and ends it) if the broker is not reached within `timeoutMs`. */
export function connected(client: MqttClient, url: string, timeoutMs = 10_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.end(true);
      reject(new Error(`simulator: cannot connect to the MQTT broker at ${url} within ${timeoutMs / 1000} s; is it running? (start one, or point --broker at it)`));
    }, timeoutMs);
    client.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
