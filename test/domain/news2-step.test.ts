import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipelineSchema } from '../../src/config/pipeline.js';
import type { Reading } from '../../src/core/reading.js';
import type { AlertRecord, Emission, WindowResult } from '../../src/core/records.js';
import { compilePipeline } from '../../src/compile.js';

const T0 = Date.UTC(2024, 0, 1);
const NORMAL = { heart_rate: 72, spo2: 97, resp_rate: 15, systolic_bp: 125, temperature: 36.8, consciousness: 0, on_oxygen: 0 };

function setup(news2: Record<string, unknown> = {}, extra: unknown[] = [{ output: 'news2' }]) {
  const spec = pipelineSchema().parse({ name: 'vitals', input: { streams: ['**'] }, steps: [{ news2: { interval: '30s', ...news2 } }, ...extra] });
  const out: Emission[] = [];
  const p = compilePipeline(spec, (e) => out.push(e));
  /** One reading per vital per second for `secs` seconds from `from` (seconds after T0). */
  const feed = (patient: string, from: number, secs: number, v: Partial<Record<keyof typeof NORMAL, number>> = {}) => {
    for (let s = from; s < from + secs; s++) {
      for (const [m, x] of Object.entries({ ...NORMAL, ...v })) p.push({ stream: `${patient}/${m}`, ts: T0 + s * 1000, value: x } as Reading);
    }
  };
  const alerts = (): AlertRecord[] => out.flatMap((e) => (e.kind === 'alert' ? [e.alert] : []));
  const results = (): WindowResult[] => out.flatMap((e) => (e.kind === 'aggregate' ? [e.result] : []));
  return { p, out, feed, alerts, results };
}

test('news2 step: one result per patient per interval, with total, band and sub-scores', () => {
  const { p, feed, results, alerts } = setup();
  feed('bed-1', 0, 90);
  feed('bed-2', 0, 90, { heart_rate: 95 }); // pulse 91-110 scores 1
  p.flush();
  const r1 = results().filter((r) => r.stream === 'bed-1/news2');
  const r2 = results().filter((r) => r.stream === 'bed-2/news2');
  assert.equal(r1.length, 3);
  assert.deepEqual(r1.map((r) => [r.start - T0, r.end - T0, r.count]), [[0, 30_000, 210], [30_000, 60_000, 210], [60_000, 90_000, 210]]);
  assert.equal(r1[0]!.values.total, 0);
  assert.equal(r1[0]!.values.band, 0);
  assert.equal(r1[0]!.values.complete, 1);
  assert.equal(r2[0]!.values.total, 1);
  assert.equal(r2[0]!.values.sub_pulse, 1);
  assert.equal(alerts().length, 0);
  assert.equal(p.stats().emitted.news2, 6);
  assert.deepEqual(p.stats().gauges.news2, { patients: 2, alerting: 0 });
  assert.deepEqual(p.stepStatus()[0]!.rows.map((r) => (r as { patient: string }).patient), ['bed-1', 'bed-2']);
});

test('news2 step: scores the interval average, not one noisy reading', () => {
  const { p, results } = setup();
  // pulse alternates 85 / 135: one reading would score 0 or 3; the mean 110 scores 1
  for (let s = 0; s < 30; s++) {
    for (const [m, x] of Object.entries({ ...NORMAL, heart_rate: s % 2 ? 135 : 85 })) p.push({ stream: `bed-1/${m}`, ts: T0 + s * 1000, value: x });
  }
  p.flush();
  assert.equal(results()[0]!.values.sub_pulse, 1);
});

test('news2 step: alert raised on a rise of band (confirmed), escalated, then cleared', () => {
  const { p, feed, alerts } = setup({ confirm: 2, clear_after: 2 });
  feed('bed-1', 0, 120); // low
  feed('bed-1', 120, 60, { resp_rate: 26 }); // respiration 3 → low-medium
  feed('bed-1', 180, 60, { resp_rate: 26, heart_rate: 135, temperature: 39.5 }); // 3+3+2 = 8 → high
  feed('bed-1', 240, 120); // back to low
  p.flush();
  const a = alerts();
  assert.deepEqual(a.map((x) => x.state), ['raised', 'active', 'cleared']);
  assert.equal(a[0]!.start, T0 + 180_000, 'raised at the end of the second interval at low-medium');
  assert.match(a[0]!.reason!, /low → low-medium/);
  assert.equal(a[0]!.severity, 'warning');
  assert.match(a[1]!.reason!, /low-medium → high/);
  assert.equal(a[1]!.severity, 'critical');
  assert.equal(a[2]!.end, T0 + 300_000, 'cleared after two complete intervals below the band');
  assert.ok(a.every((x) => x.id === a[0]!.id && x.detector === 'news2' && x.stream === 'bed-1/news2' && x.pipeline === 'vitals'));
});

test('news2 step: a single interval at a higher band is not enough with confirm 2', () => {
  const { p, feed, alerts } = setup({ confirm: 2 });
  feed('bed-1', 0, 60);
  feed('bed-1', 60, 30, { heart_rate: 140 });
  feed('bed-1', 90, 60);
  p.flush();
  assert.equal(alerts().length, 0);
});

test('news2 step: probe off (SpO2 0) is a counted sensor fault, never a deterioration', () => {
  const { p, feed, alerts, results } = setup({ sensor_fault_output: 'sensor_faults' });
  feed('bed-1', 0, 60);
  feed('bed-1', 60, 75, { spo2: 0 }); // probe off for 75 s: SpO2 stale after 60 s
  feed('bed-1', 135, 90);
  p.flush();
  const det = alerts().filter((a) => a.detector === 'news2');
  assert.equal(det.length, 0, 'no NEWS2 alert for an artefact');
  const sf = alerts().filter((a) => a.detector === 'sensor_fault');
  assert.deepEqual(sf.map((a) => [a.state, a.stream, a.severity]), [['raised', 'bed-1/spo2', 'info'], ['cleared', 'bed-1/spo2', 'info']]);
  assert.equal(sf[0]!.start, T0 + 60_000);
  assert.equal(sf[1]!.end, T0 + 135_000);
  assert.ok(sf.every((a) => a.id === sf[0]!.id));
  assert.equal(p.stats().dropped.sensor_fault, 75);
  assert.match(p.drops.samplesFor('sensor_fault')[0]!.detail!, /bed-1\/spo2: 0 is outside the plausible range 50–100/);
  // SpO2 0 never entered a score: sub-score 0 while fresh, then missing (incomplete)
  const rs = results();
  assert.ok(rs.every((r) => r.values.sub_spo2 === undefined || r.values.sub_spo2 === 0));
  assert.ok(rs.some((r) => r.values.complete === 0 && r.values.sub_spo2 === undefined), 'SpO2 goes missing once stale');
});

test('news2 step: without sensor_fault_output a probe off is only counted', () => {
  const { p, feed, alerts } = setup();
  feed('bed-1', 0, 30);
  feed('bed-1', 30, 30, { spo2: 0 });
  p.flush();
  assert.equal(alerts().length, 0);
  assert.equal(p.stats().dropped.sensor_fault, 30);
});

test('news2 step: an incomplete score does not clear an alert, a complete one does', () => {
  const { p, feed, alerts } = setup({ confirm: 1, clear_after: 1 });
  feed('bed-1', 0, 30, { spo2: 90 }); // SpO2 scale 1: ≤ 91 scores 3
  // probe off for 3 minutes: SpO2 missing, the rest normal (score incomplete, band low)
  feed('bed-1', 30, 180, { spo2: 0 });
  assert.deepEqual(alerts().map((a) => a.state), ['raised']);
  feed('bed-1', 210, 60); // probe back, normal
  p.flush();
  assert.deepEqual(alerts().map((a) => a.state), ['raised', 'cleared']);
});

test('news2 step: other metrics pass through; late readings and patient limit are counted', () => {
  const { p, out } = setup({ max_patients: 1 }, [{ output: 'rest' }]);
  p.push({ stream: 'bed-1/heart_rate', ts: T0 + 1_000, value: 70 });
  p.push({ stream: 'bed-1/heart_rate', ts: T0 + 40_000, value: 70 }); // scores [0, 30 s)
  p.push({ stream: 'bed-1/heart_rate', ts: T0 + 2_000, value: 70 }); // older than the open interval: its own was scored
  p.push({ stream: 'bed-2/heart_rate', ts: T0 + 40_000, value: 70 });
  p.push({ stream: 'bed-1/weight_kg', ts: T0 + 40_000, value: 80 });
  const passed = out.filter((e) => e.kind === 'reading');
  assert.equal(passed.length, 1);
  assert.deepEqual(p.stats().dropped, { news2_late: 1, too_many_patients: 1 });
});

test('news2 step: live, the gateway clock closes the interval of a silent patient', () => {
  const { p, feed, results } = setup({ lateness: '2s' });
  feed('bed-1', 0, 10);
  p.advanceTo(T0 + 31_000);
  assert.equal(results().length, 0, 'not before end + lateness');
  p.advanceTo(T0 + 32_000);
  assert.equal(results().length, 1);
  assert.equal(results()[0]!.end, T0 + 30_000);
});

test('news2 step: alert state survives snapshot/restore', () => {
  const a = setup({ confirm: 1, clear_after: 1 });
  a.feed('bed-1', 0, 30, { heart_rate: 140 });
  a.p.flush();
  assert.deepEqual(a.alerts().map((x) => x.state), ['raised']);
  // Checkpoints are structured-clone encoded (v8.serialize): -Infinity and Maps survive.
  const snap = structuredClone(a.p.snapshot());
  const b = setup({ confirm: 1, clear_after: 1 });
  assert.deepEqual(b.p.restore(snap), []);
  b.feed('bed-1', 30, 30);
  b.p.flush();
  const cleared = b.alerts();
  assert.deepEqual(cleared.map((x) => x.state), ['cleared']);
  assert.equal(cleared[0]!.id, a.alerts()[0]!.id);
});

test('news2 step: schema refuses unknown fields and bad bands with a clear message', () => {
  const bad = pipelineSchema().safeParse({ name: 'v', input: { streams: ['**'] }, steps: [{ news2: { alert_band: 'purple', inteval: '1m' } }] });
  assert.equal(bad.success, false);
  const msg = JSON.stringify(bad.error!.issues);
  assert.match(msg, /alert_band/);
  assert.match(msg, /inteval/);
});

test('news2 step: intervals scored, incomplete and which vital was missing are counted for the operator (a ward whose monitors send no blood pressure)', () => {
  const { p } = setup();
  const { systolic_bp: _bp, ...noBp } = NORMAL;
  for (let s = 0; s < 90; s++) for (const [m, x] of Object.entries(noBp)) p.push({ stream: `bed-1/${m}`, ts: T0 + s * 1000, value: x });
  p.flush();
  assert.deepEqual(p.stats().operators, { news2: { scored: 3, incomplete: 3, no_vitals: 0, forgotten: 0, missing_systolic_bp: 3 } });
});

/**
 * One vital's clock ahead of the patient's others — a probe with its own clock set fast, one
 * garbled timestamp, a first reading stamped a day ahead — closed the patient's interval, and
 * every reading of the other vitals was then `news2_late` until real time caught up: found by
 * test/fuzz/pipelines.fuzz.test.ts (one heart-rate reading a day ahead silenced NEWS2 for the
 * rest of the run, 2 minutes ahead cost 800 readings). Now its readings wait in their own intervals.
 */
test('news2 step: a vital whose clock runs ahead (minutes, or one reading a day ahead) does not make the others late', () => {
  for (const [what, ahead, at] of [
    ['one heart-rate reading a day ahead, mid-stay', 86_400_000, 200],
    ["the patient's first reading a day ahead", 86_400_000, 0],
    ['the pulse oximeter 4 minutes fast', 240_000, -1],
    ["the patient's first two readings, heart rate a day ahead in two intervals, before any other vital (the first interval scored alone)", 86_400_000, -2],
  ] as const) {
    const { p, results } = setup();
    if (at === -2) {
      p.push({ stream: 'bed-1/heart_rate', ts: T0 + ahead - 1, value: 72 } as Reading);
      p.push({ stream: 'bed-1/heart_rate', ts: T0 + ahead + 1000, value: 72 } as Reading);
    }
    for (let s = 0; s < 600; s++) {
      for (const [m, x] of Object.entries(NORMAL)) {
        if (at === -2 && m === 'heart_rate' && s < 2) continue;
        const shift = (m === 'heart_rate' && s === at) || (at === -1 && m === 'spo2') ? ahead : 0;
        p.push({ stream: `bed-1/${m}`, ts: T0 + s * 1000 + shift, value: x } as Reading);
      }
    }
    p.flush();
    const st = p.stats();
    assert.equal(st.dropped.news2_late ?? 0, 0, `${what}: no reading late`);
    // the heart rate's lone interval a day ahead, scored before the others came, is not one of the 10 minutes
    const rs = results().filter((r) => r.end - T0 < 86_400_000 - 30_000);
    // every interval of the 10 minutes scored once, in order, complete (the fast one's own later)
    const ends = rs.map((r) => r.end - T0);
    assert.deepEqual(ends.slice(0, 20), Array.from({ length: 20 }, (_, i) => (i + 1) * 30_000), `${what}: the 20 intervals in order`);
    assert.ok(rs.slice(0, 20).every((r) => r.values.complete === 1 || at === -1), `${what}: complete`);
    assert.equal(new Set(ends).size, ends.length, `${what}: no interval scored twice`);
  }
});

test('news2 step: a vital read every 15 minutes (a blood pressure cuff) or stopped holds no interval back for longer than two intervals', () => {
  const { p, results } = setup();
  for (let s = 0; s < 1800; s++) {
    p.push({ stream: 'bed-1/heart_rate', ts: T0 + s * 1000, value: 72 } as Reading);
    if (s % 900 === 0) p.push({ stream: 'bed-1/systolic_bp', ts: T0 + s * 1000, value: 120 } as Reading);
    if (s < 300) p.push({ stream: 'bed-1/spo2', ts: T0 + s * 1000, value: 97 } as Reading); // the probe comes off after 5 minutes
    // each interval is scored by the time the heart rate is two intervals past its end
    const closedBy = results().at(-1)?.end ?? T0;
    assert.ok(T0 + s * 1000 - closedBy <= 90_000, `at ${s} s the last interval scored ends ${(T0 + s * 1000 - closedBy) / 1000} s before`);
  }
  assert.equal(p.stats().dropped.news2_late ?? 0, 0);
  assert.equal(p.stats().dropped.news2_ahead ?? 0, 0);
});
