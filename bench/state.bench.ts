/**
 * Crash-safe state (docs/state.md):
 * - journaled ingest: readings/s made durable by the ingest journal's group commits (append + commit
 *   in the outbox's SQLite file), outbox.durability normal and full, and CPU per reading; readings
 *   with a field (fields and tags go to the journal as JSON text);
 * - checkpoint cost and size for 10,000 streams, each with an open 1-minute window (count, mean,
 *   p95: a quantile sketch) and an EWMA detector with its alert state: at once (one transaction,
 *   as at start/stop/reload) and in slices (the periodic ones: how long the event loop is held);
 * - restart time after a SIGKILL at 10,000 readings/s: restore that checkpoint and replay 10 s of
 *   journal (100,000 readings) through the same pipeline (the process start itself not included).
 * Run: npx tsx bench/state.bench.ts   (or npm run bench state)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pipelineSchema } from '../src/config/pipeline.js';
import { silentLogger } from '../src/core/log.js';
import type { Reading } from '../src/core/reading.js';
import { compilePipeline } from '../src/compile.js';
import { type Pipeline } from '../src/engine/pipeline.js';
import { IngestJournal } from '../src/journal/journal.js';
import { outboxConfigSchema } from '../src/outbox/config.js';
import { Outbox } from '../src/outbox/index.js';
import { DEFAULT_STATE_CONFIG, StateKeeper } from '../src/runtime/state-keeper.js';
import { machine, printTable } from './report.js';

const STREAMS = 10_000;
const T0 = Date.UTC(2026, 0, 1);

function open(dir: string, durability: 'normal' | 'full' = 'normal') {
  return Outbox.open({ config: outboxConfigSchema.parse({ durability }), dataDir: dir, gatewayId: 'bench', log: silentLogger() });
}

function pipeline(): Pipeline {
  const spec = pipelineSchema().parse({
    name: 'machines',
    input: { streams: ['**'], max_keys: STREAMS },
    steps: [{ window: { type: 'tumbling', size: '1m', aggregates: ['count', 'mean', 'p95'] } }, { detect: { detector: 'ewma', field: 'mean', output: 'alerts' } }, { output: 'agg' }],
  });
  return compilePipeline(spec, () => {});
}

async function journalThroughput(durability: 'normal' | 'full', withField = false): Promise<string[]> {
  const dir = mkdtempSync(join(os.tmpdir(), 'edgewise-state-bench-'));
  const outbox = open(dir, durability);
  const keeper = new StateKeeper({ outbox, pipelines: [], config: DEFAULT_STATE_CONFIG, log: silentLogger(), now: Date.now, dataDir: dir });
  const N = 300_000;
  const rs: Reading[] = Array.from({ length: 1000 }, (_, i) => ({ stream: `m-${i}/vibration`, ts: 0, value: 0 }));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // As a busy broker would: bursts of readings per event-loop turn, each burst made durable
  // (2,000 pending readings commit at once; smaller bursts wait up to journal_max_wait).
  for (let i = 0; i < N; i += 2000) {
    for (let j = 0; j < 2000; j++) {
      const r = rs[(i + j) % 1000]!;
      keeper.append({ stream: r.stream, ts: T0 + i + j, value: (i + j) % 97, ...(withField ? { fields: { t: T0 + i + j + 0.5 } } : {}) }, Date.now());
    }
    await new Promise<void>((resolve) => keeper.whenDurable(resolve));
  }
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const st = keeper.stats().journal!;
  keeper.close();
  outbox.close();
  rmSync(dir, { recursive: true, force: true });
  return [`journal, outbox.durability ${durability}${withField ? ', readings with a field (as the runtime bench sends)' : ''}`, `${Math.round(N / secs).toLocaleString('en')} readings/s durable`, `${(((cpu.user + cpu.system) / N)).toFixed(2)} µs CPU/reading; ${st.commits} commits`];
}

/** Appends while every commit fails (a full disk): beyond the bound the oldest go, a sealed block at a time. */
function appendWhileCommitsFail(): string[] {
  const journal = new IngestJournal({
    lastPos: 0,
    maxWait: 5,
    unackedWait: 100,
    commit: () => {
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    },
    onError: () => {},
  });
  const N = 400_000;
  const rs: Reading[] = Array.from({ length: 1000 }, (_, i) => ({ stream: `m-${i}/vibration`, ts: 0, value: 0 }));
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const r = rs[i % 1000]!;
    journal.append({ stream: r.stream, ts: T0 + i, value: i % 97 }, T0 + i);
  }
  const cpu = process.cpuUsage(cpu0);
  journal.close();
  return [
    `journal append while every commit fails (a full disk), ${N.toLocaleString('en')} appends, 20,000 held at most`,
    `${((cpu.user + cpu.system) / N).toFixed(2)} µs CPU/append`,
    `${journal.stats.dropped.toLocaleString('en')} dropped (counted), ${journal.stats.reencoded.toLocaleString('en')} encoded again`,
  ];
}

function fill(p: Pipeline, readingsPerStream: number, from = 0): void {
  for (let k = from; k < from + readingsPerStream; k++) {
    for (let s = 0; s < STREAMS; s++) p.push({ stream: `m-${s}/vibration`, ts: T0 + k * 1000 + (s % 1000), value: 10 + Math.sin(k + s) });
  }
}

async function checkpointAndRestart(): Promise<string[][]> {
  const dir = mkdtempSync(join(os.tmpdir(), 'edgewise-state-bench-'));
  const cfg = DEFAULT_STATE_CONFIG;
  let outbox = open(dir);
  let p = pipeline();
  let keeper = new StateKeeper({ outbox, pipelines: [p], config: cfg, log: silentLogger(), now: Date.now, dataDir: dir });
  // 5 minutes of readings (the detectors have a history), then 30 s into an open window.
  fill(p, 330);
  const rows: string[][] = [];
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
  // All at once (as at start, stop and reload): one transaction, the event loop held throughout.
  const once: Array<{ ms: number; cpu: number; bytes: number }> = [];
  for (let i = 0; i < 5; i++) {
    const c0 = process.cpuUsage();
    keeper.checkpoint();
    const l = keeper.stats().lastCheckpoint!;
    once.push({ ms: l.ms, cpu: cpuMs(process.cpuUsage(c0)), bytes: l.bytes });
  }
  const bytes = once[0]!.bytes;
  rows.push([
    `checkpoint at once (start, stop, reload), ${STREAMS.toLocaleString('en')} streams with an open window (count, mean, p95) and an EWMA detector`,
    `${median(once.map((x) => x.ms)).toFixed(0)} ms held (median of 5; capture + one transaction), ${median(once.map((x) => x.cpu)).toFixed(0)} ms CPU`,
    `${(bytes / 1024 / 1024).toFixed(1)} MB, ${(bytes / STREAMS).toFixed(0)} B per stream`,
  ]);
  // In slices (the periodic ones): capture at one instant, then a transaction of ~128 KB per event-loop turn.
  const sliced: Array<{ ms: number; hold: number; capture: number; slices: number; cpu: number }> = [];
  for (let i = 0; i < 5; i++) {
    const c0 = process.cpuUsage();
    keeper.checkpointInSlices();
    while (keeper.writing) await new Promise((r) => setImmediate(r));
    const l = keeper.stats().lastCheckpoint!;
    sliced.push({ ms: l.ms, hold: l.holdMs, capture: l.captureMs, slices: l.slices, cpu: cpuMs(process.cpuUsage(c0)) });
  }
  rows.push([
    `checkpoint in slices (periodic), same state`,
    `longest hold of the event loop ${median(sliced.map((x) => x.hold)).toFixed(0)} ms (capture ${median(sliced.map((x) => x.capture)).toFixed(0)} ms), live after ${median(sliced.map((x) => x.ms)).toFixed(0)} ms`,
    `${sliced[0]!.slices} transactions, ${median(sliced.map((x) => x.cpu)).toFixed(0)} ms CPU (old rows deleted after, a few per turn)`,
  ]);
  // 10 s at 10,000 readings/s after the checkpoint, journaled; then a "SIGKILL": nothing more is saved.
  for (let k = 330; k < 340; k++) {
    for (let s = 0; s < STREAMS; s++) {
      const r = { stream: `m-${s}/vibration`, ts: T0 + k * 1000 + (s % 1000), value: 10 + Math.sin(k + s) };
      keeper.append(r, Date.now());
      p.push(r);
    }
  }
  keeper.journal!.commitNow();
  // A second connection reads the file as a restarted process would (the first is abandoned, as a killed process's is).
  const t0 = performance.now();
  outbox = open(dir);
  p = pipeline();
  keeper = new StateKeeper({ outbox, pipelines: [p], config: cfg, log: silentLogger(), now: Date.now, dataDir: dir });
  keeper.restoreAndReplay(
    (r) => p.push(r),
    (at) => p.advanceTo(at),
  );
  const ms = performance.now() - t0;
  const r = keeper.stats().restored;
  rows.push([`restart after a SIGKILL at 10,000 readings/s, 10 s after the checkpoint`, `${ms.toFixed(0)} ms (open + restore + replay)`, `${r.replayed.toLocaleString('en')} journal entries replayed, ${r.parts} parts restored, ${r.failed} failed`]);
  outbox.close();
  rmSync(dir, { recursive: true, force: true });
  return rows;
}

const rows: string[][] = [];
rows.push(await journalThroughput('normal'));
rows.push(await journalThroughput('full'));
rows.push(await journalThroughput('normal', true));
rows.push(appendWhileCommitsFail());
rows.push(...(await checkpointAndRestart()));
printTable(`state (${machine()}; shared machine: other work ran on the same cores)`, ['what', 'figure', 'note'], rows);
