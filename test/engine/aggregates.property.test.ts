import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AGGREGATE_NAMES } from '../../src/config/pipeline.js';
import type { WindowResult } from '../../src/core/records.js';
import { QUANTILE_RELATIVE_ACCURACY } from '../../src/engine/accumulators.js';
import { testPipeline } from '../helpers/pipeline.js';

/**
 * Property: every incremental aggregate equals a recomputation over the same readings, in any
 * arrival order within the allowed lateness.
 */

const LATENESS = 3000;
type R = { ts: number; value: number };

/** Readings with distinct times, and an arrival order in which none is later than LATENESS. */
const readingsInArrivalOrder = fc
  .uniqueArray(fc.integer({ min: 0, max: 30_000 }), { minLength: 1, maxLength: 120 })
  .chain((times) =>
    fc.tuple(
      // Sensor-like values: the sketch keeps 1% accuracy over a dynamic range of ~1e17 (2,048 bins),
      // so magnitudes below 1e-6 are taken as 0 here (the range of a double would collapse bins).
      fc.array(fc.double({ min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true }).map((v) => (Math.abs(v) < 1e-6 ? 0 : v)), { minLength: times.length, maxLength: times.length }),
      fc.array(fc.integer({ min: 0, max: LATENESS }), { minLength: times.length, maxLength: times.length }),
    ).map(([values, delays]) => {
      const rs = times.map((ts, i) => ({ ts, value: values[i]!, arrival: ts + delays[i]! }));
      rs.sort((a, b) => a.arrival - b.arrival || a.ts - b.ts);
      return rs.map(({ ts, value }) => ({ ts, value }));
    }),
  );

function exact(rs: R[]): Record<string, number> {
  const vs = rs.map((r) => r.value);
  const n = vs.length;
  const sum = vs.reduce((a, b) => a + b, 0);
  const mean = sum / n;
  const byTs = [...rs].sort((a, b) => a.ts - b.ts);
  const first = byTs[0]!;
  const last = byTs[n - 1]!;
  const out: Record<string, number> = {
    count: n,
    sum,
    mean,
    min: Math.min(...vs),
    max: Math.max(...vs),
    stddev: Math.sqrt(vs.reduce((a, v) => a + (v - mean) ** 2, 0) / n),
    rms: Math.sqrt(vs.reduce((a, v) => a + v * v, 0) / n),
    first: first.value,
    last: last.value,
  };
  if (last.ts > first.ts) out.rate = ((last.value - first.value) * 1000) / (last.ts - first.ts);
  return out;
}

function quantileAt(rs: R[], q: number): number {
  const sorted = rs.map((r) => r.value).sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

function assertMatches(got: WindowResult, members: R[]) {
  const want = exact(members);
  assert.equal(got.count, members.length);
  for (const [k, v] of Object.entries(want)) {
    const tol = 1e-9 * Math.max(1, Math.abs(v), ...members.map((m) => Math.abs(m.value)));
    assert.ok(Math.abs(got.values[k]! - v) <= (k === 'rate' ? tol * 1000 : tol), `${k}: got ${got.values[k]}, want ${v}`);
  }
  if (want.rate === undefined) assert.equal(got.values.rate, undefined, 'rate is absent for a single instant');
  for (const [name, q] of [['p50', 0.5], ['p95', 0.95], ['p99', 0.99]] as const) {
    const v = quantileAt(members, q);
    const err = Math.abs(got.values[name]! - v);
    assert.ok(err <= QUANTILE_RELATIVE_ACCURACY * Math.abs(v) + 1e-9, `${name}: got ${got.values[name]}, want ${v} ± 1%`);
  }
}

const ALL = [...AGGREGATE_NAMES];

test('tumbling and hopping windows: incremental aggregates equal recomputation', () => {
  fc.assert(
    fc.property(readingsInArrivalOrder, fc.constantFrom([1000, 1000], [3000, 1000], [4000, 2000]), (rs, [size, hop]) => {
      const t = testPipeline({ steps: [{ window: { type: 'hopping', size, hop, lateness: LATENESS, aggregates: ALL } }, { output: 'agg' }] });
      t.push(...rs);
      t.p.flush();
      assert.equal(t.late().length, 0, 'nothing arrived later than the lateness');
      const got = t.results();
      const starts = new Set<number>();
      for (const r of rs) for (let s = Math.floor(r.ts / hop) * hop - size + hop; s <= r.ts; s += hop) starts.add(s);
      assert.deepEqual(got.map((g) => g.start), [...starts].sort((a, b) => a - b), 'one result per non-empty window, in order');
      for (const g of got) assertMatches(g, rs.filter((r) => r.ts >= g.start && r.ts < g.end));
    }),
    { numRuns: 150 },
  );
});

test('session windows: incremental aggregates (with merges) equal recomputation', () => {
  fc.assert(
    fc.property(readingsInArrivalOrder, fc.constantFrom(200, 700, 2000), (rs, gap) => {
      const t = testPipeline({ steps: [{ window: { type: 'session', gap, lateness: LATENESS, aggregates: ALL } }, { output: 'agg' }] });
      t.push(...rs);
      t.p.flush();
      const sorted = [...rs].sort((a, b) => a.ts - b.ts);
      const sessions: R[][] = [];
      for (const r of sorted) {
        const cur = sessions.at(-1);
        if (cur && r.ts - cur.at(-1)!.ts < gap) cur.push(r);
        else sessions.push([r]);
      }
      const got = t.results();
      assert.equal(got.length, sessions.length);
      got.forEach((g, i) => {
        assert.equal(g.start, sessions[i]![0]!.ts);
        assert.equal(g.end, sessions[i]!.at(-1)!.ts + gap);
        assertMatches(g, sessions[i]!);
      });
    }),
    { numRuns: 150 },
  );
});

test('merge is order-independent: the same readings in two arrival orders give the same windows', () => {
  fc.assert(
    fc.property(readingsInArrivalOrder, (a) => {
      const reversedWithin = [...a].sort((x, y) => x.ts - y.ts);
      const run = (rs: R[]) => {
        const t = testPipeline({ steps: [{ window: { type: 'tumbling', size: 5000, lateness: 40_000, aggregates: ALL } }, { output: 'agg' }] });
        t.push(...rs);
        t.p.flush();
        return t.results();
      };
      const x = run(a);
      const y = run(reversedWithin);
      assert.equal(x.length, y.length);
      x.forEach((r, i) => {
        for (const k of ['count', 'min', 'max', 'first', 'last', 'p50', 'p95', 'p99'] as const) assert.equal(r.values[k], y[i]!.values[k], k);
        assert.ok(Math.abs(r.values.mean! - y[i]!.values.mean!) < 1e-9 * 1000);
      });
    }),
    { numRuns: 100 },
  );
});
