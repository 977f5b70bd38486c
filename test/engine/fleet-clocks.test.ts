/**
 * A fleet with bad device clocks: correct devices' window results must be exactly those of a run
 * without the bad devices, and every reading of a bad device must end accepted or counted under a
 * reason. The gateway is simulated: readings arrive (stamped with their arrival time) in a random
 * order within each second, and the clock ticks (advanceTo) every second.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Reading } from '../../src/core/reading.js';
import type { WindowResult } from '../../src/core/records.js';
import { testPipeline } from '../helpers/pipeline.js';

const T0 = Date.UTC(2026, 0, 1, 12);
const DAY = 86_400_000;

/** A device clock: the event time it stamps on a reading taken at gateway time `t` (second `s` of the run). */
type Clock = (t: number, s: number) => number;

const CLOCKS: Record<string, Clock> = {
  fast4m: (t) => t + 240_000,
  slow1h: (t) => t - 3_600_000,
  drift1pct: (t) => T0 + (t - T0) * 1.01,
  reboot1970: (t, s) => (s < 120 ? t : 5000 + (s - 120) * 1000),
  forwardDay: (t, s) => (s < 120 ? t : t + DAY),
};

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => ((x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 4294967296;
}

interface Device {
  name: string;
  clock: Clock;
}

/** Run the fleet for `secs` seconds; returns per-stream results, per-stream drops and the stats. */
function run(devices: Device[], secs: number, seed: number, maxDelay: number) {
  const t = testPipeline({ steps: [{ window: { type: 'tumbling', size: '10s', lateness: '2s', aggregates: ['count', 'sum', 'mean', 'max'] } }, { output: 'agg' }] });
  const drops = new Map<string, Record<string, number>>();
  t.p.drops.onDrop((d) => {
    const stream = (JSON.parse(d.sample) as Reading).stream;
    const m = drops.get(stream) ?? {};
    m[d.reason] = (m[d.reason] ?? 0) + 1;
    drops.set(stream, m);
  });
  // Each device has its own random stream (delays, values, place in the arrival order), so adding
  // devices changes nothing for the others.
  const rand = new Map(devices.map((d, i) => [d.name, rng(seed * 7919 + hash(d.name) + i * 0)]));
  let now = T0;
  for (let s = 0; s < secs; s++) {
    const batch = devices.map((d) => {
      const r = rand.get(d.name)!;
      const delay = Math.floor(r() * maxDelay); // taken this long before it arrives
      return { d, order: r(), delay, value: Math.round(r() * 1000) / 10 };
    });
    batch.sort((a, b) => a.order - b.order);
    for (const { d, delay, value } of batch) {
      t.p.push({ stream: `${d.name}/temp`, ts: Math.round(d.clock(now + 500 - delay, s)), value, arrival: now + 500 });
    }
    now += 1000;
    t.p.advanceTo(now);
  }
  t.p.flush(true);
  const byStream = new Map<string, WindowResult[]>();
  for (const r of t.results()) byStream.set(r.stream, [...(byStream.get(r.stream) ?? []), r]);
  return { byStream, drops, stats: t.p.stats(), late: t.late() };
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h >>> 0;
}

const good = Array.from({ length: 50 }, (_, i) => ({ name: `good-${String(i).padStart(2, '0')}`, clock: ((t: number) => t) as Clock }));
const bad = Object.entries(CLOCKS).flatMap(([kind, clock]) => [1, 2].map((n) => ({ name: `${kind}-${n}`, clock })));

test('50 correct devices give the same windows with 10 bad clocks in the fleet; each bad reading is accounted for', () => {
  const SECS = 600;
  const alone = run(good, SECS, 42, 800);
  const mixed = run([...good, ...bad], SECS, 42, 800);
  for (const d of good) {
    const stream = `${d.name}/temp`;
    const a = alone.byStream.get(stream)!;
    assert.equal(a.reduce((n, r) => n + r.count, 0), SECS, `${stream}: every reading in a window`);
    assert.deepEqual(mixed.byStream.get(stream), a, `${stream}: same windows with the bad devices around`);
    assert.equal(mixed.drops.get(stream), undefined);
  }
  assert.equal(mixed.late.length, 0);
  assert.equal(mixed.stats.unaccounted, 0);
  assert.equal(mixed.stats.received, 60 * SECS);
  const accepted = (name: string) => (mixed.byStream.get(`${name}/temp`) ?? []).reduce((n, r) => n + r.count, 0);
  for (const n of [1, 2]) {
    for (const kind of ['fast4m', 'slow1h', 'drift1pct']) {
      assert.equal(accepted(`${kind}-${n}`), SECS, `${kind}-${n}: a steady clock, however wrong, is its own time`);
      assert.equal(mixed.drops.get(`${kind}-${n}/temp`), undefined);
    }
    assert.equal(accepted(`reboot1970-${n}`), 120);
    assert.deepEqual(mixed.drops.get(`reboot1970-${n}/temp`), { clock_jump_back: SECS - 120 });
    assert.equal(accepted(`forwardDay-${n}`), 120);
    assert.deepEqual(mixed.drops.get(`forwardDay-${n}/temp`), { future: SECS - 120 });
  }
  assert.ok([...mixed.byStream.values()].flat().every((r) => r.start > DAY), 'no window in 1970');
});

test('property: random clock skews, jumps and arrival orders never change a correct device\'s windows', () => {
  const fleet = good.slice(0, 5);
  const clockArb: fc.Arbitrary<{ label: string; clock: Clock }> = fc.oneof(
    fc.integer({ min: -3 * 3_600_000, max: 3 * 3_600_000 }).map((off) => ({ label: `offset ${off}`, clock: (t: number) => t + off })),
    fc.integer({ min: -200, max: 200 }).map((per10k) => ({ label: `drift ${per10k / 100}%`, clock: (t: number) => T0 + (t - T0) * (1 + per10k / 10_000) })),
    fc.record({ at: fc.integer({ min: 0, max: 119 }), to: fc.oneof(fc.constant(0), fc.integer({ min: -10 * DAY, max: 10 * DAY })) }).map(({ at, to }) => ({
      label: `jump at ${at}s by ${to}`,
      clock: (t: number, s: number) => (s < at ? t : to === 0 ? (s - at) * 1000 : t + to),
    })),
  );
  fc.assert(
    fc.property(fc.array(clockArb, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 0, max: 1900 }), (clocks, seed, maxDelay) => {
      const bads = clocks.map((c, i) => ({ name: `bad-${i}`, clock: c.clock }));
      const alone = run(fleet, 120, seed, maxDelay);
      const mixed = run([...fleet, ...bads], 120, seed, maxDelay);
      for (const d of fleet) {
        const stream = `${d.name}/temp`;
        assert.deepEqual(mixed.byStream.get(stream), alone.byStream.get(stream), stream);
        assert.equal(mixed.drops.get(stream), undefined);
      }
      assert.equal(mixed.stats.unaccounted, 0);
      // Every reading of a bad device: in a window, late, or dropped under a reason.
      for (const b of bads) {
        const stream = `${b.name}/temp`;
        const inWindows = (mixed.byStream.get(stream) ?? []).reduce((n, r) => n + r.count, 0);
        const late = mixed.late.filter((r) => r.stream === stream).length;
        const dropped = Object.values(mixed.drops.get(stream) ?? {}).reduce((a, n) => a + n, 0);
        assert.equal(inWindows + late + dropped, 120, `${stream}: ${inWindows} in windows + ${late} late + ${dropped} dropped`);
      }
    }),
    { numRuns: 40 },
  );
});
