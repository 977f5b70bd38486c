import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { waitFor } from '../runtime/helpers.js';

const ROOT = join(import.meta.dirname, '../..');

export interface CollectorChild {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `edgewise collect …` as a real child process; resolves once it logs that it is collecting. */
export async function startCollector(args: string[]): Promise<CollectorChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'collect', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, EDGEWISE_LOG_FORMAT: 'json' },
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d.toString()));
  child.stderr!.on('data', (d) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  // tsx compiling the CLI takes seconds, and tens of them when the 2 shared cores are busy.
  await waitFor(() => out.includes('"collecting"') || child.exitCode !== null, 'the collector to start', 90_000).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
  if (child.exitCode !== null) throw new Error(`collector did not start (exit ${child.exitCode}):\n${out}`);
  return { child, output: () => out, exited };
}

/**
 * A TCP relay in front of the broker for the gateways: stopping it is an uplink outage (every
 * gateway connection cut, connects refused) while the broker and the collectors stay up.
 */
export class Uplink {
  private server: net.Server | null = null;
  private sockets = new Set<net.Socket>();
  port = 0;
  constructor(readonly brokerPort: number) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = net.createServer({ noDelay: true }, (a) => {
      const b = net.connect({ port: this.brokerPort, host: '127.0.0.1', noDelay: true });
      for (const s of [a, b]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      a.pipe(b).pipe(a);
      a.on('close', () => b.destroy());
      b.on('close', () => a.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', () => resolve()));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}
