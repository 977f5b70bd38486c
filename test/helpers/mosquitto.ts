/**
 * A real Mosquitto (Debian package `mosquitto`) for system tests: its own config on a free loopback
 * port, persistence in a temp dir, stoppable and restartable on the same port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { waitFor } from '../runtime/helpers.js';

export async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export class Mosquitto {
  proc: ChildProcess | null = null;
  log = '';
  constructor(
    readonly dir: string,
    readonly port: number,
    extra: string[] = [],
  ) {
    // Started as root, Mosquitto drops to the `mosquitto` user and must still write its
    // persistence file here (or sessions are lost on restart with only a line in its log).
    chmodSync(dir, 0o777);
    writeFileSync(
      path.join(dir, 'mosquitto.conf'),
      [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        // Unlimited queue and in-flight window: Mosquitto's defaults (1000 queued) drop QoS 1 messages
        // queued for a slow or offline session, and a lost message must be our bug, not its limit.
        'max_queued_messages 0',
        'max_inflight_messages 0',
        'persistence true',
        `persistence_location ${dir}/`,
        'log_dest stdout',
        ...extra,
        '',
      ].join('\n'),
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
    const ended = () => p.exitCode !== null || p.signalCode !== null;
    await waitFor(async () => ended() || (await portOpen(this.port)), () => `mosquitto to listen:\n${this.log}`);
    if (ended()) throw new Error(`mosquitto did not start (exit ${p.exitCode ?? p.signalCode}):\n${this.log}`);
  }

  /** SIGSTOP / SIGCONT: the broker hangs without closing a connection. */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  /** SIGTERM: Mosquitto writes its persistence file (sessions, queued messages) and exits. */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return; // killed by a signal: no 'exit' to come
    await new Promise<void>((r) => {
      p.once('exit', () => r());
      p.kill('SIGCONT'); // in case it was paused
      p.kill('SIGTERM');
    });
  }
}
