/**
 * The `telematics` operator on generated signals (test/domain/telematics-signals.ts, not the
 * simulator): a rotated mount, a brake with a rebound, a harsh acceleration, harsh cornering, a
 * pothole, a speed-only device, a tracker's GPS course; forward found from turns (gyro) or from speed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AlertRecord } from '../../src/core/records.js';
import type { Reading } from '../../src/core/reading.js';
import { pipelineSchema } from '../../src/config/pipeline.js';
import { compilePipeline } from '../../src/compile.js';
import { Mount } from '../../src/domain/telematics/imu.js';
import { mountParamsOf, TelematicsOperator } from '../../src/domain/telematics/step.js';
import { StopEvidence } from '../../src/domain/telematics/stops.js';
import type { Vec3 } from '../../src/domain/telematics/vec.js';
import { telematicsStepSchema } from '../helpers/schemas.js';
import { drive, eventsFirstDrive, testDrive, type DriveOptions, type Stretch } from './telematics-signals.js';

/** Readings through a pipeline of one telematics step (`step`: its settings): every alert, those raised, the pipeline. */
function play(readings: Reading[], step: Record<string, unknown> = {}) {
  const spec = pipelineSchema().parse({ name: 't', input: { streams: ['**'] }, steps: [{ telematics: { ...step } }] });
  const alerts: AlertRecord[] = [];
  const p = compilePipeline(spec, (e) => {
    if (e.kind === 'alert') alerts.push(e.alert);
  });
  for (const r of readings) p.push(r);
  p.flush();
  return { alerts, raised: alerts.filter((a) => a.state === 'raised'), p };
}

function run(o: DriveOptions & { step?: Record<string, unknown> }, script = testDrive().script) {
  const { readings, marks } = drive(script, o);
  return { ...play(readings, o.step), marks };
}

/** Raised alerts as "type@stretch" (the stretch of the script in which each was raised). */
function where(raised: AlertRecord[], marks: Array<[number, number]>): string[] {
  return raised.map((a) => `${a.detector}@${marks.findIndex(([s, e]) => a.start >= s && a.start < e)}`);
}

/**
 * The alerts ("state detector start end") of readings through a telematics pipeline, restarted
 * from its snapshot (passed through `copy`) before reading number `restartAt`.
 */
function playRestarted(readings: Reading[], restartAt: number | undefined, copy: (x: unknown) => unknown = (x) => x, step: Record<string, unknown> = {}): string[] {
  const spec = pipelineSchema().parse({ name: 't', input: { streams: ['**'] }, steps: [{ telematics: step }] });
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
}

/** A snapshot copied with the operator's part through JSON, as it is saved (NaN and ±Infinity become null). */
function viaJson(x: unknown): unknown {
  const c = structuredClone(x) as { parts: Record<string, { data: unknown }> };
  c.parts['operator:telematics']!.data = JSON.parse(JSON.stringify(c.parts['operator:telematics']!.data));
  return c;
}

const { at } = testDrive();
const EXPECTED = [`harsh_braking@${at.brake}`, `harsh_acceleration@${at.harshAccel}`, `harsh_cornering@${at.corner}`];

/** Parked with the engine running, then four stops and starts in town (one a 45 s red light), then the test drive's events (no turns to learn from). */
function townDrive(): { script: Stretch[]; at: Record<'brake' | 'harshAccel' | 'corner', number> } {
  const script: Stretch[] = [{ s: 65 }];
  for (let i = 0; i < 4; i++) script.push({ s: 8, lon: 1.8 }, { s: 10 }, { s: 8, lon: -1.8 }, { s: i === 1 ? 45 : 8 });
  const first = script.length;
  script.push({ s: 10, lon: 1.5 }, { s: 5 }, { s: 1.5, lon: -5.5 }, { s: 1, lon: 4 }, { s: 4 }, { s: 10, lon: 1 }, { s: 2, lon: 3.8 }, { s: 10 }, { s: 2, lat: 4.8 }, { s: 8 }, { s: 6, lon: -2.4 }, { s: 5 });
  return { script, at: { brake: first + 2, harshAccel: first + 6, corner: first + 8 } };
}

/** When (ms into the drive) an accelerometer alone first has forward from its stops and starts. */
function stopsLearntAt(script: Stretch[]): number {
  const op = new TelematicsOperator(telematicsStepSchema.parse({}));
  const ctx = { pipeline: 't', reading() {}, result() {}, emit() {}, drop() {} };
  const { readings } = drive(script, { mount: [130, 55, -20], gyro: false });
  for (const r of readings) {
    op.reading(r, ctx as never);
    if (op.status()[0]?.forward === 'stops') return r.ts - readings[0]!.ts;
  }
  return NaN;
}

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

  // Found by test/fuzz/pipelines.fuzz.test.ts: one axis stamped ahead became the vehicle's IMU
  // time, and every reading after it was `telematics_late` (a day ahead: nothing judged for a day).
  it('one accelerometer or gyro reading stamped ahead (a day, two minutes, a second) is dropped as telematics_ahead; the drive goes on and its events are found', () => {
    for (const metric of ['accel_y', 'gyro_z']) {
      for (const ahead of [86_400_000, 120_000, 1000]) {
        const { readings, marks } = drive(testDrive().script, { mount: [130, 55, -20], gyro: true });
        const i = readings.findIndex((r, k) => k > readings.length / 4 && r.stream.endsWith(`/${metric}`));
        readings[i] = { ...readings[i]!, ts: readings[i]!.ts + ahead };
        const { raised, p } = play(readings);
        assert.deepEqual(where(raised, marks), EXPECTED, `${metric} ${ahead} ms ahead`);
        const dropped = p.stats().dropped;
        assert.equal(dropped.telematics_ahead, 1, `${metric} ${ahead} ms ahead: ${JSON.stringify(dropped)}`);
        assert.equal(dropped.telematics_late ?? 0, 0, `${metric} ${ahead} ms ahead: ${JSON.stringify(dropped)}`);
      }
    }
  });

  it("a gyro on its own clock (a phone's sensor events: stamped apart from the accelerometer, at another rate): forward from turns, the same events", () => {
    for (const gyroClock of [{ offset: 7, every: 1 }, { offset: -3, every: 2 }, { offset: 11, every: 5 }]) {
      const { raised, marks, p } = run({ mount: [130, 55, -20], gyroClock });
      const what = JSON.stringify(gyroClock);
      assert.deepEqual(where(raised, marks), EXPECTED, what);
      assert.equal(p.stats().dropped.telematics_late ?? 0, 0, what);
    }
  });

  it('braking into turns, three left and one right: forward from the turns within 2.5° (the left and right turns averaged, not summed: 5.5° off)', () => {
    const script: Stretch[] = [{ s: 35 }, { s: 10, lon: 1.5 }];
    for (const dir of [1, 1, 1, -1]) script.push({ s: 3, lat: 2 * dir, lon: -1.5 }, { s: 8.8, lat: 2 * dir }, { s: 3, lon: 1.5 }, { s: 6 });
    for (const mount of [[130, 55, -20], [0, 0, 0], [-75, -35, 160]] as Array<[number, number, number]>) {
      const op = new TelematicsOperator(telematicsStepSchema.parse({}));
      const ctx = { pipeline: 't', reading() {}, result() {}, emit() {}, drop() {} };
      for (const r of drive(script, { mount }).readings) op.reading(r, ctx as never);
      const st = op.status()[0]!;
      assert.equal(st.forward, 'gyro');
      // the vehicle's x axis in the sensor's: the first column of Rz(yaw)·Ry(pitch)
      const [yaw, pitch] = mount.map((d) => (d * Math.PI) / 180) as [number, number];
      const x = [Math.cos(yaw) * Math.cos(pitch), Math.sin(yaw) * Math.cos(pitch), -Math.sin(pitch)];
      const f = st.forwardAxis!;
      const off = (Math.acos(f[0] * x[0]! + f[1] * x[1]! + f[2] * x[2]!) * 180) / Math.PI;
      assert.ok(off < 2.5, `mount ${mount.join('/')}: forward ${off.toFixed(2)}° off`);
    }
  });

  it("a speed that comes late (a phone's filtered location speed): forward from it at its delay — braking into left turns, 1–3 s late: within 2° (paired on time: 12°, 41°, 81° off); a restart keeps the delay's evidence", () => {
    const mount: [number, number, number] = [130, 55, -20];
    const [yaw, pitch] = mount.map((d) => (d * Math.PI) / 180) as [number, number];
    const x = [Math.cos(yaw) * Math.cos(pitch), Math.sin(yaw) * Math.cos(pitch), -Math.sin(pitch)];
    const off = (f: number[]) => (Math.acos(f[0]! * x[0]! + f[1]! * x[1]! + f[2]! * x[2]!) * 180) / Math.PI;
    // a speed change late is paired with the turn that follows the brake: on time it tilts forward to the right
    const script: Stretch[] = [{ s: 35 }, { s: 8, lon: 1.5 }];
    for (let i = 0; i < 8; i++) script.push({ s: 3, lon: -2 }, { s: 6, lat: 2.5 }, { s: 3 }, { s: 3, lon: 2 }, { s: 6 });
    const ctx = { pipeline: 't', reading() {}, result() {}, emit() {}, drop() {} };
    for (const lag of [0, 1, 2, 3]) {
      const { readings } = drive(script, { mount, gyro: false, speed: true, speedLag: lag });
      const op = new TelematicsOperator(telematicsStepSchema.parse({}));
      // restarted half way (saved as JSON): the same as without
      const cut = Math.floor(readings.length / 2);
      for (const r of readings.slice(0, cut)) op.reading(r, ctx as never);
      const back = new TelematicsOperator(telematicsStepSchema.parse({}));
      back.restore(JSON.parse(JSON.stringify(op.snapshot())));
      for (const r of readings.slice(cut)) back.reading(r, ctx as never);
      const st = back.status()[0]!;
      assert.equal(st.forward, 'speed');
      assert.ok(off(st.forwardAxis!) < 2, `${lag} s late: forward ${off(st.forwardAxis!).toFixed(1)}° off`);
      assert.ok(Math.abs(st.speedLag! - lag * 1000) <= 500, `${lag} s late: taken as ${st.speedLag} ms`);
    }
  });

  it('with a gyro, once enough stops and starts agree forward comes from them: braking into left turns tilts the turns\' forward 10.5° off, the stops\' 1.4°', () => {
    const script: Stretch[] = [{ s: 65 }];
    for (let i = 0; i < 5; i++) script.push({ s: 8, lon: 1.8 }, { s: 5 }, { s: 3, lat: 2, lon: -1.5 }, { s: 8.8, lat: 2 }, { s: 3, lon: 1.5 }, { s: 5 }, { s: 8, lon: -2 }, { s: 10 });
    for (const mount of [[130, 55, -20], [0, 0, 0], [-75, -35, 160]] as Array<[number, number, number]>) {
      const [yaw, pitch] = mount.map((d) => (d * Math.PI) / 180) as [number, number];
      const x = [Math.cos(yaw) * Math.cos(pitch), Math.sin(yaw) * Math.cos(pitch), -Math.sin(pitch)];
      const op = new TelematicsOperator(telematicsStepSchema.parse({}));
      const ctx = { pipeline: 't', reading() {}, result() {}, emit() {}, drop() {} };
      const sources: string[] = [];
      for (const r of drive(script, { mount }).readings) {
        op.reading(r, ctx as never);
        const f = op.status()[0]?.forward;
        if (f && sources.at(-1) !== f) sources.push(f);
      }
      // the turns may come first (two of them are enough), the stops take over once they agree
      assert.equal(sources.at(-1), 'stops', `${mount.join('/')}: ${sources.join(' → ')}`);
      const f = op.status()[0]!.forwardAxis!;
      const off = (Math.acos(f[0] * x[0]! + f[1] * x[1]! + f[2] * x[2]!) * 180) / Math.PI;
      assert.ok(off < 3, `mount ${mount.join('/')}: forward ${off.toFixed(1)}° off`);
    }
  });

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

  it('with neither gyro nor speed, and no stops and starts to learn from, forward is unknown and nothing is claimed; the harsh manoeuvres are counted as unjudged', () => {
    const { raised, p } = run({ mount: [30, 20, 0], gyro: false });
    assert.deepEqual(raised, []);
    // kept, waiting for forward (edgewise status shows how many)
    assert.equal((p.stepStatus()[0]!.rows[0] as { waiting: number }).waiting, 4);
    assert.deepEqual(p.stats().gauges.telematics, { vehicles: 1, forward_unknown: 1, waiting: 4 });
    // the brake, its rebound, the harsh acceleration and the harsh corner: beyond 0.3 g for 0.5 s, of a kind unknown
    assert.equal(p.stats().operators.telematics!.unjudged, 4);
    // with the gyro forward is known before them: judged, none unjudged (the gentle turns before are under every limit)
    assert.equal(run({ mount: [30, 20, 0] }).p.stats().operators.telematics!.unjudged, 0);
  });

  it('harsh events before forward is known are judged once it is, late and saying so: the brake, the harsh acceleration, the corner; the rebound is still no harsh acceleration', () => {
    const { script, at: early } = eventsFirstDrive();
    for (const mount of [[0, 0, 0], [130, 55, -20], [-75, -35, 160]] as Array<[number, number, number]>) {
      const { raised, marks, p } = run({ mount }, script);
      assert.deepEqual(where(raised, marks), [`harsh_braking@${early.brake}`, `harsh_acceleration@${early.harshAccel}`, `harsh_cornering@${early.corner}`], `mount ${mount.join('/')}`);
      const late = raised.filter((a) => /judged late, at \S+, when forward became known/.test(a.reason ?? ''));
      assert.ok(late.length >= 2, `mount ${mount.join('/')}: ${raised.map((a) => a.reason).join(' | ')}`);
      const c = p.stats().operators.telematics!;
      // the brake, the harsh acceleration and the corner at least: kept while forward was unknown, every one judged once it was
      assert.ok(c.unjudged! >= 3 && c.judged_late === c.unjudged, `mount ${mount.join('/')}: ${JSON.stringify(c)}`);
    }
  });

  it('an accelerometer alone: the harsh events of a drive before its first stop are judged once its stops and starts teach forward', () => {
    // parked, the harsh events at speed, a brake to a stand, then stops and starts at lights
    const script: Stretch[] = [{ s: 65 }, { s: 10, lon: 1.5 }, { s: 5 }, { s: 1.5, lon: -5.5 }, { s: 1, lon: 4 }, { s: 4 }, { s: 10, lon: 1 }, { s: 2, lon: 3.8 }, { s: 10 }, { s: 2, lat: 4.8 }, { s: 8 }, { s: 14.175, lon: -2 }, { s: 8 }];
    for (let i = 0; i < 4; i++) script.push({ s: 8, lon: 1.8 }, { s: 10 }, { s: 8, lon: -1.8 }, { s: i === 1 ? 45 : 8 });
    for (const mount of [[0, 0, 0], [130, 55, -20], [-75, -35, 160]] as Array<[number, number, number]>) {
      const { raised, marks, p } = run({ mount, gyro: false }, script);
      assert.deepEqual(where(raised, marks), ['harsh_braking@3', 'harsh_acceleration@7', 'harsh_cornering@9'], `mount ${mount.join('/')}`);
      assert.ok(raised.every((a) => a.judged! - a.start > 20_000 && /forward from stops; judged late/.test(a.reason ?? '')), raised.map((a) => a.reason).join(' | '));
      assert.equal(p.stats().operators.telematics!.judged_late, p.stats().operators.telematics!.unjudged);
    }
  });

  it('a trip that starts harshly: a harsh start, a brake and a corner in its first 20 s, while gravity is still being averaged, are judged once gravity and forward are known', () => {
    // a harsh start 3 s in, a brake at 12 s and its rebound, a corner at 20 s; then turns (gyro), speed changes and stops (speed, or the accelerometer alone) teach forward
    const script: Stretch[] = [{ s: 3 }, { s: 2.5, lon: 3.8 }, { s: 5, lon: 1 }, { s: 1.5, lon: -5.5 }, { s: 1, lon: 4 }, { s: 6 }, { s: 2, lat: 4.8 }, { s: 8 }];
    script.push({ s: 11.8, lat: 2 }, { s: 6 }, { s: 11.8, lat: -2 }, { s: 6 }, { s: 11.8, lat: 2 }, { s: 6 }, { s: 11.8, lat: -2 }, { s: 10 }, { s: 5.125, lon: -2 }, { s: 8 });
    for (let i = 0; i < 4; i++) script.push({ s: 8, lon: 1.8 }, { s: 10 }, { s: 8, lon: -1.8 }, { s: i === 1 ? 45 : 8 });
    for (const mount of [[0, 0, 0], [130, 55, -20], [-75, -35, 160]] as Array<[number, number, number]>) {
      for (const sensors of [{}, { gyro: false, speed: true }, { gyro: false }]) {
        const what = `mount ${mount.join('/')}, ${JSON.stringify(sensors)}`;
        const { raised, marks, p } = run({ mount, ...sensors }, script);
        assert.deepEqual(where(raised, marks), ['harsh_acceleration@1', 'harsh_braking@3', 'harsh_cornering@6'], what);
        assert.ok(raised.every((a) => /judged late/.test(a.reason ?? '') && a.judged! >= marks[0]![0] + 30_000), what);
        const c = p.stats().operators.telematics!;
        assert.ok(c.unjudged! >= 3 && c.judged_late === c.unjudged, `${what}: ${JSON.stringify(c)}`);
      }
    }
  });

  it('a restart while harsh events wait to be judged keeps them: the same alerts as without it', () => {
    const { readings } = drive(eventsFirstDrive().script, { mount: [130, 55, -20] });
    const whole = playRestarted(readings, undefined);
    assert.ok(whole.length >= 6, whole.join('\n'));
    const brakeEnd = readings.findIndex((r) => r.ts >= readings[0]!.ts + 44_000);
    for (const cut of [brakeEnd, Math.floor(readings.length / 2)]) assert.deepEqual(playRestarted(readings, cut, viaJson), whole, `restart at reading ${cut}`);
  });

  it('an accelerometer alone: forward from stops and starts (a vehicle moves off forwards and stops braking); brake, acceleration, cornering found', () => {
    const { script, at: town } = townDrive();
    for (const mount of [[0, 0, 0], [130, 55, -20], [-75, -35, 160]] as Array<[number, number, number]>) {
      const op = new TelematicsOperator(telematicsStepSchema.parse({}));
      const alerts: AlertRecord[] = [];
      const ctx = { pipeline: 't', reading() {}, result() {}, emit(e: { kind: string; alert?: AlertRecord }) { if (e.kind === 'alert') alerts.push(e.alert!); }, drop() {} };
      const { readings, marks } = drive(script, { mount, gyro: false });
      for (const r of readings) op.reading(r, ctx as never);
      op.flush(false, ctx as never);
      const raised = alerts.filter((a) => a.state === 'raised');
      assert.deepEqual(where(raised, marks), [`harsh_braking@${town.brake}`, `harsh_acceleration@${town.harshAccel}`, `harsh_cornering@${town.corner}`], `mount ${mount.join('/')}`);
      assert.equal(op.status()[0]?.forward, 'stops');
      assert.match(raised[0]!.reason ?? "", /forward from stops/);
    }
  });

  it('an accelerometer without gravity (linear acceleration, or g read as m/s²): every sample counted as gravity_off, none judged, no remount', () => {
    const { readings } = drive(testDrive().script, { mount: [130, 55, -20] });
    // gravity removed as a phone's linear acceleration does (its resting value per axis taken away)
    const rest: Record<string, number> = {};
    for (const r of readings) if (r.stream.includes('/accel_') && !(r.stream in rest)) rest[r.stream] = r.value;
    const linear = readings.map((r) => (r.stream in rest ? { ...r, value: r.value - rest[r.stream]! } : r));
    const inG = drive(testDrive().script, { mount: [130, 55, -20], accelUnit: 'g' }).readings;
    for (const [what, rs] of [['linear', linear], ['g as m/s²', inG]] as const) {
      const { raised, p } = play(rs);
      const c = p.stats().operators.telematics!;
      assert.deepEqual(raised, [], what);
      assert.ok(c.gravity_off! > 5000, `${what}: ${JSON.stringify(c)}`);
      assert.equal(c.remounts, 0, what);
    }
    // the raw accelerometer: none
    assert.equal(run({ mount: [130, 55, -20] }).p.stats().operators.telematics!.gravity_off, 0);
  });

  it('a stand already under way when the rolling level comes to be known counts from its own start (the braking before it), not from the moment the level is known', () => {
    // 50 Hz; rolling shakes the body at 2 Hz, standing barely; a brake at 15–18 s, the stand from
    // 18 s runs past the level's warm-up (30 s) with a gravity estimate 0.6 m/s² off sideways
    // until 40 s, then a start at 45 s
    const ev = new StopEvidence();
    const up: Vec3 = [0, 0, 1];
    for (let ts = 0; ts < 60_000; ts += 20) {
      const standing = ts >= 18_000 && ts < 45_000;
      const shake = (standing ? 0.01 : 0.5) * Math.sin((2 * Math.PI * 2 * ts) / 1000);
      const h: Vec3 = ts >= 15_000 && ts < 18_000 ? [-2, 0, 0] : standing && ts < 40_000 ? [0, 0.6, 0] : ts >= 45_000 && ts < 48_000 ? [2, 0, 0] : [0, 0, 0];
      ev.update(ts, 20, [shake, 0, 9.81], h, up);
    }
    // the stop (the brake's ~4 m/s) and the start, both forward; not the integral as the level came
    // to be known: ~1.8 m/s of the stand's bias, sideways (until 2026-12-06), nor the start alone
    const [x, y] = ev.sum;
    assert.ok(x > 5.5, `stop and start evidence ${ev.sum.join(', ')}`);
    assert.ok(Math.abs(y) < 0.1 * x, `no evidence from the stand seen as the warm-up ended: ${ev.sum.join(', ')}`);
  });

  it('a drive that begins parked: its first start counts once the level of rolling is known, forward from stops after 95 s (129 s when only the newest second was judged, three needed)', () => {
    const learnt = stopsLearntAt(townDrive().script);
    // parked 65 s, moves off (the first start), stops at 91 s: two (without the first start, the
    // next start at 109 s would be the second)
    assert.ok(learnt > 90_000 && learnt < 100_000, `forward from stops after ${learnt / 1000} s`);
  });

  it('a drive that moves off 12 s after the recording begins (before gravity\'s first 30 s): that start counts too, forward after 42 s, at its first stop (76 s when the stops waited for gravity\'s 30 s, three needed)', () => {
    const script: Stretch[] = [{ s: 12 }];
    for (let i = 0; i < 4; i++) script.push({ s: 8, lon: 1.8 }, { s: 10 }, { s: 8, lon: -1.8 }, { s: 8 });
    const learnt = stopsLearntAt(script);
    // a recording that begins standing: gravity is right from the first sample
    assert.ok(learnt > 38_000 && learnt < 47_000, `forward from stops after ${learnt / 1000} s`);
  });

  it('a start judged again as the level moves (a creeping second before it, standing once the road gets rougher) is counted once', () => {
    const ev = new StopEvidence();
    for (let ts = 0; ts < 150_000; ts += 20) {
      // rolling on a smooth road, a brake and a 30 s stand, a second of creeping, then a rougher road
      const amp = ts < 60_000 ? 0.3 : ts < 90_000 ? 0.01 : ts < 91_000 ? 0.1 : 0.8;
      const h: Vec3 = ts >= 57_000 && ts < 60_000 ? [-2, 0, 0] : ts >= 91_000 && ts < 94_000 ? [2, 0, 0] : [0, 0, 0];
      ev.update(ts, 20, [amp * Math.sin((2 * Math.PI * 2 * ts) / 1000), 0, 9.81], h, [0, 0, 1]);
    }
    // the stop (~2.6 m/s) and the start (~3 m/s) once each: counted twice the start makes 9.4
    assert.ok(ev.sum[0] > 5 && ev.sum[0] < 7, `${ev.sum.join(', ')}`);
  });

  it('an accelerometer alone that never stands still long enough: nothing claimed', () => {
    const script: Stretch[] = [{ s: 65 }];
    // stops of 2 s: too short to count as standing
    for (let i = 0; i < 6; i++) script.push({ s: 8, lon: 1.8 }, { s: 10 }, { s: 8, lon: -1.8 }, { s: 2 });
    script.push({ s: 10, lon: 1.5 }, { s: 1.5, lon: -5.5 }, { s: 5 });
    const { raised } = run({ mount: [130, 55, -20], gyro: false }, script);
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
    // saved before 2026-12-06: the speed's evidence at no delay (fwd, speedChange in the mount) comes back as that
    const onTime = new TelematicsOperator(spec);
    const v = structuredClone(snap.vehicles[0]);
    const { speed: _s, ...mountRest } = v.now.mount;
    v.now.mount = { ...mountRest, fwd: [3, 0, 0], speedChange: 20, hSum: [0, 0, 0], hN: 0 };
    onTime.restore({ version: 1, vehicles: [v] });
    assert.deepEqual([onTime.status()[0]?.forward, onTime.status()[0]?.speedLag, onTime.status()[0]?.speedChange], ['speed', 0, 20]);
    // saved before 2026-12-06: the gyro's axes were part of the sample; they come back as the newest gyro reading
    const before = new TelematicsOperator(spec);
    const saved = structuredClone(snap.vehicles[0]);
    const { gyroTs: _t, gyroMask: _m, rate: _r, rateTs: _rt, ...rest } = saved.now;
    saved.now = { ...rest, sampleTs: 5000, sample: [0, 0, 9.8, 0.1, 0.2, 0.3], mask: 64 | 0b111111 };
    before.restore({ version: 1, vehicles: [{ ...saved, expect: 0b111111 }] });
    const back = (before.snapshot() as { vehicles: Array<{ now: Record<string, unknown> }> }).vehicles[0]!.now;
    assert.deepEqual([back.mask, back.gyroTs, back.gyroMask, back.rate, back.rateTs], [64 | 0b111, 5000, 0b111000, [0.1, 0.2, 0.3], 5000]);
    assert.throws(() => new TelematicsOperator(spec).restore({ version: 1, vehicles: [{ id: 'y', g: [0, 0, 9.8], left: [0, 0, 0], fwd: [0, 0, 0], now: { mount: { g: 'up' } } }] }), /vehicle y: g must be 3 numbers/);
  });
});

describe('telematics: a slow IMU (1–5 readings a second)', () => {
  /** The drive's IMU readings averaged over `ms` (stamped at each span's end), as a logger that decimates writes them; speed as it is. */
  function averaged(readings: Reading[], ms: number): Reading[] {
    const out: Reading[] = [];
    const open = new Map<string, { t: number; sum: number; n: number }>();
    for (const r of readings) {
      if (r.stream.endsWith('speed_kmh')) {
        out.push(r);
        continue;
      }
      const t = Math.floor(r.ts / ms) * ms + ms;
      const b = open.get(r.stream);
      if (b && b.t !== t) out.push({ ...r, ts: b.t, value: b.sum / b.n });
      const c = b && b.t === t ? b : { t, sum: 0, n: 0 };
      c.sum += r.value;
      c.n++;
      open.set(r.stream, c);
    }
    return out.sort((a, b) => a.ts - b.ts);
  }

  it('readings that are each a second\'s mean (or half a second\'s): a reading stands for its second, so a harsh brake, acceleration and corner of 1.5–2 s are found, with speed or with the gyro', () => {
    for (const ms of [1000, 500]) {
      for (const sensors of [{ speed: true }, {}] as DriveOptions[]) {
        for (const mount of [[0, 0, 0], [130, 55, -20]] as Array<[number, number, number]>) {
          const { readings, marks } = drive(testDrive().script, { mount, ...sensors });
          const { raised, p } = play(averaged(readings, ms));
          const what = `${ms} ms, ${JSON.stringify(sensors)}, mount ${mount.join('/')}`;
          assert.deepEqual(where(raised, marks), EXPECTED, what);
          assert.equal((p.stepStatus()[0]!.rows[0] as { forward: string }).forward, sensors.speed ? 'speed' : 'gyro', what);
        }
      }
    }
    // before forward is known, kept and judged late the same way
    const { script, at } = eventsFirstDrive();
    const first = drive(script, { mount: [130, 55, -20] });
    const late = play(averaged(first.readings, 1000)).raised;
    assert.deepEqual(where(late, first.marks), [`harsh_braking@${at.brake}`, `harsh_acceleration@${at.harshAccel}`, `harsh_cornering@${at.corner}`]);
    assert.ok(late.every((a) => /judged late/.test(a.reason ?? '')));
  });

  it('stops and starts need five readings a second or more: at 2 a second a drive without a stop learns no forward from them (a rolling second reads as standing one time in four), and waits for the gyro', () => {
    const { readings } = drive(testDrive().script, { mount: [130, 55, -20], gyro: false });
    const { raised, p } = play(averaged(readings, 500));
    assert.deepEqual(raised, []);
    assert.equal((p.stepStatus()[0]!.rows[0] as { forward: string }).forward, 'none');
    // at 5 a second, the drive whose stops teach forward: its brake, acceleration and corner
    const script: Stretch[] = [{ s: 65 }, { s: 10, lon: 1.5 }, { s: 5 }, { s: 1.5, lon: -5.5 }, { s: 1, lon: 4 }, { s: 4 }, { s: 10, lon: 1 }, { s: 2, lon: 3.8 }, { s: 10 }, { s: 2, lat: 4.8 }, { s: 8 }, { s: 14.175, lon: -2 }, { s: 8 }];
    for (let i = 0; i < 4; i++) script.push({ s: 8, lon: 1.8 }, { s: 10 }, { s: 8, lon: -1.8 }, { s: i === 1 ? 45 : 8 });
    const stops = drive(script, { mount: [130, 55, -20], gyro: false });
    assert.deepEqual(where(play(averaged(stops.readings, 200)).raised, stops.marks), ['harsh_braking@3', 'harsh_acceleration@7', 'harsh_cornering@9']);
  });
});

describe('telematics: an IMU in a world frame (frame: world)', () => {
  it('readings turned into Earth axes (forward turns with the road): the heading followed from the gyro finds the brake, the acceleration and the corner; taken as a mounted device\'s, they are not', () => {
    for (const heading0 of [0, 40, 200]) {
      const { readings, marks } = drive(testDrive().script, { frame: 'world', heading0 });
      const world = play(readings, { frame: 'world' });
      assert.deepEqual(where(world.raised, marks), EXPECTED, `heading ${heading0}°`);
      assert.notDeepEqual(where(play(readings).raised, marks), EXPECTED, `heading ${heading0}°: as a device frame`);
    }
  });

  it('a gyro whose rate is off by 0.57°/s (an iPhone\'s raw gyro: 0.65°/s) — its bias is learnt where the vehicle goes straight or stands: the same events', () => {
    const { readings, marks } = drive(testDrive().script, { frame: 'world', heading0: 40, gyroBias: 0.01 });
    assert.deepEqual(where(play(readings, { frame: 'world' }).raised, marks), EXPECTED);
  });

  it('without a gyro the heading cannot be followed: samples counted as no_heading, nothing claimed', () => {
    const { readings } = drive(testDrive().script, { frame: 'world', gyro: false, speed: true });
    const { raised, p } = play(readings, { frame: 'world' });
    assert.deepEqual(raised, []);
    assert.equal(p.stats().operators.telematics!.no_heading, readings.filter((r) => r.stream.endsWith('/accel_x')).length);
  });

  it('a restart keeps the heading and the gyro\'s bias: the same alerts as without it', () => {
    const { readings } = drive(testDrive().script, { frame: 'world', heading0: 40, gyroBias: 0.01 });
    const spec = { frame: 'world' };
    const whole = playRestarted(readings, undefined, undefined, spec);
    assert.ok(whole.length >= 6, whole.join('\n'));
    for (const cut of [Math.floor(readings.length / 3), Math.floor((2 * readings.length) / 3)]) assert.deepEqual(playRestarted(readings, cut, viaJson, spec), whole, `restart at reading ${cut}`);
  });
});

describe('telematics: a device moved in its mount', () => {
  /** The test drive twice, the device in mounting `first` and then in `second` (moved while the van stood), through one pipeline. */
  function twoDrives(first: [number, number, number], second: [number, number, number]) {
    const a = drive(testDrive().script, { mount: first, speed: true });
    const b = drive(testDrive().script, { mount: second, speed: true, t0: a.readings.at(-1)!.ts + 20, seed: 9 });
    const { raised, p } = play([...a.readings, ...b.readings]);
    return { raised, marks: [...a.marks, ...b.marks], counters: p.stats().operators!.telematics! };
  }
  const TWICE = [...EXPECTED, ...EXPECTED.map((e) => e.replace(/@(\d+)/, (_, i) => `@${Number(i) + testDrive().script.length}`))];

  it('picked up and put back another way: nothing judged while it is off, gravity and forward learnt again, the next brake, acceleration and corner found as such', () => {
    const { raised, marks, counters } = twoDrives([130, 55, -20], [20, -40, 90]);
    assert.deepEqual(where(raised, marks), TWICE);
    assert.equal(counters.remounts, 1);
    assert.ok(counters.unsettled! > 0);
  });

  it('moved in its mount while harsh manoeuvres waited for forward: those are dropped (they are in the old axes), the next drive\'s events found', () => {
    const first = eventsFirstDrive().script;
    const a = drive(first, { mount: [130, 55, -20], gyro: false });
    const b = drive(testDrive().script, { mount: [20, -40, 90], t0: a.readings.at(-1)!.ts + 20, seed: 9 });
    const { raised, p } = play([...a.readings, ...b.readings]);
    const c = p.stats().operators.telematics!;
    assert.deepEqual(where(raised, [...a.marks, ...b.marks]), EXPECTED.map((e) => e.replace(/@(\d+)/, (_, i) => `@${Number(i) + first.length}`)));
    assert.equal(c.remounts, 1);
    assert.ok(c.unjudged! >= 3 && c.judged_late === 0, JSON.stringify(c));
  });

  /** The test drive in mounting `m0`, its IMU readings taken from the same drive in mounting `m1` where `held(t)` (t: ms from the start). */
  function handled(m0: [number, number, number], m1: [number, number, number], held: (t: number) => boolean, o: DriveOptions) {
    const { readings, marks } = drive(testDrive().script, { mount: m0, ...o });
    const other = drive(testDrive().script, { mount: m1, ...o }).readings;
    const t0 = readings[0]!.ts;
    const { raised, p } = play(readings.map((r, i) => (held(r.ts - t0) && !r.stream.endsWith('speed_kmh') ? other[i]! : r)));
    return { found: where(raised, marks), counters: p.stats().operators.telematics! };
  }

  it('held another way for its first 6 s, then put in its mount: gravity is taken afresh once it rests there (before, those seconds leant the gravity estimate: false harsh events where the van sped up and slowed down, its harsh brake missed)', () => {
    for (const sensors of [{ speed: true }, {}] as DriveOptions[]) {
      const { found, counters } = handled([130, 55, -20], [20, -40, 90], (t) => t < 6000, sensors);
      assert.deepEqual(found, EXPECTED, JSON.stringify(sensors));
      assert.equal(counters.remounts, 1);
    }
  });

  it('lifted for 2 s in its first 30 s and put back as it was: what it measured meanwhile is no manoeuvre, judged or kept', () => {
    for (const [m0, m1] of [[[130, 55, -20], [20, -40, 90]], [[0, 0, 0], [0, 60, 0]], [[0, 0, 0], [0, 0, 40]]] as Array<[[number, number, number], [number, number, number]]>) {
      for (const sensors of [{ speed: true }, {}] as DriveOptions[]) {
        const { found, counters } = handled(m0, m1, (t) => t >= 12_000 && t < 14_000, sensors);
        assert.deepEqual(found, EXPECTED, `${m1.join('/')} ${JSON.stringify(sensors)}`);
        assert.equal(counters.unjudged, 0);
      }
    }
  });

  it('turned upside down: the same', () => {
    const { raised, marks, counters } = twoDrives([10, 80, 0], [10, 80, 180]);
    assert.deepEqual(where(raised, marks), TWICE);
    assert.equal(counters.remounts, 1);
  });

  it('turned flat by 90° (gravity unchanged): the recent speed evidence points elsewhere, forward is learnt again from it', () => {
    const { raised, marks, counters } = twoDrives([0, 0, 0], [90, 0, 0]);
    assert.deepEqual(where(raised, marks), TWICE);
    assert.equal(counters.remounts, 1);
  });

  it('lifted for 2 s and put back as it was: not judged meanwhile, nothing learnt again, every event found', () => {
    const { readings, marks } = drive(testDrive().script, { mount: [130, 55, -20], speed: true });
    const held = drive(testDrive().script, { mount: [20, -40, 90], speed: true }).readings;
    // while the van stands before the harsh brake (stretch 15), the device is held another way for 2 s
    const from = marks[15]![0] + 3000;
    const spliced = readings.map((r, i) => (r.ts >= from && r.ts < from + 2000 && !r.stream.endsWith('speed_kmh') ? held[i]! : r));
    const { raised, p } = play(spliced);
    assert.deepEqual(where(raised, marks), EXPECTED);
    const counters = p.stats().operators!.telematics!;
    assert.equal(counters.remounts, 0);
    assert.ok(counters.unsettled! > 0);
  });

  it('left alone: never taken as moved; a 0.9 g emergency stop is judged, not taken for a device turned', () => {
    const { raised, marks, counters } = twoDrives([130, 55, -20], [130, 55, -20]);
    assert.deepEqual(where(raised, marks), TWICE);
    assert.equal(counters.remounts, 0);
    assert.equal(counters.unsettled, 0);
    const script: Stretch[] = [...testDrive().script.slice(0, 16), { s: 10, lon: 2 }, { s: 3, lon: -8.8 }, { s: 5 }];
    const stop = run({ mount: [130, 55, -20], speed: true }, script);
    assert.deepEqual(where(stop.raised, stop.marks), ['harsh_braking@17']);
    assert.equal(stop.p.stats().operators!.telematics!.unsettled, 0);
  });
});

describe('telematics: a device turned by hand, seen by the gyro', () => {
  const M0: [number, number, number] = [130, 55, -20];
  const off = (d: [number, number, number]) => M0.map((x, i) => x + d[i]!) as [number, number, number];
  /** The test drive with the device turned by hand (`moves`), from mounting `start`: the harsh events found, the counters. */
  function turned(moves: NonNullable<DriveOptions['moves']>, o: DriveOptions = {}, start = M0) {
    const { readings, marks } = drive(testDrive().script, { mount: start, moves, ...o });
    const { raised, p } = play(readings);
    return { found: where(raised, marks), counters: p.stats().operators.telematics!, readings };
  }
  // the test drive's third turn (a left turn) runs from 57.6 s to 69.4 s, its fourth (right) from 75.4 s
  const LIFTS: Record<string, NonNullable<DriveOptions['moves']>> = {
    'rolled 40° in a left turn': [{ at: 60, s: 0.5, to: off([0, 0, 40]) }, { at: 61.5, s: 0.5, to: M0 }],
    'pitched 40° in a right turn': [{ at: 75, s: 0.5, to: off([0, 40, 0]) }, { at: 76.5, s: 0.5, to: M0 }],
  };

  for (const [name, moves] of Object.entries(LIFTS)) {
    it(`${name} for a second and put back: not judged meanwhile, nothing learnt again, no false event (before: a false harsh event in the turn: the accelerometer saw the tilt late, or not at all where the turn's lateral acceleration hid it)`, () => {
      for (const sensors of [{ speed: true }, {}, { speed: true, gyroClock: { offset: 7, every: 2 } }] as DriveOptions[]) {
        const { found, counters } = turned(moves, sensors);
        assert.deepEqual(found, EXPECTED, JSON.stringify(sensors));
        assert.equal(counters.remounts, 0);
        assert.ok(counters.unsettled! > 0, JSON.stringify(counters));
      }
    });
  }

  it('put back 20° off its mounting (under remount_deg): gravity turned with it, forward kept, every event found (before: false harsh corners, the harsh corner missed)', () => {
    for (const sensors of [{ speed: true }, {}] as DriveOptions[]) {
      for (const at of [100, 140]) {
        const { found, counters } = turned([{ at, s: 0.5, to: off([0, 20, 35]) }, { at: at + 1.5, s: 0.5, to: off([0, 20, 0]) }], sensors);
        assert.deepEqual(found, EXPECTED, `${at} ${JSON.stringify(sensors)}`);
        assert.equal(counters.remounts, 0);
      }
    }
  });

  it('held 25° off for its first 6 s, then put in its mount: gravity turns with it (without a gyro, a turn under remount_deg then leans gravity: a limit)', () => {
    for (const sensors of [{ speed: true }, {}] as DriveOptions[]) {
      const { found } = turned([{ at: 6, s: 0.5, to: M0 }], sensors, off([0, 25, 0]));
      assert.deepEqual(found, EXPECTED, JSON.stringify(sensors));
    }
  });

  it('put back 60° off, or turned 90° flat: handled, forward learnt again from speed, once', () => {
    for (const to of [off([0, 0, 60]), off([90, 0, 0])]) {
      const { found, counters } = turned([{ at: 100, s: 0.5, to: off([0, 0, 35]) }, { at: 101.5, s: 0.7, to }], { speed: true });
      assert.deepEqual(found, EXPECTED, to.join('/'));
      assert.equal(counters.remounts, 1);
    }
  });

  it('a gyro whose axes are wrongly set up (left-handed) turns gravity the wrong way: the accelerometer takes it afresh, and nothing false is raised', () => {
    for (const moves of [...Object.values(LIFTS), [{ at: 100, s: 0.5, to: off([0, 20, 35]) }, { at: 101.5, s: 0.5, to: off([0, 20, 0]) }]]) {
      const { found } = turned(moves, { speed: true, gyroFlipped: true });
      assert.ok(found.includes(`harsh_braking@${at.brake}`) && found.every((f) => EXPECTED.includes(f)), found.join(' '));
    }
  });

  it('the gyro falls silent while the device is handled: gravity as before the turn, the accelerometer\'s watch decides (as without a gyro: a false corner in that turn); not unsettled for good, the later events found', () => {
    const { readings, marks } = drive(testDrive().script, { mount: M0, moves: LIFTS['rolled 40° in a left turn'], speed: true });
    const silentFrom = readings[0]!.ts + 60_400;
    const { raised, p } = play(readings.filter((r) => !(r.stream.includes('/gyro_') && r.ts >= silentFrom)));
    assert.deepEqual(where(raised, marks), ['harsh_cornering@6', ...EXPECTED]);
    assert.ok(p.stats().operators.telematics!.unsettled! < 200, JSON.stringify(p.stats().operators.telematics));
  });

  it('a left-handed gyro is found out once speed has taught forward and 180° of turns are seen (`gyro_flipped`), and read the right way round from then on, also after a restart: turned by hand at 140 s and put back 20° off, every event found (before: the harsh acceleration missed, a remount); a right-handed one never is', () => {
    const moves = [{ at: 140, s: 0.5, to: off([0, 20, 35]) }, { at: 141.5, s: 0.5, to: off([0, 20, 0]) }];
    const flipped = turned(moves, { speed: true, gyroFlipped: true });
    assert.deepEqual(flipped.found, EXPECTED);
    assert.equal(flipped.counters.gyro_flipped, 1);
    assert.equal(flipped.counters.remounts, 0);
    for (const sensors of [{ speed: true }, {}] as DriveOptions[]) assert.equal(turned(moves, sensors).counters.gyro_flipped, 0, JSON.stringify(sensors));
    // restarted after it was found out (saved as JSON): the same alerts
    const cut = flipped.readings.findIndex((r) => r.ts >= flipped.readings[0]!.ts + 130_000);
    assert.deepEqual(playRestarted(flipped.readings, cut, viaJson), playRestarted(flipped.readings, undefined));
  });

  it('small turns — a bump, a mount that wobbles — leave gravity where it was', () => {
    const mount = new Mount(mountParamsOf(telematicsStepSchema.parse({})));
    const g: Vec3 = [0, 0, 9.81];
    for (let i = 0; i < 50; i++) mount.update(i * 20, g, [0, 0, 0]);
    // 8° of pitch at 0.5 rad/s and back, 4° and left there
    const rate = (t: number) => (t < 280 ? 0.5 : t < 560 ? -0.5 : t < 700 ? 0.5 : 0);
    let unsettled = 0;
    for (let t = 0; t < 3000; t += 20) {
      const w = rate(t);
      mount.update(1000 + t, g, [0, w, 0]);
      if (!mount.settled()) unsettled++;
    }
    assert.equal(unsettled, 0);
    assert.ok(Math.abs(mount.g[0]) < 1e-6 && Math.abs(mount.g[2] - 9.81) < 1e-6, JSON.stringify(mount.g));
  });

  it('restarted while being turned by hand: the same alerts as without the restart (its part saved as JSON)', () => {
    const { readings } = turned(LIFTS['rolled 40° in a left turn']!, { speed: true });
    const whole = playRestarted(readings, undefined);
    const cut = readings.findIndex((r) => r.ts >= readings[0]!.ts + 60_700);
    assert.deepEqual(playRestarted(readings, cut, viaJson), whole);
  });
});

describe('telematics across a restart', () => {
  it('an accelerometer alone, restarted at a stop: the stops and starts seen before count after, the same alerts as without the restart', () => {
    const { readings, marks } = drive(townDrive().script, { mount: [130, 55, -20], gyro: false });
    const whole = playRestarted(readings, undefined);
    assert.equal(whole.filter((a) => a.startsWith('raised')).length, 3, JSON.stringify(whole));
    // standing at the fourth stop: three stops and starts seen before it, one start after
    const cut = readings.findIndex((r) => r.ts >= marks[16]![0] + 4_000);
    assert.deepEqual(playRestarted(readings, cut, viaJson), whole);
  });

  for (const gyroClock of [undefined, { offset: 7, every: 2 }]) {
    it(`restarted during a harsh brake${gyroClock ? ', the gyro on its own clock' : ''}: the brake raised before is cleared after, once, as without the restart (its part saved as v8 or as JSON)`, () => {
      const { readings } = drive(testDrive().script, { mount: [130, 55, -20], gyroClock });
      const whole = playRestarted(readings, undefined);
      const brake = whole.find((a) => a.startsWith('raised harsh_braking'));
      assert.ok(brake, JSON.stringify(whole));
      // the first reading after the brake was raised, while it lasts
      const raisedAt = Number(brake.split(' ')[2]);
      const cut = readings.findIndex((r) => r.ts > raisedAt);
      assert.ok(whole.some((a) => a.startsWith('cleared harsh_braking') && Number(a.split(' ')[3]) > readings[cut]!.ts), 'the cut falls inside the brake');
      assert.deepEqual(playRestarted(readings, cut, (x) => structuredClone(x)), whole);
      // the operator's part through JSON too
      assert.deepEqual(playRestarted(readings, cut, viaJson), whole);
    });
  }
});

describe('telematics on speed alone (1 Hz)', () => {
  it('derived acceleration: the harsh brake and acceleration found, a normal stop not; no cornering claimed', () => {
    const { raised, marks } = run({ imu: false, speed: true });
    assert.deepEqual(where(raised, marks), [`harsh_braking@${at.brake}`, `harsh_acceleration@${at.harshAccel}`]);
  });

  it('a feed stamped on arrival (±40 ms of jitter) is judged as one stamped by the device: every interval of about a second counts', () => {
    const { readings } = drive(testDrive().script, { imu: false, speed: true, course: true });
    let seed = 12345;
    const jitter = () => Math.round((((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1) * 40);
    const exact = play(readings).raised;
    // one stamp per second for both the speed and the course of that second
    const stamps = new Map<number, number>();
    const jittered = play(readings.map((r) => ({ ...r, ts: r.ts + (stamps.get(r.ts) ?? stamps.set(r.ts, jitter()).get(r.ts)!) }))).raised;
    assert.deepEqual(jittered.map((a) => a.detector), exact.map((a) => a.detector));
    for (const [i, a] of jittered.entries()) assert.ok(a.value >= 0.95 * exact[i]!.value, `${a.detector}: peak ${a.value} m/s² with jitter, ${exact[i]!.value} without`);
  });

  // Stopped, away gently (0.12 g), a firm but normal stop (0.24 g), away again, a harsh brake
  // (0.46 g for 3 s): the speed of a phone holds a stale value every fourth second and catches up
  // at the next, so reading to reading the firm stop reads 0.49 g.
  const STALE_DRIVE: Stretch[] = [{ s: 12 }, { s: 12, lon: 1.2 }, { s: 10 }, { s: 6, lon: -2.4 }, { s: 5 }, { s: 10, lon: 1.5 }, { s: 5 }, { s: 3, lon: -4.5 }, { s: 6 }];
  const STALE_BRAKE = 7;

  it('a speed that holds stale values (a phone\'s) is judged over two intervals: its catch-ups are no harsh events, a harsh brake still is', () => {
    const { raised, marks, p } = run({ imu: false, speed: 'stale' }, STALE_DRIVE);
    assert.deepEqual(where(raised, marks), [`harsh_braking@${STALE_BRAKE}`]);
    assert.match(raised[0]!.reason ?? '', /from speed over two intervals: it holds stale values/);
    assert.equal(p.stats().operators.telematics!.stale_speed, 1);
  });

  it('a CAN speed steady at a steady speed repeats a value where a change starts or ends: no stale speed, a 1 s harsh brake right after a steady stretch is found', () => {
    // 0.01 km/h: away at 1.66 m/s², 47.76 km/h for 10 s, a brake of 16 km/h in one second (0.45 g), then gently to a stop
    const kmh = [0, 0, ...Array.from({ length: 9 }, (_, i) => 5.97 * i), ...Array(9).fill(47.76), ...Array.from({ length: 16 }, (_, i) => 31.76 - 2 * i), 0, 0];
    const t0 = Date.UTC(2024, 5, 1, 8);
    const { raised, p } = play(kmh.map((value, i) => ({ stream: 'car/speed_kmh', ts: t0 + i * 1000, value: Math.round(value * 100) / 100 })));
    assert.equal(p.stats().operators.telematics!.stale_speed, 0);
    assert.deepEqual(raised.map((a) => a.detector), ['harsh_braking']);
    assert.match(raised[0]!.reason ?? '', /\(from speed\)/);
  });

  it('OBD-II speed in whole km/h on a manual car (a gear change holds it for a second mid-acceleration) is no stale speed: a 1 s harsh brake is found', () => {
    // away from a stop through three gear changes, a steady 50 km/h, then a brake of 16 km/h in one second (0.45 g)
    const kmh = [0, 0, 0, 5, 10, 15, 15, 20, 25, 29, 29, 33, 37, 40, 40, 43, 46, 48, 50, ...Array(10).fill(50), 34, 31, 28, 25, 22, 19, 16, 13, 10, 7, 4, 1, 0, 0, 0];
    const t0 = Date.UTC(2024, 5, 1, 8);
    const { raised, p } = play(kmh.map((value, i) => ({ stream: 'car/speed_kmh', ts: t0 + i * 1000, value })));
    assert.equal(p.stats().operators.telematics!.stale_speed, 0);
    assert.deepEqual(raised.map((a) => a.detector), ['harsh_braking']);
    assert.match(raised[0]!.reason ?? '', /\(from speed\)/);
  });

  it('two repeats in a row are one stale hold: its catch-up (three seconds of a gentle 0.12 g in one) is no harsh acceleration', () => {
    // away at 1.2 m/s² (4.32 km/h a second), the phone repeating 8.64 km/h twice, as the real drive's 6.7, 6.7, 6.7
    const kmh = [0, 0, 4.3217, 8.6434, 8.6434, 8.6434, ...Array.from({ length: 8 }, (_, i) => 4.3217 * (i + 5)), ...Array(5).fill(51.8604)];
    const t0 = Date.UTC(2024, 5, 1, 8);
    const { raised, p } = play(kmh.map((value, i) => ({ stream: 'car/speed_kmh', ts: t0 + i * 1000, value })));
    assert.deepEqual(raised.map((a) => a.detector), []);
    assert.equal(p.stats().operators.telematics!.stale_speed, 1);
  });

  it('a restart after a stale speed was found goes on judging over two intervals', () => {
    const { readings } = drive(STALE_DRIVE, { imu: false, speed: 'stale' });
    const whole = playRestarted(readings, undefined);
    assert.equal(whole.filter((a) => a.startsWith('raised')).length, 1);
    const at = readings.findIndex((r) => r.ts >= drive(STALE_DRIVE, { imu: false, speed: 'stale' }).marks[2]![0]);
    assert.deepEqual(playRestarted(readings, at, viaJson), whole);
  });

  it('IMU readings late for their sample are counted, never judged', () => {
    const { p } = run({ mount: [0, 0, 0] }, [{ s: 1 }]);
    // A second before the drive: late for the vehicle's sample (an hour back would be a clock jump, refused before the step).
    p.push({ stream: 'car/accel_x', ts: Date.UTC(2024, 5, 1, 7, 59, 59), value: 0 });
    assert.equal(p.stats().dropped.telematics_late, 1);
  });

  it('a second sample with the same timestamp (timestamps coarser than the rate) is counted as a duplicate, the first kept', () => {
    const { readings } = drive([{ s: 40 }, { s: 2, lon: 1 }], { mount: [0, 0, 0] });
    // each accelerometer sample sent twice: the copy's values differ
    const twice = readings.flatMap((r) => (r.stream.includes('/accel_') ? [r, { ...r, value: r.value + 5 }] : [r]));
    const once = play(readings);
    const { p } = play(twice);
    const accel = readings.filter((r) => r.stream.includes('/accel_')).length;
    assert.equal(p.stats().dropped.telematics_duplicate, accel);
    // the same as without the copies
    assert.deepEqual(p.stats().operators, once.p.stats().operators);
  });
});

describe('telematics on speed and GPS course (1 Hz tracker)', () => {
  // 15 m/s; two gentle 90° turns (0.2 g), a harsh corner (0.49 g for 4 s), a normal stop
  const script: Stretch[] = [{ s: 12 }, { s: 10, lon: 1.5 }, { s: 11.8, lat: 2 }, { s: 6 }, { s: 11.8, lat: -2 }, { s: 6 }, { s: 4, lat: 4.8 }, { s: 10 }, { s: 6, lon: -2.4 }, { s: 5 }];
  const CORNER = 6;

  it('a speed or course of −1 (a phone\'s "unknown") is counted as invalid and left out: no harsh brake, acceleration or corner from it', () => {
    const { readings, marks } = drive(script, { imu: false, speed: true, course: true });
    let n = 0;
    // every fifth second's speed, and the course of the second after it, unknown
    const unknown = readings.map((r) => (r.stream.endsWith('/speed_kmh') && ++n % 5 === 0) || (r.stream.endsWith('/course_deg') && n % 5 === 1 && n > 1) ? { ...r, value: -1 } : r);
    const invalid = unknown.filter((r) => r.value === -1).length;
    assert.ok(invalid >= 30, `${invalid} unknown values`);
    const { raised, p } = play(unknown);
    assert.deepEqual(where(raised, marks), [`harsh_cornering@${CORNER}`]);
    assert.equal(p.stats().operators.telematics!.invalid, invalid);
  });

  it('lateral acceleration = speed × turn rate of the course: the harsh corner raised, the gentle turns not', () => {
    const { raised, marks } = run({ imu: false, speed: true, course: true }, script);
    assert.deepEqual(where(raised, marks), [`harsh_cornering@${CORNER}`]);
    assert.match(raised[0]!.reason ?? "", /from GPS course and speed/);
    assert.ok(raised[0]!.value > 3.9 && raised[0]!.value < 5.2, `peak ${raised[0]!.value} m/s²`);
  });

  it('through north (350° → 10°) the turn is 20°, not 340°', () => {
    const { raised } = run({ imu: false, speed: true, course: true, heading0: 10 }, script);
    assert.deepEqual(raised.map((a) => a.detector), ['harsh_cornering']);
    const gentle = run({ imu: false, speed: true, course: true, heading0: 10 }, script.slice(0, CORNER));
    assert.deepEqual(gentle.raised, []);
  });

  it("a phone's course moving in steps: judged over course_span (3 s) the gentle turns stay gentle; reading to reading (1 s) they are harsh", () => {
    const { raised, marks } = run({ imu: false, speed: true, course: 'steps' }, script);
    // the held course catches up after the corner: raised within 2 s of its end
    assert.deepEqual(raised.map((a) => a.detector), ['harsh_cornering']);
    assert.ok(raised[0]!.start > marks[CORNER]![0] && raised[0]!.start <= marks[CORNER]![1] + 2000);
    const oneSecond = run({ imu: false, speed: true, course: 'steps', step: { course_span: '1s' } }, script);
    assert.ok(where(oneSecond.raised, oneSecond.marks).some((w) => w === 'harsh_cornering@2' || w === 'harsh_cornering@4'), JSON.stringify(where(oneSecond.raised, oneSecond.marks)));
  });

  it('below course_min_speed (5 m/s) the course is not used: a receiver wandering at walking pace is no turn', () => {
    const crawl: Stretch[] = [{ s: 12 }, { s: 5, lon: 0.4 }, { s: 4, lat: 4.5 }, { s: 5 }]; // 2 m/s, the course swinging 130°/s
    assert.deepEqual(run({ imu: false, speed: true, course: true }, crawl).raised, []);
    const { raised, marks } = run({ imu: false, speed: true, course: true, step: { course_min_speed: 1 } }, crawl);
    assert.deepEqual(where(raised, marks), ['harsh_cornering@2']);
  });

  it('a vehicle with an IMU is judged on it: its GPS course changes nothing', () => {
    const { raised, marks } = run({ mount: [130, 55, -20], speed: true, course: true });
    assert.deepEqual(where(raised, marks), EXPECTED);
  });

  it('restarted in the middle of the harsh corner: the same alerts as without the restart', () => {
    const { readings, marks } = drive(script, { imu: false, speed: true, course: true });
    const whole = playRestarted(readings, undefined);
    assert.equal(whole.filter((a) => a.startsWith('raised harsh_cornering')).length, 1, JSON.stringify(whole));
    // two seconds into the corner: the course span saved holds its start
    const cut = readings.findIndex((r) => r.ts >= marks[CORNER]![0] + 2000);
    assert.deepEqual(playRestarted(readings, cut, viaJson), whole);
  });
});
