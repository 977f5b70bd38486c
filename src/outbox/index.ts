import type Database from 'better-sqlite3';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DropCounter, DropSample } from '../core/drops.js';
import type { Logger } from '../core/log.js';
import { PRIORITY, priorityOf, type Emission, type Priority } from '../core/records.js';
import { encodePayload, upstreamKindOf } from '../core/payload.js';
import type { OutboxConfig } from './config.js';
import { DeadLetters, type DeadLetterEntry } from './dead-letters.js';
import { DiskSpace, MemoryHold, SPACE_CHECK_EVERY_MS, SPACE_RESERVE_BYTES } from './disk-full.js';
import { OutboxDrops, byPriority, type OutboxDropReason } from './drops.js';
import { SpaceGiveBack } from './give-back.js';
import { BACKSTOP_PAGES, WalCheckpointer } from './wal-checkpointer.js';
import { MessageIds, SeenIds } from './ids.js';
import { KeyRegistry, keyName } from './keys.js';
import { moveAside, openRecovering } from './recovery.js';
import { Retention, Tally } from './retention.js';
import { isCorrupt, isDiskFull } from './sqlite-errors.js';
import { OutboxStore } from './store.js';
import { TxParts, type TxPart } from './tx-parts.js';
import { describe, rowOf, type CommitListener, type OutboxKey, type OutboxRow, type OutboxStats, type PendingMsg } from './types.js';

export type { OutboxConfig } from './config.js';
export type { TxPart } from './tx-parts.js';
export type { CommitListener, OutboxKey, OutboxRow, OutboxStats } from './types.js';

const AGE_SWEEP_EVERY_MS = 5_000;
/** How often a commit looks for idle sequence keys to drop from memory (KeyRegistry.evictIdle). */
const KEY_SWEEP_MS = 60_000;
/**
 * Local row ids are reserved in the file a block at a time (meta `next_id`, read at open), so that
 * ids never go back after a restart without a meta page written to the WAL in every commit; a
 * restart skips what was left of the block.
 */
const ID_BLOCK = 4096;
/**
 * A commit is synchronous (better-sqlite3): at ~10 µs a row, the burst of one window close (a row
 * per stream) would hold the event loop, and ingest, for milliseconds. The commit timer therefore
 * commits at most this many messages (and as many acknowledgements) per transaction, the rest in
 * the next turns of the event loop. flush() still commits everything at once.
 */
const COMMIT_SLICE = 50;
/** Window results pending that make a burst worth an early commit (aggregate_commit_delay): a slice. */
const AGGREGATE_BURST = COMMIT_SLICE;
/** While the disk is nearly full, free pages go back to the file system in slices of this size (each slice's moved pages go to the WAL). */
const GIVE_BACK_SLICE_BYTES = SPACE_RESERVE_BYTES / 4;

export interface OutboxOpenOptions {
  config: OutboxConfig;
  dataDir: string;
  gatewayId: string;
  log: Logger;
  /** The gateway time: messages' `emitted`, ages. */
  now?: () => number;
  /** The monotonic clock for spans the outbox measures itself (default performance.now; a test may hold it still). */
  monotonic?: () => number;
  /** Test hook: PRAGMA max_page_count, to simulate a full disk. */
  maxPageCount?: number;
  /** Test hook: how often at most the WAL is truncated when the outbox is empty (default 30 s). */
  giveBackEveryMs?: number;
  /** Test hook: how often the background WAL checkpoint runs (default 1 s). */
  walCheckpointEveryMs?: number;
}

/** How often the background WAL checkpoint runs (outbox.wal_checkpoint: background). */
const WAL_CHECKPOINT_EVERY_MS = 1000;

/** One commit transaction: what it writes and under which bound. */
interface CommitJob {
  /** Messages to insert, in id order (those held in memory first). */
  messages: PendingMsg[];
  acks: OutboxRow[];
  /** Apply the age bound in this commit. */
  sweepAge: boolean;
  now: number;
  maxBytes: number;
  /** The reason a message dropped by the byte bound is counted under. */
  fullReason: OutboxDropReason;
  /** More slices of the open batch follow (see KeyRegistry.seqsToSave). */
  moreFollow: boolean;
}

/**
 * The store-and-forward outbox: a SQLite file (WAL) that every upstream message goes through.
 * put() is synchronous and cheap; messages are committed in groups (N messages or T ms).
 *
 * This class coordinates the parts: the file (store.ts), the sequence keys (keys.ts), the bounds
 * (retention.ts), the memory hold while the disk is full (disk-full.ts), opening and corruption
 * recovery (recovery.ts), drops (drops.ts), dead letters (dead-letters.ts), space given back
 * (give-back.ts) and what else is written in a commit (tx-parts.ts).
 */
export class Outbox {
  readonly file: string;
  private store!: OutboxStore;
  private readonly cfg: OutboxConfig;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly mono: () => number;
  private readonly gateway: string;
  private readonly maxPageCount?: number;
  private epoch = '';
  private nextId = 1;
  /** Row ids below this are reserved in the file (meta next_id): see ID_BLOCK. */
  private idsReservedTo = 1;
  private readonly keys = new KeyRegistry();
  /** Committed rows per priority (in the file). */
  private tally = new Tally();
  private batch: PendingMsg[] = [];
  private acks: OutboxRow[] = [];
  /** Acknowledged rows whose delete is not committed yet: never read back for sending. */
  private readonly ackedIds = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  /** Alerts first: the commit of the pending alerts is scheduled (commitAlerts). */
  private alertTimer: NodeJS.Timeout | null = null;
  private alertSoon = false;
  /** When the last commit of alerts ran (performance.now()): the next one waits alert_commit_delay after it. */
  private lastAlertCommit = -Infinity;
  /** Window results are waiting for their commit (aggregate_commit_delay). */
  private aggregateTimer: NodeJS.Timeout | null = null;
  /** Window results put since the last commit of pending messages. */
  private aggregatesPut = 0;
  /** Time (this.mono()) until which a window result belongs to the burst under way: it arms the early commit again. */
  private aggregateBurstUntil = 0;
  /** A burst's tail is followed at most commit_interval from its start (a steady flow of results keeps the group commit). */
  private aggregateBurstEnd = 0;
  private sliceTimer: NodeJS.Immediate | null = null;
  private closed = false;
  private lastAgeSweep = 0;
  private readonly listeners: CommitListener[] = [];
  private readonly resetListeners: (() => void)[] = [];
  private readonly dropped: OutboxDrops;
  /** Drops by reason, with samples. */
  readonly drops: DropCounter;
  private effectiveMax: number;
  private diskFullLogged = false;
  private spaceAgainLogged = false;
  private readonly counters = { accepted: 0, committed: 0, commits: 0, acked: 0, lateSkipped: 0, recoveries: 0, diskFullEvents: 0, duplicateIds: 0, keysEvicted: 0 };
  /** When a commit next drops the idle sequence keys from memory (the outbox's clock). */
  private nextKeySweep = -Infinity;
  /** Message ids: derived from what a record is; a second copy since the last checkpoint is refused. */
  readonly ids = new MessageIds();
  private readonly seen = new SeenIds();
  /** Ids are checked only when checkpoints are taken (a replay can then produce copies); see trackIds(). */
  private tracking = false;
  private readonly txParts = new TxParts();
  private txRunner: { db: Database.Database; run: (fn: () => void) => void } | undefined;
  private readonly deadLetterTable = new DeadLetters();
  private readonly memory: MemoryHold;
  private readonly space: DiskSpace;
  private readonly giveBack: SpaceGiveBack;
  private walCheckpointer: WalCheckpointer | undefined;
  private readonly walCheckpointEveryMs: number;

  private constructor(opts: OutboxOpenOptions) {
    this.cfg = opts.config;
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.mono = opts.monotonic ?? (() => performance.now());
    this.gateway = opts.gatewayId;
    this.maxPageCount = opts.maxPageCount;
    this.file = path.resolve(opts.dataDir, opts.config.path);
    this.effectiveMax = opts.config.max_bytes;
    this.dropped = new OutboxDrops(opts.log, this.now);
    this.drops = this.dropped.counter;
    this.memory = new MemoryHold(opts.config.memory_bytes);
    this.space = new DiskSpace(this.file, () => this.store.freeBytes());
    this.giveBack = new SpaceGiveBack(() => this.store, () => !this.closed && this.depth() === 0, opts.log, opts.giveBackEveryMs);
    this.walCheckpointEveryMs = opts.walCheckpointEveryMs ?? WAL_CHECKPOINT_EVERY_MS;
    this.txParts.add({ write: (db, batch) => (this.tracking ? this.seen.write(db, batch) : undefined), committed() {} });
    this.txParts.add(this.deadLetterTable);
  }

  /** Open (or create) the outbox. A corrupt or unreadable file is moved aside and a new one started. */
  static open(opts: OutboxOpenOptions): Outbox {
    const o = new Outbox(opts);
    mkdirSync(path.dirname(o.file), { recursive: true });
    o.openFile(true);
    return o;
  }

  // ---------------------------------------------------------------- opening and recovery

  private openFile(check: boolean): void {
    openRecovering(this.file, check, (file, o) => this.load(file, o.check, o.exclusive), (err) => this.setAside(err), this.log);
  }

  private load(file: string, check: boolean, exclusive?: boolean): void {
    const { store, contents } = OutboxStore.open(file, { durability: this.cfg.durability, quickCheck: check && this.cfg.check_on_open === 'quick', exclusive, maxPageCount: this.maxPageCount });
    try {
      const { schema, epoch } = contents;
      if (schema.from !== schema.to) this.log.info({ file, from: schema.from, to: schema.to }, `outbox: migrated ${file} from schema ${schema.from} to ${schema.to} in place`);
      this.deadLetterTable.load(store.db);
      this.seen.load(store.db);
      this.dropped.loadSaved(contents.savedDrops);
      this.keys.load(contents.keys, contents.rows, contents.maxKeyId, (kind, stream) => this.savedKey(store, kind, stream), this.now());
      this.tally = Tally.of(contents.rows);
      this.nextId = contents.nextId;
      this.idsReservedTo = contents.nextId;
      this.epoch = epoch;
      this.store = store;
      this.startWalCheckpointer(file, exclusive);
      const depth = this.tally.messages;
      this.log.info({ file, epoch, depth }, `outbox: opened ${file} (${depth} buffered messages)`);
    } catch (err) {
      store.close();
      throw err;
    }
  }

  /** WAL checkpoints in a worker thread (wal-checkpointer.ts), the gateway's own only as a backstop. */
  private startWalCheckpointer(file: string, exclusive?: boolean): void {
    this.walCheckpointer?.stop();
    this.walCheckpointer = undefined;
    if (this.cfg.wal_checkpoint !== 'background' || exclusive || file === ':memory:') return;
    const store = this.store;
    const checkpointer = new WalCheckpointer({
      file,
      everyMs: this.walCheckpointEveryMs,
      synchronous: this.cfg.durability === 'full' ? 'FULL' : 'NORMAL',
      log: this.log,
      onStopped: () => {
        if (this.store === store && !this.closed) store.db.pragma('wal_autocheckpoint = 1000');
      },
    });
    checkpointer.start();
    store.db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    this.walCheckpointer = checkpointer;
  }

  /** Move a corrupt or unreadable file aside and count it. */
  private setAside(err: unknown): void {
    const { aside } = moveAside(this.file, err, this.now(), this.log);
    this.counters.recoveries++;
    this.dropped.count('corrupt_file', undefined, this.file, `${(err as Error).message}; moved to ${aside}`);
  }

  /** Corruption found while running: start over with a new file (what was buffered is counted as lost). */
  private recoverAtRuntime(err: unknown): void {
    const lost = this.tally.messages;
    for (let i = 0; i < lost; i++) this.dropped.count('corrupt_file', undefined, 'a buffered message');
    this.walCheckpointer?.stop();
    try {
      this.store.close();
    } catch {
      /* ignore */
    }
    this.setAside(err);
    this.openFile(false);
    for (const l of this.resetListeners) l();
  }

  // ---------------------------------------------------------------- writing

  /** A topic's key as the file saved it (its key left memory idle); a read that fails is logged, and the topic starts a new key. */
  private savedKey(store: OutboxStore, kind: string, stream: string) {
    try {
      return store.keyOf(kind, stream);
    } catch (err) {
      this.log.error({ file: this.file, kind, stream, err: (err as Error).message }, `outbox: could not read the sequence key of ${kind} ${stream} from ${this.file}: ${(err as Error).message}; its seq starts again at 1 (a consumer may read the first records as resends)`);
      return undefined;
    }
  }

  /** Buffer one emission for upstream. Synchronous; committed with its batch (flush()). */
  put(e: Emission): void {
    const now = this.now();
    if (this.closed) {
      this.dropped.count('closed', undefined, JSON.stringify(e).slice(0, 200), 'put() after close()');
      return;
    }
    if (e.kind === 'late' && !this.cfg.forward_late) {
      this.counters.lateSkipped++;
      return;
    }
    this.counters.accepted++;
    const topic = upstreamKindOf(e);
    const name = keyName(topic.kind, topic.stream);
    const key = this.keys.keyFor(topic.kind, topic.stream, now, name);
    const msgId = this.ids.idOf(e, topic.kind, topic.stream, name);
    if (this.tracking) {
      if (this.seen.has(msgId)) {
        // A copy of a record already held or sent (a replay after a crash): not a loss, counted.
        this.counters.duplicateIds++;
        return;
      }
      this.seen.add(msgId);
    }
    const id = this.nextId++;
    const seq = this.keys.nextSeq(key);
    const payload = encodePayload(e, { gateway: this.gateway, id: msgId, epoch: this.epoch, seq, emitted: now }, topic);
    const priority = priorityOf(e);
    if (payload.length > this.cfg.max_message_bytes) {
      this.dropped.count('too_large', priority, `${topic.kind} ${topic.stream} seq=${seq}`, `payload of ${payload.length} bytes > max_message_bytes ${this.cfg.max_message_bytes}`);
      this.arm(); // saves the drop count
      return;
    }
    this.batch.push({ id, msgId, priority, key, seq, created: now, payload });
    if (this.batch.length >= this.cfg.commit_max_messages) this.flush();
    else {
      this.arm();
      if (priority === PRIORITY.alert) this.commitAlertsSoon();
      else if (priority === PRIORITY.aggregate) this.aggregatePut(this.mono());
    }
  }

  /**
   * A burst of window results does not wait for commit_interval: once AGGREGATE_BURST of them are
   * pending (a window boundary closing on many streams, over the few ms their streams' next
   * readings take to arrive), they and those put meanwhile share one commit aggregate_commit_delay
   * later. The burst's tail (results put within aggregate_commit_delay of its last early commit:
   * the streams whose next reading came later) gets an early commit too, rather than waiting for
   * the group commit, for at most commit_interval from the burst's start. Results that come a few
   * at a time keep the group commit: an early commit for each would multiply the writes to flash
   * at low rates.
   */
  private aggregatePut(now: number): void {
    if (++this.aggregatesPut >= AGGREGATE_BURST) {
      if (now >= this.aggregateBurstUntil) this.aggregateBurstEnd = now + this.cfg.commit_interval; // a new burst
      this.commitAggregatesSoon();
    } else if (now < this.aggregateBurstUntil) this.commitAggregatesSoon();
  }

  private commitAggregatesSoon(): void {
    const delay = this.cfg.aggregate_commit_delay;
    if (this.aggregateTimer || this.closed || delay <= 0 || delay >= this.cfg.commit_interval) return;
    this.aggregateTimer = setTimeout(() => {
      this.aggregateTimer = null;
      this.aggregateBurstUntil = Math.min(this.mono() + delay, this.aggregateBurstEnd);
      this.commitPending(COMMIT_SLICE);
    }, delay);
  }

  /**
   * Alerts first: commit the pending alerts, all of them in one commit, as soon as the work under
   * way is done (the readings of this socket read), and at most once per alert_commit_delay: an
   * alert after a quiet spell is not held back by a timer (which, on a busy event loop, fires only
   * after a whole turn of I/O), and a storm still costs at most one commit per delay.
   */
  private commitAlertsSoon(): void {
    if (this.alertTimer || this.alertSoon || this.closed || this.cfg.alert_commit_delay <= 0) return;
    const wait = this.lastAlertCommit + this.cfg.alert_commit_delay - performance.now();
    if (wait <= 0) {
      this.alertSoon = true;
      process.nextTick(() => {
        this.alertSoon = false;
        this.commitAlerts();
      });
      return;
    }
    this.alertTimer = setTimeout(() => {
      this.alertTimer = null;
      this.commitAlertsSoon(); // commits now, or waits again if the timer fired early (libuv's clock is in whole ms)
    }, Math.ceil(wait));
  }

  /**
   * Commit the pending alerts alone, with the pending acknowledgements and every TxPart (the ingest
   * journal: the readings that raised them are durable with them), and hand them to the forwarder;
   * aggregates and raw readings keep the group commit. An alert's topic holds only alerts, so per
   * topic the order and the gap-free seq hold.
   */
  private commitAlerts(): void {
    if (this.closed || !this.batch.some((m) => m.priority === PRIORITY.alert)) return;
    this.lastAlertCommit = performance.now();
    const alerts = this.batch.filter((m) => m.priority === PRIORITY.alert);
    if (this.memory.size || !this.space.fits(alerts)) { // the disk is full: the usual path holds and forwards them
      this.flush();
      return;
    }
    this.batch = this.batch.filter((m) => m.priority !== PRIORITY.alert);
    const acks = this.acks;
    this.acks = [];
    try {
      const fullReason = this.effectiveMax < this.cfg.max_bytes ? 'disk_full' : 'outbox_full';
      this.commit({ messages: alerts, acks, sweepAge: false, now: this.now(), maxBytes: this.effectiveMax, fullReason, moreFollow: this.batch.length > 0 });
    } catch {
      // Back in the batch, and the usual path, which handles a full disk, corruption and retries.
      this.batch = alerts.concat(this.batch);
      this.acks = acks.concat(this.acks);
      this.flush();
    }
  }

  /**
   * Remember the ids put since the last checkpoint (in memory and in the file) and refuse a second
   * copy: for a gateway that takes checkpoints (they forget the ids), so a replay after a crash
   * does not send a record twice. Without checkpoints nothing is remembered (it would only grow).
   */
  trackIds(): void {
    this.tracking = true;
  }

  /** Write `part` in every commit transaction from now on (the ingest journal). */
  addTxPart(part: TxPart): void {
    this.txParts.add(part);
  }

  /**
   * A checkpoint's state is taken now (it is made live later by `checkpoint`, when written in
   * slices): the ids put so far are the ones that checkpoint makes unnecessary.
   */
  markCheckpoint(): void {
    this.seen.mark();
  }

  /**
   * A checkpoint: commit everything pending (messages, acknowledgements, every TxPart) together
   * with `state` in one transaction, so saved state and the emissions it led to never disagree.
   * Message ids from before its `markCheckpoint` are forgotten: a replay after it cannot produce them again.
   */
  checkpoint(state: TxPart): void {
    if (this.closed) throw new Error(`outbox ${this.file}: closed`);
    this.txParts.setOnce({
      write: (db, batch, room) => {
        state.write(db, batch, room);
        this.seen.clearIn(db);
      },
      committed: () => {
        this.seen.clear();
        state.committed();
      },
    });
    try {
      this.flush();
      // Nothing was pending, or the commit failed and its batch waits: commit the parts alone.
      if (this.txParts.oncePending) this.commitParts();
    } finally {
      this.txParts.setOnce(undefined);
    }
  }

  /**
   * The ingest journal's group commit, which happens anyway (every journal_max_wait while readings
   * flow): the pending messages and acknowledgements ride along, a slice at a time, so with the
   * journal on no message waits for commit_interval and no transaction is added for them.
   */
  commitJournal(): void {
    if ((this.batch.length || this.acks.length) && !this.memory.size) this.commitPending(COMMIT_SLICE);
    else this.commitParts();
  }

  /** Commit the TxParts alone (no messages): the journal's group commit. */
  commitParts(): void {
    const db = this.store.db;
    let parts: readonly TxPart[] = [];
    const room = this.space.budget();
    try {
      this.inTransaction(() => {
        parts = this.txParts.write(db, [], room);
      });
    } catch (err) {
      if (isDiskFull(err)) this.onNoSpace(err);
      throw err;
    }
    this.txParts.committed(parts);
    this.afterWrite();
  }

  /**
   * After every write transaction. While the disk is nearly full: keep the WAL small (never into
   * the reserve: a checkpoint that must grow the file could not run) and give the file's free
   * pages back to the file system a slice at a time (every write needs room there for its WAL
   * copy, free pages in the file or not). And keep the reserve file (see SpaceReserve).
   */
  private afterWrite(): void {
    if (this.space.tight()) {
      // After every write: what the WAL holds must always fit in the file when checkpointed, whoever wrote it.
      if (this.space.hasWal()) this.giveBack.truncateWal();
      this.giveBack.giveBackLowSpace(Math.max(1, Math.floor(GIVE_BACK_SLICE_BYTES / this.store.pageSize)));
    } else if (this.space.isLow() && (this.giveBack.msSinceTruncate >= SPACE_CHECK_EVERY_MS || this.space.walOverReserve())) this.giveBack.truncateWal();
    this.space.keepReserve();
  }

  /**
   * Run `fn` in one transaction. better-sqlite3's `db.transaction(fn)` builds four wrapper
   * functions each time it is called: made once per database here, not at every group commit.
   */
  private inTransaction(fn: () => void): void {
    const db = this.store.db;
    if (this.txRunner?.db !== db) this.txRunner = { db, run: db.transaction((f: () => void) => f()) };
    this.txRunner.run(fn);
  }

  /** A small value another part keeps in the outbox file (e.g. the Sparkplug bdSeq); undefined when unset. */
  readMeta(k: string): string | undefined {
    return (this.store.db.prepare('SELECT v FROM meta WHERE k = ?').get(`ext:${k}`) as { v: string } | undefined)?.v;
  }

  /** Store such a value at once (its own transaction), so it survives a crash right after. */
  writeMeta(k: string, v: string): void {
    this.store.db.prepare('INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)').run(`ext:${k}`, v);
  }

  /** The open database (checkpoints and the journal live in it too). */
  get database(): Database.Database {
    return this.store.db;
  }

  /** Mark rows as acknowledged upstream: deleted with the next commit (never read back for sending again). */
  ack(row: OutboxRow): void {
    if (this.memory.take(row.id)) {
      this.counters.acked++;
      return;
    }
    this.ackedIds.add(row.id);
    this.acks.push(row);
    // On a nearly full disk in slices: deleting many rows at once takes as much WAL as the rows.
    if (this.acks.length >= this.cfg.commit_max_messages && this.memory.size === 0) this.commitPending(this.space.tight() ? COMMIT_SLICE : Infinity);
    else this.arm();
  }

  private arm(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.commitPending(COMMIT_SLICE);
    }, this.cfg.commit_interval);
  }

  /** Commit the open batch (and pending acknowledgements) now: one transaction. */
  flush(): void {
    this.commitPending(Infinity);
  }

  private get somethingPending(): boolean {
    return this.batch.length > 0 || this.acks.length > 0 || this.memory.size > 0;
  }

  /** Commit up to `limit` pending messages and as many acknowledgements; the rest follow in the next turn of the event loop. */
  private commitPending(limit: number): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.sliceTimer) {
      clearImmediate(this.sliceTimer);
      this.sliceTimer = null;
    }
    this.aggregatesPut = 0;
    const now = this.now();
    const sweepAge = this.cfg.max_age > 0 && now - this.lastAgeSweep >= AGE_SWEEP_EVERY_MS;
    if (!this.somethingPending && !sweepAge && !this.dropped.hasUnsaved && this.deadLetterTable.waiting === 0) return;
    if (sweepAge) this.lastAgeSweep = now;
    const part = this.batch.length > limit ? this.batch.splice(0, limit) : this.batch;
    const acks = this.acks.length > limit ? this.acks.splice(0, limit) : this.acks;
    if (part === this.batch) this.batch = [];
    if (acks === this.acks) this.acks = [];
    if (this.memory.waitingForDisk && !this.memory.wouldOverflow(part, this.tally.totalBytes)) {
      // The disk was full a moment ago: keep forwarding from memory, try the disk again later.
      this.acks = acks.concat(this.acks);
      this.hold(part);
      if (this.somethingPending) this.arm();
      return;
    }
    // What was held in memory goes to the file first, in order, with the new batch, under the
    // configured bound: the bound lowered while the disk was full would drop what memory held.
    const messages = this.memory.size ? [...this.memory.values(), ...part] : part;
    const maxBytes = this.memory.size ? this.cfg.max_bytes : this.effectiveMax;
    // A bound lowered after the disk filled up drops for disk_full, not outbox_full.
    const fullReason = maxBytes < this.cfg.max_bytes ? 'disk_full' : 'outbox_full';
    const job: CommitJob = { messages, acks, sweepAge, now, maxBytes, fullReason, moreFollow: this.batch.length > 0 };
    try {
      if (!this.space.fits(messages)) this.onDiskFull(undefined, job, part);
      else this.commit(job);
      if ((this.batch.length || this.acks.length) && !this.closed && !this.sliceTimer) {
        this.sliceTimer = setImmediate(() => {
          this.sliceTimer = null;
          this.commitPending(COMMIT_SLICE);
        });
      }
    } catch (err) {
      if (isDiskFull(err)) {
        this.onDiskFull(err, job, part);
      } else if (isCorrupt(err)) {
        this.recoverAtRuntime(err);
        for (const m of part) this.dropped.count('corrupt_file', m.priority, describe(m));
      } else {
        // Unknown I/O error: keep the batch for the next try, bounded by the byte bound.
        this.log.error({ err, file: this.file }, `outbox: commit failed (${(err as Error).message}); will retry`);
        this.batch = part.concat(this.batch);
        this.acks = acks.concat(this.acks);
        const over = this.batch.length - this.cfg.commit_max_messages * 10;
        if (over > 0) for (const m of this.batch.splice(0, over)) this.dropped.count('disk_full', m.priority, describe(m));
      }
    }
    // Whatever is still pending (the retry after an error included) goes with the next timer.
    if (this.somethingPending && !this.sliceTimer) this.arm();
  }

  /**
   * A write failed for lack of space, or would leave less than the reserve free (`err` undefined).
   * In order: give the WAL back and delete what was acknowledged (that is where space comes from)
   * and try again; write what memory holds to the file, oldest first, as far as the space allows;
   * when the memory queue would overflow and messages are buffered, lower the byte bound (dropping
   * raw first) and try again; else hold the new messages (`part`) in memory (bounded by
   * outbox.memory_bytes), where the forwarder sends them all the same, and try the disk again in a
   * second.
   */
  private onDiskFull(err: unknown, job: CommitJob, part: PendingMsg[]): void {
    this.counters.diskFullEvents++;
    if (!this.diskFullLogged) {
      this.diskFullLogged = true;
      const what = err === undefined ? `disk nearly full (a write would leave less than ${SPACE_RESERVE_BYTES} bytes free)` : 'disk full';
      this.log.warn(
        { err, file: this.file, storedBytes: this.tally.totalBytes },
        `outbox: ${what} writing ${this.file}; truncating the WAL, deleting acknowledged messages and holding new ones in memory (up to outbox.memory_bytes ${this.cfg.memory_bytes}) until space returns. Free space on the device or lower outbox.max_bytes.`,
      );
    }
    let acks = job.acks;
    /** Commit `messages` with the acknowledgements not yet committed; `shrinks`: under a lowered bound, which makes room in the file. */
    const tryCommit = (messages: PendingMsg[], maxBytes: number, shrinks = false): boolean => {
      if (!shrinks && !this.space.fits(messages)) return false;
      try {
        this.commit({ ...job, messages, acks, maxBytes, fullReason: 'disk_full', moreFollow: this.batch.length > 0 });
        acks = [];
        return true;
      } catch (e) {
        if (!isDiskFull(e)) throw e;
        return false;
      }
    };
    const done = (): void => {
      this.acks = acks.concat(this.acks); // their ids stay in ackedIds: not sent again
      this.hold(part);
    };
    if (err !== undefined) this.onNoSpace(err);
    else this.giveBack.truncateWal();
    if (acks.length) tryCommit([], Infinity, true);
    if (tryCommit(job.messages, job.maxBytes)) return;
    if (this.memory.size) {
      // Space is back, but not for all of it: the oldest part goes to the file, the new messages
      // wait in memory behind the rest (the file's rows stay older than memory's).
      const piece = this.memory.oldest(this.space.budget());
      if (piece.length && tryCommit(piece, this.cfg.max_bytes)) {
        this.giveBack.truncateWal(); // the WAL's copy back before the next piece
        this.memory.retrySoon();
        done();
        return;
      }
    }
    const stored = this.tally.totalBytes;
    if (this.memory.wouldOverflow(part, stored)) {
      // Logged when it goes lower: a commit under the same bound that failed again is no news (it logged every 120 ms).
      const lowered = Math.max(0, Math.floor(stored * 0.9));
      if (lowered < this.effectiveMax) {
        this.effectiveMax = lowered;
        this.log.warn({ file: this.file, storedBytes: stored }, `outbox: disk still full; lowering the outbox bound to ${this.effectiveMax} bytes (dropping raw first)`);
      }
      if (tryCommit(job.messages, this.effectiveMax, true)) return;
    }
    this.memory.retryLater();
    done();
  }

  /** A write failed for lack of space: the reserve file goes (logged), so that deletes and the WAL's truncation can run. */
  private onNoSpace(err: unknown): void {
    const freed = this.space.releaseReserve();
    if (freed > 0) {
      this.log.warn(
        { err, file: this.file, freed },
        `outbox: the disk is full; deleted the space reserve (${freed} bytes, ${this.file}-reserve) so that acknowledged messages can be deleted and the WAL truncated; it is made again once space allows`,
      );
    }
    this.giveBack.truncateWal();
  }

  /** The disk has room again for good: a next full disk is logged again. */
  private endDiskFullEpisode(): void {
    this.diskFullLogged = false;
    this.spaceAgainLogged = false;
  }

  /** Hold messages in memory (the disk is full) and hand them to the forwarder; beyond memory_bytes, raw is dropped first. */
  private hold(part: PendingMsg[]): void {
    const victims = new Set(this.memory.hold(part));
    for (const m of victims) this.dropped.count('disk_full', m.priority, describe(m));
    const rows: OutboxRow[] = [];
    for (const m of part) {
      if (victims.has(m)) continue;
      m.announced = true;
      if (m.id > m.key.tip) m.key.tip = m.id;
      rows.push(rowOf(m));
    }
    if (rows.length) for (const l of this.listeners) l(rows);
  }

  /** One transaction: acknowledgements, bounds, the messages, the keys' last seqs, drop counts and the TxParts. In-memory state changes only after it committed. */
  private commit(job: CommitJob): void {
    const { messages, acks } = job;
    const store = this.store;
    const room = this.space.room(messages);
    const saveSeq = this.keys.seqsToSave(messages, job.moreFollow);
    const bounds = new Retention(store, this.keys, this.tally.copy());
    const dropCounts = this.dropped.toSave();
    const inserted: PendingMsg[] = [];
    let acked = 0;
    let parts: readonly TxPart[] = [];
    // Every id used so far is below nextId; once that passes the reserved range, reserve the next block.
    const reserve = messages.length && this.nextId > this.idsReservedTo ? this.nextId + ID_BLOCK : 0;
    this.inTransaction(() => {
      for (const a of acks) {
        if (!store.delete(a.priority, a.id)) continue;
        acked++;
        bounds.removed(a.keyId, a.priority, a.payload.length);
      }
      if (job.sweepAge) bounds.dropOlderThan(job.now - this.cfg.max_age);
      const refused = bounds.makeRoom(messages, job.maxBytes, job.fullReason);
      for (const m of messages) {
        if (refused.has(m)) continue;
        store.insert(m);
        bounds.added(m);
        inserted.push(m);
      }
      for (const [k, seq] of saveSeq) store.saveKey(k, seq);
      if (reserve) store.saveNextId(reserve);
      for (const d of bounds.dropped) dropCounts.set(d.reason, (dropCounts.get(d.reason) ?? 0) + 1);
      for (const [reason, n] of dropCounts) store.addDrops(reason, n);
      parts = this.txParts.write(store.db, messages, room);
    });
    this.txParts.committed(parts);
    // Committed: apply to memory.
    if (reserve) this.idsReservedTo = reserve;
    this.dropped.markSaved(dropCounts);
    for (const a of acks) this.ackedIds.delete(a.id);
    if (this.memory.committed(messages)) {
      // Once per episode, as the warning: on a disk that stays nearly full memory fills and empties every few commits.
      if (this.diskFullLogged && !this.spaceAgainLogged) this.log.info({ file: this.file }, `outbox: space on the disk again; messages are stored in ${this.file} again`);
      this.spaceAgainLogged = true;
      // All of memory fitted under the configured bound (leaving the reserve free): the lowered bound goes.
      if (job.maxBytes >= this.cfg.max_bytes && this.effectiveMax !== this.cfg.max_bytes) {
        this.effectiveMax = this.cfg.max_bytes;
        this.endDiskFullEpisode();
        this.log.info({ file: this.file }, `outbox: byte bound back to ${this.cfg.max_bytes}`);
      }
    }
    this.keys.markSaved(saveSeq);
    this.tally = bounds.tally;
    this.keys.applyCommitted(bounds.keyDelta, inserted);
    if (job.now >= this.nextKeySweep) {
      this.nextKeySweep = job.now + KEY_SWEEP_MS;
      this.counters.keysEvicted += this.keys.evictIdle(job.now);
    }
    for (const d of bounds.dropped) this.dropped.count(d.reason, d.priority, d.what, undefined, true);
    this.counters.acked += acked;
    this.counters.committed += inserted.length;
    this.counters.commits++;
    const depth = this.tally.messages;
    if (depth === 0 && this.effectiveMax !== this.cfg.max_bytes) {
      this.effectiveMax = this.cfg.max_bytes;
      this.endDiskFullEpisode();
      this.log.info({ file: this.file }, `outbox: drained; byte bound back to ${this.cfg.max_bytes}`);
    }
    this.giveBack.noteDepth(depth);
    if (acked > 0 || bounds.dropped.length > 0) this.giveBack.afterFree(depth);
    if (this.diskFullLogged && !this.memory.size && !this.space.isLow()) this.endDiskFullEpisode();
    this.afterWrite();
    const announce = inserted.filter((m) => !m.announced);
    if (announce.length && this.listeners.length) {
      const rows = announce.map(rowOf);
      for (const l of this.listeners) l(rows);
    }
  }

  // ---------------------------------------------------------------- reading (for the forwarder)

  /** Be told of every committed batch (the rows that were stored). */
  onCommit(l: CommitListener): void {
    this.listeners.push(l);
  }

  /** Be told when the database was replaced (runtime corruption): readers must start over. */
  onReset(l: () => void): void {
    this.resetListeners.push(l);
  }

  /** Committed rows of one priority with id > afterId, in id order. */
  readFrom(priority: Priority, afterId: number, limit: number): OutboxRow[] {
    try {
      const found = this.store.readFrom(priority, afterId, limit);
      const rows: OutboxRow[] = [];
      for (const r of found) if (!this.ackedIds.has(r.id)) rows.push({ ...r, priority });
      if (found.length < limit && this.memory.size) {
        // The file has nothing newer: then the rows held in memory (all newer than the file's).
        for (const m of this.memory.values()) {
          if (rows.length >= limit) break;
          if (m.priority === priority && m.id > afterId) rows.push(rowOf(m));
        }
      }
      return rows;
    } catch (err) {
      if (isCorrupt(err)) this.recoverAtRuntime(err);
      else this.log.error({ err }, `outbox: read failed: ${(err as Error).message}`);
      return [];
    }
  }

  key(keyId: number): OutboxKey | undefined {
    return this.keys.get(keyId);
  }

  /** Keys that have committed rows, with their newest row id. */
  keysWithRows(): Map<number, number> {
    const m = this.keys.withRows();
    for (const r of this.memory.values()) m.set(r.key.id, r.key.tip);
    return m;
  }

  /** Newest committed (or held in memory) row id still buffered; 0 when empty. */
  newestId(): number {
    let n = 0;
    for (const tip of this.keysWithRows().values()) if (tip > n) n = tip;
    return n;
  }

  /** Newest committed row id of a key (0 if none). */
  tipOf(keyId: number): number {
    return this.keys.get(keyId)?.tip ?? 0;
  }

  depth(): number {
    return this.tally.messages + this.memory.size;
  }

  // ---------------------------------------------------------------- dead letters

  /** Keep a drop sample from a driver or the engine (newest 1000 kept), written with the next group commit. */
  recordDeadLetter(source: string, sample: DropSample): void {
    if (this.closed) {
      this.log.debug({ source, reason: sample.reason }, 'outbox: dead letter not stored: the outbox is closed');
      return;
    }
    this.deadLetterTable.record(source, sample);
    this.arm();
  }

  /** The newest dead letters, newest first (those not committed yet included). */
  deadLetters(limit = 100): DeadLetterEntry[] {
    return this.deadLetterTable.read(this.store.db, limit);
  }

  // ---------------------------------------------------------------- stats and closing

  stats(): OutboxStats {
    let fileBytes = 0;
    for (const f of [this.file, `${this.file}-wal`]) {
      try {
        fileBytes += statSync(f).size;
      } catch {
        /* not there */
      }
    }
    let oldestAgeMs = 0;
    if (this.depth() > 0 && !this.closed) {
      try {
        const c = this.store.oldestCreated();
        if (c != null) oldestAgeMs = Math.max(0, this.now() - c);
      } catch {
        /* ignore */
      }
    }
    return {
      path: this.file,
      epoch: this.epoch,
      durability: this.cfg.durability,
      depth: { messages: this.depth(), bytes: this.tally.totalBytes, byPriority: byPriority(this.tally.counts) },
      pending: this.batch.length,
      fileBytes,
      effectiveMaxBytes: this.effectiveMax,
      accepted: this.counters.accepted,
      committed: this.counters.committed,
      commits: this.counters.commits,
      acked: this.counters.acked,
      lateSkipped: this.counters.lateSkipped,
      dropped: this.drops.counters(),
      droppedByPriority: this.dropped.byPriority(),
      droppedTotal: this.dropped.total(),
      recoveries: this.counters.recoveries,
      duplicateIds: this.counters.duplicateIds,
      diskFullEvents: this.counters.diskFullEvents,
      diskFull: this.memory.size > 0,
      walCheckpoints: this.walCheckpointer ? { ...this.walCheckpointer.stats } : { background: false, runs: 0, pages: 0, maxMs: 0, failures: 0 },
      memory: { messages: this.memory.size, bytes: this.memory.bytes },
      ackedPending: this.ackedIds.size,
      keys: { inMemory: this.keys.size, evicted: this.counters.keysEvicted },
      ids: { kept: this.ids.size, forgottenEarly: this.ids.forgottenEarly },
      oldestAgeMs,
      deadLetters: this.deadLetterTable.count,
    };
  }

  get epochId(): string {
    return this.epoch;
  }

  /** Commit what is open and close the file. put() after close() is counted as a drop ("closed"). */
  close(): void {
    if (this.closed) return;
    this.memory.retryNow();
    this.flush();
    // What memory still holds goes to the file as far as the space allows, piece by piece.
    for (let held = Infinity; this.memory.size && this.memory.size < held; ) {
      held = this.memory.size;
      this.memory.retryNow();
      this.flush();
    }
    if (this.memory.size) {
      // Still no space: what is held in memory is lost with the process.
      for (const m of this.memory.clear()) this.dropped.count('disk_full', m.priority, describe(m), 'held in memory at close: the disk was full');
      try {
        this.commit({ messages: [], acks: [], sweepAge: false, now: this.now(), maxBytes: Infinity, fullReason: 'disk_full', moreFollow: false });
      } catch {
        /* the counts stay in the log line */
      }
    }
    this.dropped.flushLog();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.alertTimer) clearTimeout(this.alertTimer);
    this.alertTimer = null;
    if (this.aggregateTimer) clearTimeout(this.aggregateTimer);
    this.aggregateTimer = null;
    if (this.sliceTimer) clearImmediate(this.sliceTimer);
    this.sliceTimer = null;
    this.giveBack.stop();
    this.walCheckpointer?.stop();
    try {
      if (this.depth() === 0) this.giveBack.afterFree(0, 'close');
      this.store.close();
    } catch (err) {
      this.log.warn({ err }, `outbox: close failed: ${(err as Error).message}`);
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

