/**
 * The `hold` step: a stream reported by exception (only its changes sent: Sparkplug B, an OPC UA
 * deadband, a sensor that reports on change) is passed on as the regular series it stands for.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pipelineSchema } from '../../src/config/pipeline.js';
import { compilePipeline } from '../../src/compile.js';
import type { Emission } from '../../src/core/records.js';
import type { Reading } from '../../src/core/reading.js';
import { noise } from '../detectors/helpers.js';

const T0 = Date.UTC(2024, 6, 1);
const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function pipeline(steps: unknown[], input: Record<string, unknown> = {}) {
  const spec = pipelineSchema().parse({ name: 'plant', input: { streams: ['*/*'], ...input }, steps });
  const out: Emission[] = [];
  const p = compilePipeline(spec, (e) => out.push(e));
  const kept = () => out.flatMap((e) => (e.kind === 'reading' ? [e.reading] : []));
  const means = () => out.flatMap((e) => (e.kind === 'aggregate' ? [`${(e.result.start - T0) / MIN} ${e.result.count} ${e.result.values.mean}`] : []));
  const raised = () => out.flatMap((e) => (e.kind === 'alert' && e.alert.state === 'raised' ? [e.alert] : []));
  return { p, out, kept, means, raised };
}

const at = (rs: Reading[]) => rs.map((r) => `${(r.ts - T0) / MIN} ${r.value}`);

describe('hold: a stream reported by exception becomes a regular series', () => {
  it('passes the last value on every `every` until a new one comes; a window after it sees one reading a minute and the mean over time', () => {
    const g = pipeline([{ hold: { every: '1m' } }, { output: 'kept' }, { window: { type: 'tumbling', size: '5m', aggregates: ['count', 'mean'] } }, { output: 'agg' }]);
    // A valve position sent on change: 10 at 0, 40 at 4 minutes, back to 10 at 5 (a unit tag travels with it).
    g.p.push({ stream: 'v-1/position', ts: T0, value: 10, tags: { unit: '%' } });
    g.p.push({ stream: 'v-1/position', ts: T0 + 4 * MIN, value: 40, tags: { unit: '%' } });
    g.p.push({ stream: 'v-1/position', ts: T0 + 5 * MIN, value: 10, tags: { unit: '%' } });
    g.p.push({ stream: 'v-1/position', ts: T0 + 10 * MIN, value: 10, tags: { unit: '%' } });
    g.p.flush();
    assert.deepEqual(at(g.kept()), ['0 10', '1 10', '2 10', '3 10', '4 40', '5 10', '6 10', '7 10', '8 10', '9 10', '10 10']);
    assert.ok(g.kept().every((r) => r.tags?.unit === '%'));
    // Without the step the first window's mean is 25 (two readings); the valve stood at 40 one minute in five.
    assert.deepEqual(g.means().slice(0, 2), ['0 5 16', '5 5 10']);
    assert.deepEqual(g.p.stats().operators.hold, { held: 7, expired: 0 });
  });

  it('a 1/0 input sent on change (a GPIO in `state` mode): the window\'s mean is the share of the time it was on', () => {
    const g = pipeline([{ hold: { every: '1m' } }, { window: { type: 'tumbling', size: '1h', aggregates: ['mean'] } }, { output: 'agg' }]);
    // A pump's run signal: on at 0, off at 15 minutes, on again at 60, off at 105.
    for (const [m, v] of [[0, 1], [15, 0], [60, 1], [105, 0], [120, 0]] as const) g.p.push({ stream: 'pump-1/run', ts: T0 + m * MIN, value: v });
    g.p.flush();
    // Over changes the means would be 0.5 and 0.5.
    const duty = g.out.flatMap((e) => (e.kind === 'aggregate' ? [`${e.result.count} ${e.result.values.mean!.toFixed(4)}`] : []));
    assert.deepEqual(duty.slice(0, 2), ['60 0.2500', '60 0.7500']);
  });

  it('holds for `max` after a reading, no longer: a longer silence stays silent and is counted', () => {
    const g = pipeline([{ hold: { every: '10m', max: '30m' } }, { output: 'kept' }]);
    g.p.push({ stream: 'tank-1/level', ts: T0, value: 3.2 });
    g.p.push({ stream: 'tank-1/level', ts: T0 + 2 * HOUR, value: 3.1 });
    g.p.push({ stream: 'tank-1/level', ts: T0 + 2 * HOUR + 25 * MIN, value: 3.0 });
    assert.deepEqual(at(g.kept()), ['0 3.2', '10 3.2', '20 3.2', '30 3.2', '120 3.1', '130 3.1', '140 3.1', '145 3']);
    assert.deepEqual(g.p.stats().operators.hold, { held: 5, expired: 1 });
  });

  it('a reading older than the stream\'s last passes on unchanged and holds nothing; `metrics` limits what is held', () => {
    const g = pipeline([{ hold: { every: '1m', metrics: ['position'] } }, { output: 'kept' }]);
    g.p.push({ stream: 'v-1/position', ts: T0, value: 10 });
    g.p.push({ stream: 'v-1/flow', ts: T0, value: 3 });
    g.p.push({ stream: 'v-1/position', ts: T0 + 3 * MIN, value: 20 });
    g.p.push({ stream: 'v-1/position', ts: T0 + 1 * MIN + 30 * S, value: 15 });
    g.p.push({ stream: 'v-1/flow', ts: T0 + 3 * MIN, value: 4 });
    g.p.push({ stream: 'v-1/position', ts: T0 + 5 * MIN, value: 20 });
    const kept = g.kept();
    assert.deepEqual(at(kept.filter((r) => r.stream === 'v-1/position')), ['0 10', '1 10', '2 10', '3 20', '1.5 15', '4 20', '5 20']);
    assert.deepEqual(at(kept.filter((r) => r.stream === 'v-1/flow')), ['0 3', '3 4']);
  });

  it('live: copies follow the device\'s own time, one `every` behind it, so a window closes with them; a change that comes late still comes before them, none twice', () => {
    const g = pipeline([{ hold: { every: '1m' } }, { output: 'kept' }, { window: { type: 'tumbling', size: '5m', aggregates: ['count', 'mean'] } }, { output: 'agg' }]);
    // The device's clock is 7 minutes behind the gateway's: its own time is what counts.
    const skew = 7 * MIN;
    g.p.push({ stream: 'v-1/position', ts: T0, value: 10, arrival: T0 + skew + 50 });
    g.p.push({ stream: 'v-1/position', ts: T0 + 30 * S, value: 40, arrival: T0 + 30 * S + skew + 50 });
    for (let t = T0 + S; t <= T0 + 7 * MIN + 50 * S; t += S) g.p.advanceTo(t + skew);
    // No new value for 7 minutes: the window [0, 5m) closed on the device's time with its copies
    // (40 at 1:30 … 4:30).
    assert.deepEqual(g.means(), ['0 6 35']);
    // The change of 7:10 arrives 40 s late (a slow uplink): the copy of 7:30 has not gone out yet.
    g.p.push({ stream: 'v-1/position', ts: T0 + 7 * MIN + 10 * S, value: 20, arrival: T0 + 7 * MIN + 50 * S + skew });
    for (let t = T0 + 7 * MIN + 51 * S; t <= T0 + 12 * MIN; t += S) g.p.advanceTo(t + skew);
    g.p.flush();
    assert.deepEqual(g.means(), ['0 6 35', '5 5 28', '10 1 20']);
    const times = g.kept().map((r) => (r.ts - T0) / S);
    assert.deepEqual(times, [0, 30, 90, 150, 210, 270, 330, 390, 430, 490, 550, 610]);
    assert.equal(g.p.stats().late, 0);
  });

  it('a restart from saved state holds on as an uninterrupted run does', () => {
    const steps = [{ hold: { every: '1m', max: '5m' } }, { output: 'kept' }];
    const send = (g: ReturnType<typeof pipeline>, from: number, to: number) => {
      const changes: Array<[number, number]> = [[0, 5], [3, 6], [4, 5], [20, 7], [22, 7.5]];
      for (const [m, v] of changes.slice(from, to)) g.p.push({ stream: 'w-1/ph', ts: T0 + m * MIN, value: v, fields: { quality: 192 } });
    };
    const whole = pipeline(steps);
    send(whole, 0, 5);
    const first = pipeline(steps);
    send(first, 0, 3);
    const next = pipeline(steps);
    assert.deepEqual(next.p.restore(structuredClone(first.p.snapshot())), []);
    send(next, 3, 5);
    assert.deepEqual([...first.kept(), ...next.kept()], whole.kept());
    assert.deepEqual(next.kept()[0], { stream: 'w-1/ph', ts: T0 + 5 * MIN, value: 5, fields: { quality: 192 } });
    // Saved with copies still due (the last change at 22 minutes, held for 5): they come before the next reading.
    const late = pipeline(steps);
    assert.deepEqual(late.p.restore(structuredClone(whole.p.snapshot())), []);
    late.p.push({ stream: 'w-1/ph', ts: T0 + 40 * MIN, value: 7.4 });
    assert.deepEqual(at(late.kept()), ['23 7.5', '24 7.5', '25 7.5', '26 7.5', '27 7.5', '40 7.4']);
    assert.deepEqual(late.p.stats().operators.hold, { held: 5, expired: 1 });
    const bad = structuredClone(whole.p.snapshot());
    bad.parts['operator:hold'] = { version: 1, data: { 'w-1/ph': [1, 'x', null] } };
    const [problem] = late.p.restore(bad);
    assert.match(problem!.error, /hold snapshot: stream w-1\/ph: expected \[time, value, next copy time, fields\?, tags\?\], found \[1,"x",null\]/);
  });

  it('the default detector after it finds a spike that the changes alone hide', () => {
    // A temperature a minute (20 ± 2 a day, noise 0.1) sent when it moves 0.3 (an OPC UA absolute
    // deadband) or after an hour; on day 6 at 10:00 one reading is 1.0 high. Sent alone, the changes
    // teach the detector steps as large as the deadband (0.3–0.4), and a 1.0 step is no spike.
    const found = { raw: 0, held: 0 };
    for (let seed = 1; seed <= 10; seed++) {
      const g = noise(seed);
      const spikeAt = T0 + 6 * DAY + 10 * HOUR;
      const raw = pipeline([{ detect: { detector: 'default' } }]);
      const held = pipeline([{ hold: { every: '1m' } }, { detect: { detector: 'default' } }]);
      let sent = Number.NaN;
      let sentAt = -Infinity;
      for (let t = T0; t < T0 + 7 * DAY; t += MIN) {
        const v = 20 + 2 * Math.sin((2 * Math.PI * (t - T0)) / DAY) + 0.1 * g() + (t === spikeAt ? 1 : 0);
        if (!(Math.abs(v - sent) >= 0.3) && t - sentAt < HOUR) continue;
        sent = v;
        sentAt = t;
        for (const x of [raw, held]) x.p.push({ stream: 'room-1/temp', ts: t, value: v });
      }
      const hit = (x: ReturnType<typeof pipeline>) => x.raised().some((a) => a.start >= spikeAt && a.start <= spikeAt + 30 * MIN);
      if (hit(raw)) found.raw++;
      if (hit(held)) found.held++;
    }
    // 9 and 6 of 10 when written.
    assert.ok(found.held >= 8, JSON.stringify(found));
    assert.ok(found.raw <= 6, JSON.stringify(found));
  });

  it('a device forgotten (`input.forget_after`) is held no more: its next reading, much later, comes alone', () => {
    const g = pipeline([{ hold: { every: '1m', max: '1d' } }, { output: 'kept' }], { forget_after: '1h' });
    g.p.push({ stream: 'v-1/position', ts: T0, value: 10, arrival: T0 + 20 });
    g.p.push({ stream: 'v-2/position', ts: T0, value: 30, arrival: T0 + 20 });
    // v-2 reports its last value on change only, and nothing changes for 70 minutes; v-1 is gone.
    for (let t = T0 + S; t <= T0 + 70 * MIN; t += S) g.p.advanceTo(t);
    const sent = (stream: string) => g.kept().filter((r) => r.stream === stream).length;
    // v-1's copies stopped when it was forgotten, an hour after its own time last moved (the
    // gateway's clock carried both devices' time on); v-2 is forgotten too: held copies are not
    // what `forget_after` counts, only what arrives.
    assert.equal(sent('v-1/position'), 1 + 59);
    g.p.push({ stream: 'v-1/position', ts: T0 + 80 * MIN, value: 12, arrival: T0 + 80 * MIN + 20 });
    assert.deepEqual(at(g.kept().filter((r) => r.stream === 'v-1/position').slice(-2)), ['59 10', '80 12']);
  });

  it('too many copies for one gap is a clear config error', () => {
    assert.throws(
      () => pipelineSchema().parse({ name: 'p', input: { streams: ['*/*'] }, steps: [{ hold: { every: '100ms', max: '1h' } }] }),
      /max \/ every must be at most 10000 copies/,
    );
  });
});
