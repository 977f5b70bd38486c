import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * A Mosquitto started by a test on a loopback port, with unlimited queues (a lost message is our
 * bug, not its limit) and persistence in `dir` (a persistent subscriber's session survives its
 * restarts), and a collector subscribed to everything Edgewise sends (QoS 1, clean: false).
 */
export class Mosquitto {
  private proc: ChildProcess | null = null;
  log = '';
  readonly received: Array<{ topic: string; payload: Buffer }> = [];
  private collector: MqttClient | undefined;

  constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    chmodSync(dir, 0o777); // run as root, Mosquitto drops to its own user and must write persistence here
    writeFileSync(
      path.join(dir, 'mosquitto.conf'),
      [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'max_queued_messages 0', 'max_inflight_messages 0', 'persistence true', `persistence_location ${dir}/`, 'log_dest stdout', ''].join('\n'),
    );
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const p = spawn('mosquitto', ['-c', path.join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout!.on('data', (d) => (this.log += d.toString()));
    p.stderr!.on('data', (d) => (this.log += d.toString()));
    this.proc = p;
    const t0 = Date.now();
    while (!(await portOpen(this.port))) {
      if (p.exitCode !== null || Date.now() - t0 > 15_000) throw new Error(`mosquitto did not start:\n${this.log}`);
      await sleep(50);
    }
  }

  /** Subscribe the collector (once; it reconnects by itself across restarts). */
  async collect(filter = 'edgewise/v1/#'): Promise<void> {
    const c = mqtt.connect(this.url, { clientId: 'collector', clean: false, reconnectPeriod: 100 });
    c.on('connect', () => {
      const s = c.stream as net.Socket | undefined;
      s?.setNoDelay?.(true);
    });
    c.on('message', (topic, payload) => {
      if (!topic.endsWith('/status')) this.received.push({ topic, payload: Buffer.from(payload) });
    });
    c.on('error', () => {});
    this.collector = c;
    await new Promise<void>((resolve, reject) => c.once('connect', () => c.subscribe(filter, { qos: 1 }, (err) => (err ? reject(err) : resolve()))));
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((r) => {
      p.once('exit', () => r());
      p.kill('SIGTERM');
    });
  }

  async close(): Promise<void> {
    this.collector?.end(true);
    await this.stop();
  }
}
