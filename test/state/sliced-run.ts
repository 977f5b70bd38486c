/**
 * A gateway's state path without the network, for the sliced-checkpoint tests: one pipeline over
 * 100 streams (the default detector on every reading, 1 s windows and an EWMA detector on the
 * mean: per-key parts of several chunks),
 * its emissions into a real outbox file, the ingest journal and checkpoints through StateKeeper.
 * Run as a child process (`node --import tsx sliced-run.ts DIR KILL`), it takes two checkpoints
 * in slices while readings keep coming and SIGKILLs itself at the point KILL names.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { pipelineSchema } from '../../src/config/pipeline.js';
import { silentLogger } from '../../src/core/log.js';
import type { Reading } from '../../src/core/reading.js';
import { compilePipeline } from '../../src/compile.js';
import { Outbox } from '../../src/outbox/index.js';
import { DEFAULT_STATE_CONFIG, StateKeeper } from '../../src/runtime/state-keeper.js';
import { outboxConfig } from '../upstream/helpers.js';

export const STREAMS = 100;
const SECONDS = 40;
const PER_SECOND = 4;
const T0 = Date.UTC(2026, 0, 1);
/** Readings per turn of the event loop (a broker's socket read, say). */
const BATCH = 40;
/** Readings after which a checkpoint in slices is started. */
export const CHECKPOINTS_AT = [5_000, 11_000];

/** Where the child kills itself: during the second sliced checkpoint, after slice N, or once it is live (before the old rows are deleted). */
export type KillPoint = { slice: number } | 'live';

export function readings(): Reading[] {
  const out: Reading[] = [];
  for (let k = 0; k < SECONDS * PER_SECOND; k++) {
    for (let s = 0; s < STREAMS; s++) {
      const ts = T0 + k * (1000 / PER_SECOND) + (s % 50);
      out.push({ stream: `m${s}/temp`, ts, value: 20 + Math.sin(k / 7 + s) * 3 + (k % 53 === s % 53 ? 40 : 0), arrival: ts });
    }
  }
  return out;
}

export function open(dir: string, afterSlice?: (slice: number, live: boolean) => void) {
  const spec = pipelineSchema().parse({
    name: 'machines',
    input: { streams: ['*/*'] },
    steps: [
      { detect: { detector: 'default' } }, // ~10 KB of state a key: its part is cut into many chunks
      { window: { type: 'tumbling', size: '1s', aggregates: ['count', 'mean', 'max'] } },
      { detect: { detector: 'ewma', field: 'mean', output: 'alerts', warmup: 10 } },
      { output: 'agg' },
    ],
  });
  const outbox = Outbox.open({ config: outboxConfig(), dataDir: dir, gatewayId: 'gw', log: silentLogger() });
  const pipeline = compilePipeline(spec, (e) => outbox.put(e));
  const keeper = new StateKeeper({
    outbox,
    pipelines: [pipeline],
    config: { ...DEFAULT_STATE_CONFIG, checkpoint_interval: 60_000 },
    log: silentLogger(),
    now: () => T0,
    dataDir: dir,
    sliceBytes: 2048, // a row per slice: many slices
    ...(afterSlice ? { afterSlice } : {}),
  });
  keeper.restoreAndReplay(
    (r) => pipeline.push(r),
    (at) => pipeline.advanceTo(at),
  );
  keeper.checkpoint();
  return { outbox, pipeline, keeper };
}

/** Feed `rs` from `from` on, a batch per turn, starting checkpoints in slices at CHECKPOINTS_AT. */
export async function feed(g: ReturnType<typeof open>, rs: Reading[], from: number): Promise<void> {
  for (let i = from; i < rs.length; i++) {
    const r = { ...rs[i]! };
    g.keeper.append(r, r.arrival!);
    g.pipeline.push(r);
    if (CHECKPOINTS_AT.includes(i)) g.keeper.checkpointInSlices();
    if (i % BATCH === BATCH - 1) await turn();
  }
}

/** Every message in the outbox file (nothing is sent: none is deleted), as stored. */
export function messages(dir: string): Array<{ id: string; seq: number; kind: string; stream: string; data: unknown }> {
  const db = new Database(join(dir, 'outbox.db'), { readonly: true });
  try {
    return (db.prepare('SELECT payload FROM messages ORDER BY id').pluck().all() as Buffer[]).map((b) => {
      const p = JSON.parse(b.toString()) as { id: string; seq: number; kind: string; stream: string; data: unknown };
      return { id: p.id, seq: p.seq, kind: p.kind, stream: p.stream, data: p.data };
    });
  } finally {
    db.close();
  }
}

if (process.argv[1]?.endsWith('sliced-run.ts') && process.argv[2]) {
  const dir = process.argv[2];
  const kill = JSON.parse(process.argv[3]!) as KillPoint;
  let sliced = 0;
  const g = open(dir, (slice, live) => {
    if (live) sliced++;
    const hit = kill === 'live' ? live && sliced === 3 : !live && sliced === 2 && slice === kill.slice;
    if (hit) {
      g.keeper.journal!.commitNow(); // what was acknowledged before the kill
      process.kill(process.pid, 'SIGKILL');
    }
  });
  await feed(g, readings(), 0);
  process.exit(3); // the kill point was never reached
}
