/**
 * pipelines/predictive-maintenance.yaml on pumps that stop and start (generated, not the
 * simulator, whose pumps never stop): a day shift (06:00–22:00) and a sump pump running 20 minutes
 * an hour, three days at 1 Hz. Before the `running` step every start was an alarm (inrush current,
 * run-up vibration, a bearing warming from cold): 7 alarms in three days on the day-shift pump, 71
 * on the cycling one.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadPipelineFile } from '../../src/config/load.js';
import { compilePipeline } from '../../src/compile.js';
import type { AlertRecord, Emission } from '../../src/core/records.js';
import { BEARING_T0, dailyLoadPump, dutyPump, type DutyCycle, type PumpFault } from './maintenance-signals.js';

const H = 3_600_000;
const spec = loadPipelineFile(join(import.meta.dirname, '../../pipelines/predictive-maintenance.yaml'));

function run(duty: DutyCycle, fault: PumpFault) {
  const alerts: AlertRecord[] = [];
  const p = compilePipeline(spec, (e) => {
    if (e.kind === 'alert' && e.alert.state === 'raised') alerts.push(e.alert);
  });
  for (const r of dutyPump(duty, fault)) p.push({ stream: `pump-1/${r.metric}`, ts: r.ts, value: r.value });
  p.flush();
  const at = (a: AlertRecord) => `${a.detector}@${((a.start - BEARING_T0) / H).toFixed(1)}h`;
  return { alerts: alerts.map(at), counters: p.stats().operators.running };
}

describe('maintenance: a pump that stops and starts', () => {
  for (const duty of ['day-shift', 'cycling'] as const) {
    it(`${duty}, healthy: no alarm at any start or stop`, () => {
      const { alerts, counters } = run(duty, 'none');
      assert.deepEqual(alerts, []);
      // the day-shift pump is first seen standing and starts 3 times (06:00 each day); the sump
      // pump is first seen running (not a start) and starts 71 times
      assert.equal(counters?.starts, duty === 'day-shift' ? 3 : 71);
      assert.ok((counters?.stopped ?? 0) > 0 && (counters?.settling ?? 0) > 0, JSON.stringify(counters));
    });
  }

  it('a rising vibration and an overload are found in both, after the fault begins (50 h) and only then', () => {
    for (const duty of ['day-shift', 'cycling'] as const) {
      // The overload begins while the day-shift pump stands (its current before the stand is no
      // baseline for the load after it: `current` learns afresh at each start after 10 minutes
      // standing) and with a run of the cycling pump: both are found by their usual high.
      for (const [fault, rule] of [['vibration', 'vib-level'], ['overload', 'current-above-usual']] as const) {
        const { alerts } = run(duty, fault);
        assert.equal(alerts.length, 1, `${duty} ${fault}: ${alerts.join(' ')}`);
        const [name, hours] = alerts[0]!.split('@') as [string, string];
        assert.equal(name, rule);
        // the day-shift pump stands from 46 h to 54 h: its faults show when it runs again
        assert.ok(parseFloat(hours) >= 50 && parseFloat(hours) < 57, `${duty} ${fault}: ${alerts[0]}`);
      }
    }
  });

  it('a bearing settling 15 °C hotter is found on the day shift in the first run of it, by the rule that needs no settling after a start (it runs over its usual high)', () => {
    // the pump starts at 54 h, the bearing warming from cold (time constant 30 min) towards 80 °C
    // instead of 65: 12 °C over its usual high at 55.1 h. temp-drift, which learns a warm-up, is
    // not asked (before 2026-12-05 it judged the bearing only from an hour after a start and
    // found this at 55.0 h; on the sump pump below that hour never came).
    assert.deepEqual(run('day-shift', 'overheating').alerts, ['temp-above-usual@55.1h']);
    // The sump pump runs 20 minutes an hour: a run warms its bearing only part of the 15 °C, but
    // the runs start warmer as the fault goes on, so a run's high passes the limit within hours
    // (once in each of three runs, until the usual high has learnt it, clipped). Before: never.
    const cycling = run('cycling', 'overheating').alerts;
    assert.ok(cycling.length >= 1 && cycling.every((a) => a.startsWith('temp-above-usual@')), cycling.join(' '));
    const hours = cycling.map((a) => parseFloat(a.split('@')[1]!));
    assert.ok(hours[0]! >= 50 && hours[0]! < 52, cycling.join(' '));
  });

  it('a gateway restarted from its saved state — while the pump stands, settles, runs, and before it was known — sends what an uninterrupted one sends', () => {
    const readings = dutyPump('day-shift', 'vibration');
    const emissions = (restartAtHours: number[]) => {
      const out: string[] = [];
      const sink = (e: Emission) => out.push(JSON.stringify(e));
      let p = compilePipeline(spec, sink);
      const cuts = restartAtHours.map((h) => BEARING_T0 + h * H);
      for (const r of readings) {
        if (cuts.length > 0 && r.ts >= cuts[0]!) {
          cuts.shift();
          const snap = structuredClone(p.snapshot());
          p = compilePipeline(spec, sink);
          assert.deepEqual(p.restore(snap), []);
          assert.deepEqual(p.snapshot(), snap, 'the restored pipeline holds all that was saved');
        }
        p.push({ stream: `pump-1/${r.metric}`, ts: r.ts, value: r.value });
      }
      p.flush();
      return out;
    };
    const whole = emissions([]);
    assert.ok(whole.some((e) => e.includes('"kind":"alert"')));
    // 1 min in (the first readings waiting for the current), standing, 1 min after a start
    // (settling), 30 min after it (the bearing temperature still settling), running, standing
    assert.deepEqual(emissions([1 / 60, 3, 6 + 1 / 60, 6.5, 12, 23, 54.01, 60]), whole);
  });

  describe('a pump under a daily load, first seen at night at its low load (three days from midnight)', () => {
    const alertsOf = (readings: Array<{ ts: number; metric: string; value: number }>) => {
      const out: Array<{ rule: string; hours: number }> = [];
      const p = compilePipeline(spec, (e) => {
        if (e.kind === 'alert' && e.alert.state === 'raised') out.push({ rule: e.alert.detector, hours: (e.alert.start - BEARING_T0) / H });
      });
      for (const r of readings) p.push({ stream: `pump-1/${r.metric}`, ts: r.ts, value: r.value });
      p.flush();
      return out;
    };
    const show = (a: Array<{ rule: string; hours: number }>) => a.map((x) => `${x.rule}@${x.hours.toFixed(2)}h`).join(' ');

    for (const duty of ['always', 'cycling'] as const) {
      it(`${duty}: the day load is learnt, not an alarm: nothing from temp-above-usual in three days, at most the first morning's rise (temp-drift); its current learns the day's level, its vibration moves by its load only`, () => {
        // Until 2026-12-05 the bearing's usual high stayed at the night's level (a day's highs were
        // learnt clipped, 0.05 °C an hour): `temp-above-usual` every day, 12 times in three days
        // on the cycling pump; on the simulator's three-day runs 190 alarms on no fault in 8 runs.
        // Until 2026-12-06 one usual high served every load: the first morning was an overheating
        // (20 alarms in those runs); now each load has its own (`by: load`).
        const alerts = alertsOf(dailyLoadPump(duty));
        assert.ok(alerts.length <= 1 && alerts.every((a) => a.rule === 'temp-drift' && a.hours >= 5.5 && a.hours < 10), show(alerts));
      });

      it(`${duty}: a bearing 20 °C hotter on the third afternoon is found within the half hour, against the day's usual high`, () => {
        const late = alertsOf(dailyLoadPump(duty, 'overheating')).filter((a) => a.hours >= 10);
        assert.equal(late.length, 1, show(late));
        assert.equal(late[0]!.rule, 'temp-above-usual');
        assert.ok(late[0]!.hours >= 62 && late[0]!.hours < 62.5, show(late));
      });
    }
  });
});
