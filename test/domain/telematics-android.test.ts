/**
 * The `telematics` operator on two real drives nobody here made (test/fixtures/drives/quat-orient:
 * an Android phone flat on a car's dash, raw accelerometer at about 17 Hz and GPS once a second,
 * each on its own clock; the phone turned round for the drive back). Checks what can be checked
 * without labels: forward is learnt from the GPS speed and turns round with the phone; the steep
 * hill of the first drive (gravity along the road, 1–1.5 m/s²) raises no harsh brake or
 * acceleration; with the accelerometer alone and no stop after the first minute, nothing is
 * claimed — and `edgewise backtest` says why.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { backtest } from '../../src/backtest/run.js';
import { loadPipelineFile } from '../../src/config/load.js';
import type { AlertRecord } from '../../src/core/records.js';
import type { Reading } from '../../src/core/reading.js';
import { TelematicsOperator } from '../../src/domain/telematics/step.js';
import { dot } from '../../src/domain/telematics/vec.js';
import { telematicsStepSchema } from '../helpers/schemas.js';

const DIR = join(import.meta.dirname, '../fixtures/drives/quat-orient');
const T0 = Date.UTC(2020, 9, 15, 8);

/** Numbers of a CSV after its header. */
function rows(file: string): number[][] {
  return readFileSync(join(DIR, file), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
}

function play(trip: '21' | '22', gps: boolean) {
  const rs: Reading[] = [];
  for (const [t, x, y, z] of rows(`accel.2020-10-15-${trip}.csv`)) {
    ['x', 'y', 'z'].forEach((a, i) => void rs.push({ stream: `phone/accel_${a}`, ts: T0 + t!, value: [x, y, z][i]! }));
  }
  if (gps) {
    for (const [t, , , kmh, course] of rows(`gps.2020-10-15-${trip}.csv`)) {
      rs.push({ stream: 'phone/speed_kmh', ts: T0 + t!, value: kmh! }, { stream: 'phone/course_deg', ts: T0 + t!, value: course! });
    }
  }
  rs.sort((a, b) => a.ts - b.ts);
  const op = new TelematicsOperator(telematicsStepSchema.parse({}));
  const raised: AlertRecord[] = [];
  const ctx = { pipeline: 't', reading() {}, result() {}, emit(e: { kind: string; alert?: AlertRecord }) { if (e.kind === 'alert' && e.alert!.state === 'raised') raised.push(e.alert!); }, drop() {} };
  for (const r of rs) op.reading(r, ctx as never);
  op.flush(false, ctx as never);
  return { status: op.status()[0]!, counts: op.counts, raised, samples: rs.filter((r) => r.stream === 'phone/accel_x').length };
}

describe('telematics on two real Android drives (accelerometer and GPS on their own clocks)', () => {
  it('forward is learnt from the GPS speed, and turns round with the phone for the drive back', () => {
    const there = play('21', true);
    const back = play('22', true);
    for (const d of [there, back]) {
      assert.equal(d.status.forward, 'speed');
      // learnt within the first two minutes of a six-minute drive
      assert.ok(d.counts.uncalibrated < d.samples / 3, `uncalibrated ${d.counts.uncalibrated} of ${d.samples}`);
    }
    const angle = (Math.acos(dot(there.status.forwardAxis!, back.status.forwardAxis!)) * 180) / Math.PI;
    assert.ok(angle > 160, `the two forwards are ${angle.toFixed(1)}° apart`);
  });

  it('a steep hill is no harsh brake or acceleration; the one harsh corner is a roundabout the GPS shows at 0.34 g', () => {
    for (const trip of ['21', '22'] as const) {
      const { raised } = play(trip, true);
      assert.deepEqual(raised.filter((a) => a.detector !== 'harsh_cornering').map((a) => a.reason), [], trip);
      for (const a of raised) {
        // the drive back's roundabout: the GPS course turns 23°/s at 30 km/h at 247.8 s
        assert.ok(trip === '22' && a.start >= T0 + 244_000 && a.start <= T0 + 250_000, `${trip}: ${a.reason} at ${(a.start - T0) / 1000} s`);
      }
    }
  });

  it('the accelerometer alone, with no stop after its first minute: forward only from the first start and the last stop (the drive there; the drive back crawls off: never), nothing claimed, the manoeuvres beyond 0.3 g kept and judged then or counted as unjudged', () => {
    for (const trip of ['21', '22'] as const) {
      const d = play(trip, false);
      assert.deepEqual(d.raised, [], trip);
      assert.ok(d.counts.uncalibrated > d.samples / 2, trip);
      // braking into roundabouts, beyond 0.3 g of a kind unknown (3 and 6): kept
      assert.ok(d.counts.unjudged >= 3, `${trip}: unjudged ${d.counts.unjudged}`);
    }
    const there = play('21', false);
    assert.equal(there.status.forward, 'stops');
    assert.equal(there.counts.judged_late, there.counts.unjudged, 'judged at the last stop, none harsh');
    const withSpeed = play('21', true).status.forwardAxis!;
    const angle = (Math.acos(dot(there.status.forwardAxis!, withSpeed)) * 180) / Math.PI;
    assert.ok(angle < 25, `${angle.toFixed(1)}° from the forward the GPS speed teaches`);
    const back = play('22', false);
    assert.deepEqual([back.status.forward, back.counts.judged_late], ['none', 0]);
  });

  it('edgewise backtest of the accelerometer alone reports the step\'s counters: nothing detected, and why (uncalibrated, unjudged)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ew-android-'));
    try {
      const labels: Record<string, unknown[]> = {};
      for (const trip of ['21', '22']) {
        const lines = ['timestamp,accel_x,accel_y,accel_z'];
        for (const [t, x, y, z] of rows(`accel.2020-10-15-${trip}.csv`)) lines.push(`${new Date(T0 + t!).toISOString()},${x},${y},${z}`);
        writeFileSync(join(dir, `trip${trip}.csv`), `${lines.join('\n')}\n`);
        labels[`trip${trip}.csv`] = [];
      }
      writeFileSync(join(dir, 'labels.json'), JSON.stringify(labels));
      const report = await backtest({ input: dir, labels: join(dir, 'labels.json'), pipeline: loadPipelineFile(join(import.meta.dirname, '../../pipelines/telematics.yaml')), byType: true });
      assert.equal(report.total.falseAlerts, 0);
      const c = report.operators!.telematics!;
      assert.equal(c.events, 0);
      assert.ok(c.uncalibrated! > 10_000 && c.unjudged! >= 6, JSON.stringify(c));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
