import type { Reading } from '../../core/reading.js';
import type { AccumulatorSet } from '../accumulators.js';
import type { WindowAggregation, WindowEmit, WindowOperator } from './types.js';

/**
 * Assigner for tumbling, hopping and sliding windows, all as slices ("panes") of event time.
 * A reading goes into exactly one pane of length `pane`; a window [end - size, end) is the
 * merge of the size/pane panes before `end`. Windows end at multiples of `pane`.
 * - tumbling: pane = size (one pane per window, no merging);
 * - hopping: pane = hop (a reading counts in size/hop windows);
 * - sliding: pane = resolution, and a window fires only if its last pane has readings,
 *   i.e. a window of `size` ends after each reading, to the resolution.
 */
export interface TimeAssigner {
  kind: 'tumbling' | 'hopping' | 'sliding';
  size: number;
  pane: number;
  /** Sliding: only windows whose last pane holds readings fire. */
  requireLastPane: boolean;
}

export function tumbling(size: number): TimeAssigner {
  return { kind: 'tumbling', size, pane: size, requireLastPane: false };
}
export function hopping(size: number, hop: number): TimeAssigner {
  return { kind: 'hopping', size, pane: hop, requireLastPane: false };
}
export function sliding(size: number, resolution = size / 10): TimeAssigner {
  const pane = Number.isInteger(resolution) && size % resolution === 0 ? resolution : size;
  return { kind: 'sliding', size, pane, requireLastPane: true };
}

interface TimeKey {
  /** Watermark: newest event time minus the allowed lateness (or moved on by idleness). */
  wm: number;
  maxTs: number;
  panes: Map<number, AccumulatorSet>;
  /** Every window ending at or before this has been handled. */
  firedUpTo: number;
  /** Earliest window end that may fire next (Infinity when no panes). */
  nextEnd: number;
  /** Fast path: the pane the last reading went to. */
  curIdx: number;
  curAcc: AccumulatorSet | undefined;
}

/** Trigger: a window fires once, when the key's watermark reaches its end. */
export class TimeWindowOperator implements WindowOperator<TimeKey> {
  readonly eventTime = true;
  private readonly panesPerWindow: number;

  constructor(
    readonly assigner: TimeAssigner,
    readonly lateness: number,
    readonly idleTimeout: number,
    private readonly agg: WindowAggregation,
  ) {
    this.panesPerWindow = assigner.size / assigner.pane;
  }

  createKey(): TimeKey {
    return { wm: -Infinity, maxTs: -Infinity, panes: new Map(), firedUpTo: -Infinity, nextEnd: Infinity, curIdx: NaN, curAcc: undefined };
  }

  watermark(keyState: TimeKey): number {
    return keyState.wm;
  }

  openCount(keyState: TimeKey): number {
    return keyState.panes.size;
  }

  snapshotKey(keyState: TimeKey): unknown {
    const panes: Array<[number, unknown]> = [];
    for (const [idx, acc] of keyState.panes) panes.push([idx, this.agg.snapshot(acc)]);
    return { wm: keyState.wm, maxTs: keyState.maxTs, firedUpTo: keyState.firedUpTo, nextEnd: keyState.nextEnd, panes };
  }

  restoreKey(data: unknown): TimeKey {
    const d = data as { wm: number; maxTs: number; firedUpTo: number; nextEnd: number; panes: Array<[number, unknown]> };
    if (typeof d?.wm !== 'number' || !Array.isArray(d.panes)) throw new Error(`${this.assigner.kind} window: saved key must be { wm, maxTs, firedUpTo, nextEnd, panes: [[index, accumulator]] }`);
    const keyState = this.createKey();
    keyState.wm = d.wm;
    keyState.maxTs = d.maxTs;
    keyState.firedUpTo = d.firedUpTo;
    keyState.nextEnd = d.nextEnd;
    for (const [idx, acc] of d.panes) keyState.panes.set(idx, this.agg.restore(acc));
    return keyState;
  }

  add(keyState: TimeKey, stream: string, r: Reading, emit: WindowEmit): void {
    const P = this.assigner.pane;
    const idx = Math.floor(r.ts / P);
    let acc = keyState.curAcc;
    if (idx !== keyState.curIdx || acc === undefined) {
      acc = keyState.panes.get(idx);
      if (acc === undefined) {
        acc = this.agg.create();
        keyState.panes.set(idx, acc);
        const end = (idx + 1) * P;
        if (end < keyState.nextEnd) keyState.nextEnd = end;
      }
      keyState.curIdx = idx;
      keyState.curAcc = acc;
    }
    acc.add(r.value, r.ts);
    if (r.ts > keyState.maxTs) {
      keyState.maxTs = r.ts;
      const w = r.ts - this.lateness;
      if (w > keyState.wm) {
        keyState.wm = w;
        if (w >= keyState.nextEnd) this.fire(keyState, stream, w, false, emit);
      }
    }
  }

  idle(keyState: TimeKey, stream: string, clock: number, emit: WindowEmit): void {
    const w = clock - this.lateness;
    if (w > keyState.wm) {
      keyState.wm = w;
      if (w >= keyState.nextEnd) this.fire(keyState, stream, w, true, emit);
    }
  }

  flush(keyState: TimeKey, stream: string, partial: boolean, emit: WindowEmit): void {
    if (keyState.panes.size > 0) this.fire(keyState, stream, Infinity, partial, emit);
  }

  /** Fire every window with end <= wm that holds readings, in order; free panes no open window needs. */
  private fire(keyState: TimeKey, stream: string, wm: number, partial: boolean, emit: WindowEmit): void {
    const P = this.assigner.pane;
    const S = this.assigner.size;
    const n = this.panesPerWindow;
    const idxs = [...keyState.panes.keys()].sort((a, b) => a - b);
    let next = 0; // index into idxs of the first pane not yet behind the window being considered
    const firstIdx = idxs[0];
    let e = firstIdx === undefined ? Infinity : Math.max(keyState.firedUpTo + P, (firstIdx + 1) * P);
    while (e <= wm) {
      const last = e / P - 1;
      const first = last - n + 1;
      let idx = idxs[next];
      while (idx !== undefined && idx < first) idx = idxs[++next];
      if (idx === undefined) break;
      if (idx > last) {
        // No pane in this window: jump to the first window that holds the next pane.
        e = Math.max(e + P, (idx + 1) * P);
        continue;
      }
      const lastPane = keyState.panes.get(last);
      if (!this.assigner.requireLastPane || lastPane !== undefined) {
        let acc: AccumulatorSet;
        if (n === 1) acc = lastPane!;
        else {
          acc = this.agg.create();
          for (let j = next, idx = idxs[j]; idx !== undefined && idx <= last; idx = idxs[++j]) acc.merge(keyState.panes.get(idx)!);
        }
        // A window cut short by idleness or shutdown is partial only if it could still have grown.
        emit(this.agg.result(stream, this.assigner.kind, e - S, e, acc, partial && e > keyState.maxTs));
      }
      e += P;
    }
    keyState.firedUpTo = wm === Infinity ? -Infinity : Math.floor(wm / P) * P;
    if (wm === Infinity) {
      keyState.panes.clear();
    } else {
      for (const idx of idxs) if (idx * P + S <= keyState.firedUpTo) keyState.panes.delete(idx);
    }
    keyState.curIdx = NaN;
    keyState.curAcc = undefined;
    let minIdx = Infinity;
    for (const idx of keyState.panes.keys()) if (idx < minIdx) minIdx = idx;
    keyState.nextEnd = minIdx === Infinity ? Infinity : Math.max(keyState.firedUpTo + P, (minIdx + 1) * P);
  }
}
