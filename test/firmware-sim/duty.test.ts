/**
 * `edgewise sim --duty`: pumps that stop and vans that park (engine off), and the shipped pipelines
 * on them: every alert they raise falls on an injected fault.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseDuty, PUMP_METRICS, Rng, Schedule, Simulation, VEHICLE_METRICS, type Duty } from '../../firmware-sim/index.js';
import { parseDuration } from '../../src/core/duration.js';
import { loadPipelineFile } from '../../src/config/load.js';
import { compilePipeline } from '../../src/compile.js';
import type { AlertRecord } from '../../src/core/records.js';

const START = Date.UTC(2024, 0, 1, 4);
const MIN = 60_000;
const H = 60 * MIN;
const duty = (text: string) => parseDuty(text, parseDuration);

test('--duty: "shift" or RUN/PERIOD; anything else is refused with what to write', () => {
  assert.deepEqual(duty('shift'), { kind: 'shift' });
  assert.deepEqual(duty('20m/1h'), { kind: 'cycle', runMs: 20 * MIN, periodMs: H });
  for (const bad of ['1h/20m', '20m', '20m/1h/2h', 'often/1h', '1h/1h', '59m55s/1h']) assert.throws(() => duty(bad), /--duty .*expected "shift" .* or RUN\/PERIOD, e.g. 20m\/1h/, bad);
});

test('a schedule: runs RUN of every PERIOD at a phase of its own; a shift from about 06:00 to 22:00 UTC', () => {
  const cycle = new Schedule(duty('20m/1h'), new Rng(1));
  const runs = cycle.runsBetween(START, START + 5 * H);
  assert.ok(runs.length >= 5 && runs.length <= 6);
  for (const [from, to] of runs.slice(1, -1)) assert.equal(to - from, 20 * MIN);
  let on = 0;
  for (let t = START; t < START + 5 * H; t += 1000) if (cycle.runs(t)) on++;
  assert.equal(on, 5 * 20 * 60);
  const shift = new Schedule(duty('shift'), new Rng(2));
  const [day] = shift.runsBetween(START, START + 24 * H);
  assert.ok(day && day[0] >= START + 2 * H && day[0] <= START + 2 * H + 20 * MIN && day[1] === START + 18 * H, JSON.stringify(day));
  assert.equal(shift.runs(START + 12 * H), true);
  assert.equal(shift.runs(START + 19 * H), false);
});

function sample(d: Duty | undefined, domain: 'maintenance' | 'telematics', hours: number, seed = 7) {
  const sim = new Simulation({ domains: [domain], devices: 1, rateHz: 1, seed, start: START, durationMs: hours * H, duty: d });
  const rows: Array<{ t: number; v: number[] }> = [];
  sim.run(0, sim.ticks, (s) => rows.push({ t: s.t, v: Array.from(s.values) }));
  return { sim, rows };
}

test('a pump on a duty cycle: no current and no speed while it stands, an inrush at each start, faults only while it runs', () => {
  const { sim, rows } = sample(duty('20m/1h'), 'maintenance', 6);
  const current = PUMP_METRICS.indexOf('current_a');
  const rpm = PUMP_METRICS.indexOf('speed_rpm');
  const standing = rows.filter((r) => r.v[rpm] === 0);
  assert.ok(standing.length > 0.6 * rows.length, `${standing.length} of ${rows.length} rows standing`);
  assert.deepEqual(standing.filter((r) => !(r.v[current]! < 0.1)), []);
  const running = rows.filter((r) => r.v[rpm]! > 1400).map((r) => r.v[current]!);
  const typical = running.sort((a, b) => a - b)[running.length >> 1]!;
  let starts = 0;
  for (let i = 1; i < rows.length; i++) {
    if (!(rows[i - 1]!.v[rpm] === 0 && rows[i]!.v[rpm]! > 0)) continue;
    starts++;
    assert.ok(rows[i]!.v[current]! > 3 * typical, `inrush at ${i}`);
  }
  assert.ok(starts >= 5);
  for (const f of sim.faults()) {
    const during = rows.filter((r) => r.t >= f.start && r.t < f.end);
    assert.ok(during.length > 0 && during.every((r) => r.v[rpm] !== 0 || Number.isNaN(r.v[rpm]!)), `${f.fault} ${new Date(f.start).toISOString()}: the pump runs all through it`);
    const before = rows.filter((r) => r.t >= f.start - 5 * MIN && r.t < f.start);
    assert.ok(before.every((r) => r.v[rpm] !== 0 || Number.isNaN(r.v[rpm]!)), `${f.fault}: it has run 5 minutes before it`);
  }
});

test('without --duty the simulator sends what it sent before (a pump runs all day, a van never switches off)', () => {
  const pump = sample(undefined, 'maintenance', 1).rows;
  assert.ok(pump.every((r) => r.v[PUMP_METRICS.indexOf('speed_rpm')]! > 1000 || Number.isNaN(r.v[0]!)));
  const van = sample(undefined, 'telematics', 1).rows;
  assert.ok(van.every((r) => r.v[VEHICLE_METRICS.indexOf('rpm')]! >= 700));
});

/** Raised alerts of a shipped pipeline on one simulated device, and those that fall on no fault (its span plus 10 minutes). */
function judged(pipeline: string, domain: 'maintenance' | 'telematics', d: Duty, hours: number, seed = 7) {
  const { sim, rows } = sample(d, domain, hours, seed);
  const device = sim.devices[0]!;
  const raised: AlertRecord[] = [];
  const p = compilePipeline(loadPipelineFile(join(import.meta.dirname, '../../pipelines', pipeline)), (e) => {
    if (e.kind === 'alert' && e.alert.state === 'raised') raised.push(e.alert);
  });
  for (const r of rows) {
    r.v.forEach((value, m) => {
      if (Number.isFinite(value)) p.push({ stream: `${device.id}/${device.metrics[m]}`, ts: r.t, value });
    });
  }
  p.flush();
  const faults = sim.faults();
  const stray = raised.filter((a) => !faults.some((f) => a.start >= f.start - MIN && a.start <= f.end + 10 * MIN));
  return { raised, stray, faults, operators: p.stats().operators };
}

test('the maintenance pipeline on pumps that run 40 minutes an hour: every overheating found by `temp-above-usual` in the run it began in, but in the hours its day load is first met; nothing stray (seeds 7–10)', () => {
  // Before 2026-12-05 the bearing was judged only an hour after a start: on these pumps never.
  // The runs start at 04:00; the day load (from 05:30) is a load never seen, learnt, not judged,
  // until its 30-minute lag and two hourly blocks have passed.
  const dayLoadLearnt = Date.UTC(2024, 0, 1, 8, 30);
  let overheatings = 0;
  for (const seed of [7, 8, 9, 10]) {
    const { raised, stray, faults } = judged('predictive-maintenance.yaml', 'maintenance', duty('40m/1h'), 6, seed);
    assert.deepEqual(stray.map((a) => `${a.detector} ${new Date(a.start).toISOString()}`), [], `seed ${seed}`);
    for (const f of faults.filter((f) => f.fault === 'overheating' && !(f.start >= Date.UTC(2024, 0, 1, 5, 30) && f.start < dayLoadLearnt))) {
      overheatings++;
      assert.ok(raised.some((a) => a.detector === 'temp-above-usual' && a.start >= f.start && a.start <= f.end), `seed ${seed}: overheating ${new Date(f.start).toISOString()}: ${raised.map((a) => a.detector).join(' ')}`);
    }
  }
  assert.ok(overheatings >= 2, `${overheatings} overheatings in the four runs`);
});

test('the telematics pipeline on a van that parks 20 minutes an hour, engine off: its faults found, no idling while parked', () => {
  const { raised, stray, faults, operators } = judged('telematics.yaml', 'telematics', duty('40m/1h'), 4);
  assert.deepEqual(stray.map((a) => `${a.detector} ${new Date(a.start).toISOString()}`), []);
  assert.ok(operators.engine!.stops! >= 3, JSON.stringify(operators.engine));
  const found = faults.filter((f) => raised.some((a) => a.start >= f.start - MIN && a.start <= f.end + 10 * MIN));
  assert.ok(found.length >= faults.length - 1, `${found.length} of ${faults.length} faults found`);
});

test('the maintenance pipeline on a pump that runs a day shift, first seen standing at 04:00: no alarm at its start, its vibration faults found', () => {
  const { raised, stray, operators } = judged('predictive-maintenance.yaml', 'maintenance', duty('shift'), 20);
  assert.deepEqual(stray.map((a) => `${a.detector} ${new Date(a.start).toISOString()}`), []);
  assert.equal(operators.running!.starts, 1);
  assert.ok(raised.some((a) => a.detector.startsWith('vib-')));
});
