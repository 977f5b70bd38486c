import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipelineSchema } from '../../src/config/pipeline.js';
import type { Reading } from '../../src/core/reading.js';
import type { Emission, WindowResult } from '../../src/core/records.js';
import { compilePipeline } from '../../src/compile.js';
import { JoinOperator } from '../../src/engine/operators/join/join.js';

const T0 = Date.UTC(2026, 0, 1, 12);
const VITALS = { heart_rate: 72, spo2: 97, resp_rate: 15, systolic_bp: 125, temperature: 36.8, consciousness: 0, on_oxygen: 0 };

function build(input: Record<string, unknown>, steps: unknown[]) {
  const spec = pipelineSchema().parse({ name: 't', input: { streams: ['**'], ...input }, steps });
  const out: Emission[] = [];
  const p = compilePipeline(spec, (e) => out.push(e));
  const results = (output: string): WindowResult[] => out.flatMap((e) => (e.kind === 'aggregate' && e.output === output ? [e.result] : []));
  let now = T0;
  const gw = {
    get now() {
      return now;
    },
    deliver: (stream: string, ts: number, value: number) => p.push({ stream, ts, value, arrival: now } as Reading),
    tick: () => p.advanceTo((now += 1000)),
  };
  return { p, out, results, gw };
}

test('news2 live: a patient monitor 2 min fast closes only its own intervals, never another patient\'s', () => {
  const { p, results, gw } = build({}, [{ news2: { interval: '30s', lateness: '2s' } }, { output: 'news2' }]);
  for (let s = 0; s < 300; s++) {
    for (const [m, v] of Object.entries(VITALS)) {
      gw.deliver(`bed-1/${m}`, gw.now, v);
      gw.deliver(`bed-2/${m}`, gw.now + 120_000, v);
    }
    gw.tick();
  }
  assert.deepEqual(p.stats().dropped, {}, 'no news2_late');
  const bed1 = results('news2').filter((r) => r.stream === 'bed-1/news2');
  assert.ok(bed1.length >= 9, `bed-1 intervals ${bed1.length}`);
  for (const r of bed1) assert.equal(r.count, 7 * 30, `interval ${r.start - T0} complete`);
  assert.ok(bed1.every((r) => r.values.complete === 1));
});

test('news2 live: a silent patient\'s interval still closes at its own time (the gateway clock runs on)', () => {
  const { results, gw } = build({}, [{ news2: { interval: '30s', lateness: '2s' } }, { output: 'news2' }]);
  for (let s = 0; s < 10; s++) {
    for (const [m, v] of Object.entries(VITALS)) gw.deliver(`bed-1/${m}`, gw.now + 120_000, v); // 2 min fast
    gw.tick();
  }
  assert.equal(results('news2').length, 0);
  for (let s = 0; s < 25; s++) gw.tick();
  assert.deepEqual(results('news2').map((r) => [r.start - T0, r.count]), [[120_000, 70]]);
});

test('join live: the slowest active stream of a device holds a pending join; an idle stream does not', () => {
  const { results, gw } = build({ idle_timeout: '15s' }, [
    { window: { type: 'tumbling', size: '10s', idle_timeout: '1h', aggregates: ['rms', 'max'] } },
    { join: { metric: 'vibration', fields: { rms: 'vibration_rms.rms', peak: 'vibration_peak.max' } } },
    { output: 'features' },
  ]);
  const joined = () => results('features').filter((r) => r.stream === 'pump/vibration').map((r) => [r.start - T0, r.partial ?? false]);
  // Both streams for 12 s; then the peak sensor falls silent, rms keeps going.
  for (let s = 0; s < 12; s++) {
    gw.deliver('pump/vibration_rms', gw.now, 0.1);
    gw.deliver('pump/vibration_peak', gw.now, 0.3);
    gw.tick();
  }
  assert.deepEqual(joined(), [[0, false]]);
  for (let s = 12; s < 25; s++) {
    gw.deliver('pump/vibration_rms', gw.now, 0.1);
    gw.tick();
  }
  // peak silent 13 s: not idle yet, so its window [10 s, 20 s) is still awaited.
  assert.deepEqual(joined(), [[0, false]]);
  for (let s = 25; s < 28; s++) {
    gw.deliver('pump/vibration_rms', gw.now, 0.1);
    gw.tick();
  }
  // peak idle (16 s): the slowest active stream (rms, watermark past 20 s) decides: out, partial.
  assert.deepEqual(joined(), [[0, false], [10_000, true]]);
});

test('join live: a device falling silent after a burst closes its streams\' windows in time order, none dropped as late', () => {
  const { p, results, gw } = build({}, [
    { window: { type: 'tumbling', size: '10s', lateness: '1s', idle_timeout: '30s', aggregates: ['rms', 'max'] } },
    { join: { metric: 'vibration', fields: { rms: 'vibration_rms.rms', peak: 'vibration_peak.max' } } },
    { output: 'features' },
  ]);
  // a logger that uploads its last minute at once (a snapshot 0.4 s into every 10 s window), then
  // falls silent: when its streams go idle, each has windows open
  for (let s = 0; s < 60; s++) gw.tick();
  for (let i = 0; i < 6; i++) {
    gw.deliver('brg/vibration_rms', T0 + i * 10_000 + 400, 0.1);
    gw.deliver('brg/vibration_peak', T0 + i * 10_000 + 400, 0.3);
  }
  // idle after 30 s: by then both of each stream's open windows are due at once
  for (let s = 0; s < 40; s++) gw.tick();
  const joined = results('features').filter((r) => r.stream === 'brg/vibration').map((r) => [(r.start - T0) / 1000, r.partial === true]);
  assert.deepEqual(joined, [[0, false], [10, false], [20, false], [30, false], [40, false], [50, false]]);
  assert.deepEqual(p.stats().dropped, {}, 'no join_late');
});

/**
 * Found by test/fuzz/pipelines.fuzz.test.ts: one result far past a device's pending join (a
 * reading stamped a day ahead) became the pending join, and every later result of the device was
 * `join_late`. Now such a result waits until another metric says which is right.
 */
test('join (replay): one reading stamped a day ahead is dropped as join_ahead; a device back after an hour joins at once; a stream 4 minutes fast loses only its own fields', () => {
  const steps = [
    { window: { type: 'tumbling', size: '10s', aggregates: ['rms', 'max'] } },
    { join: { metric: 'vibration', fields: { rms: 'vibration_rms.rms', peak: 'vibration_peak.max' } } },
    { output: 'features' },
  ];
  const play = (shift: (metric: string, s: number) => number | undefined) => {
    const { p, results } = build({}, steps);
    for (let s = 0; s < 600; s++) {
      for (const m of ['vibration_rms', 'vibration_peak']) {
        const d = shift(m, s);
        if (d !== undefined) p.push({ stream: `pump/${m}`, ts: T0 + s * 1000 + d, value: 0.1 } as Reading);
      }
    }
    p.flush();
    const joined = results('features').filter((r) => r.stream === 'pump/vibration');
    return { dropped: p.stats().dropped, joined, complete: joined.filter((r) => !r.partial).length };
  };
  const clean = play(() => 0);
  assert.equal(clean.complete, 60);
  // a day ahead, once
  const glitch = play((m, s) => (m === 'vibration_rms' && s === 200 ? 86_400_000 : 0));
  assert.equal(glitch.dropped.join_late ?? 0, 0, JSON.stringify(glitch.dropped));
  assert.equal(glitch.dropped.join_ahead, 1);
  // every window joined once, complete: the pending join was not sent early (partial) for the one ahead
  assert.deepEqual(glitch.joined.map((r) => [r.start - T0, r.partial ?? false]), clean.joined.map((r) => [r.start - T0, r.partial ?? false]));
  // both sensors silent for an hour: the joins after the gap come as before
  const gap = play((_m, s) => (s >= 300 && s < 400 ? undefined : s >= 400 ? 3_600_000 : 0));
  assert.deepEqual(gap.dropped, {});
  assert.equal(gap.complete, 50);
  // the peak sensor's clock 4 minutes fast: the rms joins go on (partial), none late
  const fast = play((m) => (m === 'vibration_peak' ? 240_000 : 0));
  assert.equal(fast.dropped.join_late ?? 0, 0, JSON.stringify(fast.dropped));
  assert.ok(fast.joined.length >= 55, `joins ${fast.joined.length}`);
});

test('join: a result far ahead while a join is pending does not send the pending one early (partial, then again)', () => {
  const op = new JoinOperator({ name: 'join', metric: 'vibration', fields: { rms: 'vibration_rms.rms', peak: 'vibration_peak.max' }, pass: false, max_devices: 10 } as never);
  const out: WindowResult[] = [];
  const dropped: string[] = [];
  const ctx = { pipeline: 't', result: (r: WindowResult) => out.push(r), drop: (reason: string) => dropped.push(reason), deviceTime: () => -Infinity } as never;
  const res = (metric: string, start: number, v: Record<string, number>): WindowResult => ({ stream: `pump/${metric}`, window: 'tumbling', start: T0 + start, end: T0 + start + 10_000, count: 10, values: v });
  op.result(res('vibration_rms', 0, { rms: 1 }), ctx);
  op.result(res('vibration_peak', 86_400_000, { max: 3 }), ctx); // one peak reading stamped a day ahead
  op.result(res('vibration_peak', 0, { max: 3 }), ctx);
  op.result(res('vibration_rms', 10_000, { rms: 1 }), ctx);
  op.result(res('vibration_peak', 10_000, { max: 3 }), ctx);
  assert.deepEqual(out.map((r) => [r.start - T0, r.partial ?? false]), [[0, false], [10_000, false]]);
  assert.deepEqual(dropped, ['join_ahead']);
});
