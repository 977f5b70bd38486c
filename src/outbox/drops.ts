import { DropCounter, countsByName } from '../core/drops.js';
import type { Logger } from '../core/log.js';
import type { PerPriority, Priority } from '../core/records.js';
import { DropLog } from './drop-log.js';

/** Drop reasons the outbox counts (stats().dropped). */
export type OutboxDropReason = 'outbox_full' | 'max_age' | 'disk_full' | 'too_large' | 'closed' | 'corrupt_file';

const PRIORITY_NAMES = ['raw', 'aggregate', 'alert'] as const;
type PriorityName = (typeof PRIORITY_NAMES)[number];
export type ByPriority = Record<PriorityName, number>;
export const byPriority = (a: readonly number[]): ByPriority => ({ raw: a[0] ?? 0, aggregate: a[1] ?? 0, alert: a[2] ?? 0 });

const DROP_HINTS: Record<string, string> = {
  outbox_full: 'The outbox reached outbox.max_bytes while the uplink was down or slow: raise it or check the uplink.',
  max_age: 'Buffered longer than outbox.max_age.',
  disk_full: 'The disk holding the outbox is full: free space on it (forwarding resumes by itself).',
  too_large: 'A payload was larger than outbox.max_message_bytes.',
  closed: 'Emitted after the outbox was closed.',
  corrupt_file: 'The outbox file was corrupt and was moved aside.',
};

/**
 * The outbox's drops: counted by reason and priority (with samples), logged at warn without
 * flooding, and saved in the file's `drop_counts` table with a commit (those not saved yet wait
 * for the next one).
 */
export class OutboxDrops {
  readonly counter = new DropCounter(3, 256);
  private readonly perPriority: PerPriority = [0, 0, 0];
  private saved = new Map<string, number>();
  private readonly unsaved = new Map<string, number>();
  private readonly log: DropLog;

  constructor(
    log: Logger,
    private readonly now: () => number,
  ) {
    this.log = new DropLog(log, 'outbox', (r) => DROP_HINTS[r] ?? '');
  }

  /** Count a drop (stats, the rate-limited warn line); `saved`: the commit that dropped it saves the count. */
  count(reason: OutboxDropReason, priority: Priority | undefined, what: string, detail?: string, saved = false): void {
    if (priority !== undefined) this.perPriority[priority]++;
    const text = priority === undefined ? what : `${PRIORITY_NAMES[priority]} ${what}`;
    this.counter.drop(reason, text, detail, this.now());
    if (!saved) this.unsaved.set(reason, (this.unsaved.get(reason) ?? 0) + 1);
    this.log.note(reason, text);
  }

  /** The counts saved in the file (at open). */
  loadSaved(saved: Map<string, number>): void {
    this.saved = saved;
  }

  get hasUnsaved(): boolean {
    return this.unsaved.size > 0;
  }

  /** What the next commit must add to `drop_counts`: the unsaved counts (a copy: the commit adds its own drops). */
  toSave(): Map<string, number> {
    return new Map(this.unsaved);
  }

  /** The commit that wrote `written` (from toSave()) committed. */
  markSaved(written: Map<string, number>): void {
    this.unsaved.clear();
    for (const [reason, n] of written) this.saved.set(reason, (this.saved.get(reason) ?? 0) + n);
  }

  byPriority(): ByPriority {
    return byPriority(this.perPriority);
  }

  /** Drops by reason over the life of the file: saved ones plus those not saved yet. */
  total(): Record<string, number> {
    const t = new Map(this.saved);
    for (const [r, n] of this.unsaved) t.set(r, (t.get(r) ?? 0) + n);
    return countsByName(t);
  }

  /** Log every reason with drops not logged yet (at close). */
  flushLog(): void {
    this.log.flush();
  }
}
