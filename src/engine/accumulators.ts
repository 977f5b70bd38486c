import { LogCollapsingLowestDenseDDSketch } from '@datadog/sketches-js';
import quickselect from 'quickselect';

/**
 * Incremental accumulators: create / add / merge, and results read from them. Each window pane
 * holds one AccumulatorSet with only the parts its aggregates need, so memory is per key and
 * open window, never per reading.
 */

/** Count, sum, Welford mean and M2, sum of squares, min, max. */
export class Moments {
  n = 0;
  sum = 0;
  mean = 0;
  m2 = 0;
  sumSq = 0;
  min = Infinity;
  max = -Infinity;

  add(v: number): void {
    const n = ++this.n;
    this.sum += v;
    this.sumSq += v * v;
    const d = v - this.mean;
    this.mean += d / n;
    this.m2 += d * (v - this.mean);
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** Chan et al.'s parallel combination of mean and M2. */
  merge(o: Moments): void {
    if (o.n === 0) return;
    if (this.n === 0) {
      this.n = o.n; this.sum = o.sum; this.mean = o.mean; this.m2 = o.m2; this.sumSq = o.sumSq; this.min = o.min; this.max = o.max;
      return;
    }
    const n = this.n + o.n;
    const d = o.mean - this.mean;
    this.mean += (d * o.n) / n;
    this.m2 += o.m2 + (d * d * this.n * o.n) / n;
    this.n = n;
    this.sum += o.sum;
    this.sumSq += o.sumSq;
    if (o.min < this.min) this.min = o.min;
    if (o.max > this.max) this.max = o.max;
  }
}

/** First and last reading by event time (ties: the earlier arrival is first, the later arrival is last). */
export class Endpoints {
  firstTs = Infinity;
  first = NaN;
  lastTs = -Infinity;
  last = NaN;

  add(v: number, ts: number): void {
    if (ts < this.firstTs) {
      this.firstTs = ts;
      this.first = v;
    }
    if (ts >= this.lastTs) {
      this.lastTs = ts;
      this.last = v;
    }
  }

  merge(o: Endpoints): void {
    if (o.firstTs < this.firstTs) {
      this.firstTs = o.firstTs;
      this.first = o.first;
    }
    if (o.lastTs >= this.lastTs) {
      this.lastTs = o.lastTs;
      this.last = o.last;
    }
  }
}

/** Relative accuracy of quantiles: the result is within 1% of a value at the requested rank. */
export const QUANTILE_RELATIVE_ACCURACY = 0.01;
/** Bins per sketch; past this the lowest bins collapse, which bounds memory (~16 KB per sketch at most). */
const QUANTILE_BIN_LIMIT = 2048;

/**
 * Values a window keeps exactly before a sketch takes over. Up to this many, quantiles are exact
 * (the value at rank floor(q·(n−1)), the rank a sketch answers within 1%) and no sketch is built:
 * a sketch made per window re-centred and copied its bins at every new extreme of the window's
 * values (~40 % of the engine bench's time, with the GC it caused). Past it, the values go into a
 * sketch extremes first, so the rest land inside its range.
 */
export const EXACT_QUANTILE_VALUES = 128;

/** Quantiles of a window: its values while few (exact), else a DDSketch (Datadog's, via @datadog/sketches-js): bounded memory, exactly mergeable, relative-error quantiles. */
export class Quantiles {
  /** The values added, while at most EXACT_QUANTILE_VALUES; undefined once the sketch holds them. */
  values: number[] | undefined = [];
  private s: LogCollapsingLowestDenseDDSketch | undefined;

  /** The sketch (made, and the exact values moved into it, on first use). */
  get sketch(): LogCollapsingLowestDenseDDSketch {
    if (this.s === undefined) {
      this.s = new LogCollapsingLowestDenseDDSketch({ relativeAccuracy: QUANTILE_RELATIVE_ACCURACY, binLimit: QUANTILE_BIN_LIMIT });
      const vs = this.values;
      this.values = undefined;
      if (vs !== undefined && vs.length > 0) acceptExtremesFirst(this.s, vs);
    }
    return this.s;
  }

  add(v: number): void {
    const vs = this.values;
    if (vs !== undefined && vs.length < EXACT_QUANTILE_VALUES) vs.push(v);
    else this.sketch.accept(v);
  }

  merge(o: Quantiles): void {
    const mine = this.values;
    const theirs = o.values;
    if (theirs !== undefined) {
      if (mine !== undefined && mine.length + theirs.length <= EXACT_QUANTILE_VALUES) {
        for (const v of theirs) mine.push(v);
      } else if (theirs.length > 0) acceptExtremesFirst(this.sketch, theirs);
      return;
    }
    if (o.sketch.count === 0) return;
    const sketch = this.sketch;
    const wasEmpty = sketch.count === 0;
    sketch.merge(o.sketch);
    // sketches-js 2.1's merge() forgets the negative-value store (found by our property test):
    // merge it here. When this sketch was empty, merge() copied both stores already.
    if (!wasEmpty) sketch.negativeStore.merge(o.sketch.negativeStore);
  }

  /** The value at quantile q, kept within the window's [min, max] (the sketch's bucket value may lie just outside). */
  at(q: number): number {
    const vs = this.values;
    if (vs !== undefined) {
      if (vs.length === 0) return NaN;
      // Selection, not a sort (the order of a window's values means nothing): O(n), in place.
      const k = Math.floor(q * (vs.length - 1));
      quickselect(vs, k);
      return vs[k]!;
    }
    const v = this.sketch.getValueAtQuantile(q);
    return v < this.sketch.min ? this.sketch.min : v > this.sketch.max ? this.sketch.max : v;
  }
}

/** Into a sketch: the smallest and largest value first, so that the others fall inside its bins' range. */
function acceptExtremesFirst(sketch: LogCollapsingLowestDenseDDSketch, vs: readonly number[]): void {
  let lo = 0;
  let hi = 0;
  for (let i = 1; i < vs.length; i++) {
    if (vs[i]! < vs[lo]!) lo = i;
    if (vs[i]! > vs[hi]!) hi = i;
  }
  sketch.accept(vs[lo]!);
  if (hi !== lo) sketch.accept(vs[hi]!);
  for (let i = 0; i < vs.length; i++) if (i !== lo && i !== hi) sketch.accept(vs[i]!);
}

/** What a set of aggregates needs kept per pane. */
export interface AccumulatorPlan {
  moments: boolean;
  endpoints: boolean;
  quantiles: boolean;
}

/** The accumulator of one pane (or a merged window): only the parts the plan asks for. */
export class AccumulatorSet {
  n = 0;
  /** Earliest and latest event time added (for session and count window bounds). */
  minTs = Infinity;
  maxTs = -Infinity;
  readonly moments: Moments | undefined;
  readonly endpoints: Endpoints | undefined;
  readonly quantiles: Quantiles | undefined;

  constructor(plan: AccumulatorPlan) {
    this.moments = plan.moments ? new Moments() : undefined;
    this.endpoints = plan.endpoints ? new Endpoints() : undefined;
    this.quantiles = plan.quantiles ? new Quantiles() : undefined;
  }

  add(v: number, ts: number): void {
    this.n++;
    if (ts < this.minTs) this.minTs = ts;
    if (ts > this.maxTs) this.maxTs = ts;
    this.moments?.add(v);
    this.endpoints?.add(v, ts);
    this.quantiles?.add(v);
  }

  merge(o: AccumulatorSet): void {
    this.n += o.n;
    if (o.minTs < this.minTs) this.minTs = o.minTs;
    if (o.maxTs > this.maxTs) this.maxTs = o.maxTs;
    if (this.moments && o.moments) this.moments.merge(o.moments);
    if (this.endpoints && o.endpoints) this.endpoints.merge(o.endpoints);
    if (this.quantiles && o.quantiles) this.quantiles.merge(o.quantiles);
  }
}

/** A sketch store's state (bins and bounds), as saved in a checkpoint. */
interface StoreSnap {
  bins: number[];
  count: number;
  minKey: number;
  maxKey: number;
  offset: number;
  collapsed: boolean;
}

/** An AccumulatorSet as plain data for a checkpoint (structured-clone safe: Infinity and NaN kept). */
export interface AccumulatorSnap {
  n: number;
  minTs: number;
  maxTs: number;
  /** Moments: n, sum, mean, m2, sumSq, min, max. */
  m?: number[];
  /** Endpoints: firstTs, first, lastTs, last. */
  e?: number[];
  /** Quantiles while exact: the values. */
  x?: number[];
  /** Quantile sketch (past EXACT_QUANTILE_VALUES values, and every snapshot written before 2026-12-02): zeroCount, count, min, max, sum and both stores. */
  q?: { z: number; count: number; min: number; max: number; sum: number; pos: StoreSnap; neg: StoreSnap };
}

type SketchStore = Quantiles['sketch']['store'] & { isCollapsed?: boolean };

/** Only the bins between minKey and maxKey (the store preallocates 128 at a time): a checkpoint of a sketch stays small. */
function storeSnap(s: SketchStore): StoreSnap {
  const collapsed = !!s.isCollapsed;
  if (s.count === 0 || !(s.minKey <= s.maxKey)) return { bins: [], count: s.count, minKey: s.minKey, maxKey: s.maxKey, offset: s.offset, collapsed };
  const lo = s.minKey - s.offset;
  return { bins: s.bins.slice(lo, s.maxKey - s.offset + 1), count: s.count, minKey: s.minKey, maxKey: s.maxKey, offset: s.offset + lo, collapsed };
}

function restoreStore(s: SketchStore, d: StoreSnap): void {
  if (!Array.isArray(d?.bins)) throw new Error('quantile sketch store: "bins" must be an array');
  s.bins = d.bins.slice();
  s.count = d.count;
  s.minKey = d.minKey;
  s.maxKey = d.maxKey;
  s.offset = d.offset;
  if ('isCollapsed' in s) s.isCollapsed = d.collapsed;
}

export function snapshotAccumulator(a: AccumulatorSet): AccumulatorSnap {
  const out: AccumulatorSnap = { n: a.n, minTs: a.minTs, maxTs: a.maxTs };
  const m = a.moments;
  if (m) out.m = [m.n, m.sum, m.mean, m.m2, m.sumSq, m.min, m.max];
  const e = a.endpoints;
  if (e) out.e = [e.firstTs, e.first, e.lastTs, e.last];
  if (a.quantiles?.values) out.x = a.quantiles.values.slice();
  else if (a.quantiles) {
    const q = a.quantiles.sketch;
    out.q = { z: q.zeroCount, count: q.count, min: q.min, max: q.max, sum: q.sum, pos: storeSnap(q.store), neg: storeSnap(q.negativeStore) };
  }
  return out;
}

/** Rebuild an accumulator from a snapshot; throws with what is wrong when the snapshot does not fit the plan. */
export function restoreAccumulator(plan: AccumulatorPlan, d: AccumulatorSnap): AccumulatorSet {
  if (typeof d !== 'object' || d === null || typeof d.n !== 'number') throw new Error('accumulator: expected { n, minTs, maxTs, ... }');
  const a = new AccumulatorSet(plan);
  a.n = d.n;
  a.minTs = d.minTs;
  a.maxTs = d.maxTs;
  if (a.moments) {
    if (!Array.isArray(d.m) || d.m.length !== 7) throw new Error('accumulator: the pipeline needs moments ("m": 7 numbers), the snapshot has none');
    const m = a.moments;
    [m.n, m.sum, m.mean, m.m2, m.sumSq, m.min, m.max] = d.m as [number, number, number, number, number, number, number];
  }
  if (a.endpoints) {
    if (!Array.isArray(d.e) || d.e.length !== 4) throw new Error('accumulator: the pipeline needs first/last ("e": 4 numbers), the snapshot has none');
    const e = a.endpoints;
    [e.firstTs, e.first, e.lastTs, e.last] = d.e as [number, number, number, number];
  }
  if (a.quantiles && Array.isArray(d.x)) {
    if (d.x.length > EXACT_QUANTILE_VALUES || !d.x.every((v) => typeof v === 'number')) throw new Error(`accumulator: "x" must hold at most ${EXACT_QUANTILE_VALUES} numbers`);
    a.quantiles.values = d.x.slice();
  } else if (a.quantiles) {
    const q = d.q;
    if (!q) throw new Error('accumulator: the pipeline needs quantiles ("x" or "q"), the snapshot has neither');
    const s = a.quantiles.sketch;
    s.zeroCount = q.z;
    s.count = q.count;
    s.min = q.min;
    s.max = q.max;
    s.sum = q.sum;
    restoreStore(s.store, q.pos);
    restoreStore(s.negativeStore, q.neg);
  }
  return a;
}
