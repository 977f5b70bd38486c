import type { ByPriority, PerPriority, Priority } from '../core/records.js';
import type { Outbox, OutboxRow } from '../outbox/index.js';
import type { UpstreamConfig } from './config.js';

const BACKLOG_FETCH = 512;
/** Backlog and fresh rows are sent alert first. */
const HIGHEST_FIRST: readonly Priority[] = [2, 1, 0];

/**
 * Which committed outbox row the forwarder sends next, on one connection. Two lanes: fresh rows
 * (committed while online, held in memory, alerts first) go first; the backlog lane (read back from
 * the outbox, alerts first, then aggregates, then raw, oldest first) fills the rest. A topic that
 * still has backlog keeps its order: its fresh rows wait behind it in the backlog lane, which is
 * not limited for them. `drain_rate` (metered links) limits only the rows that were already
 * buffered when the connection came up.
 */
export class Lanes {
  /** Fresh rows waiting for a slot, by priority (index 2 = alerts). */
  private fresh: ByPriority<OutboxRow[]> = [[], [], []];
  private freshCount = 0;
  /** Rows with an id up to this were buffered before the connection came up: `drain_rate` meters them. */
  private meteredUpTo = 0;
  /** keyId → true while the topic drains its backlog. */
  private backlogged = new Set<number>();
  /** keyId → last row id that belongs to the backlog lane (after the key caught up). */
  private handoff = new Map<number, number>();
  private cursor: PerPriority = [0, 0, 0];
  private buf: ByPriority<OutboxRow[]> = [[], [], []];
  private exhausted: ByPriority<boolean> = [false, false, false];
  private tokens = 0;
  private lastRefill = 0;
  /** Rows buffered before their connection came up that were taken (each cost a `drain_rate` token). */
  metered = 0;

  /**
   * `inflight`: the rows sent and not yet acknowledged on this connection (never taken again);
   * `waitForTokens`: called when `drain_rate` holds back the next row (take again a little later).
   */
  constructor(
    private readonly outbox: Outbox,
    private readonly cfg: Pick<UpstreamConfig, 'drain_rate' | 'max_inflight' | 'fresh_queue'>,
    private readonly inflight: ReadonlyMap<number, OutboxRow>,
    private readonly waitForTokens: () => void,
  ) {}

  /** Fresh rows waiting in memory. */
  get freshQueued(): number {
    return this.freshCount;
  }

  /** Topics still draining their backlog. */
  get backlogKeys(): number {
    return this.backlogged.size;
  }

  /** The row was buffered before this connection came up (drained after an outage or a restart). */
  historical(row: OutboxRow): boolean {
    return row.id <= this.meteredUpTo;
  }

  /** A connection came up: everything in the outbox is backlog, and what is there now is metered. */
  connected(): void {
    this.resync();
    this.meteredUpTo = this.outbox.newestId();
    this.tokens = this.burst();
    this.lastRefill = performance.now();
  }

  /** The connection is gone: fresh rows are in the outbox, and backlog at the next connection. */
  clearFresh(): void {
    this.fresh = [[], [], []];
    this.freshCount = 0;
  }

  /** Everything in the outbox becomes backlog; fresh rows of those topics wait behind it. */
  resync(): void {
    this.clearFresh();
    this.backlogged = new Set(this.outbox.keysWithRows().keys());
    this.handoff.clear();
    this.cursor = [0, 0, 0];
    this.buf = [[], [], []];
    this.exhausted = [false, false, false];
  }

  /** Rows were committed to the outbox; `online`: a connection is up (else all of it is backlog at the next). */
  committed(rows: OutboxRow[], online: boolean): void {
    this.exhausted = [false, false, false];
    if (!online) return;
    for (const r of rows) {
      if (this.backlogged.has(r.keyId)) continue; // the backlog lane will send it, in order
      this.fresh[r.priority].push(r);
      this.freshCount++;
    }
    // Too far behind: read everything back from the outbox instead of holding it in memory.
    if (this.freshCount > this.cfg.fresh_queue) this.resync();
  }

  /** The lane of the row `next()` returned last: the backlog (read back from the outbox) or fresh. */
  fromBacklog = false;

  /** The next row to send (its lane in `fromBacklog`); undefined when none may go now. */
  next(): OutboxRow | undefined {
    const fresh = this.nextFresh();
    this.fromBacklog = !fresh;
    if (fresh) return fresh;
    const row = this.nextBacklog();
    if (row && this.backlogged.has(row.keyId) && row.id >= this.outbox.tipOf(row.keyId)) {
      // This topic caught up: newer rows go through the fresh lane.
      this.backlogged.delete(row.keyId);
      this.handoff.set(row.keyId, row.id);
    }
    return row;
  }

  private burst(): number {
    return this.cfg.drain_rate > 0 ? Math.max(this.cfg.max_inflight, Math.ceil(this.cfg.drain_rate / 10)) : Infinity;
  }

  /** Tokens for the time since the last refill, on the monotonic clock: a wall clock stepped back (NTP on a gateway without RTC) must not stall the drain. */
  private refill(): void {
    const now = performance.now();
    const rate = this.cfg.drain_rate;
    if (rate <= 0) {
      this.tokens = Infinity;
      return;
    }
    this.tokens = Math.min(this.burst(), this.tokens + ((now - this.lastRefill) * rate) / 1000);
    this.lastRefill = now;
  }

  /**
   * Next backlog row, highest priority first, oldest first; undefined when none is available.
   * A row buffered before this connection came up costs a `drain_rate` token; when none is left,
   * that priority waits (its later rows may belong to the same topics) and the next one is tried.
   */
  private nextBacklog(): OutboxRow | undefined {
    if (this.backlogged.size === 0) return undefined; // every topic has caught up: the fresh lane has it all
    let metered = false;
    for (const p of HIGHEST_FIRST) {
      for (;;) {
        let b = this.buf[p];
        if (b.length === 0) {
          if (this.exhausted[p]) break;
          b = this.buf[p] = this.outbox.readFrom(p, this.cursor[p], BACKLOG_FETCH);
          b.reverse(); // pop() from the end = oldest first
        }
        const r = b.at(-1);
        if (!r) {
          this.exhausted[p] = true; // refilled above, and nothing left
          break;
        }
        const belongs = !this.inflight.has(r.id) && (this.backlogged.has(r.keyId) || r.id <= (this.handoff.get(r.keyId) ?? 0));
        if (belongs && r.id <= this.meteredUpTo && this.cfg.drain_rate > 0) {
          this.refill();
          if (this.tokens < 1) {
            metered = true;
            break;
          }
          this.tokens--;
          this.metered++;
        }
        b.pop();
        this.cursor[p] = r.id;
        if (belongs) return r; // else the fresh lane owns it, or it is in flight already
      }
    }
    if (metered) {
      this.waitForTokens();
      return undefined;
    }
    // Nothing left to read: every topic has caught up.
    if (this.backlogged.size && this.exhausted.every(Boolean)) {
      for (const k of this.backlogged) this.handoff.set(k, this.outbox.tipOf(k));
      this.backlogged.clear();
    }
    return undefined;
  }

  private nextFresh(): OutboxRow | undefined {
    for (const p of HIGHEST_FIRST) {
      const q = this.fresh[p];
      if (q.length) {
        this.freshCount--;
        return q.shift();
      }
    }
    return undefined;
  }
}
