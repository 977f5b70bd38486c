/**
 * Crash-safe state (docs/state.md):
 * - journaled ingest: readings/s made durable by the ingest journal's group commits (append + commit
 *   in the outbox's SQLite file), outbox.durability normal and full, and CPU per reading;
 * - checkpoint cost and size for 10,000 streams, each with an open 1-minute window (count, mean,
 *   p95: a quantile sketch) and an EWMA detector with its alert state;
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
import { outboxConfigSchema } from '../src/outbox/config.js';
import { Outbox } from '../src/outbox/index.js';
import { StateKeeper } from '../src/runtime/state-keeper.js';
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

async function journalThroughput(durability: 'normal' | 'full'): Promise<string[]> {
  const dir = mkdtempSync(join(os.tmpdir(), 'edgewise-state-bench-'));
  const outbox = open(dir, durability);
  const keeper = new StateKeeper({ outbox, pipelines: [], config: { durability: 'journal', journal_max_wait: 5, checkpoint_interval: 10_000 }, log: silentLogger(), now: Date.now, dataDir: dir });
  const N = 300_000;
  const rs: Reading[] = Array.from({ length: 1000 }, (_, i) => ({ stream: `m-${i}/vibration`, ts: 0, value: 0 }));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // As a busy broker would: bursts of readings per event-loop turn, each burst made durable
  // (2,000 pending readings commit at once; smaller bursts wait up to journal_max_wait).
  for (let i = 0; i < N; i += 2000) {
    for (let j = 0; j < 2000; j++) {
      const r = rs[(i + j) % 1000]!;
      keeper.append({ stream: r.stream, ts: T0 + i + j, value: (i + j) % 97 }, Date.now());
    }
    await new Promise<void>((resolve) => keeper.whenDurable(resolve));
  }
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const st = keeper.stats().journal!;
  keeper.close();
  outbox.close();
  rmSync(dir, { recursive: true, force: true });
  return [`journal, outbox.durability ${durability}`, `${Math.round(N / secs).toLocaleString('en')} readings/s durable`, `${(((cpu.user + cpu.system) / N)).toFixed(2)} µs CPU/reading; ${st.commits} commits`];
}

function fill(p: Pipeline, readingsPerStream: number, from = 0): void {
  for (let k = from; k < from + readingsPerStream; k++) {
    for (let s = 0; s < STREAMS; s++) p.push({ stream: `m-${s}/vibration`, ts: T0 + k * 1000 + (s % 1000), value: 10 + Math.sin(k + s) });
  }
}

function checkpointAndRestart(): string[][] {
  const dir = mkdtempSync(join(os.tmpdir(), 'edgewise-state-bench-'));
  const cfg = { durability: 'journal' as const, journal_max_wait: 5, checkpoint_interval: 10_000 };
  let outbox = open(dir);
  let p = pipeline();
  let keeper = new StateKeeper({ outbox, pipelines: [p], config: cfg, log: silentLogger(), now: Date.now, dataDir: dir });
  // 5 minutes of readings (the detectors have a history), then 30 s into an open window.
  fill(p, 330);
  const rows: string[][] = [];
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 5; i++) {
    keeper.checkpoint();
    times.push(keeper.stats().lastCheckpoint!.ms);
    bytes = keeper.stats().lastCheckpoint!.bytes;
  }
  times.sort((a, b) => a - b);
  rows.push([`checkpoint, ${STREAMS.toLocaleString('en')} streams with an open window (count, mean, p95) and an EWMA detector`, `${times[2]!.toFixed(0)} ms (median of 5; snapshot + encode + commit)`, `${(bytes / 1024 / 1024).toFixed(1)} MB, ${(bytes / STREAMS).toFixed(0)} B per stream`]);
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
rows.push(...checkpointAndRestart());
printTable(`state (${machine()}; shared machine: other work ran on the same cores)`, ['what', 'figure', 'note'], rows);
