import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, writeSync, closeSync, existsSync } from 'node:fs';
import type { Sample } from '../sim.js';
import { hasGps } from '../types.js';

/**
 * Serial through pseudo-terminals (needs `socat`): socat links a pty pair, the gateway opens
 * `path` (serial driver, `format: kv`), the simulator writes to `path.sim`. Each sample is one
 * line `device=pump-1 ts=<ms> vibration_rms=0.0886 ...` (NaN values left out). Vehicles' GPS goes
 * as raw NMEA 0183 (GGA, RMC, VTG, once per simulated second) to a pty of its own,
 * `<path>-gps-<vehicle>` (serial driver, `format: nmea`).
 */
export interface PtyLink {
  /** The end the gateway opens. */
  path: string;
  /** The end the simulator writes to. */
  simPath: string;
  child: ChildProcess;
  fd: number;
}

/** Start `socat` with a linked pty pair; resolves when both links exist. */
export async function openPtyLink(path: string, timeoutMs = 10_000): Promise<PtyLink> {
  const simPath = `${path}.sim`;
  let log = '';
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${path}`, `pty,raw,echo=0,link=${simPath}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (e) => reject(new Error(`simulator: cannot start socat for the serial link ${path}: ${e.message} (install socat, e.g. apt-get install socat)`)));
    child.once('exit', (code) => reject(new Error(`simulator: socat exited (${code}) before the serial link ${path} was ready: ${log.trim().split('\n').pop() ?? ''}`)));
  });
  const ready = (async () => {
    const t0 = Date.now();
    while (!/starting data transfer loop/.test(log) || !existsSync(simPath)) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`simulator: socat did not create ${path} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  await Promise.race([ready, failed]);
  failed.catch(() => {});
  const fd = openSync(simPath, 'w');
  return { path, simPath, child, fd };
}

export async function closePtyLink(l: PtyLink): Promise<void> {
  try {
    closeSync(l.fd);
  } catch {
    // already closed
  }
  if (l.child.exitCode === null && l.child.signalCode === null) {
    const exited = new Promise((r) => l.child.once('exit', r));
    l.child.kill('SIGTERM');
    await exited;
  }
}

/** A kv line for one sample. */
export function kvLine(s: Sample): string {
  let line = `device=${s.device.id} ts=${s.t}`;
  const v = s.values;
  const names = s.device.metrics;
  for (const [m, x] of v.entries()) if (!Number.isNaN(x)) line += ` ${names[m]}=${x}`;
  return line + '\n';
}

export class SerialTransport {
  lines = 0;
  sentences = 0;
  /** Write errors (the other end closed): counted, the run goes on. */
  errors = 0;
  private readonly gps = new Map<string, PtyLink>();
  private readonly lastGpsSecond = new Map<string, number>();
  private buf = '';

  private constructor(readonly link: PtyLink) {}

  /** Open the kv link at `path` and one NMEA link per vehicle id in `vehicles`. */
  static async open(path: string, vehicles: string[] = []): Promise<SerialTransport> {
    const t = new SerialTransport(await openPtyLink(path));
    for (const v of vehicles) t.gps.set(v, await openPtyLink(`${path}-gps-${v}`));
    return t;
  }

  gpsPaths(): Record<string, string> {
    return Object.fromEntries([...this.gps].map(([v, l]) => [v, l.path]));
  }

  write(s: Sample): void {
    this.buf += kvLine(s);
    this.lines++;
    const d = s.device;
    if (hasGps(d)) {
      const link = this.gps.get(d.id);
      const sec = Math.floor(s.t / 1000);
      if (link && this.lastGpsSecond.get(d.id) !== sec) {
        this.lastGpsSecond.set(d.id, sec);
        const text = d.nmea(s.t).join('\r\n') + '\r\n';
        this.sentences += 3;
        this.put(link.fd, text);
      }
    }
    if (this.buf.length > 16_384) this.flush();
  }

  flush(): void {
    if (!this.buf) return;
    this.put(this.link.fd, this.buf);
    this.buf = '';
  }

  private put(fd: number, text: string): void {
    try {
      writeSync(fd, text);
    } catch {
      this.errors++;
    }
  }

  async close(): Promise<void> {
    this.flush();
    await closePtyLink(this.link);
    for (const l of this.gps.values()) await closePtyLink(l);
  }
}
