import type { Logger } from '../core/log.js';

/**
 * Drops logged at warn without flooding the log: the first drop of a reason is logged at once,
 * later ones are summed and logged as one line per reason per interval, with the count.
 */
export class DropLog {
  private readonly waiting = new Map<string, { n: number; last: string; timer: NodeJS.Timeout | null }>();
  private readonly lastLine = new Map<string, number>();

  constructor(
    private readonly log: Logger,
    private readonly what: string,
    private readonly hint: (reason: string) => string,
    readonly everyMs = 60_000,
  ) {}

  /** Note one drop of `reason`; `last` says what was dropped (the newest one is named in the line). */
  note(reason: string, last: string, now = performance.now()): void {
    let w = this.waiting.get(reason);
    if (w) {
      w.n++;
      w.last = last;
    } else this.waiting.set(reason, (w = { n: 1, last, timer: null }));
    const due = (this.lastLine.get(reason) ?? -Infinity) + this.everyMs - now;
    if (due <= 0) this.write(reason, now);
    else if (!w.timer) {
      w.timer = setTimeout(() => this.write(reason, performance.now()), due);
      w.timer.unref();
    }
  }

  /** Log every reason with drops not logged yet (at close). */
  flush(now = performance.now()): void {
    for (const reason of [...this.waiting.keys()]) this.write(reason, now);
  }

  private write(reason: string, now: number): void {
    const w = this.waiting.get(reason);
    if (!w) return;
    if (w.timer) clearTimeout(w.timer);
    this.waiting.delete(reason);
    const since = this.lastLine.get(reason);
    this.lastLine.set(reason, now);
    const span = since === undefined ? '' : ` in the last ${Math.round((now - since) / 1000)} s`;
    this.log.warn({ reason, dropped: w.n, last: w.last }, `${this.what}: dropped ${w.n} message${w.n === 1 ? '' : 's'} (${reason})${span}, the last: ${w.last}. ${this.hint(reason)}`);
  }
}
