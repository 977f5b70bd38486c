/**
 * Child processes for the benches that compare processes (bench/peers/run.ts, bench/client.bench.ts):
 * waiting on them, stopping them, their CPU and memory from /proc (Linux), and a fresh Mosquitto.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort } from './raw-mqtt.js';

/** Poll `cond` every 50 ms until true; throw `what` after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(what());
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function next<T>(c: ChildProcess, pred: (m: object) => boolean): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (m: unknown) => {
      if (typeof m === 'object' && m !== null && pred(m)) {
        c.off('message', on);
        resolve(m as T);
      }
    };
    c.on('message', on);
    c.once('exit', (code) => reject(new Error(`process ${c.spawnargs.slice(0, 3).join(' ')} exited (${code}) before answering`)));
  });
}

export async function stopProcess(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const gone = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill('SIGTERM');
  const t = setTimeout(() => c.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(t);
}

const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU ms (user + system) and memory of a process, from /proc. */
export function procSample(pid: number): { cpuMs: number; rss: number; hwm: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  const cpuMs = ((Number(f[11]) + Number(f[12])) * 1000) / TICK; // utime, stime (fields 14, 15)
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)?.[1] ?? NaN) * 1024;
  return { cpuMs, rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/**
 * Where a process's resident memory is, by mapping (`/proc/PID/smaps`): anonymous mappings grouped
 * by size class (V8's heap pages are 256 KB each; thread stacks 8 MB reserved; malloc arenas 64 MB),
 * file mappings by file. For the benches' `*_SMAPS=1` reports.
 */
export function residentByMapping(pid: number): Array<{ what: string; rssKB: number; n: number }> {
  const out = new Map<string, { rssKB: number; n: number }>();
  let what = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const sizeKB = (parseInt(head[2]!, 16) - parseInt(head[1]!, 16)) / 1024;
      const name = head[4]!.trim();
      // the executable by segment: code (r-x) and read-only data (r--: V8's snapshot, ICU's data) apart
      what = name && !name.startsWith('[anon') ? `${name.replace(/.*\//, '')}${name.endsWith('/node') ? ` ${head[3]}` : ''}` : `anon ${sizeKB >= 65536 ? '≥64 MB' : sizeKB >= 8192 ? '8–64 MB' : sizeKB >= 1024 ? '1–8 MB' : sizeKB >= 256 ? '256 KB–1 MB' : '<256 KB'}`;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) {
      const e = out.get(what) ?? { rssKB: 0, n: 0 };
      e.rssKB += Number(rss[1]);
      e.n++;
      out.set(what, e);
    }
  }
  return [...out].map(([w, e]) => ({ what: w, ...e })).sort((a, b) => b.rssKB - a.rssKB);
}

export function quantile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

/** A fresh Mosquitto on a free loopback port; no queue or inflight limits, so a loss is not its limit. */
export async function startMosquitto(dir: string, pinned: boolean): Promise<{ port: number; proc: ChildProcess }> {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    `listener ${port} 127.0.0.1
allow_anonymous true
persistence false
set_tcp_nodelay true
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 0
sys_interval 1
log_dest stderr
log_type error
log_type warning
`,
  );
  const proc = spawn(pinned ? 'taskset' : '/usr/sbin/mosquitto', pinned ? ['-c', '1', '/usr/sbin/mosquitto', '-c', conf] : ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  await until(() => new Promise<boolean>((r) => net.connect(port, '127.0.0.1').once('connect', function (this: net.Socket) { this.destroy(); r(true); }).once('error', () => r(false))), 5000, () => `mosquitto did not listen on ${port}`);
  return { port, proc };
}

/** Resolves once Mosquitto reports `n` subscriptions ($SYS, every second); ours counts one. */
export async function mosquittoSubscriptions(port: number, n: number, ms: number): Promise<void> {
  const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: 'peers-monitor', reconnectPeriod: 0 });
  let count = 0;
  c.on('message', (_t, p) => (count = Number(p.toString())));
  c.on('connect', () => c.subscribe('$SYS/broker/subscriptions/count'));
  try {
    await until(() => count >= n + 1, ms, () => `mosquitto on ${port}: ${count - 1} subscriber(s) after ${ms} ms, expected ${n}`);
  } finally {
    await new Promise<void>((r) => c.end(true, {}, () => r()));
  }
}

