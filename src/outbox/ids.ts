import type Database from 'better-sqlite3';
import type { Emission } from '../core/records.js';
import type { UpstreamKind } from '../core/payload.js';

/** A topic that has sent nothing for this long (the gateway's clock) is forgotten at the next checkpoint. */
const IDLE_MS = 24 * 3_600_000;

/** Topics kept at most: beyond, the longest idle are forgotten first at a checkpoint (never one used since the last). */
const MAX_KEPT = 10_000;

/**
 * Message ids say what a record is, not when it was sent, so that replaying the journal after a
 * crash produces the same ids and the outbox (and consumers) can recognise a second copy:
 *
 * - reading / late: `<pipeline>/<output>/<kind>/<stream>@<ts>` (reading time);
 * - aggregate: `<pipeline>/<output>/aggregate/<stream>@<start>-<end>` (window bounds; `~p` when partial);
 * - alert: `<pipeline>/<output>/alert/<alert id>/<state>@<start>` (`@<end>` for cleared).
 *
 * Two records of one topic with the same id in a row (a device sending two readings with one
 * timestamp, say) are told apart by an ordinal: `#1`, `#2`, ...; an alert's `active` updates are
 * numbered within the alert. The ordinal state (the last id per topic) is saved with every
 * checkpoint, so a replay numbers them the same way. A topic that has sent nothing for
 * `IDLE_MS` by the gateway's clock is forgotten at a checkpoint (a device gone, a patient
 * discharged: without it the state grew by one entry per stream ever seen), and so are the longest
 * idle beyond `MAX_KEPT` topics (a fleet that comes and goes faster than a day: ~280 B a topic, so
 * 2.8 MB at most, or what the topics in use need); it is forgotten only as the state is saved, so a
 * replay from that checkpoint numbers as the live run did.
 */
export class MessageIds {
  /** pipeline + output + topic (or alert id + output) → [last base id, ordinal, checkpoint generation of its last use, when last seen in use at a checkpoint (ms; NaN: not yet)]. */
  private last = new Map<string, [string, number, number, number]>();
  /** Checkpoints taken (snapshot calls). */
  private gen = 0;
  /** Topics forgotten before `IDLE_MS` because more than `MAX_KEPT` were kept. */
  forgottenEarly = 0;

  constructor(private readonly maxKept = MAX_KEPT) {}

  idOf(e: Emission, kind: UpstreamKind, stream: string, topicKey: string): string {
    const base = `${e.pipeline}/${e.output}/${kind}/${baseOf(e, stream)}`;
    // An alert's `active` updates are numbered within the alert (forgotten when it clears).
    const key = `${e.pipeline}\u0000${e.output}\u0000${e.kind === 'alert' ? e.alert.id : topicKey}`;
    if (e.kind === 'alert' && e.alert.state === 'cleared') {
      this.last.delete(key);
      return base;
    }
    const prev = this.last.get(key);
    if (prev === undefined) {
      this.last.set(key, [base, 0, this.gen, NaN]);
      return base;
    }
    prev[2] = this.gen;
    if (prev[0] !== base) {
      prev[0] = base;
      prev[1] = 0;
      return base;
    }
    return `${base}#${++prev[1]}`;
  }

  /**
   * The state to save with a checkpoint taken at `now` (the gateway's clock, ms); topics idle for
   * `IDLE_MS` are forgotten first, then, beyond `maxKept`, the longest idle of those unused since
   * the last checkpoint.
   */
  snapshot(now: number): Array<[string, string, number, number]> {
    const idle: Array<[string, number]> = [];
    for (const [k, v] of this.last) {
      if (v[2] === this.gen || Number.isNaN(v[3])) v[3] = now;
      else if (now - v[3] >= IDLE_MS) this.last.delete(k);
      else idle.push([k, v[3]]);
    }
    if (this.last.size > this.maxKept && idle.length > 0) {
      idle.sort((a, b) => a[1] - b[1]);
      const n = Math.min(idle.length, this.last.size - this.maxKept);
      for (let i = 0; i < n; i++) this.last.delete(idle[i]![0]);
      this.forgottenEarly += n;
    }
    const out: Array<[string, string, number, number]> = [];
    for (const [k, v] of this.last) out.push([k, v[0], v[1], v[3]]);
    this.gen++;
    return out;
  }

  /** Topics whose ordinal state is kept. */
  get size(): number {
    return this.last.size;
  }

  restore(data: unknown): void {
    if (!Array.isArray(data)) throw new Error('message ids: saved state must be [[topic, last id, ordinal, last seen]]');
    const next = new Map<string, [string, number, number, number]>();
    this.gen = 0;
    for (const e of data as Array<[string, string, number, number?]>) {
      if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'string' || typeof e[2] !== 'number') throw new Error('message ids: each entry must be [topic, last id, ordinal, last seen]');
      // saved before 2026-12-06 (no time): taken as seen at the next checkpoint
      next.set(e[0], [e[1], e[2], -1, typeof e[3] === 'number' ? e[3] : NaN]);
    }
    this.last = next;
  }
}

function baseOf(e: Emission, stream: string): string {
  switch (e.kind) {
    case 'reading':
    case 'late':
      return `${stream}@${e.reading.ts}`;
    case 'aggregate': {
      const w = e.result;
      return `${stream}@${w.start}-${w.end}${w.partial ? '~p' : ''}`;
    }
    case 'alert': {
      const a = e.alert;
      return `${a.id}/${a.state}@${a.state === 'cleared' ? a.end : a.start}`;
    }
  }
}

/**
 * The ids the outbox holds or has sent since the last checkpoint: a replay after a crash can
 * only produce records from after it, so older ids need not be kept. In memory for the check,
 * and in the `seen_ids` table (written in the same transaction as the messages) for the next start.
 * A checkpoint written in slices is taken at one instant (`mark`) and made live later: only the
 * ids from before the mark are forgotten then; those put while it was written are kept.
 */
export class SeenIds {
  /** Ids put since the last mark. */
  private ids = new Set<string>();
  /** Ids put before the mark of the checkpoint being written (forgotten once it is live). */
  private before = new Set<string>();
  private marked = false;
  private stmts: { db: Database.Database; insert: Database.Statement } | undefined;

  load(db: Database.Database): void {
    this.ids = new Set((db.prepare('SELECT id FROM seen_ids').pluck().all() as string[]));
    this.before = new Set();
    this.marked = false;
  }

  has(id: string): boolean {
    return this.ids.has(id) || this.before.has(id);
  }

  add(id: string): void {
    this.ids.add(id);
  }

  get size(): number {
    return this.ids.size + this.before.size;
  }

  /** A checkpoint is taken now: the ids so far are the ones it makes unnecessary. */
  mark(): void {
    this.marked = true;
    if (this.before.size === 0) this.before = this.ids;
    else for (const id of this.ids) this.before.add(id); // a checkpoint given up before it went live
    this.ids = new Set();
  }

  /** Inside a commit transaction: keep the ids of the committed batch. */
  write(db: Database.Database, batch: readonly { msgId: string }[]): void {
    if (batch.length === 0) return;
    const ins = this.insert(db);
    for (const m of batch) ins.run(m.msgId);
  }

  /**
   * Inside the transaction that makes a checkpoint live (it carries every pending message): forget
   * the ids from before its mark (no mark: from before now), keep those put since (kept in memory
   * until it commits).
   */
  clearIn(db: Database.Database): void {
    if (!this.marked) this.mark();
    db.prepare('DELETE FROM seen_ids').run();
    const ins = this.insert(db);
    for (const id of this.ids) ins.run(id);
  }

  clear(): void {
    this.before = new Set();
    this.marked = false;
  }

  private insert(db: Database.Database): Database.Statement {
    if (this.stmts?.db !== db) this.stmts = { db, insert: db.prepare('INSERT INTO seen_ids (id) VALUES (?)') };
    return this.stmts.insert;
  }
}
