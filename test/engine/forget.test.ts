/**
 * `input.forget_after`: devices that come and go (patients discharged, sensors replaced). A device
 * silent that long in the gateway's running time is forgotten: its alerts clear with the reason,
 * its keys are freed for new streams. Without it a pipeline keeps every stream it has seen and, at
 * `max_keys`, refuses new ones for good.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pipelineSchema } from '../../src/config/pipeline.js';
import { compilePipeline } from '../../src/compile.js';
import type { AlertRecord, Emission } from '../../src/core/records.js';
import type { Pipeline } from '../../src/engine/pipeline.js';

const T0 = Date.UTC(2026, 10, 2, 8);
const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;

const STEPS = [
  { window: { type: 'tumbling', size: '10s', aggregates: ['mean'] } },
  { output: 'agg' },
  { detect: { name: 'hot', detector: 'threshold', field: 'mean', above: 50 } },
];

function gateway(input: Record<string, unknown> = {}, steps: unknown[] = STEPS) {
  const spec = pipelineSchema().parse({ name: 'ward', input: { streams: ['*/*'], ...input }, steps });
  const out: Emission[] = [];
  const p = compilePipeline(spec, (e) => out.push(e));
  return { p, out, ...helpers(p, out) };
}

function helpers(p: Pipeline, out: Emission[]) {
  return {
    /** A reading that arrives 20 ms after its event time (live). */
    send: (stream: string, ts: number, value: number) => p.push({ stream, ts, value, arrival: ts + 20 }),
    alerts: (): AlertRecord[] => out.flatMap((e) => (e.kind === 'alert' ? [e.alert] : [])),
  };
}

/** bed-1 runs hot for a minute then goes silent at 08:10; bed-2 keeps sending; ticks every second until `until`. */
function ward(g: ReturnType<typeof gateway>, until: number, from = T0) {
  for (let ts = from; ts < until; ts += S) {
    if (ts < T0 + 10 * MIN) g.send('bed-1/temp', ts, ts >= T0 + 5 * MIN ? 60 : 37);
    g.send('bed-2/temp', ts, 37);
    g.p.advanceTo(ts + 500);
  }
}

describe('input.forget_after: a device silent that long is forgotten', () => {
  it('its active alert clears with the reason, its keys go; another device is untouched; before the time nothing happens', () => {
    const g = gateway({ forget_after: '1h' });
    ward(g, T0 + 70 * MIN);
    assert.equal(g.p.stats().keys, 2, 'bed-1 silent for 60 minutes less 10 s: still tracked');
    assert.deepEqual(g.alerts().map((a) => [a.stream, a.state]), [['bed-1/temp', 'raised']]);
    ward(g, T0 + 72 * MIN, T0 + 70 * MIN);
    const [raised, cleared] = g.alerts();
    assert.equal(cleared?.state, 'cleared');
    assert.equal(cleared.id, raised!.id);
    assert.equal(cleared.reason, 'forgotten: bed-1 sent nothing for 1h (input.forget_after)');
    assert.ok(Number.isNaN(cleared.value), 'no value was judged');
    // at bed-1's own time: its last reading (08:09:59) plus the hour
    assert.ok(cleared.end! >= T0 + 70 * MIN - S && cleared.end! <= T0 + 71 * MIN, `cleared at ${new Date(cleared.end!).toISOString()}`);
    const st = g.p.stats();
    assert.equal(st.keys, 1);
    assert.equal(st.forgottenDevices, 1);
    assert.equal(st.forgotten, 1);
    assert.equal(st.unaccounted, 0);
  });

  it('without it nothing is forgotten: the alert of a device gone stays active and its key stays', () => {
    const g = gateway();
    ward(g, T0 + 3 * H);
    assert.deepEqual(g.alerts().map((a) => a.state), ['raised']);
    assert.equal(g.p.stats().keys, 2);
  });

  it('at max_keys new devices are refused for good without it (the error says what to set); with it their room comes back', () => {
    const churn = (g: ReturnType<typeof gateway>) => {
      // a new device every 2 hours, each for an hour (a patient a bed), two streams each
      for (let d = 0; d < 6; d++) {
        const start = T0 + d * 2 * H;
        for (let ts = start; ts < start + 2 * H; ts += 10 * S) {
          if (ts < start + H) for (const m of ['temp', 'pulse']) g.send(`patient-${d}/${m}`, ts, 37);
          g.p.advanceTo(ts + 500);
        }
      }
      return g.p.stats();
    };
    const without = churn(gateway({ max_keys: 4 }));
    assert.equal(without.dropped.key_limit, 4 * 360 * 2, 'patients 2–5 refused, every reading');
    const g = gateway({ max_keys: 4 });
    churn(g);
    assert.match(g.p.drops.samplesFor('key_limit')[0]!.detail ?? '', /max_keys=4 streams: set input\.forget_after to forget devices that went silent/);
    const withIt = churn(gateway({ max_keys: 4, forget_after: '30m' }));
    assert.equal(withIt.dropped.key_limit, undefined);
    assert.equal(withIt.forgottenDevices, 6, 'each patient 30 minutes after its last reading');
    assert.equal(withIt.forgotten, 12);
    assert.equal(withIt.keys, 0);
  });

  it("the gateway's own downtime is not the devices' silence", () => {
    const g = gateway({ forget_after: '1h' });
    ward(g, T0 + 40 * MIN); // bed-1 silent for 30 minutes
    // the gateway is off for 2 hours: no tick, no reading
    const back = T0 + 160 * MIN;
    ward(g, back + 25 * MIN, back);
    assert.equal(g.p.stats().forgottenDevices, 0, '30 + 25 minutes of running time: not yet');
    ward(g, back + 35 * MIN, back + 25 * MIN);
    assert.equal(g.p.stats().forgottenDevices, 1, 'after an hour of running time');
  });

  it('a restart from a checkpoint forgets as an uninterrupted run does (also across the downtime of the restart)', () => {
    const whole = gateway({ forget_after: '1h' });
    ward(whole, T0 + 40 * MIN);
    const back = T0 + 100 * MIN;
    ward(whole, back + 40 * MIN, back);
    for (const at of [T0 + 5 * MIN + 30 * S, T0 + 20 * MIN, T0 + 40 * MIN - S]) {
      const a = gateway({ forget_after: '1h' });
      ward(a, at);
      const b = gateway({ forget_after: '1h' });
      assert.deepEqual(b.p.restore(a.p.snapshot()), []);
      b.out.push(...a.out);
      ward(b, T0 + 40 * MIN, at);
      ward(b, back + 40 * MIN, back);
      assert.deepEqual(b.alerts(), whole.alerts(), `restarted at ${new Date(at).toISOString()}`);
      assert.equal(b.p.stats().keys, whole.p.stats().keys);
    }
    assert.equal(whole.alerts().at(-1)?.state, 'cleared');
  });

  it('a replay (no arrival times) forgets nothing', () => {
    const g = gateway({ forget_after: '1h' });
    for (let ts = T0; ts < T0 + 5 * H; ts += S) {
      if (ts < T0 + 10 * MIN) g.p.push({ stream: 'bed-1/temp', ts, value: 60 });
      g.p.push({ stream: 'bed-2/temp', ts, value: 37 });
    }
    assert.equal(g.p.stats().keys, 2);
    assert.equal(g.p.stats().forgottenDevices, 0);
  });

  it('the steps keep nothing of it: an open window goes out partial, a `running` step passes on what it held, a join emits what it has', () => {
    const g = gateway({ forget_after: '10m' }, [
      { running: { metric: 'current_a', above: 1, settle: '1m' } },
      { output: 'raw' },
      { window: { type: 'count', size: 100, aggregates: ['count'] } },
      { output: 'agg' },
    ]);
    // node-1 never sends its current: its first readings wait for it (up to `settle`), then it is silent
    for (let i = 0; i < 20; i++) g.send('node-1/vibration_rms', T0 + i * S, 0.2);
    for (let ts = T0 + 20 * S; ts < T0 + 12 * MIN; ts += S) g.p.advanceTo(ts);
    const raw = g.out.filter((e) => e.kind === 'reading');
    assert.equal(raw.length, 20, 'the waiting readings went on when node-1 was forgotten');
    const agg = g.out.flatMap((e) => (e.kind === 'aggregate' ? [e.result] : []));
    assert.deepEqual(agg.map((r) => [r.count, r.partial]), [[20, true]], 'the open count window went out, partial');
    assert.equal(g.p.stats().keys, 0);
    assert.equal(g.p.stats().operators.running?.unknown, 0);
  });
});
