/** A real Mosquitto started by a test or bench with its own config on a free loopback port (Debian package `mosquitto`). */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { sleep } from './helpers.js';

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

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

export class Mosquitto {
  proc: ChildProcess | null = null;
  log = '';
  constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    // max_queued_messages 0 / max_inflight_messages 0: unlimited, so Mosquitto does not drop QoS 1
    // messages queued for the collector (its default of 1000 would). Persistence is on (in the temp
    // dir) so that the collector's session and its queued messages survive the broker restart.
    // Started as root (as in CI), Mosquitto drops to the `mosquitto` user and then cannot write
    // its persistence file into our temp dir: sessions would be lost on restart without a word
    // (only "Error saving in-memory database" in its log). Let any user write there.
    chmodSync(dir, 0o777);
    writeFileSync(
      path.join(dir, 'mosquitto.conf'),
      [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        'max_queued_messages 0',
        'max_inflight_messages 0',
        'persistence true',
        `persistence_location ${dir}/`,
        'log_dest stdout',
        '',
      ].join('\n'),
    );
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
  /** SIGSTOP / SIGCONT: the broker hangs without closing a connection. */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }
  resume(): void {
    this.proc?.kill('SIGCONT');
  }
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((r) => {
      p.once('exit', () => r());
      p.kill('SIGCONT'); // in case it was paused
      p.kill('SIGTERM');
    });
  }
}
