/**
 * The default detector's memory of lasting steps by time of day (`spike_daily`, issue 12;
 * src/detectors/default/daily-steps.ts): on a slow series an anomalous step is not learnt by the
 * spike record, so without this memory a machine that starts every morning would be a spike and a
 * dip every day for ever. A daily spike that returns at once stays a spike; a start larger than
 * the usual ones is still one; a weekday pattern survives a weekend; snapshots keep the memory.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DefaultDetector, DEFAULT_DETECTOR_PARAMS, type DefaultParams } from '../../src/detectors/default/detector.js';
import { noise, T0 } from './helpers.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const OFF = { spike_daily: 0 };

/** A machine at 10 that runs at 50 from 07:00 to 19:00 (UTC; T0 is midnight), noise 0.5, its start wandering ±10 minutes; `days` long. */
function machine(stepMs: number, days: number, seed: number, opts: { weekends?: boolean; bigStartDay?: number } = {}) {
  const g = noise(seed);
  const ts: number[] = [];
  const values: number[] = [];
  const wander = Array.from({ length: days }, () => Math.round(g() * 5) * 60_000);
  for (let t = 0; t < days * DAY; t += stepMs) {
    const day = Math.floor(t / DAY);
    const h = t - day * DAY - wander[day]!;
    // T0 (2024-01-01) is a Monday: days 5 and 6 of each week are the weekend.
    const idle = opts.weekends === true && day % 7 >= 5;
    const on = !idle && h >= 7 * HOUR && h < 19 * HOUR;
    ts.push(T0 + t);
    values.push((on ? (day === opts.bigStartDay ? 130 : 50) : 10) + 0.5 * g());
  }
  return { ts, values };
}

/** Days (from T0) on which a spike or dip reading was anomalous, and how many such readings in all. */
function spikeDays(s: { ts: number[]; values: number[] }, over: Partial<DefaultParams> = {}, d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS, ...over })) {
  const days = new Set<number>();
  let n = 0;
  s.values.forEach((v, i) => {
    const o = d.update(s.ts[i]!, v);
    if (o.anomalous && (o.rule === 'spike' || o.rule === 'dip')) {
      days.add(Math.floor((s.ts[i]! - T0) / DAY));
      n++;
    }
  });
  return { days: [...days].sort((a, b) => a - b), n };
}

describe('default detector, lasting steps by time of day (spike_daily)', () => {
  for (const [label, stepMs] of [['1 minute', 60_000], ['5 minutes', 300_000], ['1 hour', HOUR]] as const) {
    // Judged from the warm-up's end (100 readings: 4 days at hourly readings); the first day after it teaches the memory.
    const from = Math.ceil((DEFAULT_DETECTOR_PARAMS.warmup * stepMs) / DAY) + 2;
    it(`a machine that starts at 07:00 and stops at 19:00 every day, readings every ${label}: no spike or dip from day ${from} in 30 days (3 seeds); without the memory, on most days`, () => {
      for (let seed = 1; seed <= 3; seed++) {
        const s = machine(stepMs, 30, seed);
        const late = spikeDays(s).days.filter((d) => d >= from);
        assert.ok(late.length <= 1, `seed ${seed}: spikes on days ${late.join(', ')}`);
        const without = spikeDays(s, OFF).days.filter((d) => d >= from);
        assert.ok(without.length >= 15, `seed ${seed}: without the memory only ${without.length} days`);
      }
    });
  }

  it('a daily burst that returns within the hold (a job at 03:00: 80 above for 10 minutes, then back at once or by halves) is a spike every day', () => {
    // Back at once: the way down lasts and is remembered as a fall, which must not excuse the next
    // day's rise. Back by halves: the rise itself waits longest, and must not count as lasting.
    for (const halves of [false, true]) {
      const g = noise(4);
      const ts: number[] = [];
      const values: number[] = [];
      for (let i = 0; i < 30 * 288; i++) {
        const r = i % 288;
        ts.push(T0 + i * 300_000);
        values.push(100 + 2 * g() + (r === 36 || r === 37 ? 80 : r === 38 && halves ? 40 : 0));
      }
      // The rise itself is anomalous every day (not only the way back).
      const d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS });
      const rises: number[] = [];
      values.forEach((v, i) => {
        if (d.update(ts[i]!, v).anomalous && i % 288 === 36) rises.push(Math.floor(i / 288));
      });
      const late = rises.filter((day) => day > 3);
      assert.ok(late.length >= 25, `${halves ? 'by halves' : 'at once'}: the rise anomalous on ${late.length} of 26 days`);
    }
  });

  it('a start far larger than the usual ones (to 130 instead of 50, day 25) is still an anomaly; a usual start at 03:00 (day 15) is a spike', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const s = machine(300_000, 30, seed, { bigStartDay: 25 });
      // Day 15: the machine also runs from 03:00 to 04:00.
      for (let i = 15 * 288 + 36; i < 15 * 288 + 48; i++) s.values[i] = 50 + (s.values[i]! - 10);
      const d = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS });
      const hits = new Set<string>();
      s.values.forEach((v, i) => {
        const o = d.update(s.ts[i]!, v);
        if (o.anomalous && (i === 15 * 288 + 36 || Math.floor(i / 288) === 25)) hits.add(i === 15 * 288 + 36 ? `03:00 ${o.rule}` : 'day 25');
      });
      assert.ok(hits.has('day 25'), `seed ${seed}: the large start`);
      assert.ok([...hits].some((h) => h.startsWith('03:00')), `seed ${seed}: the start at 03:00 (${[...hits].join(', ')})`);
      // The spike rule alone: the memory of 07:00 does not excuse the step at 03:00.
      const spikeOnly = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS, rules: ['spike'] });
      let at3 = '';
      s.values.forEach((v, i) => {
        const o = spikeOnly.update(s.ts[i]!, v);
        if (i === 15 * 288 + 36) at3 = o.anomalous ? o.rule : 'normal';
      });
      assert.equal(at3, 'spike', `seed ${seed}: the spike rule alone finds the start at 03:00`);
    }
  });

  it('a weekday pattern: Monday\'s start after two idle days is not a spike (memory 0.85 a day); with a memory that halves daily it is', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const s = machine(300_000, 35, seed, { weekends: true });
      const mondays = (r: { days: number[] }) => r.days.filter((d) => d > 7 && d % 7 === 0);
      assert.deepEqual(mondays(spikeDays(s)), [], `seed ${seed}`);
      assert.ok(mondays(spikeDays(s, { spike_daily_decay: 0.5 })).length >= 3, `seed ${seed}: with decay 0.5`);
    }
  });

  it('snapshot and restore mid-stream give the same judgements; a snapshot from before the memory existed restores with it empty; a 1 s series never allocates it', () => {
    const s = machine(300_000, 20, 2);
    const a = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS });
    const cut = 10 * 288 + 100;
    for (let i = 0; i < cut; i++) a.update(s.ts[i]!, s.values[i]!);
    const snap = structuredClone(a.snapshot());
    assert.ok((snap.daily as { ring: Float32Array | null }).ring !== null, 'the memory is in the snapshot');
    const b = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS });
    b.restore(snap);
    for (let i = cut; i < s.values.length; i++) {
      const oa = a.update(s.ts[i]!, s.values[i]!);
      const ob = b.update(s.ts[i]!, s.values[i]!);
      assert.deepEqual([ob.anomalous, ob.rule, ob.score], [oa.anomalous, oa.rule, oa.score], `reading ${i}`);
    }
    const old = structuredClone(a.snapshot());
    delete old.daily;
    const c = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS });
    c.restore(old);
    assert.equal((c.snapshot().daily as { ring: Float32Array | null }).ring, null);
    const broken = structuredClone(a.snapshot());
    (broken.daily as { ring: number[] }).ring = [1, 2];
    assert.throws(() => new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS }).restore(broken), /"daily.ring" must hold 168 numbers, not 2/);
    const fast = new DefaultDetector({ ...DEFAULT_DETECTOR_PARAMS });
    const f = machine(1000, 1, 3);
    f.values.forEach((v, i) => {
      fast.update(f.ts[i]!, v);
    });
    assert.equal((fast.snapshot().daily as { ring: Float32Array | null }).ring, null);
  });
});
