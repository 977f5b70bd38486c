/**
 * The `running` step: a machine's readings are held back while it stands and just after it starts
 * (judged by its current), and the detect steps after it do not count a stop as time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pipelineSchema } from '../../src/config/pipeline.js';
import { compilePipeline } from '../../src/compile.js';
import type { AlertRecord, Emission } from '../../src/core/records.js';
import { EwmaDetector } from '../../src/detectors/ewma/detector.js';
import { LevelShiftDetector } from '../../src/detectors/level-shift/detector.js';
import { ThresholdDetector } from '../../src/detectors/threshold/detector.js';

const T0 = Date.UTC(2024, 6, 1);
const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;

function run(steps: unknown[], feed: (push: (stream: string, ts: number, value: number) => void) => void) {
  const spec = pipelineSchema().parse({ name: 'pumps', input: { streams: ['*/*'] }, steps });
  const out: Emission[] = [];
  const p = compilePipeline(spec, (e) => out.push(e));
  feed((stream, ts, value) => p.push({ stream, ts, value }));
  p.flush();
  const readings = out.flatMap((e) => (e.kind === 'reading' ? [`${e.reading.stream}@${(e.reading.ts - T0) / S}`] : []));
  const alerts = out.flatMap((e) => (e.kind === 'alert' && e.alert.state === 'raised' ? [e.alert] : []));
  return { p, readings, alerts, counters: p.stats().operators.running };
}

describe('running: readings of a stopped or starting machine are held back', () => {
  // Found by test/fuzz/pipelines.fuzz.test.ts: the machine's run then started a day ahead, and every
  // later reading was held as `stopped` (the maintenance pipeline with pumps that stop sent nothing).
  // A day ahead: the engine refuses the current's first reading back in real time (a clock jump
  // back; the device's vibration, at that time, confirms the next: re-based at 1 s), the run's start
  // moves to the new clock (1 s) and settles for 3 s; the vibration at 0 s is held as stopped, the
  // machine then running only from the day ahead. 30 minutes ahead (within the jump threshold: no
  // re-base): the run started at 0 s, not 30 minutes ahead, and settled at 3 s.
  for (const [ahead, what, first, stopped] of [[24 * H, 'a day', 4, 1], [30 * MIN, '30 minutes', 3, 0]] as const) {
    it(`a device's first current reading stamped ${what} ahead does not hold its later readings as stopped`, () => {
      const { readings, counters } = run([{ running: { metric: 'current_a', above: 1, settle: '3s' } }, { output: 'kept' }], (push) => {
        push('pump-1/current_a', T0 + ahead, 12);
        for (let s = 0; s < 20; s++) {
          push('pump-1/current_a', T0 + s * S, 12);
          push('pump-1/vibration_rms', T0 + s * S, 0.2);
        }
      });
      assert.deepEqual(readings.filter((r) => r.startsWith('pump-1/vibration_rms')), Array.from({ length: 20 - first }, (_, i) => `pump-1/vibration_rms@${i + first}`));
      assert.equal(counters!.stopped, stopped);
    });
  }

  it('held while stopped and for `settle` after a start, counted by reason; a device without a current passes, its first readings after `settle`', () => {
    const { readings, counters, p } = run([{ running: { metric: 'current_a', above: 1, settle: '3s' } }, { output: 'kept' }], (push) => {
      // pump-1 stopped for 0–4 s, running from 5 s, its vibration sent before its current;
      // pump-2 has no current reading at all
      for (let s = 0; s < 10; s++) {
        const ts = T0 + s * S;
        push('pump-1/vibration_rms', ts, 0.2);
        push('pump-1/current_a', ts, s >= 5 ? 12 : 0.02);
        push('pump-2/vibration_rms', ts, 0.2);
      }
    });
    assert.deepEqual(readings.filter((r) => r.startsWith('pump-1/')), ['pump-1/vibration_rms@8', 'pump-1/current_a@8', 'pump-1/vibration_rms@9', 'pump-1/current_a@9']);
    // pump-2's first readings waited `settle` for a current reading, then went on, in order
    assert.deepEqual(readings.filter((r) => r.startsWith('pump-2/')), Array.from({ length: 10 }, (_, i) => `pump-2/vibration_rms@${i}`));
    // pump-1's first vibration reading waited for the current, which said it stood; at 5 s its
    // vibration came before the current that said it had started: held as stopped too
    assert.deepEqual(counters, { starts: 1, stops: 0, stopped: 11, settling: 5, unknown: 0, untracked: 0, no_metric: 0 });
    // where each stands, for `edgewise status`: pump-1 runs since its start at 5 s; pump-2, without a current, is taken as running
    assert.deepEqual(p.stepStatus(), [{
      pipeline: 'pumps', step: 'running', total: 2,
      rows: [{ device: 'pump-1', state: 'running', since: new Date(T0 + 5 * S).toISOString(), settling: false }, { device: 'pump-2', state: 'running', settling: false }],
    }]);
    assert.deepEqual(p.stats().gauges.running, { running: 2, stopped: 0, unknown: 0 });
  });

  it('without_metric: a device that never sends the running metric (a phone tracker without rpm) has those metrics held, counted, the rest passed; one that sends it later passes from then on; saved state keeps it', () => {
    const steps = [{ running: { metric: 'rpm', above: 300, settle: '0s', metrics: ['speed_kmh', 'lat'], without_metric: ['speed_kmh'] } }, { output: 'kept' }];
    const feed = (from: number, to: number) => (push: (stream: string, ts: number, value: number) => void) => {
      for (let s = from; s < to; s++) {
        const ts = T0 + s * S;
        push('phone-1/speed_kmh', ts, 0);
        push('phone-1/lat', ts, 51.4);
        push('van-1/speed_kmh', ts, 0);
        if (s >= 3) push('van-1/rpm', ts, 800);
      }
    };
    const { readings, counters, p } = run(steps, feed(0, 6));
    assert.deepEqual(readings.filter((r) => r.startsWith('phone-1/')), Array.from({ length: 6 }, (_, i) => `phone-1/lat@${i}`));
    // van-1 sent no rpm for 3 s (its speed held), then it did: its engine runs, its speed passes
    assert.deepEqual(readings.filter((r) => r.startsWith('van-1/speed')), ['van-1/speed_kmh@4', 'van-1/speed_kmh@5']);
    assert.equal(counters!.no_metric, 6 + 4);
    // restarted from its saved state: the phone's speed is still held, the van's still passes
    const spec = pipelineSchema().parse({ name: 'pumps', input: { streams: ['*/*'] }, steps });
    const out: Emission[] = [];
    const next = compilePipeline(spec, (e) => out.push(e));
    assert.deepEqual(next.restore(structuredClone(p.snapshot())), []);
    for (const stream of ['phone-1/speed_kmh', 'van-1/speed_kmh']) next.push({ stream, ts: T0 + 6 * S, value: 0 });
    assert.deepEqual(out.flatMap((e) => (e.kind === 'reading' ? [e.reading.stream] : [])), ['van-1/speed_kmh']);
    assert.throws(() => run([{ running: { metric: 'rpm', above: 300, metrics: ['lat'], without_metric: ['speed_kmh'] } }], () => {}), /without_metric names speed_kmh, which `metrics` does not hold back/);
  });

  it('a machine first seen running settles from its first reading, as after a start (it may be starting: a cabinet powered up with its gateway), not counted as a start', () => {
    const { readings, counters } = run([{ running: { metric: 'current_a', above: 1, settle: '3s' } }, { output: 'kept' }], (push) => {
      // 6× inrush in its first two seconds, its vibration sent before its current
      for (let s = 0; s < 6; s++) {
        const ts = T0 + s * S;
        push('pump-1/vibration_rms', ts, s < 2 ? 0.6 : 0.2);
        push('pump-1/current_a', ts, s < 2 ? 72 : 12);
      }
    });
    // until 2026-12-05 a machine first seen running was taken as settled: the inrush went on to the rules
    assert.deepEqual(readings, ['pump-1/vibration_rms@3', 'pump-1/current_a@3', 'pump-1/vibration_rms@4', 'pump-1/current_a@4', 'pump-1/vibration_rms@5', 'pump-1/current_a@5']);
    assert.deepEqual(counters, { starts: 0, stops: 0, stopped: 0, settling: 6, unknown: 0, untracked: 0, no_metric: 0 });
  });

  it('a device not yet known keeps at most 256 readings waiting; more are dropped and counted', () => {
    const { readings, counters } = run([{ running: { metric: 'current_a', above: 1, settle: '3s' } }, { output: 'kept' }], (push) => {
      for (let i = 0; i < 300; i++) push('node-1/vibration_rms', T0 + i * 10, 0.2); // 100 Hz for 3 s
      push('node-1/vibration_rms', T0 + 3 * S, 0.2);
    });
    assert.equal(readings.length, 257);
    assert.equal(counters?.unknown, 44);
  });

  it('`metrics` names what is held; `settle_by_metric` gives a metric its own settle', () => {
    const { readings } = run(
      [{ running: { metric: 'current_a', above: 1, settle: '2s', settle_by_metric: { bearing_temp_c: '5s' }, metrics: ['vibration_rms', 'bearing_temp_c'] } }, { output: 'kept' }],
      (push) => {
        for (let s = 0; s < 8; s++) {
          const ts = T0 + s * S;
          push('pump-1/current_a', ts, s >= 1 ? 12 : 0);
          for (const m of ['vibration_rms', 'bearing_temp_c', 'flow_m3h']) push(`pump-1/${m}`, ts, 1);
        }
      },
    );
    const first = (m: string) => readings.find((r) => r.startsWith(`pump-1/${m}@`));
    assert.equal(first('current_a'), 'pump-1/current_a@0', 'not in `metrics`: never held');
    assert.equal(first('flow_m3h'), 'pump-1/flow_m3h@0');
    assert.equal(first('vibration_rms'), 'pump-1/vibration_rms@3');
    assert.equal(first('bearing_temp_c'), 'pump-1/bearing_temp_c@6');
  });

  it('a stop is not time for the rules after it: a baseline with a one-hour half-life survives a ten-hour stop', () => {
    // Bearing temperature, mean per 10 s: 50 °C while running; the pump stops for 10 h (the bearing
    // cools to 20 °C) and restarts; 5 min after it has settled the bearing runs 6 °C hotter.
    const steps = (running: boolean) => [
      ...(running ? [{ running: { metric: 'current_a', above: 1, settle: '2m' } }] : []),
      { window: { type: 'tumbling', size: '10s', aggregates: ['mean'] } },
      { detect: { name: 'temp-drift', detector: 'ewma', field: 'mean', direction: 'up', half_life: '1h', threshold: 4, min_std: 0.5, warmup: 3, warmup_time: '10m' }, streams: ['*/bearing_temp_c'] },
    ];
    const restart = T0 + 11 * H;
    const feed = (push: (stream: string, ts: number, value: number) => void) => {
      for (let ts = T0; ts < restart + 30 * MIN; ts += S) {
        const on = ts < T0 + H || ts >= restart;
        const hot = ts >= restart + 7 * MIN ? 6 : 0;
        push('pump-1/current_a', ts, on ? 12 : 0);
        push('pump-1/bearing_temp_c', ts, on ? 50 + hot + 0.1 * Math.sin(ts / 7000) : 20);
      }
    };
    const gated = run(steps(true), feed);
    // the first window hotter ends 7 min 10 s after the restart
    assert.deepEqual(gated.alerts.map((a: AlertRecord) => (a.start - restart) / S), [430]);
    // The same rule without the step learns the cold bearing as normal: the restart is the alarm.
    const plain = run(steps(false), feed);
    assert.ok(plain.alerts.some((a) => a.start >= restart && a.start < restart + 2 * MIN), JSON.stringify(plain.alerts.map((a) => (a.start - restart) / MIN)));
  });

  it('its state is saved: a gateway restarted while the pump stands goes on holding its readings', () => {
    const steps = [{ running: { metric: 'current_a', above: 1, settle: '1s' } }, { output: 'kept' }];
    const spec = pipelineSchema().parse({ name: 'pumps', input: { streams: ['*/*'] }, steps });
    const first = compilePipeline(spec, () => {});
    first.push({ stream: 'pump-1/current_a', ts: T0, value: 12 });
    first.push({ stream: 'pump-1/current_a', ts: T0 + S, value: 0 });
    const kept: string[] = [];
    const second = compilePipeline(spec, (e) => {
      if (e.kind === 'reading') kept.push(e.reading.stream);
    });
    assert.deepEqual(second.restore(first.snapshot()), []);
    second.push({ stream: 'pump-1/vibration_rms', ts: T0 + 2 * S, value: 0.01 });
    assert.deepEqual(kept, [], 'a restored stopped pump: held');
    assert.deepEqual(second.stats().operators.running, { starts: 0, stops: 0, stopped: 1, settling: 0, unknown: 0, untracked: 0, no_metric: 0 });
  });

  it('warm-ups and early-life baselines count running time: 10 min of running, a 5 h stop, then 50 more minutes before judging', () => {
    const level = new LevelShiftDetector({ baseline: H, min_baseline: 10, log: true, k: 3, ratio: 2, h: 20, per: MIN, max_z: 10, min_std: 0.05, direction: 'up' });
    const ewma = new EwmaDetector({ alpha: 0, half_life: H, threshold: 4, warmup: 3, warmup_time: H, direction: 'up', min_std: 0.5, clip: false, settle: 0, relearn_after: 0 });
    const rules = (ts: number) => [level.update(ts, 0.2).rule, ewma.update(ts, 50).rule];
    for (let ts = T0; ts <= T0 + 10 * MIN; ts += MIN) rules(ts);
    const restart = T0 + 5 * H;
    level.resume(restart);
    ewma.resume(restart);
    // (level_shift's baseline closes with the reading that completes it and judges from the next)
    const still = [1, 2, 49].map((m) => rules(restart + m * MIN));
    assert.deepEqual([...still, rules(restart + 51 * MIN)[1], rules(restart + 52 * MIN)[0]], [['warmup', 'warmup'], ['warmup', 'warmup'], ['warmup', 'warmup'], 'ewma_z', 'level']);
  });
});

describe('running: the alerts of a machine that stops', () => {
  // Vibration mean per 10 s judged against 0.5: the pump vibrates at 0.8 from the start (a fault
  // that stays), stops at 10 min 5 s (mid-window) and starts again at 30 min.
  const stop = T0 + 10 * MIN + 5 * S;
  const restart = T0 + 30 * MIN;
  const feed = (push: (stream: string, ts: number, value: number) => void) => {
    for (let ts = T0; ts < T0 + 40 * MIN; ts += S) {
      const on = ts < stop || ts >= restart;
      push('pump-1/vibration_rms', ts, on ? 0.8 : 0.004);
      push('pump-1/current_a', ts, on ? 12 : 0.02);
    }
  };
  const steps = (atStop?: string) => [
    { running: { metric: 'current_a', above: 1, settle: '2m' } },
    { window: { type: 'tumbling', size: '10s', aggregates: ['mean'] } },
    { detect: { name: 'vib-high', detector: 'threshold', field: 'mean', above: 0.5, ...(atStop ? { alert: { at_stop: atStop } } : {}) }, streams: ['*/vibration_rms'] },
  ];
  const events = (out: Emission[]) =>
    out.flatMap((e) => (e.kind === 'alert' ? [`${e.alert.state}@${((e.alert.state === 'cleared' ? e.alert.end! : e.alert.start) - T0) / S}`] : []));
  const emitted = (atStop?: string) => {
    const spec = pipelineSchema().parse({ name: 'pumps', input: { streams: ['*/*'] }, steps: steps(atStop) });
    const out: Emission[] = [];
    const p = compilePipeline(spec, (e) => out.push(e));
    feed((stream, ts, value) => p.push({ stream, ts, value }));
    p.flush();
    return out;
  };

  it('`alert.at_stop: clear`: cleared at the stop, with the reason; nothing while it stands (not the window from before the stop either); raised again after the settle', () => {
    const out = emitted('clear');
    // first seen running, it settles 2 min from its first reading (it may be starting as the
    // gateway first sees it) and is judged from the window at 120 s; the window [600 s, 610 s)
    // holds 5 readings of the running pump: it closes after the stop and is not judged into an alert
    assert.deepEqual(events(out), ['raised@130', 'cleared@605', 'raised@1930']);
    const cleared = out.find((e) => e.kind === 'alert' && e.alert.state === 'cleared');
    assert.ok(cleared?.kind === 'alert');
    assert.equal(cleared.alert.reason, 'running: stopped (current_a 0.02 not above 1)');
    assert.equal(cleared.alert.value, 0.02);
    assert.equal(cleared.alert.id, `vib-high:pump-1/vibration_rms:${T0 + 130 * S}`);
  });

  it('by default (`at_stop: keep`) it stays active through the stop (latched) until judged again', () => {
    assert.deepEqual(events(emitted()), ['raised@130']);
    assert.deepEqual(events(emitted('keep')), ['raised@130']);
  });

  it('an anomaly not yet raised when the machine stops does not count on after the start (the threshold\'s minimum duration, the alert\'s)', () => {
    for (const detect of [{ detector: 'threshold', above: 0.5, min_duration: '1m' }, { detector: 'threshold', above: 0.5, alert: { min_duration: '1m' } }, { detector: 'threshold', above: 0.5, min_duration: '1m', alert: { at_stop: 'clear' } }]) {
      assert.deepEqual(pendingAcrossStop(detect), [], JSON.stringify(detect));
    }
  });

  it("a threshold's decision held with hysteresis ends at a stop only for `at_stop: clear`", () => {
    const decided = (ended: boolean) => {
      const d = new ThresholdDetector({ above: 0.5, hysteresis: 0.2, min_duration: 0 });
      d.update(T0, 0.8);
      d.stop(ended);
      return d.update(T0 + H, 0.4).anomalous; // back below the limit, not below it by the hysteresis
    };
    assert.deepEqual([decided(true), decided(false)], [false, true]);
  });

  function pendingAcrossStop(detect: Record<string, unknown>): string[] {
    const spec = pipelineSchema().parse({
      name: 'pumps',
      input: { streams: ['*/*'] },
      steps: [{ running: { metric: 'current_a', above: 1, settle: '0s' } }, { detect, streams: ['*/vibration_rms'] }],
    });
    const out: Emission[] = [];
    const p = compilePipeline(spec, (e) => out.push(e));
    // 40 s high, a stop of an hour, 40 s high: never a minute in a row of the running machine
    for (let ts = T0; ts < T0 + H + 80 * S; ts += S) {
      const on = ts < T0 + 40 * S || ts >= T0 + H + 40 * S;
      // (the current first: the high vibration is the last the running pump sent)
      p.push({ stream: 'pump-1/current_a', ts, value: on ? 12 : 0 });
      p.push({ stream: 'pump-1/vibration_rms', ts, value: on ? 0.8 : 0 });
    }
    p.flush();
    return events(out);
  }
});
