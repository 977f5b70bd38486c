import type { AggregateName } from '../spec.js';
import type { Reading } from '../../core/reading.js';
import type { WindowResult } from '../../core/records.js';
import { AccumulatorSet, restoreAccumulator, snapshotAccumulator, type AccumulatorPlan, type AccumulatorSnap } from '../accumulators.js';
import { resultsOf } from '../aggregates.js';

/**
 * A window operator keeps per-key window state (one object per key, created by `createKey`)
 * and turns readings into WindowResults. Three ideas stay apart, as in Flink:
 * - the assigner says which pane/window a reading belongs to (time slices, sessions, counts);
 * - the trigger says when a window fires (the watermark passing its end, a count, an idle source);
 * - the accumulator (AccumulatorSet) aggregates incrementally: create, add, merge, result.
 */
export interface WindowOperator<K = unknown> {
  /** Whether readings can be late for this window kind (time-based windows). */
  readonly eventTime: boolean;
  /** Silence after which a key's windows are closed (ms of pipeline time); Infinity for never. */
  readonly idleTimeout: number;
  createKey(): K;
  /** Add a reading (already checked not late). Fires what the watermark allows. */
  add(key: K, stream: string, r: Reading, emit: WindowEmit): void;
  /** The current watermark of a key: readings older than this are late. */
  watermark(key: K): number;
  /** The key has been silent: advance its watermark to `clock - lateness` and fire what that closes. */
  idle(key: K, stream: string, clock: number, emit: WindowEmit): void;
  /** Fire everything open (end of input, or shutdown when `partial`). */
  flush(key: K, stream: string, partial: boolean, emit: WindowEmit): void;
  /** Open panes/sessions held for a key (for stats and memory bounds). */
  openCount(key: K): number;
  /** A key's open windows as plain data for a checkpoint (structured-clone safe). */
  snapshotKey(key: K): unknown;
  /** Rebuild a key from `snapshotKey` data; throws (naming what is wrong) when it does not fit. */
  restoreKey(data: unknown): K;
}

export type WindowEmit = (result: WindowResult) => void;

/** Accumulator factory + result reader for one window step's aggregates. */
export class WindowAggregation {
  constructor(
    readonly names: readonly AggregateName[],
    readonly plan: AccumulatorPlan,
  ) {}

  create(): AccumulatorSet {
    return new AccumulatorSet(this.plan);
  }

  snapshot(acc: AccumulatorSet): AccumulatorSnap {
    return snapshotAccumulator(acc);
  }

  restore(d: unknown): AccumulatorSet {
    return restoreAccumulator(this.plan, d as AccumulatorSnap);
  }

  result(stream: string, window: string, start: number, end: number, acc: AccumulatorSet, partial: boolean): WindowResult {
    const res: WindowResult = { stream, window, start, end, count: acc.n, values: resultsOf(acc, this.names) };
    if (partial) res.partial = true;
    return res;
  }
}
