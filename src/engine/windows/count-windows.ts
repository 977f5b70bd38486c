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

  openCount(k: CountKey): number {
    return k.panes.length + (k.cur ? 1 : 0);
  }

  snapshotKey(k: CountKey): unknown {
    return { panes: k.panes.map((p) => this.agg.snapshot(p)), cur: k.cur ? this.agg.snapshot(k.cur) : null };
  }

  restoreKey(data: unknown): CountKey {
    const d = data as { panes: unknown[]; cur: unknown };
    if (!Array.isArray(d?.panes)) throw new Error('count window: saved key must be { panes: [accumulator], cur: accumulator | null }');
    return { panes: d.panes.map((p) => this.agg.restore(p)), cur: d.cur == null ? undefined : this.agg.restore(d.cur) };
  }

  add(k: CountKey, stream: string, r: Reading, emit: WindowEmit): void {
    const cur = (k.cur ??= this.agg.create());
    cur.add(r.value, r.ts);
    if (cur.n < this.slide) return;
    k.cur = undefined;
    k.panes.push(cur);
    if (k.panes.length > this.panesPerWindow) k.panes.shift();
    if (k.panes.length === this.panesPerWindow) emit(this.merged(k, stream, false));
  }

  idle(k: CountKey, stream: string, _clock: number, emit: WindowEmit): void {
    this.flush(k, stream, true, emit);
  }

  flush(k: CountKey, stream: string, partial: boolean, emit: WindowEmit): void {
    // Only an unfinished window is left to emit: the readings since the last full pane.
    if (!k.cur) {
      k.panes.length = 0;
      return;
    }
    if (k.cur) k.panes.push(k.cur);
    k.cur = undefined;
    if (k.panes.length > this.panesPerWindow) k.panes.shift();
    emit(this.merged(k, stream, partial));
    k.panes.length = 0;
  }

  private merged(k: CountKey, stream: string, partial: boolean) {
    let acc: AccumulatorSet;
    const only = k.panes.length === 1 ? k.panes[0] : undefined;
    if (only) acc = only;
    else {
      acc = this.agg.create();
      for (const p of k.panes) acc.merge(p);
    }
    return this.agg.result(stream, 'count', acc.minTs, acc.maxTs, acc, partial);
  }
}
