import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Reading } from '../../src/core/reading.js';
import { testPipeline } from '../helpers/pipeline.js';

describe('bad readings are counted per reason, sampled, and never crash the engine', () => {
  test('NaN, Infinity, non-numeric, missing fields and bad times', () => {
    const t = testPipeline({ steps: [{ output: 'raw' }] });
    const bad: unknown[] = [
      { stream: 'd/m', ts: 1, value: NaN },
      { stream: 'd/m', ts: 1, value: Infinity },
      { stream: 'd/m', ts: 1, value: -Infinity },
      { stream: 'd/m', ts: 1, value: '12.5' },
      { stream: 'd/m', ts: 1 },
      { stream: 'd/m', ts: 1, value: null },
      { stream: 'd/m', ts: NaN, value: 1 },
      { stream: 'd/m', value: 1 },
      { stream: 'd/m', ts: '2024-01-01', value: 1 },
      { ts: 1, value: 1 },
      { stream: '', ts: 1, value: 1 },
      null,
      undefined,
      42,
    ];
    for (const r of bad) assert.doesNotThrow(() => t.p.push(r as Reading));
    t.push({ ts: 5, value: 7 });
    const dropped = t.p.stats().dropped;
    assert.deepEqual(dropped, { bad_time: 3, infinite: 2, missing_stream: 5, nan: 1, not_a_number: 3 });
    assert.equal(t.out.length, 1, 'only the good reading came through');
    const sample = t.p.drops.samplesFor('not_a_number')[0]!;
    assert.match(sample.sample, /"12.5"/);
    assert.match(sample.detail!, /value is string, expected a number/);
  });

  test('the key cap turns away new streams, counted, and keeps serving known ones', () => {
    const t = testPipeline({ input: { streams: ['**'], max_keys: 2 }, steps: [{ output: 'raw' }] });
    t.push({ stream: 'a/x', ts: 1, value: 1 }, { stream: 'b/x', ts: 1, value: 1 }, { stream: 'c/x', ts: 1, value: 1 }, { stream: 'a/x', ts: 2, value: 2 });
    const st = t.p.stats();
    assert.equal(st.keys, 2);
    assert.equal(st.dropped.key_limit, 1);
    assert.equal(t.out.length, 3);
  });
});

describe('clock jumps', () => {
  test('live: a reading far ahead of the gateway clock is refused as future and does not close other windows', () => {
    const t = testPipeline({ input: { streams: ['**'], max_future_skew: '1m' }, steps: [{ window: { type: 'tumbling', size: '10s', aggregates: ['count'] } }, { output: 'agg' }] });
    const now = Date.UTC(2026, 0, 1, 12, 0, 5);
    t.p.advanceTo(now);
    t.push({ stream: 'ok/x', ts: now - 1000, value: 1 });
    t.push({ stream: 'bad/x', ts: Date.UTC(2099, 0, 1), value: 1 });
    t.push({ stream: 'ok/x', ts: now + 500, value: 1 });
    assert.equal(t.p.stats().dropped.future, 1);
    assert.equal(t.results().length, 0, 'no window closed early');
    assert.equal(t.late().length, 0);
  });

  test('a device clock reset to 1970 is a clock jump: counted as clock_jump_back, not into old windows', () => {
    const t = testPipeline({ steps: [{ window: { type: 'tumbling', size: '10s', aggregates: ['count'] } }, { output: 'agg' }] });
    const now = Date.UTC(2026, 0, 1, 12);
    t.push({ ts: now, value: 1 }, { ts: now + 1000, value: 1 }, { ts: 5000, value: 9 });
    assert.equal(t.late().length, 0);
    assert.equal(t.p.stats().dropped.clock_jump_back, 1);
    assert.match(t.p.drops.samplesFor('clock_jump_back')[0]!.detail!, /dev\/m: event time 1970-01-01T00:00:05.000Z jumped back/);
  });

  test('replay: a gap in recorded data is not an error; windows close and later data flows', () => {
    const t = testPipeline({ steps: [{ window: { type: 'tumbling', size: '5m', aggregates: ['count'] } }, { output: 'agg' }] });
    t.push({ ts: 0, value: 1 }, { ts: 3 * 86_400_000, value: 1 }, { ts: 3 * 86_400_000 + 1000, value: 1 });
    t.p.flush();
    assert.deepEqual(t.results().map((r) => r.count), [1, 2]);
    assert.deepEqual(t.p.stats().dropped, {});
  });
});

describe('operators', () => {
  test('filter keeps a range and stream patterns; what it drops is counted as filtered', () => {
    const t = testPipeline({ steps: [{ filter: { min: 0, max: 100, exclude_streams: ['test-*/**'] } }, { output: 'raw' }] });
    t.push({ ts: 1, value: -5 }, { ts: 2, value: 50 }, { ts: 3, value: 101 }, { stream: 'test-rig/x', ts: 4, value: 5 });
    assert.equal(t.out.length, 1);
    assert.equal(t.p.stats().filtered, 3);
  });

  test('map converts units, scales, offsets, clamps and renames the metric', () => {
    const t = testPipeline({ input: { streams: ['*/temp_f'] }, steps: [{ map: { convert: 'f_to_c', scale: 2, offset: 1, clamp: { max: 150 }, metric: 'temp_c' } }, { output: 'raw' }] });
    t.push({ stream: 'oven/temp_f', ts: 1, value: 212 }, { stream: 'oven/temp_f', ts: 2, value: 32 }, { stream: 'oven/temp_c', ts: 3, value: 1 });
    const rs = t.out.map((e) => (e.kind === 'reading' ? [e.reading.stream, e.reading.value] : []));
    assert.deepEqual(rs, [['oven/temp_c', 150], ['oven/temp_c', 1]]);
  });

  test('a filter after a window tests an aggregate; outputs name where results go', () => {
    const t = testPipeline({
      steps: [
        { output: 'raw' },
        { window: { type: 'tumbling', size: 1000, aggregates: ['mean', 'max'] } },
        { output: 'all' },
        { filter: { field: 'max', min: 10 } },
        { output: 'hot' },
      ],
    });
    t.push({ ts: 0, value: 1 }, { ts: 500, value: 2 }, { ts: 1000, value: 20 }, { ts: 2000, value: 3 });
    t.p.flush();
    const by = (o: string) => t.out.filter((e) => e.output === o).length;
    assert.deepEqual([by('raw'), by('all'), by('hot')], [4, 3, 1]);
    assert.deepEqual(t.p.stats().emitted, { raw: 4, all: 3, hot: 1 });
  });

  test('streams that do not match the pipeline input are ignored, not counted as drops', () => {
    const t = testPipeline({ input: { streams: ['pump-*/vibration'] }, steps: [{ output: 'raw' }] });
    assert.equal(t.p.push({ stream: 'pump-1/vibration', ts: 1, value: 1 }), true);
    assert.equal(t.p.push({ stream: 'pump-1/temp', ts: 1, value: 1 }), false);
    assert.equal(t.p.push({ stream: 'pump-1/x/vibration', ts: 1, value: 1 }), false);
    assert.deepEqual(t.p.stats().dropped, {});
    assert.equal(t.p.stats().received, 1);
  });
});

test('memory grows with keys and open windows, not readings', () => {
  const t = testPipeline({ steps: [{ window: { type: 'tumbling', size: 1000, aggregates: ['mean', 'p95'] } }, { output: 'agg' }] });
  for (let i = 0; i < 200_000; i++) t.push({ stream: `d${i % 10}/m`, ts: i * 10, value: i % 100 });
  const st = t.p.stats();
  assert.equal(st.keys, 10);
  assert.ok(st.openWindows <= 20, `open windows ${st.openWindows}`);
});
