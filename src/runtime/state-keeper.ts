import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../core/log.js';
import type { Reading } from '../core/reading.js';
import type { Pipeline } from '../engine/pipeline.js';
import { fromLegacy, type LegacyPipelineState, type PipelineSnapshot, type RestoreFailure } from '../engine/snapshot.js';
import { Deliveries, deliveryKey, parseDeliveryKey } from '../journal/deliveries.js';
import { IngestJournal, journalDeliveries, lastJournalPos, readJournal } from '../journal/journal.js';
import type { Outbox } from '../outbox/index.js';
import type { StateConfig } from '../state/config.js';
import { STATE_DEFAULTS } from '../state/defaults.js';
import { CheckpointWriter, type CapturedCheckpoint, type WriteReport } from '../state/checkpoint-writer.js';
import { SharedCapture } from '../core/shared-capture.js';
import { CheckpointRows, OUTBOX_STATE, readCheckpoint, setAside } from '../state/store.js';

/** The `state:` defaults (src/state/defaults.ts: the running gateway does not load the schema). */
export const DEFAULT_STATE_CONFIG: StateConfig = { ...STATE_DEFAULTS };

export interface StateStats {
  durability: StateConfig['durability'];
  /** Journal: readings appended, group commits, position, entries after the last checkpoint (what a restart would replay). */
  journal: { appended: number; commits: number; failedCommits: number; dropped: number; position: number; sinceCheckpoint: number } | null;
  checkpoints: number;
  /** Periodic checkpoints that failed (a full disk, an I/O error): the journal is kept, the next one retries. */
  failedCheckpoints: number;
  /**
   * Last checkpoint: from capture to live (ms); the longest the event loop was held by it at once
   * (the capture, or one of its transactions); its encoded size; the transactions it took; when.
   */
  lastCheckpoint: { ms: number; holdMs: number; captureMs: number; bytes: number; slices: number; at: number } | null;
  /**
   * The longest a periodic checkpoint (written in slices) held the event loop at once since start
   * (ms). Those at start, stop and reload are written at once, by design: see lastCheckpoint.
   */
  maxCheckpointMs: number;
  /** Of that, the longest capture (snapshot and encoding, at one instant) of a periodic checkpoint (ms). */
  maxCaptureMs: number;
  /** At the last start: journal entries replayed, parts restored, parts that could not be (kept aside). */
  restored: { parts: number; failed: number; replayed: number; ms: number };
  /** QoS 1 resends of deliveries already taken (a PUBACK lost in a crash): acknowledged, not taken twice. */
  redelivered: number;
}

/**
 * Crash-safe state for a gateway: restores the last checkpoint and replays the journal after it
 * at start, journals readings and ticks while running, and takes checkpoints (the state of every
 * pipeline and the outbox's id ordinals, committed with the outbox's pending messages).
 */
export class StateKeeper {
  readonly journal: IngestJournal | undefined;
  private readonly report: StateStats;
  private lastPos = 0;
  /** Journal position of the previous checkpoint: the journal is trimmed up to it. */
  private prevPos = 0;
  readonly deliveries = new Deliveries();
  /** The delivery of the next reading appended (its first reading carries it into the journal). */
  private src: string | undefined;
  private readonly writer: CheckpointWriter;
  /** Capture time of the checkpoint being written (for its stats). */
  private captureMs = 0;
  private checkpointsFailedInRow = 0;
  private unencodable = 0;

  constructor(
    private readonly o: {
      outbox: Outbox;
      pipelines: Pipeline[];
      config: StateConfig;
      log: Logger;
      now: () => number;
      dataDir: string;
      /** Bytes of checkpoint rows per transaction when written in slices (tests, benches). */
      sliceBytes?: number;
      /** Test hook: after each transaction of a checkpoint (`live`: the one that made it live). */
      afterSlice?: (slice: number, live: boolean) => void;
    },
  ) {
    const db = o.outbox.database;
    o.outbox.trackIds();
    const cp = readCheckpoint(db);
    this.lastPos = Math.max(cp.pos, lastJournalPos(db));
    this.prevPos = cp.pos;
    for (const key of journalDeliveries(db)) {
      const d = parseDeliveryKey(key);
      if (d) this.deliveries.take(...d);
    }
    if (o.config.durability === 'journal') {
      this.journal = new IngestJournal({
        lastPos: this.lastPos,
        maxWait: o.config.journal_max_wait,
        unackedWait: o.config.journal_unacked_wait,
        commit: () => o.outbox.commitJournal(),
        onError: (err) =>
          o.log.error(
            { err, file: o.outbox.file },
            `ingest journal: commit failed (${(err as Error).message}); QoS 1 publishes stay unacknowledged and the commit is retried every second. While it fails, beyond 20,000 held entries the oldest readings nobody waits for (QoS 0, serial, GPIO) are not journaled: counted in edgewise_state_journal_dropped_total, a crash before the next checkpoint loses their effect. Free space on the device if the disk is full.`,
          ),
        onUnencodable: (err, stream) => {
          if (this.unencodable++ === 0) o.log.warn({ stream, err: (err as Error).message }, `ingest journal: a reading it cannot encode (${(err as Error).message}) is not journaled: the pipelines have it, a crash before the next checkpoint loses its effect; counted in edgewise_state_journal_dropped_total (logged once). A plugin put a value in a reading that is not data (a function, a symbol)?`);
        },
        onRecovered: (failed, dropped) =>
          o.log.warn({ file: o.outbox.file, failedCommits: failed, notJournaled: dropped }, `ingest journal: commits succeed again after ${failed} failed; ${dropped} readings were not journaled meanwhile`),
      });
      o.outbox.addTxPart(this.journal);
    }
    this.writer = new CheckpointWriter({
      outbox: o.outbox,
      onWritten: (r) => this.written(r, true),
      onError: (err) => {
        this.report.failedCheckpoints++;
        // One line per run of failures: a full disk failed every checkpoint interval.
        if (this.checkpointsFailedInRow++ === 0) o.log.error({ err, file: o.outbox.file }, `state: checkpoint failed (${(err as Error).message}); the journal is kept, the next checkpoint retries (logged again once one succeeds; edgewise_state_checkpoint_failures_total counts them)`);
      },
      ...(o.sliceBytes ? { sliceBytes: o.sliceBytes } : {}),
      ...(o.afterSlice ? { afterSlice: o.afterSlice } : {}),
    });
    this.report = { durability: o.config.durability, journal: null, checkpoints: 0, failedCheckpoints: 0, lastCheckpoint: null, maxCheckpointMs: 0, maxCaptureMs: 0, restored: { parts: 0, failed: 0, replayed: 0, ms: 0 }, redelivered: 0 };
  }

  /**
   * Restore the last checkpoint into the pipelines (each part on its own: one that cannot be
   * restored is logged, counted and kept aside in `state_aside`, and its operator starts fresh),
   * then replay the journal after it through `route` / `tick`. The first start after an upgrade
   * takes detector-state.json (the old format) once and renames it.
   */
  restoreAndReplay(route: (r: Reading, at: number) => void, tick: (at: number) => void): void {
    const t0 = performance.now();
    const { outbox, log, now } = this.o;
    const db = outbox.database;
    const cp = readCheckpoint(db);
    let snaps = cp.pipelines;
    if (snaps.length === 0 && cp.undecodable.length === 0) snaps = this.legacyState();
    const failures: Array<RestoreFailure & { data: Buffer | PipelineSnapshot['parts'][string] }> = cp.undecodable.map((u) => ({ ...u, data: u.data }));
    let parts = 0;
    for (const snap of snaps) {
      if (snap.pipeline === OUTBOX_STATE) {
        const ids = snap.parts.ids;
        try {
          if (ids) outbox.ids.restore(ids.data);
          parts++;
        } catch (err) {
          failures.push({ pipeline: OUTBOX_STATE, part: 'ids', version: ids!.version, error: (err as Error).message, data: ids! });
        }
        continue;
      }
      const p = this.o.pipelines.find((x) => x.name === snap.pipeline);
      if (!p) {
        for (const [part, s] of Object.entries(snap.parts)) failures.push({ pipeline: snap.pipeline, part, version: s.version, error: 'no pipeline of this name is configured any more', data: s });
        continue;
      }
      const failed = p.restore(snap);
      parts += Object.keys(snap.parts).length - failed.length;
      for (const f of failed) failures.push({ ...f, data: snap.parts[f.part]! }); // restore reports only parts of snap
    }
    for (const f of failures) {
      log.warn({ pipeline: f.pipeline, part: f.part, version: f.version, err: f.error }, `state: could not restore ${f.pipeline} ${f.part} (${f.error}); that part starts fresh, the saved copy is kept in table state_aside of ${outbox.file}`);
      try {
        setAside(db, now(), f);
      } catch (err) {
        log.warn({ err }, 'state: could not keep the unrestorable part aside');
      }
    }
    let replayed = 0;
    for (const e of readJournal(db, cp.pos)) {
      if ('tick' in e) tick(e.at);
      else route(e.reading, e.at);
      replayed++;
    }
    const ms = performance.now() - t0;
    this.report.restored = { parts, failed: failures.length, replayed, ms };
    if (parts || failures.length || replayed) log.info({ parts, failed: failures.length, replayed, ms: Math.round(ms) }, `state: restored ${parts} parts from the checkpoint and replayed ${replayed} journal entries`);
  }

  /** detector-state.json of older versions: read once, then renamed to detector-state.json.migrated. */
  private legacyState(): PipelineSnapshot[] {
    const file = join(this.o.dataDir, 'detector-state.json');
    if (!existsSync(file)) return [];
    try {
      const old = JSON.parse(readFileSync(file, 'utf8')) as { pipelines: LegacyPipelineState[] };
      renameSync(file, `${file}.migrated`);
      this.o.log.info({ file }, 'state: took detector baselines from detector-state.json (renamed to .migrated); from now on state lives in the outbox database');
      return old.pipelines.map(fromLegacy);
    } catch (err) {
      this.o.log.warn({ file, err: (err as Error).message }, 'state: detector-state.json is unreadable; detectors start fresh');
      return [];
    }
  }

  /** Journal one reading (before the pipelines see it). */
  append(r: Reading, at: number): void {
    if (this.src === undefined) this.journal?.append(r, at);
    else {
      this.journal?.append(r, at, this.src);
      this.src = undefined;
    }
  }

  /** A QoS 1 delivery is about to be taken: false when it is a resend of one taken recently. */
  delivery = (client: string, packetId: number, hash: number): boolean => {
    if (!this.deliveries.take(client, packetId, hash)) return false;
    if (this.journal) this.src = deliveryKey(client, packetId, hash);
    return true;
  };

  tick(at: number): void {
    this.journal?.tick(at);
  }

  /** Call `done` when everything journaled so far is durable. */
  whenDurable = (done: () => void): void => {
    this.src = undefined; // the delivery is over: one that yielded no reading (refused, ignored) must not mark the next reading as its own
    if (this.journal) this.journal.whenDurable(done);
    else done();
  };

  /**
   * Save every pipeline's state (and the outbox's id ordinals) now, in one transaction with the
   * outbox's pending messages (start, stop, reload). A checkpoint being written in slices is given up.
   */
  checkpoint(): void {
    const t0 = performance.now();
    const cp = this.capture();
    this.written(this.writer.writeNow(cp, t0), false);
  }

  /**
   * Take a checkpoint now (between two readings) and write it over the next turns of the event
   * loop, a slice per transaction; it goes live with the outbox commit of its last slice. Does
   * nothing while the previous one is still being written.
   */
  checkpointInSlices(): void {
    if (this.writer.busy) return;
    const t0 = performance.now();
    this.writer.writeInSlices(this.capture(), t0);
  }

  /**
   * A periodic checkpoint is due: the journal holds at least `checkpoint_min_entries` entries after
   * the last checkpoint (always without a journal). Below that a restart replays little, and a
   * checkpoint would rewrite the whole state for a few readings.
   */
  get checkpointDue(): boolean {
    return !this.journal || this.journal.position - this.prevPos >= this.o.config.checkpoint_min_entries;
  }

  /** A checkpoint is being written in slices. */
  get writing(): boolean {
    return this.writer.busy;
  }

  /**
   * The state of every pipeline at this instant, independent of the live state from here on (the
   * detectors' arrays shared with it, copy on write, until it is encoded), encoded as it is written.
   */
  private capture(): CapturedCheckpoint {
    const t0 = performance.now();
    const pos = this.journal?.position ?? this.lastPos;
    this.o.outbox.markCheckpoint();
    const shared = new SharedCapture();
    const snaps = this.o.pipelines.map((p) => p.snapshot(shared));
    snaps.push({ pipeline: OUTBOX_STATE, parts: { ids: { version: 1, data: this.o.outbox.ids.snapshot(this.o.now()) } } });
    const rows = new CheckpointRows(snaps, () => shared.close());
    this.captureMs = performance.now() - t0;
    return {
      rows,
      pos,
      at: this.o.now(),
      trimTo: this.prevPos,
      committed: () => {
        this.prevPos = pos;
        this.deliveries.checkpoint();
      },
    };
  }

  private written(r: WriteReport, sliced: boolean): void {
    this.report.checkpoints++;
    if (this.checkpointsFailedInRow > 0) {
      this.o.log.warn({ file: this.o.outbox.file, failed: this.checkpointsFailedInRow }, `state: checkpoints succeed again after ${this.checkpointsFailedInRow} failed`);
      this.checkpointsFailedInRow = 0;
    }
    const holdMs = sliced ? Math.max(r.holdMs, this.captureMs) : r.ms;
    this.report.lastCheckpoint = { ms: r.ms, holdMs, captureMs: this.captureMs, bytes: r.bytes, slices: r.slices, at: this.o.now() };
    if (sliced && holdMs > this.report.maxCheckpointMs) this.report.maxCheckpointMs = holdMs;
    if (sliced && this.captureMs > this.report.maxCaptureMs) this.report.maxCaptureMs = this.captureMs;
  }

  /** Make the journal durable and stop its timer (before the outbox closes). */
  close(): void {
    this.writer.close();
    this.journal?.close();
  }

  stats(): StateStats {
    const j = this.journal;
    return { ...this.report, journal: j ? { ...j.stats, position: j.position, sinceCheckpoint: j.position - this.prevPos } : null, redelivered: this.deliveries.redelivered };
  }
}
