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

  watermark(keyState: SessionKey): number {
    return keyState.wm;
  }

  openCount(keyState: SessionKey): number {
    return keyState.sessions.length;
  }

  snapshotKey(keyState: SessionKey): unknown {
    return { wm: keyState.wm, maxTs: keyState.maxTs, sessions: keyState.sessions.map((session) => ({ start: session.start, last: session.last, acc: this.agg.snapshot(session.acc) })) };
  }

  restoreKey(data: unknown): SessionKey {
    const d = data as { wm: number; maxTs: number; sessions: Array<{ start: number; last: number; acc: unknown }> };
    if (typeof d?.wm !== 'number' || !Array.isArray(d.sessions)) throw new Error('session window: saved key must be { wm, maxTs, sessions: [{ start, last, acc }] }');
    return { wm: d.wm, maxTs: d.maxTs, sessions: d.sessions.map((session) => ({ start: session.start, last: session.last, acc: this.agg.restore(session.acc) })) };
  }

  add(keyState: SessionKey, stream: string, r: Reading, emit: WindowEmit): void {
    const ts = r.ts;
    const list = keyState.sessions;
    // Sessions that [ts, ts + gap) touches: start < ts + gap and ts < last + gap.
    // Per reading: the `!` are bounds-checked by the loop conditions (this shape is the fast one).
    let i = 0;
    while (i < list.length && list[i]!.last + this.gap <= ts) i++;
    let j = i;
    while (j < list.length && list[j]!.start < ts + this.gap) j++;
    let session = i < j ? list[i] : undefined;
    if (!session) {
      session = { start: ts, last: ts, acc: this.agg.create() };
      list.splice(i, 0, session);
    } else {
      // The sessions after the first that [ts, ts + gap) touches merge into it.
      if (j - i > 1) {
        for (const later of list.splice(i + 1, j - i - 1)) {
          session.acc.merge(later.acc);
          if (later.last > session.last) session.last = later.last;
        }
      }
      if (ts < session.start) session.start = ts;
      if (ts - session.start >= this.maxDuration) {
        // Long enough: close it and start afresh with this reading.
        list.splice(i, 1);
        emit(this.agg.result(stream, 'session', session.start, session.last + this.gap, session.acc, true));
        session = { start: ts, last: ts, acc: this.agg.create() };
        list.splice(i, 0, session);
      }
    }
    session.acc.add(r.value, ts);
    if (ts > session.last) session.last = ts;
    if (ts > keyState.maxTs) {
      keyState.maxTs = ts;
      const w = ts - this.lateness;
      if (w > keyState.wm) {
        keyState.wm = w;
        this.fire(keyState, stream, w, false, emit);
      }
    }
  }

  idle(keyState: SessionKey, stream: string, clock: number, emit: WindowEmit): void {
    const w = clock - this.lateness;
    if (w > keyState.wm) {
      keyState.wm = w;
      this.fire(keyState, stream, w, false, emit);
    }
  }

  flush(keyState: SessionKey, stream: string, partial: boolean, emit: WindowEmit): void {
    this.fire(keyState, stream, Infinity, partial, emit);
  }

  private fire(keyState: SessionKey, stream: string, wm: number, partial: boolean, emit: WindowEmit): void {
    const list = keyState.sessions;
    let n = 0;
    for (const session of list) {
      if (wm !== Infinity && session.last + this.gap > wm) break;
      emit(this.agg.result(stream, 'session', session.start, session.last + this.gap, session.acc, partial && wm === Infinity));
      n++;
    }
    if (n > 0) list.splice(0, n);
  }
}
