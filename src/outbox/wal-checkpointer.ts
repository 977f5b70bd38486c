import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../core/log.js';

/**
 * WAL checkpoints off the event loop. In WAL mode SQLite copies the log into the database and
 * fsyncs both (a checkpoint) inside whichever commit crosses 1,000 log pages: on the gateway's
 * event loop, about once a second at 5,000 journaled readings/s, each holding it 30–70 ms here
 * (strace: fsync, page copies, fsync) and longer on an SD card. With `outbox.wal_checkpoint:
 * background` a worker thread does them on its own connection every `everyMs` (PASSIVE: never
 * waits for or blocks the gateway's commits), and the gateway's own automatic checkpoint stays
 * only as a backstop for a log grown to 64 MB (a stuck or failed worker). Costs ~10 MB resident
 * (the worker's V8 isolate).
 */
export interface WalCheckpointStats {
  background: boolean;
  /** Checkpoints the worker ran. */
  runs: number;
  /** Log pages it copied into the database. */
  pages: number;
  /** The longest one (ms, in the worker: the gateway is not held). */
  maxMs: number;
  failures: number;
}

/**
 * The worker: every `everyMs` PASSIVE checkpoints on its own connection, which copy what the log
 * holds into the database and fsync it without waiting for, or blocking, the gateway's commits,
 * repeated until the log is all copied (so that the gateway's next commit can start it over). Plain CommonJS, so it runs the same from the built package and from source (tsx does
 * not reach worker threads); better-sqlite3 is resolved by the gateway and passed in.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
let db;
const timer = setInterval(() => {
  try {
    if (!db) {
      db = new Database(workerData.file, { fileMustExist: true });
      db.pragma('synchronous = ' + workerData.synchronous);
      db.pragma('wal_autocheckpoint = 0');
    }
    // Until the whole log is in the database: only then does the gateway's next commit start the
    // log over (and truncate it to journal_size_limit); pages it added meanwhile are few, and quick.
    // A pass copies the log as it was when the pass began; the gateway commits meanwhile. Passes
    // follow until one finds nothing new (the last ones copy a few pages, fast).
    let copied = -1;
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      const r = db.pragma('wal_checkpoint(PASSIVE)')[0] || {};
      const done = r.checkpointed || 0;
      parentPort.postMessage({ ms: performance.now() - t, log: r.log || 0, checkpointed: Math.max(0, done - Math.max(copied, 0)) });
      if (done <= copied || r.log === 0) break;
      copied = done;
    }
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
}, workerData.everyMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  try { if (db) db.close(); } finally { parentPort.close(); }
});
`;

/** Log pages after which the gateway's own commit checkpoints (the backstop). */
export const BACKSTOP_PAGES = 16_384;

export class WalCheckpointer {
  private worker: Worker | undefined;
  readonly stats: WalCheckpointStats = { background: false, runs: 0, pages: 0, maxMs: 0, failures: 0 };
  private lastError = '';

  constructor(
    private readonly o: {
      file: string;
      everyMs: number;
      synchronous: 'NORMAL' | 'FULL';
      log: Logger;
      /** The worker is gone: the gateway checkpoints inline again (wal_autocheckpoint back to its default). */
      onStopped: () => void;
    },
  ) {}

  start(): void {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { sqlite: createRequire(import.meta.url).resolve('better-sqlite3'), file: this.o.file, everyMs: this.o.everyMs, synchronous: this.o.synchronous },
      resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 },
    });
    worker.on('message', (m: { ms?: number; log?: number; checkpointed?: number; error?: string }) => {
      if (m.error !== undefined) {
        this.stats.failures++;
        if (m.error !== this.lastError) this.o.log.warn({ file: this.o.file, err: m.error }, `outbox: background WAL checkpoint failed: ${m.error}; retrying (the gateway checkpoints itself past ${BACKSTOP_PAGES} log pages)`);
        this.lastError = m.error;
        return;
      }
      this.lastError = '';
      this.stats.runs++;
      this.stats.pages += m.checkpointed ?? 0;
      if ((m.ms ?? 0) > this.stats.maxMs) this.stats.maxMs = m.ms ?? 0;
    });
    worker.on('error', (err) => {
      this.stats.failures++;
      this.o.log.warn({ file: this.o.file, err }, `outbox: the WAL checkpoint worker stopped (${err.message}); checkpointing inline from now on`);
    });
    worker.on('exit', () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.stats.background = false;
      this.o.onStopped();
    });
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    this.worker = worker;
    this.stats.background = true;
  }

  stop(): void {
    const w = this.worker;
    this.worker = undefined;
    this.stats.background = false;
    w?.postMessage('stop');
  }
}

