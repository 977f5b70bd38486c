/**
 * A device whose clock ran ahead and was then set back (NTP, a GPS fix, a technician): the engine
 * re-bases each of its streams (input.clock_jump), and every step must go on on the new clock.
 * Until 2026-12-07 the steps that keep time per device did not: a monitor two hours ahead and then
 * corrected lost two hours of NEWS2 (`news2_late`), a van's IMU two hours of judging
 * (`telematics_late`), a pump its features for `settle` (held again as a new start) and parts of a
 * window to `join_late`, a counter every reading to `counter_order`; and every detect step held
 * back the stream's alerts as within a cooldown (the time since the last clear was negative).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadPipelineFile } from '../../src/config/load.js';
import { pipelineSchema } from '../../src/config/pipeline.js';
import type { Reading } from '../../src/core/reading.js';
import type { Emission } from '../../src/core/records.js';
import { compilePipeline } from '../../src/compile.js';
import type { Domain, SimOptions } from '../../firmware-sim/index.js';
import { simReadings } from '../helpers/sim-readings.js';
import { drive, testDrive } from '../domain/telematics-signals.js';

const ROOT = join(import.meta.dirname, '../..');
const START = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;


/** The time an emission is about (a window's start, an alert's start, a reading's time). */
function timeOf(e: Emission): number {
  return e.kind === 'aggregate' ? e.result.start : e.kind === 'alert' ? e.alert.start : e.kind === 'reading' ? e.reading.ts : NaN;
}

/**
 * Run `rs` with the device's clock `ahead` ms fast before `at` and right from then on: as a replay,
 * or live (each reading arriving when it was taken, the gateway clock ticking every second; the
 * input accepting readings that far ahead). Returns the emissions about times from `from` on (the
 * new clock's, once it has settled), as JSON with scores to 4 decimals (a van's learnt mounting
 * differs in its last digits after the correction), and the pipeline's drops.
 */
function play(file: string, rs: Reading[], at: number, ahead: number, [from, until]: [number, number], live: boolean) {
  const spec = loadPipelineFile(join(ROOT, 'pipelines', file));
  if (live && ahead > 5 * 60_000) spec.input.max_future_skew = 4 * 24 * HOUR;
  const out: string[] = [];
  // every window (and join, and NEWS2 interval) goes out once, on either clock (unless the two
  // clocks' times overlap: a device minutes ahead has already sent the minutes after the correction)
  const windows = new Set<string>();
  const p = compilePipeline(spec, (e) => {
    if (e.kind === 'aggregate' && (ahead === 0 || ahead >= HOUR)) {
      const key = `${e.output} ${e.result.stream} ${e.result.window} ${e.result.start}`;
      assert.ok(!windows.has(key), `${file}: ${key} went out twice`);
      windows.add(key);
    }
    const t = timeOf(e);
    if (t >= from && t < until) out.push(JSON.stringify(e, (k, v: unknown) => (k === 'score' && typeof v === 'number' ? Math.round(v * 1e4) / 1e4 : v)));
  });
  let tick = START;
  for (const r of rs) {
    const shifted = r.ts < at ? { ...r, ts: r.ts + ahead } : { ...r };
    if (live) {
      while (tick + 1000 <= r.ts) p.advanceTo((tick += 1000));
      shifted.arrival = r.ts + 1;
    }
    p.push(shifted);
  }
  p.flush();
  const st = p.stats();
  assert.equal(st.unaccounted, 0);
  return { out, dropped: st.dropped, rebased: st.rebased };
}

const CASES: Array<{ file: string; domain: Domain; opts?: Partial<SimOptions>; feed?: string }> = [
  { file: 'predictive-maintenance.yaml', domain: 'maintenance' },
  { file: 'predictive-maintenance.yaml', domain: 'maintenance', opts: { duty: { kind: 'cycle', runMs: 240_000, periodMs: 420_000 } }, feed: 'a pump that stops' },
  { file: 'vitals.yaml', domain: 'vitals' },
  { file: 'telematics.yaml', domain: 'telematics' },
  { file: 'telematics.yaml', domain: 'telematics', opts: { imu: true, rateHz: 50, durationMs: 4 * 60_000 }, feed: 'a raw IMU at 50 Hz' },
];

for (const { file, domain, opts, feed } of CASES) {
  for (const live of [false, true]) {
    test(`clock set back (${live ? 'live' : 'replay'}): ${file} (${feed ?? domain}), the device ${live ? 'minutes, ' : ''}2 h and 3 days ahead for the first half, then corrected: what comes after is what a correct clock gives`, () => {
      const rs = simReadings({ domains: [domain], devices: 1, rateHz: 1, seed: 3, start: START, durationMs: 15 * 60_000, faults: true, ...opts });
      const at = rs[Math.floor(rs.length / 2)]!.ts;
      // (live also 4 minutes, 1 on the 4-minute IMU drive: within max_future_skew and the jump
      // threshold, a clock NTP corrects; a replay has no gateway clock to tell that from late readings)
      const minutes = opts?.durationMs !== undefined ? 60_000 : 4 * 60_000;
      for (const ahead of live ? [minutes, 2 * HOUR, 3 * 24 * HOUR] : [2 * HOUR, 3 * 24 * HOUR]) {
        // Emissions about the time from a minute after the correction (in a replay the first
        // readings on the new clock confirm it, input.clock_jump.confirm; the windows open then
        // are partial) to the old clock's (from START + ahead on); 4 minutes ahead, the old clock's
        // last minutes overlap the new clock's first: from a minute after the old clock's end.
        const span: [number, number] = ahead < HOUR ? [at + ahead + 60_000, Infinity] : [at + 60_000, START + ahead];
        const right = play(file, rs, at, 0, span, live);
        // (the IMU drive ends then: its drops are what is checked there)
        assert.ok(right.out.length > 0 || ahead === minutes);
        const set = play(file, rs, at, ahead, span, live);
        assert.ok(set.rebased > 0, 'streams re-based');
        const lost = Object.entries(set.dropped).filter(([reason]) => reason !== 'clock_jump_back' && !(reason in right.dropped));
        assert.deepEqual(lost, [], `${file}: no step drops the new clock's readings`);
        if (live) assert.deepEqual(set.out, right.out, `${file}, ${ahead / 60_000} min ahead`);
        else {
          // A replay refuses the first readings on the new clock until `confirm` of one stream
          // agree (the device's other streams follow it at once): NEWS2's first interval after the
          // correction lacks them and may score a band lower, which can clear an alert earlier
          // (and raise it again). The rest is the same, and every alert a correct clock raises is raised.
          const isAlert = (x: string) => x.startsWith('{"kind":"alert"');
          assert.deepEqual(set.out.filter((x) => !isAlert(x)), right.out.filter((x) => !isAlert(x)), `${file}, ${ahead / HOUR} h ahead`);
          const raised = set.out.filter((x) => isAlert(x) && x.includes('"state":"raised"'));
          for (const a of right.out.filter((x) => isAlert(x) && x.includes('"state":"raised"'))) assert.ok(raised.includes(a), `${file}, ${ahead / HOUR} h ahead: raised as with a correct clock: ${a}`);
          assert.ok(raised.length <= right.out.filter((x) => isAlert(x) && x.includes('"state":"raised"')).length + 1);
        }
      }
    });
  }
}

/**
 * The generic steps that keep a stream's last reading or a device's pending join: a meter's
 * cumulative count (`counter`), a value reported by exception (`hold`), two vibration features
 * joined per window (`join`), and a detector after them.
 */
test('clock set back: counter, hold and join go on on the new clock (a meter, a value reported by exception, a join)', () => {
  const steps = [
    { counter: { per: '1h', metrics: ['energy_wh'] } },
    { hold: { every: '10s', max: '10m', metrics: ['setpoint'] } },
    { window: { type: 'tumbling', size: '1m', aggregates: ['mean', 'max', 'count'] } },
    { join: { metric: 'vibration', fields: { rms: 'vibration_rms.mean', peak: 'vibration_peak.max' } } },
    { output: 'features' },
  ];
  const spec = (live: boolean) => pipelineSchema().parse({ name: 'plant', input: { streams: ['**'], ...(live ? { max_future_skew: '4d' } : {}) }, steps });
  const rs: Reading[] = [];
  for (let s = 0; s < 7200; s += 10) {
    const t = START + s * 1000;
    rs.push({ stream: 'm1/energy_wh', ts: t, value: 1000 + s * 2 + (s % 70) });
    if (s % 300 === 0) rs.push({ stream: 'm1/setpoint', ts: t, value: 20 + (s % 900) / 300 });
    rs.push({ stream: 'm1/vibration_rms', ts: t, value: 1 + Math.sin(s / 100) });
    // (the peak sensor silent for the 90 s before the correction: the last join before it waits for a part that never comes)
    if (s < 3510 || s >= 3600) rs.push({ stream: 'm1/vibration_peak', ts: t, value: 3 + Math.cos(s / 70) });
  }
  const at = START + 3600_000;
  for (const live of [false, true]) {
    const run = (ahead: number) => {
      const out: string[] = [];
      const p = compilePipeline(spec(live), (e) => {
        const t = timeOf(e);
        // (from 10 minutes after the correction: a replay refuses the first readings on the new
        // clock until one stream confirms it, the set point's first of them, held for 5 minutes)
        if (t >= at + 600_000 && (ahead === 0 || t < START + ahead)) out.push(JSON.stringify(e));
      });
      for (const r of rs) p.push({ ...r, ts: r.ts < at ? r.ts + ahead : r.ts, ...(live ? { arrival: r.ts + 1 } : {}) });
      p.flush();
      return { out, dropped: p.stats().dropped };
    };
    const right = run(0);
    assert.ok(right.out.some((x) => x.includes('m1/vibration')) && right.out.some((x) => x.includes('m1/setpoint')) && right.out.some((x) => x.includes('m1/energy_wh')));
    for (const ahead of [2 * HOUR, 3 * 24 * HOUR]) {
      const set = run(ahead);
      assert.deepEqual(Object.keys(set.dropped).filter((k) => k !== 'clock_jump_back'), [], `${live ? 'live' : 'replay'}, ${ahead / HOUR} h ahead: nothing dropped but the readings that confirm the new clock`);
      assert.deepEqual(set.out, right.out, `${live ? 'live' : 'replay'}, ${ahead / HOUR} h ahead`);
    }
  }
});

test('clock set back: a detect step on a stream the device\'s operators make (a join\'s) moves its times once, with the device', () => {
  // a 10 s window, joined; the joined `a` above 5 from a minute before the correction for 5 minutes,
  // and again 10 minutes after it: a threshold with min_duration 2m and a 5-minute cooldown
  const spec = (live: boolean) =>
    pipelineSchema().parse({
      name: 'j',
      input: { streams: ['**'], ...(live ? { max_future_skew: '4d' } : {}) },
      steps: [
        { window: { type: 'tumbling', size: '10s', aggregates: ['mean'] } },
        { join: { metric: 'vib', fields: { a: 'a.mean', b: 'b.mean' } } },
        { detect: { detector: 'threshold', field: 'a', above: 5, min_duration: '2m', alert: { cooldown: '5m' } } },
        { output: 'alerts' },
      ],
    });
  const at = START + HOUR;
  const high = (t: number) => (t >= at - 60_000 && t < at + 240_000) || (t >= at + 600_000 && t < at + 900_000);
  for (const live of [true, false]) {
    const run = (ahead: number) => {
      const out: string[] = [];
      let corrected = false;
      const p = compilePipeline(spec(live), (e) => {
        if (corrected && e.kind === 'alert') out.push(`${e.alert.state} ${(e.alert.start - at) / 1000} ${e.alert.end === undefined ? '' : (e.alert.end - at) / 1000}`);
      });
      for (let t = START; t < START + 2 * HOUR; t += 10_000) {
        if (t >= at) corrected = true;
        for (const m of ['a', 'b']) p.push({ stream: `m/${m}`, ts: t < at ? t + ahead : t, value: m === 'a' && high(t) ? 10 : 1, ...(live ? { arrival: t + 1 } : {}) });
      }
      p.flush();
      return out;
    };
    const right = run(0);
    assert.ok(right.length >= 4, `${live ? 'live' : 'replay'}: raised and cleared twice with a correct clock (${right.join('; ')})`);
    // (a replay refuses the first reading on the new clock, and re-bases at the next: the first
    // alert may come a window later; the second is compared)
    for (const ahead of live ? [4 * 60_000, 2 * HOUR, 3 * 24 * HOUR] : [2 * HOUR, 3 * 24 * HOUR]) {
      const set = run(ahead);
      assert.deepEqual(live ? set : set.slice(-2), live ? right : right.slice(-2), `${live ? 'live' : 'replay'}, ${ahead / 60_000} minutes ahead`);
    }
  }
});

/**
 * One stream, a reading a second for 15 minutes, silent from 5 to 7 minutes in (its windows close
 * idle at its own time: its newest plus the silence), live with the gateway clock ticking every
 * second: each reading second `s` (event time `t`) stamped `stamp(s, t)`, arriving at `arrive(s, t)`.
 * Returns the pipeline's stats and the start of the last window sent.
 */
function aroundSilence(stamp: (s: number, t: number) => number, arrive: (s: number, t: number) => number) {
  const spec = pipelineSchema().parse({ name: 'p', input: { streams: ['**'] }, steps: [{ window: { type: 'tumbling', size: '10s', lateness: '1s', aggregates: ['count'] } }, { output: 'agg' }] });
  let last = -Infinity;
  const p = compilePipeline(spec, (e) => {
    if (e.kind === 'aggregate') last = Math.max(last, e.result.start);
  });
  let tick = START;
  for (let s = 0; s < 900; s++) {
    if (s >= 300 && s < 420) continue;
    const t = START + s * 1000;
    const arrival = arrive(s, t);
    while (tick + 1000 <= arrival) p.advanceTo((tick += 1000));
    p.push({ stream: 'd/x', ts: stamp(s, t), value: 1, arrival });
  }
  p.flush();
  return { st: p.stats(), last };
}

test('clock set back during a restart (live): a device fast by less than its silence, back with its clock set right, starts its windows afresh and loses nothing', () => {
  // Until 2026-12-08 every reading after the silence was late, for good: a late reading did not
  // count as delivering, the stream stayed silent, and its windows went on closing ahead of it.
  for (const lead of [5_000, 20_000, 30_000, 100_000]) {
    const { st, last } = aroundSilence((s, t) => (s < 300 ? t + lead : t), (_s, t) => t + 50);
    assert.equal(st.late, 0, `${lead / 1000} s fast: nothing late`);
    // (5 s fast: its windows were not closed past the reading; nothing to re-base)
    assert.equal(st.rebased, lead > 5_000 ? 1 : 0, `${lead / 1000} s fast: re-based`);
    assert.equal(last, START + 890_000, `${lead / 1000} s fast: windowed to the end`);
  }
});

test('idle windows (live): a stream whose readings come 30 s late after a silence loses at most those 30 s, never the rest', () => {
  // a correct clock; after the silence every reading delivered 30 s after it was taken (a link
  // that queues): behind where its windows were closed to. Until 2026-12-08 a late reading did not
  // count as delivering, and every reading after the silence was late, for good.
  const { st, last } = aroundSilence((_s, t) => t, (s, t) => t + (s < 300 ? 50 : 30_000));
  assert.ok(st.late > 0 && st.late <= 30, `${st.late} readings late, at most the 30 s of delay`);
  assert.equal(last, START + 890_000, 'windowed to the end');
});

test('clock set back (live): a device steadily 4 minutes fast with readings out of order, and a reading delivered 3 minutes late, are no correction (nothing re-based)', () => {
  const spec = pipelineSchema().parse({ name: 'p', input: { streams: ['**'] }, steps: [{ window: { type: 'tumbling', size: '10s', lateness: '2s', aggregates: ['count'] } }, { output: 'agg' }] });
  const p = compilePipeline(spec, () => {});
  for (let s = 0; s < 600; s++) {
    const now = START + s * 1000;
    // the fast device's readings of the last 3 s, in a shuffled order (delivery jitter)
    for (const k of [2, 0, 1]) if (s % 3 === 2) p.push({ stream: 'fast/x', ts: now - k * 1000 + 240_000, value: k, arrival: now + 1 });
    p.push({ stream: 'ok/x', ts: now, value: 1, arrival: now + 1 });
    if (s === 300) p.push({ stream: 'ok/x', ts: now - 180_000, value: 2, arrival: now + 2 });
    p.advanceTo(now + 1000);
  }
  const st = p.stats();
  assert.equal(st.rebased, 0);
  // the late one is late, as any late reading
  assert.equal(st.late, 1);
});

test('clock set back: a van without speed (forward from its stops, or from its gyro turns) whose clock is corrected between two drives finds the second drive\'s harsh brake, acceleration and corner', () => {
  const T0 = Date.UTC(2024, 5, 1, 8);
  for (const o of [{ gyro: false }, { gyro: true }]) {
    for (const ahead of [0, 2 * HOUR]) {
      const first = drive(testDrive().script, { mount: [130, 55, -20], ...o, t0: T0 + ahead });
      const second = T0 + first.readings.at(-1)!.ts - T0 - ahead + 1000;
      const next = drive(testDrive().script, { mount: [130, 55, -20], ...o, t0: second, seed: 9 });
      const spec = pipelineSchema().parse({ name: 't', input: { streams: ['**'] }, steps: [{ telematics: {} }] });
      const raised: string[] = [];
      const p = compilePipeline(spec, (e) => {
        if (e.kind === 'alert' && e.alert.state === 'raised' && e.alert.start >= second && (ahead === 0 || e.alert.start < T0 + ahead)) raised.push(e.alert.detector);
      });
      for (const r of [...first.readings, ...next.readings]) p.push(r);
      p.flush();
      assert.deepEqual(raised, ['harsh_braking', 'harsh_acceleration', 'harsh_cornering'], `gyro ${o.gyro}, ${ahead / HOUR} h ahead`);
      assert.equal(p.stats().dropped.telematics_late ?? 0, 0);
    }
  }
});
