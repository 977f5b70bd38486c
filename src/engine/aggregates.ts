import type { AggregateName } from './spec.js';
import { AccumulatorSet, type AccumulatorPlan } from './accumulators.js';

interface AggregateDef {
  needs: keyof AccumulatorPlan | 'none';
  /** The result; NaN means "no value" (e.g. a rate over a single instant) and is left out of the output. */
  result(a: AccumulatorSet): number;
}

/**
 * The aggregates. `stddev` is the population standard deviation; `rate` is the change per
 * second between the first and last reading by event time; p50/p95/p99 come from a DDSketch
 * (within 1% relative error of a value at that rank).
 */
const AGGREGATES: Record<AggregateName, AggregateDef> = {
  count: { needs: 'none', result: (a) => a.n },
  sum: { needs: 'moments', result: (a) => a.moments!.sum },
  mean: { needs: 'moments', result: (a) => a.moments!.mean },
  min: { needs: 'moments', result: (a) => a.moments!.min },
  max: { needs: 'moments', result: (a) => a.moments!.max },
  stddev: { needs: 'moments', result: (a) => (a.n > 0 ? Math.sqrt(Math.max(0, a.moments!.m2) / a.n) : NaN) },
  rms: { needs: 'moments', result: (a) => (a.n > 0 ? Math.sqrt(a.moments!.sumSq / a.n) : NaN) },
  first: { needs: 'endpoints', result: (a) => a.endpoints!.first },
  last: { needs: 'endpoints', result: (a) => a.endpoints!.last },
  rate: {
    needs: 'endpoints',
    result: (a) => {
      const e = a.endpoints!;
      const dt = e.lastTs - e.firstTs;
      return dt > 0 ? ((e.last - e.first) * 1000) / dt : NaN;
    },
  },
  p50: { needs: 'quantiles', result: (a) => a.quantiles!.at(0.5) },
  p95: { needs: 'quantiles', result: (a) => a.quantiles!.at(0.95) },
  p99: { needs: 'quantiles', result: (a) => a.quantiles!.at(0.99) },
};

export function planFor(names: readonly AggregateName[]): AccumulatorPlan {
  const plan: AccumulatorPlan = { moments: false, endpoints: false, quantiles: false };
  for (const n of names) {
    const need = AGGREGATES[n].needs;
    if (need !== 'none') plan[need] = true;
  }
  return plan;
}

/** Read the named aggregates from an accumulator. Values that do not exist (NaN) are left out. */
export function resultsOf(acc: AccumulatorSet, names: readonly AggregateName[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) {
    const v = AGGREGATES[n].result(acc);
    if (!Number.isNaN(v)) out[n] = v;
  }
  return out;
}
