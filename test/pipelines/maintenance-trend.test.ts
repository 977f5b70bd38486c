/**
 * pipelines/predictive-maintenance.yaml on generated run-to-failure signals (not the simulator):
 * days of vibration snapshots whose RMS level rises slowly to 10× before failure, with noise,
 * a daily load cycle and occasional spikes; sampled every 10 s, 1 min or 10 min. Plus the
 * ISO 10816 zones on velocity RMS, which need no learning.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadPipelineFile } from '../../src/config/load.js';
import type { AlertRecord, Emission } from '../../src/core/records.js';
import { compilePipeline } from '../../src/compile.js';
import { LevelShiftDetector } from '../../src/detectors/level-shift/detector.js';
import { iso10816Zone } from '../../src/detectors/iso10816/detector.js';
import { bearing, BEARING_FAIL, BEARING_T0, gaussian } from './maintenance-signals.js';

const ROOT = join(import.meta.dirname, '../..');
const H = 3_600_000;
const T0 = BEARING_T0;
const FAIL = BEARING_FAIL;

function runPipeline(rows: Array<{ ts: number; rms: number; kurtosis?: number; crest?: number }>, extra?: (ts: number) => Array<{ metric: string; value: number }>) {
  const spec = loadPipelineFile(join(ROOT, 'pipelines/predictive-maintenance.yaml'));
  const alerts: AlertRecord[] = [];
  const p = compilePipeline(spec, (e) => {
    if (e.kind === 'alert' && e.alert.state === 'raised') alerts.push(e.alert);
  });
  const n = gaussian(9);
  for (const { ts, rms, kurtosis, crest } of rows) {
    p.push({ stream: 'brg-1/vibration_rms', ts, value: rms });
    p.push({ stream: 'brg-1/vibration_peak', ts, value: rms * (crest ?? 3.2 + 0.2 * n()) });
    p.push({ stream: 'brg-1/vibration_kurtosis', ts, value: kurtosis ?? 3 + 0.15 * n() });
    for (const e of extra?.(ts) ?? []) p.push({ stream: `brg-1/${e.metric}`, ts, value: e.value });
  }
  p.flush();
  return alerts;
}

describe('maintenance: a slow rise of vibration level over days', () => {
  const leads: Record<string, number> = {};
  for (const [label, interval] of [['10 min', 600_000], ['1 min', 60_000], ['10 s', 10_000]] as const) {
    it(`every ${label}: caught by vib-level long before failure, and nothing on a healthy run`, () => {
      const alerts = runPipeline(bearing(interval, true));
      const level = alerts.filter((a) => a.detector === 'vib-level');
      assert.equal(level.length, 1, JSON.stringify(alerts.map((a) => [a.detector, new Date(a.start).toISOString()])));
      const lead = (FAIL - level[0]!.start) / H;
      leads[label] = lead;
      // the trend is 1.24× at 34 h before failure and 1.6× at 29 h: the alarm comes in between, not on the final surge
      assert.ok(lead > 18 && lead < 40, `${label}: alarm ${lead.toFixed(1)} h before failure`);
      const healthy = runPipeline(bearing(interval, false));
      assert.deepEqual(healthy.map((a) => `${a.detector} ${new Date(a.start).toISOString()}`), [], `${label}: healthy run`);
    });
  }
  it('the lead time does not depend on the sampling interval (within 3 h)', (t) => {
    const v = Object.values(leads);
    t.diagnostic(`hours before failure: ${JSON.stringify(leads)}`);
    assert.equal(v.length, 3);
    assert.ok(Math.max(...v) - Math.min(...v) < 3, JSON.stringify(leads));
  });

  it('a gateway restarted while the bearing degrades alarms as if it had not been: the early-life baselines come back with the state', () => {
    const spec = loadPipelineFile(join(ROOT, 'pipelines/predictive-maintenance.yaml'));
    const rows = bearing(600_000, true);
    const run = (restartAt?: number) => {
      const raised: string[] = [];
      const sink = (e: Emission) => {
        if (e.kind === 'alert' && e.alert.state === 'raised') raised.push(`${e.alert.detector} ${new Date(e.alert.start).toISOString()}`);
      };
      let p = compilePipeline(spec, sink);
      const n = gaussian(9);
      for (const { ts, rms } of rows) {
        if (ts === restartAt) {
          const snap = structuredClone(p.snapshot());
          p = compilePipeline(spec, sink);
          assert.deepEqual(p.restore(snap), []);
        }
        p.push({ stream: 'brg-1/vibration_rms', ts, value: rms });
        p.push({ stream: 'brg-1/vibration_peak', ts, value: rms * (3.2 + 0.2 * n()) });
        p.push({ stream: 'brg-1/vibration_kurtosis', ts, value: 3 + 0.15 * n() });
      }
      p.flush();
      return raised;
    };
    const whole = run();
    assert.equal(whole.filter((a) => a.startsWith('vib-level')).length, 1, JSON.stringify(whole));
    // 30 h before failure: the level is already 1.5× its early one, and rising
    const restarted = run(rows.find((r) => r.ts >= FAIL - 30 * H)!.ts);
    assert.deepEqual(restarted, whole);
  });

  it('a 2-minute transient at 3× (a knock, a start-up) alarms at no sampling interval: the excess accrues per unit of time', () => {
    for (const interval of [10_000, 60_000, 600_000]) {
      const rows = bearing(interval, false).map((r) => (r.ts >= T0 + 100 * H && r.ts < T0 + 100 * H + 120_000 ? { ...r, rms: 3 * r.rms } : r));
      assert.deepEqual(runPipeline(rows).map((a) => a.detector), [], `every ${interval / 1000} s`);
    }
  });

  for (const [label, interval] of [['10 min', 600_000], ['1 min', 60_000], ['10 s', 10_000]] as const) {
    it(`every ${label}, on a noisy level (log sd 0.3, as real 0.1 s snapshots) rising to 3×: caught hours before failure, nothing on a healthy run`, (t) => {
      // k = 3 baseline deviations is a factor 2.5 here: by k alone only the last hours' surge would
      // add; `ratio: 2` (the default) makes any level above √2× add
      const level = runPipeline(bearing(interval, true, 5, 0.3, 3)).filter((a) => a.detector === 'vib-level');
      t.diagnostic(`${label}: vib-level raised ${level.map((a) => `${((FAIL - a.start) / H).toFixed(1)} h`).join(', ')} before failure`);
      // one alarm: near its limit on a noisy level the CUSUM crosses it back and forth, and the
      // alert clears only once it is well below (\`clear_score: 0.3\`: S < 0.43 h)
      assert.equal(level.length, 1, `${label}: ${level.length} vib-level alarms`);
      const lead = (FAIL - level[0]!.start) / H;
      assert.ok(lead > 4 && lead < 30, `${label}: alarm ${lead.toFixed(1)} h before failure`);
      const healthy = runPipeline(bearing(interval, false, 5, 0.3));
      assert.deepEqual(healthy.map((a) => `${a.detector} ${new Date(a.start).toISOString()}`), [], `${label}: healthy run`);
    });
  }

  it('a doubling on a noisy early level adds up with ratio 2, and barely by k alone', (t) => {
    const run = (ratio: number) => {
      const d = new LevelShiftDetector({ baseline: 6 * H, min_baseline: 36, log: true, k: 3, ratio, h: 20, per: 600_000, max_z: 10, min_std: 0.05, direction: 'up' });
      const n = gaussian(4);
      let ts = T0;
      for (let i = 0; i < 37; i++, ts += 600_000) d.update(ts, Math.exp(0.3 * n()));
      let firedAt = -1;
      for (let i = 0; i < 200 && firedAt < 0; i++, ts += 600_000) if (d.update(ts, 2 * Math.exp(0.3 * n())).anomalous) firedAt = i;
      return firedAt;
    };
    const withRatio = run(2);
    const kAlone = run(0);
    t.diagnostic(`fired at reading ${withRatio} with ratio 2, ${kAlone} by k alone`);
    // with ratio 2 each reading adds (ln 2 − ln 2 / 2) / 0.3 ≈ 1.2 on average: about 17 readings
    assert.ok(withRatio >= 5 && withRatio <= 40, `ratio 2: fired at reading ${withRatio}`);
    // by k alone only the noise's upper tail adds (z > 3 where a doubling is z ≈ 2.3)
    assert.ok(kAlone === -1 || kAlone > 3 * withRatio, `k alone: fired at reading ${kAlone}`);
  });

  it('a level whose z crosses 6 only on readings that are not in a row is caught', () => {
    // frozen baseline: log level 0 ± 0.05; then z alternates 4, 7, 4, 7, ... (never twice ≥ 6 in a row)
    const d = new LevelShiftDetector({ baseline: 3_600_000, min_baseline: 12, log: true, k: 3, ratio: 2, h: 20, per: 600_000, max_z: 10, min_std: 0.05, direction: 'up' });
    const n = gaussian(3);
    let ts = T0;
    for (let i = 0; i < 12; i++, ts += 600_000) d.update(ts, Math.exp(0.05 * n()));
    let firedAt = -1;
    for (let i = 0; i < 40 && firedAt < 0; i++, ts += 600_000) if (d.update(ts, Math.exp(0.05 * (i % 2 ? 7 : 4))).anomalous) firedAt = i;
    // 1 + 4 per pair of readings: over 20 after 8 readings
    assert.ok(firedAt >= 6 && firedAt <= 9, `fired at reading ${firedAt}`);
  });
});

/**
 * Impacts of a wearing bearing: the kurtosis and crest factor of each snapshot rise over the last
 * 48 h (kurtosis 3 → 12, crest 3.6 → 7.2 at failure, as u²) while the RMS stays healthy; healthy
 * snapshots are heavy-tailed as real ones are (kurtosis 3 ± 5 %, and 1 % of them impulsive:
 * kurtosis 8–40 with a crest of 6–10, as the PHM 2012 rig's early-life snapshots).
 */
function impacts(intervalMs: number, trend: boolean, seed = 6) {
  const n = gaussian(seed);
  return bearing(intervalMs, false, seed).map((r) => {
    const u = trend ? Math.max(0, (r.ts - (FAIL - 48 * H)) / (48 * H)) : 0;
    let kurtosis = 3 * (1 + 3 * u * u) * Math.exp(0.05 * n());
    let crest = 3.6 * (1 + u * u) * Math.exp(0.05 * n());
    if (Math.abs(n()) > 2.576) {
      kurtosis = 8 + 32 * Math.abs(Math.sin(r.ts));
      crest = 6 + 4 * Math.abs(Math.cos(r.ts));
    }
    return { ...r, kurtosis, crest };
  });
}

describe('maintenance: impacts (kurtosis, crest factor) rising over days', () => {
  const leads: Record<string, Record<string, number>> = { 'vib-kurtosis': {}, 'vib-crest': {} };
  for (const [label, interval] of [['10 min', 600_000], ['1 min', 60_000], ['10 s', 10_000]] as const) {
    it(`every ${label}: vib-kurtosis and vib-crest alarm once, hours before failure; single impulsive snapshots on a healthy run alarm nothing`, (t) => {
      const alerts = runPipeline(impacts(interval, true));
      for (const rule of ['vib-kurtosis', 'vib-crest']) {
        const raised = alerts.filter((a) => a.detector === rule);
        t.diagnostic(`${label}: ${rule} raised ${raised.map((a) => `${((FAIL - a.start) / H).toFixed(1)} h`).join(', ')} before failure`);
        assert.equal(raised.length, 1, `${label}: ${rule} raised ${raised.length} times`);
        const lead = (FAIL - raised[0]!.start) / H;
        leads[rule]![label] = lead;
        // kurtosis 1.5× (4.5) 34 h before failure, crest 1.5× 34 h: the alarms come after that, well before the end
        assert.ok(lead > 10 && lead < 36, `${label}: ${rule} ${lead.toFixed(1)} h before failure`);
      }
      const healthy = runPipeline(impacts(interval, false));
      assert.deepEqual(healthy.map((a) => `${a.detector} ${new Date(a.start).toISOString()}`), [], `${label}: healthy run`);
    });
  }
  it('their lead times do not depend on the sampling interval down to a minute (within 2 h); every 10 min, later but still 10 h ahead', (t) => {
    t.diagnostic(`hours before failure: ${JSON.stringify(leads)}`);
    for (const [rule, byInterval] of Object.entries(leads)) {
      const { '10 s': fast, '1 min': minute, '10 min': slow } = byInterval;
      assert.ok(fast !== undefined && minute !== undefined && slow !== undefined, rule);
      // settings in time: a reading weighs min(1, interval / 1 min)
      assert.ok(Math.abs(fast - minute) < 2, `${rule}: ${JSON.stringify(byInterval)}`);
      // slower than `per` every snapshot counts once (one impulsive snapshot must not alarm alone):
      // a moderate rise adds up more slowly, so the alarm comes hours later, never after failure is near
      assert.ok(slow <= minute + 0.5 && slow > 10, `${rule}: ${JSON.stringify(byInterval)}`);
    }
  });
});

describe('maintenance: a stuck temperature sensor', () => {
  it('a steady reading that moves only in its last digits is not stuck; one repeated exactly is', () => {
    // one reading a second for an hour; as the PHM 2012 rig's sensor: 70 °C drifting 0.0002 °C/s,
    // ± 0.001 of noise, three decimals; from 40 minutes the sensor repeats its last value
    const n = gaussian(21);
    const rows = Array.from({ length: 3600 }, (_, i) => ({ ts: T0 + i * 1000, rms: 0.2 }));
    let held = NaN;
    const temp = (ts: number) => {
      const i = (ts - T0) / 1000;
      const live = Math.round((70 + 0.0002 * i + 0.001 * n()) * 1000) / 1000;
      if (i === 2400) held = live;
      return [{ metric: 'bearing_temp_c', value: i >= 2400 ? held : live }];
    };
    const stuck = runPipeline(rows, temp).filter((a) => a.detector === 'temp-stuck');
    assert.equal(stuck.length, 1, `${stuck.length} stuck alarms`);
    const at = (stuck[0]!.start - T0) / 1000;
    assert.ok(at >= 2400 && at <= 2431, `raised ${at} s in: within 30 s of the first repeated reading`);
  });
});

describe('maintenance: ISO 10816 zones on velocity RMS', () => {
  it('zones by class are the standard boundaries', () => {
    assert.equal(iso10816Zone(0.5, 'I'), 'A');
    assert.equal(iso10816Zone(2.0, 'I'), 'C');
    assert.equal(iso10816Zone(2.0, 'II'), 'B');
    assert.equal(iso10816Zone(7.1, 'II'), 'D');
    assert.equal(iso10816Zone(4.4, 'group2-rigid'), 'C');
    assert.equal(iso10816Zone(4.5, 'group2-rigid'), 'D');
    assert.equal(iso10816Zone(11, 'group1-flexible'), 'D');
  });

  it('a velocity hovering at the zone C boundary (noisy snapshots) is one alarm, not one per crossing', () => {
    // 2.8 mm/s ± 10 % (log sd), one reading a minute for 6 h: below the 10 % hysteresis one minute in seven
    const n = gaussian(11);
    const rows = Array.from({ length: 6 * 60 }, (_, i) => ({ ts: T0 + i * 60_000, rms: 0.2 }));
    const vel = new Map(rows.map((r) => [r.ts, 2.8 * Math.exp(0.1 * n())]));
    const alerts = runPipeline(rows, (ts) => [{ metric: 'vibration_velocity', value: vel.get(ts)! }]).filter((a) => a.detector === 'iso-zone-c');
    // the zone is a state of the machine: the alarm clears after 10 minutes out of it (\`clear_after\`)
    assert.equal(alerts.length, 1, `${alerts.length} zone C alarms`);
  });

  it('zone C then zone D raise from the first readings, with no baseline to learn', () => {
    // velocity RMS 1.5 mm/s (zone B for group 2 rigid), then 3.2 (C) from 2 h, then 5.5 (D) from 4 h; one reading a minute
    const rows = Array.from({ length: 6 * 60 }, (_, i) => ({ ts: T0 + i * 60_000, rms: 0.2 }));
    const v = (ts: number) => [{ metric: 'vibration_velocity', value: ts < T0 + 2 * H ? 1.5 : ts < T0 + 4 * H ? 3.2 : 5.5 }];
    const alerts = runPipeline(rows, v).filter((a) => a.detector.startsWith('iso'));
    // raised on the third reading in the zone (min_readings 3), dated from the first
    assert.deepEqual(alerts.map((a) => [a.detector, a.severity, Math.floor((a.start - T0) / 60_000)]), [['iso-zone-c', 'warning', 120], ['iso-zone-d', 'critical', 240]]);
  });
});

/**
 * Bearing temperature and motor current over two days: a healthy pump at 55 °C (±3 °C a day, as
 * load and ambient move it) and 20 A, sampled every 10 s, 1 min or 10 min.
 */
function pumpDays(intervalMs: number, shape: { heat?: (h: number) => number; amps?: (h: number) => number }, seed = 12) {
  const n = gaussian(seed);
  const rows: Array<{ ts: number; rms: number; temp: number; amps: number }> = [];
  for (let ts = T0; ts < T0 + 48 * H; ts += intervalMs) {
    const h = (ts - T0) / H;
    const temp = 55 + 3 * Math.sin((2 * Math.PI * h) / 24) + 0.3 * n() + (shape.heat?.(h) ?? 0);
    const amps = 20 * (1 + 0.03 * Math.sin((2 * Math.PI * h) / 24) + (shape.amps?.(h) ?? 0)) + 0.2 * n();
    rows.push({ ts, rms: 0.2, temp, amps });
  }
  return runPipeline(rows, (ts) => {
    const r = rows[Math.round((ts - T0) / intervalMs)]!;
    return [{ metric: 'bearing_temp_c', value: r.temp }, { metric: 'current_a', value: r.amps }];
  }).map((a) => ({ detector: a.detector, severity: a.severity, at: (a.start - T0) / H }));
}

const INTERVALS = [['10 min', 600_000], ['1 min', 60_000], ['10 s', 10_000]] as const;

describe('maintenance: bearing temperature and current at any sampling interval', () => {
  it('a healthy pump raises nothing at any interval (the first 30 minutes are warm-up)', () => {
    for (const [label, interval] of INTERVALS) assert.deepEqual(pumpDays(interval, {}), [], label);
  });

  it('overheating (+20 °C within 20 min at 30 h) raises temp-drift once, by the first reading 10 min after its start at every interval', (t) => {
    const heat = (h: number) => (h < 30 ? 0 : h < 30 + 1 / 3 ? 60 * (h - 30) : 20 * Math.exp(-(h - 30 - 1 / 3)));
    const at: Record<string, number> = {};
    for (const [label, interval] of INTERVALS) {
      const drift = pumpDays(interval, { heat }).filter((a) => a.detector === 'temp-drift');
      assert.equal(drift.length, 1, `${label}: ${JSON.stringify(drift)}`);
      at[label] = (drift[0]!.at - 30) * 60;
    }
    t.diagnostic(`temp-drift raised, minutes after the rise began: ${JSON.stringify(at)}`);
    for (const [label, minutes] of Object.entries(at)) assert.ok(minutes >= 0 && minutes <= 11, `${label}: ${minutes} min`);
    // the same memory in time: the 10 s and 1 min runs agree within two minutes
    assert.ok(Math.abs(at['10 s']! - at['1 min']!) <= 2, JSON.stringify(at));
  });

  it('a bearing warming slowly over a day to 105 °C: learnt by temp-drift, raised by the fixed limits as it crosses 90 and 100 °C', (t) => {
    // from 12 h on, +50 °C over 24 h (2 °C an hour): 90 °C near 29 h, 100 °C near 34 h (with the daily swing)
    const heat = (h: number) => (h < 12 ? 0 : Math.min(50, ((h - 12) * 50) / 24));
    for (const [label, interval] of INTERVALS) {
      const alerts = pumpDays(interval, { heat });
      t.diagnostic(`${label}: ${alerts.map((a) => `${a.detector} ${a.at.toFixed(2)} h`).join(', ')}`);
      assert.deepEqual(alerts.filter((a) => a.detector === 'temp-drift'), [], `${label}: a slow rise is learnt by the EWMA, as it should be`);
      const high = alerts.filter((a) => a.detector === 'temp-high');
      const critical = alerts.filter((a) => a.detector === 'temp-critical');
      assert.equal(high.length, 1, `${label}: temp-high ${JSON.stringify(high)}`);
      assert.equal(critical.length, 1, `${label}: temp-critical ${JSON.stringify(critical)}`);
      assert.equal(high[0]!.severity, 'warning');
      assert.equal(critical[0]!.severity, 'critical');
      assert.ok(high[0]!.at > 27 && high[0]!.at < 31, `${label}: temp-high at ${high[0]!.at} h`);
      assert.ok(critical[0]!.at > 32 && critical[0]!.at < 36, `${label}: temp-critical at ${critical[0]!.at} h`);
    }
  });

  it('an overload (+40 % current from 20 h) raises current once, within 10 min at every interval', () => {
    for (const [label, interval] of INTERVALS) {
      const current = pumpDays(interval, { amps: (h) => (h >= 20 && h < 22 ? 0.4 : 0) }).filter((a) => a.detector === 'current');
      assert.equal(current.length, 1, `${label}: ${JSON.stringify(current)}`);
      assert.ok(current[0]!.at >= 20 && current[0]!.at <= 20 + 10 / 60, `${label}: raised at ${current[0]!.at} h`);
    }
  });
});

describe('maintenance: a silent pump at any sampling interval', () => {
  it('the expected interval is learnt: six missed readings raise `silent` once, whether they come every 10 s or every 10 min; on time, nothing', () => {
    for (const [label, interval] of INTERVALS) {
      const rows = Array.from({ length: 200 }, (_, i) => ({ ts: T0 + i * interval, rms: 0.2 }));
      const gap = (i: number) => i >= 100 && i < 106;
      const amps = (ts: number) => (gap((ts - T0) / interval) ? [] : [{ metric: 'current_a', value: 20 }]);
      const silent = runPipeline(rows, amps).filter((a) => a.detector === 'silent');
      assert.deepEqual(silent.map((a) => (a.start - T0) / interval), [106], label);
      assert.deepEqual(runPipeline(rows, () => [{ metric: 'current_a', value: 20 }]).filter((a) => a.detector === 'silent'), [], label);
    }
  });
});

describe('maintenance: a broken temperature probe', () => {
  it('readings off any probe\'s scale (an open thermocouple: 1,000 °C for 5 minutes) raise temp-sensor once and no temperature alarm; they are counted as filtered', () => {
    const spec = loadPipelineFile(join(ROOT, 'pipelines/predictive-maintenance.yaml'));
    const raised: string[] = [];
    const p = compilePipeline(spec, (e) => {
      if (e.kind === 'alert' && e.alert.state === 'raised') raised.push(`${e.alert.detector} ${e.alert.severity} ${(e.alert.start - T0) / 1000}`);
    });
    const n = gaussian(31);
    // one reading a second for 2 h; from 1 h, five minutes of 1,000 °C with a real reading every 10 s among them
    for (let i = 0; i < 7200; i++) {
      const ts = T0 + i * 1000;
      const open = i >= 3600 && i < 3900 && i % 10 !== 0;
      p.push({ stream: 'brg-1/bearing_temp_c', ts, value: open ? 1000 : 55 + 0.2 * n() });
      p.push({ stream: 'brg-1/current_a', ts, value: 20 + 0.1 * n() });
    }
    p.flush();
    assert.deepEqual(raised, ['temp-sensor warning 3601']);
    assert.equal(p.stats().filtered, 270);
  });
});
