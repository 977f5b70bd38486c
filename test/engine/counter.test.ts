/**
 * The `counter` step: a cumulative counter (an energy meter's total, a pulse count) becomes its
 * rate, reading a fall as a reset or, with `wrap`, a wrap, as Prometheus's rate() does.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pipelineSchema } from '../../src/config/pipeline.js';
import { compilePipeline } from '../../src/compile.js';
import type { Emission } from '../../src/core/records.js';
import { noise } from '../detectors/helpers.js';

const T0 = Date.UTC(2024, 6, 1);
const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function pipeline(steps: unknown[], input: Record<string, unknown> = {}) {
  const spec = pipelineSchema().parse({ name: 'meters', input: { streams: ['*/*'], ...input }, steps });
  const out: Emission[] = [];
  const p = compilePipeline(spec, (e) => out.push(e));
  const kept = () => out.flatMap((e) => (e.kind === 'reading' ? [`${e.reading.stream} ${(e.reading.ts - T0) / MIN} ${+e.reading.value.toFixed(6)}`] : []));
  const raised = () => out.flatMap((e) => (e.kind === 'alert' && e.alert.state === 'raised' ? [e.alert] : []));
  return { p, out, kept, raised };
}

describe('counter: a cumulative counter becomes its rate', () => {
  it('an energy meter\'s kWh total becomes kW: the increase per `per` between readings, from the second reading on', () => {
    const g = pipeline([{ counter: { per: '1h' } }, { output: 'kept' }]);
    // 2 kW for 10 minutes, then 5 kW; readings every 5 minutes, the last one 10 minutes later.
    const totals: Array<[number, number]> = [[0, 1000], [5, 1000 + 2 / 12], [10, 1000 + 4 / 12], [15, 1000 + 4 / 12 + 5 / 12], [25, 1000 + 4 / 12 + 15 / 12]];
    for (const [m, v] of totals) g.p.push({ stream: 'house-1/energy_kwh', ts: T0 + m * MIN, value: v, tags: { unit: 'kWh' } });
    assert.deepEqual(g.kept(), ['house-1/energy_kwh 5 2', 'house-1/energy_kwh 10 2', 'house-1/energy_kwh 15 5', 'house-1/energy_kwh 25 5']);
    assert.equal(g.out.find((e) => e.kind === 'reading' && e.reading.tags?.unit === 'kWh') !== undefined, true);
    assert.deepEqual(g.p.stats().operators.counter, { started: 1, resets: 0, wraps: 0 });
  });

  it('a fall is a reset (the device restarted and counted from 0); with `wrap`, a fall of more than half of it is the register wrapping', () => {
    const g = pipeline([{ counter: { per: '1s', metrics: ['pulses'] } }, { output: 'kept' }]);
    const sec = (s: number, v: number, metric = 'pulses') => g.p.push({ stream: `m-1/${metric}`, ts: T0 + s * S, value: v });
    sec(0, 500);
    sec(60, 560);
    sec(120, 30); // restarted: 30 counted since
    sec(180, 90);
    sec(180, 7, 'temp'); // not a counter: passes as it is
    const w = pipeline([{ counter: { wrap: 65536 } }, { output: 'kept' }]);
    w.p.push({ stream: 'm-1/pulses', ts: T0, value: 65000 });
    w.p.push({ stream: 'm-1/pulses', ts: T0 + 60 * S, value: 64 }); // 65000 → 65535 → 0 → 64: 600 pulses
    w.p.push({ stream: 'm-1/pulses', ts: T0 + 120 * S, value: 4 }); // a fall of 60, under half the register: a reset
    assert.deepEqual(g.kept(), ['m-1/pulses 1 1', 'm-1/pulses 2 0.5', 'm-1/pulses 3 1', 'm-1/temp 3 7']);
    assert.deepEqual(g.p.stats().operators.counter, { started: 1, resets: 1, wraps: 0 });
    assert.deepEqual(w.kept(), ['m-1/pulses 1 10', 'm-1/pulses 2 0.066667']);
    assert.deepEqual(w.p.stats().operators.counter, { started: 1, resets: 1, wraps: 1 });
  });

  it('a reading not after the stream\'s last gives no rate: dropped with its time and reason', () => {
    const g = pipeline([{ counter: {} }, { output: 'kept' }]);
    g.p.push({ stream: 'w-1/litres', ts: T0 + MIN, value: 100 });
    g.p.push({ stream: 'w-1/litres', ts: T0 + 2 * MIN, value: 160 });
    g.p.push({ stream: 'w-1/litres', ts: T0 + 2 * MIN, value: 160 });
    g.p.push({ stream: 'w-1/litres', ts: T0 + 90 * S, value: 130 });
    g.p.push({ stream: 'w-1/litres', ts: T0 + 3 * MIN, value: 220 });
    assert.deepEqual(g.kept(), ['w-1/litres 2 1', 'w-1/litres 3 1']);
    const stats = g.p.stats();
    assert.equal(stats.dropped.duplicate, 1);
    assert.equal(stats.dropped.counter_order, 1);
    const [late] = g.p.drops.samplesFor('counter_order');
    assert.equal(late!.at, T0 + 90 * S);
    assert.match(late!.detail!, /w-1\/litres: the counter reading of 2024-07-01T00:01:30.000Z \(value 130\) is not after the last one, of 2024-07-01T00:02:00.000Z: a rate needs readings in time order; dropped \(step counter\)/);
    assert.equal(stats.operators.counter!.resets, 0);
  });

  it('the default detector finds twice the consumption for two hours in the rate, never in the total', () => {
    // A meter read every minute: 1 ± 0.5 units a minute over the day, noise 0.1; on day 6 at 10:00
    // twice that for two hours.
    const found = { total: 0, rate: 0 };
    for (let seed = 1; seed <= 4; seed++) {
      const g = noise(seed);
      const at = T0 + 6 * DAY + 10 * HOUR;
      const total = pipeline([{ detect: { detector: 'default' } }]);
      const rate = pipeline([{ counter: { per: '1m' } }, { detect: { detector: 'default' } }]);
      let c = 12_345;
      for (let t = T0; t < T0 + 7 * DAY; t += MIN) {
        const d = Math.max(0, 1 + 0.5 * Math.sin((2 * Math.PI * (t - T0)) / DAY) + 0.1 * g());
        c += t >= at && t < at + 2 * HOUR ? 2 * d : d;
        for (const x of [total, rate]) x.p.push({ stream: 'plant-1/energy_kwh', ts: t, value: c });
      }
      const hit = (x: ReturnType<typeof pipeline>) => x.raised().some((a) => a.start >= at && a.start < at + 2 * HOUR);
      if (hit(total)) found.total++;
      if (hit(rate)) found.rate++;
    }
    assert.deepEqual(found, { total: 0, rate: 4 });
  });

  it('a restart from saved state goes on as an uninterrupted run; a device forgotten starts afresh', () => {
    const steps = [{ counter: { per: '1m' } }, { output: 'kept' }];
    const send = (g: ReturnType<typeof pipeline>, from: number, to: number) => {
      for (let m = from; m < to; m++) g.p.push({ stream: 'w-1/litres', ts: T0 + m * MIN, value: 100 + m * m });
    };
    const whole = pipeline(steps);
    send(whole, 0, 6);
    const first = pipeline(steps);
    send(first, 0, 3);
    const next = pipeline(steps);
    assert.deepEqual(next.p.restore(structuredClone(first.p.snapshot())), []);
    send(next, 3, 6);
    assert.deepEqual([...first.kept(), ...next.kept()], whole.kept());
    const bad = structuredClone(whole.p.snapshot());
    bad.parts['operator:counter'] = { version: 1, data: { 'w-1/litres': [1] } };
    const [problem] = pipeline(steps).p.restore(bad);
    assert.match(problem!.error, /counter snapshot: stream w-1\/litres: expected \[time, value\] of its last reading, found \[1\]/);

    const live = pipeline(steps, { forget_after: '1h' });
    live.p.push({ stream: 'w-1/litres', ts: T0, value: 100, arrival: T0 + 20 });
    for (let t = T0 + S; t <= T0 + 61 * MIN; t += 10 * S) live.p.advanceTo(t);
    // Back two hours later, its meter replaced (a new count): no rate across the two meters.
    live.p.push({ stream: 'w-1/litres', ts: T0 + 2 * HOUR, value: 3, arrival: T0 + 2 * HOUR + 20 });
    live.p.push({ stream: 'w-1/litres', ts: T0 + 2 * HOUR + MIN, value: 5, arrival: T0 + 2 * HOUR + MIN + 20 });
    assert.deepEqual(live.kept(), ['w-1/litres 121 2']);
    assert.deepEqual(live.p.stats().operators.counter, { started: 2, resets: 0, wraps: 0 });
  });
});
