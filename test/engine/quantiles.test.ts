import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EXACT_QUANTILE_VALUES, QUANTILE_RELATIVE_ACCURACY, Quantiles, restoreAccumulator, snapshotAccumulator, AccumulatorSet } from '../../src/engine/accumulators.js';

const exactAt = (vs: number[], q: number) => [...vs].sort((a, b) => a - b)[Math.floor(q * (vs.length - 1))]!;
const of = (vs: number[]) => {
  const q = new Quantiles();
  for (const v of vs) q.add(v);
  return q;
};
const values = (n: number) => fc.array(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: -50, max: 50 })), { minLength: n, maxLength: n });

test('quantiles of a window of up to EXACT_QUANTILE_VALUES values are exact, and no sketch is built', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: EXACT_QUANTILE_VALUES }).chain(values), (vs) => {
      const q = of(vs);
      assert.ok(q.values !== undefined, 'still exact');
      for (const p of [0, 0.5, 0.95, 0.99, 1]) assert.ok(q.at(p) === exactAt(vs, p), `q ${p}: got ${q.at(p)}, want ${exactAt(vs, p)}`); // 0 and -0 alike (sorts may order them either way)
    }),
  );
  assert.ok(Number.isNaN(new Quantiles().at(0.5)), 'an empty window has no quantile');
});

test('past EXACT_QUANTILE_VALUES, and merged past it, the sketch answers within its relative accuracy', () => {
  // ± 1 % up to the rounding of doubles: a value at a bucket's edge is off by exactly the accuracy,
  // and its floating-point index can put it a hair past (fast-check found −985,062.16 read as
  // −975,211.54: 1 + 1e-13 times the bound)
  const within = (got: number, want: number) => assert.ok(Math.abs(got - want) <= QUANTILE_RELATIVE_ACCURACY * (1 + 1e-9) * Math.abs(want) + 1e-9, `got ${got}, want ${want} ± 1%`);
  fc.assert(
    fc.property(fc.integer({ min: EXACT_QUANTILE_VALUES + 1, max: 3 * EXACT_QUANTILE_VALUES }).chain(values), fc.integer({ min: 1, max: 3 * EXACT_QUANTILE_VALUES }), (vs, cut) => {
      const one = of(vs);
      assert.equal(one.values, undefined, 'the sketch took over');
      // The same values in two parts (exact + exact, exact + sketch, sketch + exact), merged.
      const a = of(vs.slice(0, cut));
      a.merge(of(vs.slice(cut)));
      for (const p of [0, 0.5, 0.95, 0.99, 1]) {
        within(one.at(p), exactAt(vs, p));
        within(a.at(p), exactAt(vs, p));
      }
    }),
  );
});

test('two exact halves that fit stay exact when merged; a snapshot keeps either form, and an older snapshot (a sketch) still restores', () => {
  const plan = { moments: false, endpoints: false, quantiles: true };
  const small = new AccumulatorSet(plan);
  const big = new AccumulatorSet(plan);
  for (let i = 0; i < 10; i++) small.add(i * 1.5, i);
  for (let i = 0; i < 500; i++) big.add((i * 7919) % 1000, i);
  const half = new AccumulatorSet(plan);
  for (let i = 10; i < 20; i++) half.add(i * 1.5, i);
  small.merge(half);
  assert.equal(small.quantiles!.values!.length, 20);
  assert.equal(small.quantiles!.at(0.95), exactAt(Array.from({ length: 20 }, (_, i) => i * 1.5), 0.95));

  const s1 = snapshotAccumulator(small);
  const s2 = snapshotAccumulator(big);
  assert.ok(s1.x && !s1.q, 'exact values saved as they are');
  assert.ok(s2.q && !s2.x, 'the sketch saved');
  for (const [acc, snap] of [[small, s1], [big, s2]] as const) {
    const back = restoreAccumulator(plan, structuredClone(snap));
    for (const p of [0.5, 0.95, 0.99]) assert.equal(back.quantiles!.at(p), acc.quantiles!.at(p));
    back.add(3, 1000);
    acc.add(3, 1000);
    assert.equal(back.quantiles!.at(0.5), acc.quantiles!.at(0.5), 'and goes on as the original does');
  }
  // What a checkpoint of before 2026-12-02 holds for a small window: a sketch.
  const forced = new AccumulatorSet(plan);
  for (let i = 0; i < 20; i++) forced.add(i * 1.5, i);
  void forced.quantiles!.sketch; // moves the values into the sketch, as every window had one then
  const old = snapshotAccumulator(forced);
  assert.ok(old.q && !old.x, 'a sketch saved');
  assert.equal(restoreAccumulator(plan, structuredClone(old)).quantiles!.at(0.95), forced.quantiles!.at(0.95));
  assert.throws(() => restoreAccumulator(plan, { n: 1, minTs: 0, maxTs: 0 }), /needs quantiles/);
  assert.throws(() => restoreAccumulator(plan, { n: 1, minTs: 0, maxTs: 0, x: new Array(EXACT_QUANTILE_VALUES + 1).fill(1) }), /at most/);
});
