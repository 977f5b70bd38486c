import type { Reading } from '../../core/reading.js';
import type { AccumulatorSet } from '../accumulators.js';
import type { WindowAggregation, WindowEmit, WindowOperator } from './types.js';

interface CountKey {
  /** Completed panes of `slide` readings, oldest first; at most size/slide. */
  panes: AccumulatorSet[];
  cur: AccumulatorSet | undefined;
}

/**
 * Count windows, in arrival order: a window of `size` readings every `slide` readings.
 * Assigner: panes of `slide` readings; trigger: a pane completes and size/slide panes are
 * held. Readings are never late here (there is no event-time deadline). An idle source can
 * flush its unfinished window as `partial` when `idleTimeout` is set.
 */
export class CountWindowOperator implements WindowOperator<CountKey> {
  readonly eventTime = false;
  private readonly panesPerWindow: number;

  constructor(
    readonly size: number,
    readonly slide: number,
    readonly idleTimeout: number,
    private readonly agg: WindowAggregation,
  ) {
    this.panesPerWindow = size / slide;
  }

  createKey(): CountKey {
    return { panes: [], cur: undefined };
  }

  watermark(): number {
    return -Infinity;
  }

  openCount(keyState: CountKey): number {
    return keyState.panes.length + (keyState.cur ? 1 : 0);
  }

  snapshotKey(keyState: CountKey): unknown {
    return { panes: keyState.panes.map((p) => this.agg.snapshot(p)), cur: keyState.cur ? this.agg.snapshot(keyState.cur) : null };
  }

  restoreKey(data: unknown): CountKey {
    const d = data as { panes: unknown[]; cur: unknown };
    if (!Array.isArray(d?.panes)) throw new Error('count window: saved key must be { panes: [accumulator], cur: accumulator | null }');
    return { panes: d.panes.map((p) => this.agg.restore(p)), cur: d.cur == null ? undefined : this.agg.restore(d.cur) };
  }

  add(keyState: CountKey, stream: string, r: Reading, emit: WindowEmit): void {
    const cur = (keyState.cur ??= this.agg.create());
    cur.add(r.value, r.ts);
    if (cur.n < this.slide) return;
    keyState.cur = undefined;
    keyState.panes.push(cur);
    if (keyState.panes.length > this.panesPerWindow) keyState.panes.shift();
    if (keyState.panes.length === this.panesPerWindow) emit(this.merged(keyState, stream, false));
  }

  idle(keyState: CountKey, stream: string, _clock: number, emit: WindowEmit): void {
    this.flush(keyState, stream, true, emit);
  }

  flush(keyState: CountKey, stream: string, partial: boolean, emit: WindowEmit): void {
    // Only an unfinished window is left to emit: the readings since the last full pane.
    if (!keyState.cur) {
      keyState.panes.length = 0;
      return;
    }
    if (keyState.cur) keyState.panes.push(keyState.cur);
    keyState.cur = undefined;
    if (keyState.panes.length > this.panesPerWindow) keyState.panes.shift();
    emit(this.merged(keyState, stream, partial));
    keyState.panes.length = 0;
  }

  private merged(keyState: CountKey, stream: string, partial: boolean) {
    let acc: AccumulatorSet;
    const only = keyState.panes.length === 1 ? keyState.panes[0] : undefined;
    if (only) acc = only;
    else {
      acc = this.agg.create();
      for (const p of keyState.panes) acc.merge(p);
    }
    return this.agg.result(stream, 'count', acc.minTs, acc.maxTs, acc, partial);
  }
}
