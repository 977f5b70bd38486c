/**
 * The `telematics` operator on generated signals (test/domain/telematics-signals.ts, not the
 * simulator): a rotated mount, a brake with a rebound, a harsh acceleration, harsh cornering, a
 * pothole, a speed-only device; forward found from turns (gyro) or from speed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AlertRecord } from '../../src/core/records.js';
import { pipelineSchema } from '../../src/config/pipeline.js';
import { compilePipeline } from '../../src/compile.js';
import { TelematicsOperator } from '../../src/domain/telematics/step.js';
import { telematicsStepSchema } from '../helpers/schemas.js';
import { drive, testDrive, type DriveOptions } from './telematics-signals.js';

function run(o: DriveOptions & { step?: Record<string, unknown> }, script = testDrive().script) {
  const spec = pipelineSchema().parse({ name: 't', input: { streams: ['**'] }, steps: [{ telematics: { ...o.step } }] });
  const alerts: AlertRecord[] = [];
  const p = compilePipeline(spec, (e) => {
    if (e.kind === 'alert') alerts.push(e.alert);
  });
  const { readings, marks } = drive(script, o);
  for (const r of readings) p.push(r);
  p.flush();
  const raised = alerts.filter((a) => a.state === 'raised');
  return { alerts, raised, marks, p };
}

/** Raised alerts as "type@stretch" (the stretch of the script in which each was raised). */
function where(raised: AlertRecord[], marks: Array<[number, number]>): string[] {
  return raised.map((a) => `${a.detector}@${marks.findIndex(([s, e]) => a.start >= s && a.start < e)}`);
}

const { at } = testDrive();
const EXPECTED = [`harsh_braking@${at.brake}`, `harsh_acceleration@${at.harshAccel}`, `harsh_cornering@${at.corner}`];

describe('telematics on raw IMU data', () => {
  for (const mount of [[0, 0, 0], [130, 55, -20], [-75, -35, 160]] as Array<[number, number, number]>) {
    it(`mount yaw/pitch/roll ${mount.join('/')}: forward from turns; brake, acceleration, cornering found; rebound and pothole not`, () => {
      const { raised, marks, alerts } = run({ mount, gyro: true });
      assert.deepEqual(where(raised, marks), EXPECTED);
      // every raised alert clears, with its type as the detector and a peak beyond its limit
      for (const a of raised) {
        assert.ok(alerts.some((c) => c.id === a.id && c.state === 'cleared'), `${a.id} clears`);
        assert.ok(a.score >= 0.5 && a.value > 2.9, `${a.detector}: value ${a.value}`);
      }
    });
  }

  it('the rebound after a brake is counted as a rebound, not raised as a harsh acceleration', () => {
    const op = new TelematicsOperator(telematicsStepSchema.parse({}));
    const alerts: AlertRecord[] = [];
    // the operator on its own, to read its counters
    const ctx = { pipeline: 't', reading() {}, result() {}, emit(e: { kind: string; alert?: AlertRecord }) { if (e.kind === 'alert') alerts.push(e.alert!); }, drop() {} };
    for (const r of drive(testDrive().script, { mount: [130, 55, -20] }).readings) op.reading(r, ctx as never);
    assert.equal(op.counts.rebounds, 1);
    assert.equal(alerts.filter((a) => a.state === 'raised' && a.detector === 'harsh_acceleration').length, 1);
    const st = op.status()[0]!;
    assert.equal(st.source, 'imu');
    assert.equal(st.forward, 'gyro');
    assert.ok(st.turnDeg > 300, `turned ${st.turnDeg}°`);
  });

  it('without a gyro, forward comes from 1 Hz speed; accelerometer in g', () => {
    const { raised, marks, p } = run({ mount: [200, 40, 10], gyro: false, speed: true, accelUnit: 'g', step: { accel_unit: 'g' } });
    assert.deepEqual(where(raised, marks), EXPECTED);
    assert.equal(p.stats().dropped.telematics_late ?? 0, 0);
  });

  it('a pothole in a firm normal brake (0.27 g) is not a harsh brake: the limit must hold all through `sustain`', () => {
    const script = testDrive().script.slice(0, 15); // settle, turns, speed changes: forward known, 15 m/s
    script.push({ s: 10, lon: 1 }, { s: 2, lon: -2.6 }, { s: 3, lon: -2.6, pothole: true }, { s: 4 });
    for (const mount of [[0, 0, 0], [130, 55, -20]] as Array<[number, number, number]>) {
      const { raised } = run({ mount }, script);
      assert.deepEqual(raised.map((a) => a.reason), [], `mount ${mount.join('/')}`);
    }
  });

  it('with neither gyro nor speed, forward is unknown and nothing is claimed', () => {
    const { raised } = run({ mount: [30, 20, 0], gyro: false });
    assert.deepEqual(raised, []);
  });

  it('at 10 Hz and 100 Hz the same events', () => {
    for (const hz of [10, 100]) {
      const { raised, marks } = run({ mount: [130, 55, -20], hz });
      assert.deepEqual(where(raised, marks), EXPECTED, `${hz} Hz`);
    }
  });

  it('saved state (version 1) keeps gravity and forward: judged from the first sample after a restart', () => {
    const spec = telematicsStepSchema.parse({});
    const a = new TelematicsOperator(spec);
    const ctx = { pipeline: 't', reading() {}, result() {}, emit() {}, drop() {} };
    const { readings } = drive(testDrive().script.slice(0, 16), { mount: [130, 55, -20] });
    for (const r of readings) a.reading(r, ctx as never);
    const snap = JSON.parse(JSON.stringify(a.snapshot()));
    assert.equal(snap.version, 1);
    const b = new TelematicsOperator(spec);
    b.restore(snap);
    const alerts: AlertRecord[] = [];
    const ctx2 = { ...ctx, emit(e: { kind: string; alert?: AlertRecord }) { if (e.kind === 'alert') alerts.push(e.alert!); } };
    // a harsh brake right after the restart, no settling time
    const { readings: more } = drive([{ s: 8, lon: 2 }, { s: 1.5, lon: -5.5 }, { s: 3 }], { mount: [130, 55, -20], t0: Date.UTC(2024, 5, 2), seed: 3 });
    for (const r of more) b.reading(r, ctx2 as never);
    const fresh = new TelematicsOperator(spec);
    for (const r of more) fresh.reading(r, ctx2 as never);
    assert.deepEqual(alerts.filter((x) => x.state === 'raised').map((x) => x.detector), ['harsh_braking']);
    assert.throws(() => b.restore({ version: 0, vehicles: [] }), /saved state must be \{ version: 1/);
    assert.throws(() => b.restore({ version: 1, vehicles: [{ id: 'x', g: [1, 2] }] }), /vehicle x: g must be 3 finite numbers/);
    // state saved before 2026-12-04 (no "now"): the mounting alone comes back
    const old = new TelematicsOperator(spec);
    old.restore({ version: 1, vehicles: [{ id: 'x', source: 'imu', g: [0, 0, 9.8], left: [0, 1, 0], turnDeg: 200, fwd: [0, 0, 0], speedChange: 0 }] });
    assert.equal(old.status()[0]?.forward, 'gyro');
    assert.throws(() => new TelematicsOperator(spec).restore({ version: 1, vehicles: [{ id: 'y', g: [0, 0, 9.8], left: [0, 0, 0], fwd: [0, 0, 0], now: { mount: { g: 'up' } } }] }), /vehicle y: g must be 3 numbers/);
  });
});

describe('telematics across a restart', () => {
  it('restarted during a harsh brake: the brake raised before is cleared after, once, as without the restart (its part saved as v8 or as JSON)', () => {
    const spec = pipelineSchema().parse({ name: 't', input: { streams: ['**'] }, steps: [{ telematics: {} }] });
    const { readings } = drive(testDrive().script, { mount: [130, 55, -20] });
    const play = (restartAt: number | undefined, copy: (x: unknown) => unknown) => {
      const alerts: string[] = [];
      const sink = (e: { kind: string; alert?: AlertRecord }) => {
        if (e.kind === 'alert') alerts.push(`${e.alert!.state} ${e.alert!.detector} ${e.alert!.start} ${e.alert!.end ?? ''}`);
      };
      let p = compilePipeline(spec, sink as never);
      readings.forEach((r, i) => {
        if (i === restartAt) {
          const snap = copy(p.snapshot()) as ReturnType<typeof p.snapshot>;
          p = compilePipeline(spec, sink as never);
          assert.deepEqual(p.restore(snap), []);
        }
        p.push(r);
      });
      p.flush();
      return alerts;
    };
    const whole = play(undefined, (x) => x);
    const brake = whole.find((a) => a.startsWith('raised harsh_braking'));
    assert.ok(brake, JSON.stringify(whole));
    // the first reading after the brake was raised, while it lasts
    const raisedAt = Number(brake.split(' ')[2]);
    const cut = readings.findIndex((r) => r.ts > raisedAt);
    assert.ok(whole.some((a) => a.startsWith('cleared harsh_braking') && Number(a.split(' ')[3]) > readings[cut]!.ts), 'the cut falls inside the brake');
    assert.deepEqual(play(cut, (x) => structuredClone(x)), whole);
    // the operator's part through JSON too (NaN and ±Infinity become null)
    const viaJson = (x: unknown) => {
      const c = structuredClone(x) as { parts: Record<string, { data: unknown }> };
      c.parts['operator:telematics']!.data = JSON.parse(JSON.stringify(c.parts['operator:telematics']!.data));
      return c;
    };
    assert.deepEqual(play(cut, viaJson), whole);
  });
});

describe('telematics on speed alone (1 Hz)', () => {
  it('derived acceleration: the harsh brake and acceleration found, a normal stop not; no cornering claimed', () => {
    const { raised, marks } = run({ imu: false, speed: true });
    assert.deepEqual(where(raised, marks), [`harsh_braking@${at.brake}`, `harsh_acceleration@${at.harshAccel}`]);
  });

  it('IMU readings late for their sample are counted, never judged', () => {
    const { p } = run({ mount: [0, 0, 0] }, [{ s: 1 }]);
    // A second before the drive: late for the vehicle's sample (an hour back would be a clock jump, refused before the step).
    p.push({ stream: 'car/accel_x', ts: Date.UTC(2024, 5, 1, 7, 59, 59), value: 0 });
    assert.equal(p.stats().dropped.telematics_late, 1);
  });
});
