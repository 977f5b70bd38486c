/**
 * A throwaway PostgreSQL (Debian package `postgresql`) for system tests and the benchmark: initdb in
 * a temp dir, `postgres` on a free loopback port. As root, both run as `nobody` (initdb refuses root).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin/postgres'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0]!, 'bin') : null;
}

import { freePort, waitFor } from '../runtime/helpers.js';

export { freePort };

export class TestPostgres {
  private proc: ChildProcess | null = null;
  log = '';
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'edgewise-pg-'));
  port = 0;

  get url(): string {
    return `postgres://edgewise@127.0.0.1:${this.port}/postgres`;
  }

  /** Run as `nobody` when we are root (initdb refuses root); otherwise as ourselves. */
  private readonly user = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

  async start(): Promise<void> {
    const bin = postgresBin();
    if (!bin) throw new Error('PostgreSQL not found under /usr/lib/postgresql/*/bin: apt-get install postgresql');
    const data = path.join(this.dir, 'data');
    if (process.getuid?.() === 0) {
      chownSync(this.dir, 65534, 65534);
      chmodSync(this.dir, 0o700);
    }
    if (!existsSync(data)) execFileSync(path.join(bin, 'initdb'), ['-D', data, '-U', 'edgewise', '--auth=trust', '-E', 'UTF8', '--no-sync'], { stdio: 'pipe', cwd: this.dir, ...this.user });
    this.port ||= await freePort();
    this.log = '';
    const args = ['-D', data, '-p', String(this.port), '-k', this.dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=50'];
    const p = spawn(path.join(bin, 'postgres'), args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: this.dir, ...this.user });
    p.stdout!.on('data', (d) => (this.log += d.toString()));
    p.stderr!.on('data', (d) => (this.log += d.toString()));
    this.proc = p;
    await waitFor(() => /ready to accept connections/.test(this.log) || p.exitCode !== null, 'postgres to start');
    if (p.exitCode !== null) throw new Error(`postgres did not start (exit ${p.exitCode}):\n${this.log}`);
  }

  /** Stop the server (fast shutdown: clients are cut off), keeping the data for start(). */
  async halt(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (p && p.exitCode === null) {
      await new Promise<void>((r) => {
        p.once('exit', () => r());
        p.kill('SIGINT'); // fast shutdown
      });
    }
  }

  async stop(): Promise<void> {
    await this.halt();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
