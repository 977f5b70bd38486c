import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlertTracker, DEFAULT_ALERT_PARAMS, type AlertParams } from '../../src/alerts/tracker.js';
import type { AlertRecord } from '../../src/core/records.js';
import { newJudgement } from '../../src/detectors/types.js';

/** Feed scores (one a second); a score >= 0.5 is an anomalous decision. */
function feed(p: Partial<AlertParams>, scores: number[]) {
  const t = new AlertTracker('pump-1/vibration', 'ewma', { ...DEFAULT_ALERT_PARAMS, ...p });
  const j = newJudgement();
  const events: string[] = [];
  const records: AlertRecord[] = [];
  scores.forEach((s, i) => {
    j.score = s;
    j.anomalous = s >= 0.5;
    j.baseline = 1;
    j.deviation = s * 10;
    j.limit = 5;
    j.rule = 'ewma_z';
    const rec = t.update(i * 1000, 100 + i, j);
    if (rec) {
      events.push(`${i}:${rec.state}`);
      records.push(rec);
    }
  });
  return { events, records, tracker: t };
}

describe('alert lifecycle', () => {
  it('raises once per episode and clears once, with a stable id and the fields of an AlertRecord', () => {
    const { events, records } = feed({ severity: 'critical' }, [0, 0.9, 0.8, 0.95, 0.1, 0]);
    assert.deepEqual(events, ['1:raised', '4:cleared']);
    const [raised, cleared] = records;
    assert.equal(raised!.id, cleared!.id);
    assert.equal(raised!.id, 'ewma:pump-1/vibration:1000');
    assert.equal(raised!.stream, 'pump-1/vibration');
    assert.equal(raised!.detector, 'ewma');
    assert.equal(raised!.severity, 'critical');
    assert.equal(raised!.start, 1000);
    assert.equal(raised!.value, 101);
    assert.equal(raised!.baseline, 1);
    assert.equal(raised!.score, 0.9);
    assert.match(raised!.reason!, /^ewma_z 9 \(limit 5, baseline 1\)$/);
    assert.equal(cleared!.end, 4000);
    assert.equal(cleared!.score, 0.95, 'cleared carries the peak score');
  });

  it('min_duration and min_readings: a blip raises nothing', () => {
    assert.deepEqual(feed({ min_duration: 2000 }, [0, 0.9, 0.9, 0, 0.9, 0.9, 0.9, 0.9]).events, ['6:raised']);
    assert.deepEqual(feed({ min_readings: 3 }, [0.9, 0.9, 0, 0.9, 0.9, 0.9]).events, ['5:raised']);
    // The alert starts when the anomalous run started, not when it was confirmed.
    assert.equal(feed({ min_duration: 2000 }, [0, 0.9, 0.9, 0.9]).records[0]!.start, 1000);
  });

  it('hysteresis: clear_score holds the alert while the score hovers near the limit', () => {
    const scores = [0.9, 0.45, 0.45, 0.2, 0.6];
    assert.deepEqual(feed({}, scores).events, ['0:raised', '1:cleared', '4:raised']);
    assert.deepEqual(feed({ clear_score: 0.3 }, scores).events, ['0:raised', '3:cleared', '4:raised']);
  });

  it('clear_after / clear_readings: the score must stay low before clearing', () => {
    assert.deepEqual(feed({ clear_after: 2000 }, [0.9, 0, 0.9, 0, 0, 0, 0]).events, ['0:raised', '5:cleared']);
    assert.deepEqual(feed({ clear_readings: 3 }, [0.9, 0, 0, 0.9, 0, 0, 0]).events, ['0:raised', '6:cleared']);
  });

  it('cooldown: no new alert soon after a clear; suppressed decisions are counted', () => {
    const r = feed({ cooldown: 3000 }, [0.9, 0, 0.9, 0.9, 0, 0.9, 0]);
    assert.deepEqual(r.events, ['0:raised', '1:cleared', '5:raised', '6:cleared']);
    assert.equal(r.tracker.suppressed, 2);
    const n = feed({ cooldown_readings: 2 }, [0.9, 0, 0.9, 0.9, 0.9]);
    assert.deepEqual(n.events, ['0:raised', '1:cleared', '4:raised']);
  });

  it('clear_readings_within: after that long of normal readings the alert clears with fewer (a slow series\' alert is not held over the next event)', () => {
    // One reading a second: 10 normal readings to clear, or 2 s of them.
    const scores = [0.9, 0, 0, 0, 0.9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    assert.deepEqual(feed({ clear_readings: 10 }, scores).events, ['0:raised', '14:cleared'], 'one alert over both events');
    assert.deepEqual(feed({ clear_readings: 10, clear_readings_within: 2000 }, scores).events, ['0:raised', '3:cleared', '4:raised', '7:cleared']);
    // clear_after still holds: the alert clears once both are met.
    assert.deepEqual(feed({ clear_readings: 10, clear_readings_within: 1000, clear_after: 3000 }, scores).events, ['0:raised', '8:cleared']);
  });

  it('cooldown_readings_within: the reading count holds only that long after the clear (a slow series is not silenced for days)', () => {
    // One reading a second: 5 readings of cooldown, but only within 2 s of the clear.
    const scores = [0.9, 0, 0, 0.9, 0.9, 0.9];
    assert.deepEqual(feed({ cooldown_readings: 5 }, scores).events, ['0:raised', '1:cleared']);
    const w = feed({ cooldown_readings: 5, cooldown_readings_within: 2000 }, scores);
    assert.deepEqual(w.events, ['0:raised', '1:cleared', '3:raised']);
    assert.equal(w.tracker.suppressed, 0);
    // The time cooldown is not limited by it.
    assert.deepEqual(feed({ cooldown: 4000, cooldown_readings_within: 2000 }, scores).events, ['0:raised', '1:cleared', '5:raised']);
  });

  it('cooldown_readings_score: after cooldown_readings_within, the rest of the reading cooldown holds only against weak anomalies', () => {
    // One reading a second: 6 readings of cooldown, fully within 2 s of the clear, then only against scores below 0.67.
    const scores = [0.9, 0, 0, 0.6, 0.6, 0.9, 0];
    const p = { cooldown_readings: 6, cooldown_readings_within: 2000 };
    assert.deepEqual(feed(p, scores).events, ['0:raised', '1:cleared', '3:raised', '6:cleared'], 'without it a weak echo ends the cooldown');
    const s = feed({ ...p, cooldown_readings_score: 0.67 }, scores);
    assert.deepEqual(s.events, ['0:raised', '1:cleared', '5:raised', '6:cleared'], 'the weak echo is held, the strong event raised');
    assert.equal(s.tracker.suppressed, 2);
    // Within the first 2 s even a strong anomaly is held; after the reading count a weak one is raised.
    assert.deepEqual(feed({ ...p, cooldown_readings_score: 0.67 }, [0.9, 0, 0.95, 0, 0, 0, 0, 0, 0, 0.6]).events, ['0:raised', '1:cleared', '9:raised']);
  });

  it('cooldown_same_side: a rise after a dip is a new event, an echo of the dip is not', () => {
    // One reading a second, baseline 50: a dip alert (value 10), cleared, then within the reading
    // cooldown an echo of the dip and a rise (value 90).
    const run = (p: Partial<AlertParams>, steps: Array<[score: number, value: number]>) => {
      const t = new AlertTracker('pump-1/temperature', 'default', { ...DEFAULT_ALERT_PARAMS, cooldown_readings: 100, ...p });
      const j = newJudgement();
      j.baseline = 50;
      const events: string[] = [];
      steps.forEach(([score, value], i) => {
        j.score = score;
        j.anomalous = score >= 0.5;
        const rec = t.update(i * 1000, value, j);
        if (rec) events.push(`${i}:${rec.state}`);
      });
      return { events, tracker: t };
    };
    const steps: Array<[number, number]> = [[0.9, 10], [0, 50], [0.9, 12], [0, 50], [0.9, 90], [0, 50]];
    assert.deepEqual(run({}, steps).events, ['0:raised', '1:cleared'], 'by default the cooldown holds both');
    const same = run({ cooldown_same_side: true }, steps);
    assert.deepEqual(same.events, ['0:raised', '1:cleared', '4:raised', '5:cleared'], 'the rise is raised, the echo of the dip held');
    assert.equal(same.tracker.suppressed, 1);
    // The time cooldown holds whatever the side.
    assert.deepEqual(run({ cooldown_same_side: true, cooldown: 10_000 }, steps).events, ['0:raised', '1:cleared']);
    // The side survives a snapshot: a restored tracker still holds the echo and raises the rise.
    const half = run({ cooldown_same_side: true }, steps.slice(0, 2));
    const b = new AlertTracker('pump-1/temperature', 'default', { ...DEFAULT_ALERT_PARAMS, cooldown_readings: 100, cooldown_same_side: true });
    b.restore(JSON.parse(JSON.stringify(half.tracker.snapshot())));
    const j = newJudgement();
    j.baseline = 50;
    j.score = 0.9;
    j.anomalous = true;
    assert.equal(b.update(2000, 12, j), undefined);
    assert.equal(b.update(4000, 90, j)?.state, 'raised');
  });

  it('repeat_every: active heartbeats while the alert lasts', () => {
    assert.deepEqual(feed({ repeat_every: 2000 }, [0.9, 0.9, 0.9, 0.9, 0.9, 0]).events, ['0:raised', '2:active', '4:active', '5:cleared']);
  });

  it('snapshot / restore keeps an open alert and its cooldown', () => {
    const a = feed({ cooldown: 5000 }, [0.9, 0.9]);
    const b = new AlertTracker('pump-1/vibration', 'ewma', { ...DEFAULT_ALERT_PARAMS, cooldown: 5000 });
    b.restore(JSON.parse(JSON.stringify(a.tracker.snapshot())));
    assert.equal(b.active, true);
    const j = newJudgement();
    j.score = 0;
    const rec = b.update(2000, 5, j);
    assert.equal(rec?.state, 'cleared');
    assert.equal(rec?.id, 'ewma:pump-1/vibration:0');
  });
});
