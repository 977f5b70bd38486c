/**
 * A real RabbitMQ (Debian package `rabbitmq-server`, 3.10: MQTT 3.1.1 only) with its MQTT plugin,
 * for system tests: its own node, config, data and ports in a temp dir, stoppable and restartable
 * with its data (durable queues of persistent MQTT sessions, retained messages). About 10–20 s to
 * start on a shared 2-core machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { portOpen } from './mosquitto.js';

export const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';

export class RabbitMq {
  proc: ChildProcess | null = null;
  log = '';
  /** amqpPort and distPort are taken by RabbitMQ beside the MQTT port; epmd (4369) is shared by every Erlang node. */
  constructor(
    readonly dir: string,
    readonly port: number,
    readonly amqpPort: number,
    readonly distPort: number,
  ) {
    chmodSync(dir, 0o777);
    writeFileSync(
      path.join(dir, 'rabbitmq.conf'),
      [
        `listeners.tcp.default = 127.0.0.1:${amqpPort}`,
        `mqtt.listeners.tcp.default = 127.0.0.1:${port}`,
        'mqtt.allow_anonymous = true',
        'loopback_users = none',
        '',
      ].join('\n'),
    );
    writeFileSync(path.join(dir, 'enabled_plugins'), '[rabbitmq_mqtt].\n');
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  private env(): NodeJS.ProcessEnv {
    const d = this.dir;
    return {
      ...process.env,
      HOME: d, // the Erlang cookie
      RABBITMQ_NODENAME: `edgewise-${this.port}@localhost`,
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_BASE: d,
      RABBITMQ_MNESIA_BASE: path.join(d, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(d, 'log'),
      RABBITMQ_LOGS: '-',
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(d, 'enabled_plugins'),
      RABBITMQ_CONFIG_FILE: path.join(d, 'rabbitmq'),
      RABBITMQ_PID_FILE: path.join(d, 'rabbitmq.pid'),
    };
  }

  async start(timeoutMs = 90_000): Promise<void> {
    if (!existsSync(RABBITMQ_SERVER)) throw new Error(`${RABBITMQ_SERVER} not found: apt-get install rabbitmq-server`);
    const p = spawn(RABBITMQ_SERVER, [], { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout!.on('data', (d) => (this.log += d.toString()));
    p.stderr!.on('data', (d) => (this.log += d.toString()));
    this.proc = p;
    const t0 = Date.now();
    while (!(await portOpen(this.port))) {
      if (p.exitCode !== null || Date.now() - t0 > timeoutMs) throw new Error(`rabbitmq did not start in ${timeoutMs} ms:\n${this.log.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGTERM to the Erlang VM: RabbitMQ stops cleanly (queues and retained messages are on disk), every connection is cut. */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    const pidFile = path.join(this.dir, 'rabbitmq.pid');
    const vm = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
    if (vm > 0) process.kill(vm, 'SIGTERM');
    else p.kill('SIGTERM');
    await exited;
  }
}
