import type { Reading } from '../../core/reading.js';
import type { AccumulatorSet } from '../accumulators.js';
import type { WindowAggregation, WindowEmit, WindowOperator } from './types.js';

interface Session {
  start: number;
  /** Newest reading time in the session; the session ends at last + gap. */
  last: number;
  acc: AccumulatorSet;
}

interface SessionKey {
  wm: number;
  maxTs: number;
  /** Open sessions, sorted by start, never overlapping. */
  sessions: Session[];
}

/**
 * Session windows: a session is [first reading, last reading + gap). A reading within `gap` of
 * a session joins it; an out-of-order reading can bridge two sessions, which are then merged
 * (this is where accumulators' merge is needed). A session fires when the watermark reaches
 * last + gap. `maxDuration` bounds state: a session that long is closed (marked partial).
 */
export class SessionWindowOperator implements WindowOperator<SessionKey> {
  readonly eventTime = true;

  constructor(
    readonly gap: number,
    readonly maxDuration: number,
    readonly lateness: number,
    readonly idleTimeout: number,
    private readonly agg: WindowAggregation,
  ) {}

  createKey(): SessionKey {
    return { wm: -Infinity, maxTs: -Infinity, sessions: [] };
  }

  watermark(k: SessionKey): number {
    return k.wm;
  }

  openCount(k: SessionKey): number {
    return k.sessions.length;
  }

  snapshotKey(k: SessionKey): unknown {
    return { wm: k.wm, maxTs: k.maxTs, sessions: k.sessions.map((s) => ({ start: s.start, last: s.last, acc: this.agg.snapshot(s.acc) })) };
  }

  restoreKey(data: unknown): SessionKey {
    const d = data as { wm: number; maxTs: number; sessions: Array<{ start: number; last: number; acc: unknown }> };
    if (typeof d?.wm !== 'number' || !Array.isArray(d.sessions)) throw new Error('session window: saved key must be { wm, maxTs, sessions: [{ start, last, acc }] }');
    return { wm: d.wm, maxTs: d.maxTs, sessions: d.sessions.map((s) => ({ start: s.start, last: s.last, acc: this.agg.restore(s.acc) })) };
  }

  add(k: SessionKey, stream: string, r: Reading, emit: WindowEmit): void {
    const ts = r.ts;
    const list = k.sessions;
    // Sessions that [ts, ts + gap) touches: start < ts + gap and ts < last + gap.
    // Per reading: the `!` are bounds-checked by the loop conditions (this shape is the fast one).
    let i = 0;
    while (i < list.length && list[i]!.last + this.gap <= ts) i++;
    let j = i;
    while (j < list.length && list[j]!.start < ts + this.gap) j++;
    let s = i < j ? list[i] : undefined;
    if (!s) {
      s = { start: ts, last: ts, acc: this.agg.create() };
      list.splice(i, 0, s);
    } else {
      // The sessions after the first that [ts, ts + gap) touches merge into it.
      if (j - i > 1) {
        for (const o of list.splice(i + 1, j - i - 1)) {
          s.acc.merge(o.acc);
          if (o.last > s.last) s.last = o.last;
        }
      }
      if (ts < s.start) s.start = ts;
      if (ts - s.start >= this.maxDuration) {
        // Long enough: close it and start afresh with this reading.
        list.splice(i, 1);
        emit(this.agg.result(stream, 'session', s.start, s.last + this.gap, s.acc, true));
        s = { start: ts, last: ts, acc: this.agg.create() };
        list.splice(i, 0, s);
      }
    }
    s.acc.add(r.value, ts);
    if (ts > s.last) s.last = ts;
    if (ts > k.maxTs) {
      k.maxTs = ts;
      const w = ts - this.lateness;
      if (w > k.wm) {
        k.wm = w;
        this.fire(k, stream, w, false, emit);
      }
    }
  }

  idle(k: SessionKey, stream: string, clock: number, emit: WindowEmit): void {
    const w = clock - this.lateness;
    if (w > k.wm) {
      k.wm = w;
      this.fire(k, stream, w, false, emit);
    }
  }

  flush(k: SessionKey, stream: string, partial: boolean, emit: WindowEmit): void {
    this.fire(k, stream, Infinity, partial, emit);
  }

  private fire(k: SessionKey, stream: string, wm: number, partial: boolean, emit: WindowEmit): void {
    const list = k.sessions;
    let n = 0;
    for (const s of list) {
      if (wm !== Infinity && s.last + this.gap > wm) break;
      emit(this.agg.result(stream, 'session', s.start, s.last + this.gap, s.acc, partial && wm === Infinity));
      n++;
    }
    if (n > 0) list.splice(0, n);
  }
}
