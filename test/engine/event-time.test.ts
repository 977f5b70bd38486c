import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Reading } from '../../src/core/reading.js';
import { testPipeline } from '../helpers/pipeline.js';

const T0 = Date.UTC(2026, 0, 1, 12);
const tumbling10s = { steps: [{ window: { type: 'tumbling', size: '10s', aggregates: ['count', 'sum'] } }, { output: 'agg' }] };

/** A gateway in a test: readings arrive at `now` (stamped as arrival), and the clock ticks every second. */
function gateway(t: ReturnType<typeof testPipeline>) {
  let now = T0;
  return {
    get now() {
      return now;
    },
    deliver(stream: string, ts: number, value = 1) {
      t.p.push({ stream, ts, value, arrival: now } as Reading);
    },
    tick(ms: number) {
      const until = now + ms;
      while (now < until) {
        now = Math.min(until, now + 1000);
        t.p.advanceTo(now);
      }
    },
  };
}

describe('each stream has its own event time', () => {
  test('a device 2 min fast does not send a correct device to late', () => {
    const t = testPipeline(tumbling10s);
    const g = gateway(t);
    for (let i = 0; i < 600; i++) {
      g.deliver('fast/x', g.now + 120_000);
      g.deliver('good/x', g.now);
      g.tick(1000);
    }
    assert.equal(t.late().length, 0, 'no reading of the correct device is late');
    const st = t.p.stats();
    assert.equal(st.accepted, 1200);
    const good = t.results().filter((r) => r.stream === 'good/x');
    // 600 s of readings at 1 Hz: 59 full windows of 10 readings have closed by the device's own time.
    assert.ok(good.length >= 59, `good windows ${good.length}`);
    for (const r of good) assert.equal(r.count, 10);
  });
});

describe('idleness is judged by the gateway clock, and a silent stream closes at its own time', () => {
  test('a fast device that goes silent has its windows closed at its own time, the others untouched', () => {
    const t = testPipeline({ steps: [{ window: { type: 'tumbling', size: '10s', idle_timeout: '30s', aggregates: ['count', 'sum'] } }, { output: 'agg' }] });
    const g = gateway(t);
    for (let i = 0; i < 20; i++) {
      g.deliver('fast/x', g.now + 120_000);
      g.deliver('good/x', g.now);
      g.tick(1000);
    }
    const goodBefore = t.results().filter((r) => r.stream === 'good/x').length;
    // fast/x falls silent; good/x keeps going.
    for (let i = 0; i < 60; i++) {
      g.deliver('good/x', g.now);
      g.tick(1000);
    }
    const fast = t.results().filter((r) => r.stream === 'fast/x');
    assert.deepEqual(fast.map((r) => r.count), [10, 10], 'both windows of the fast device closed by idleness');
    assert.ok(fast.every((r) => r.start >= T0 + 120_000), 'at its own (fast) times');
    const good = t.results().filter((r) => r.stream === 'good/x');
    assert.ok(good.length > goodBefore);
    assert.ok(good.every((r) => r.count === 10 && !r.partial));
    assert.equal(t.late().length, 0);
    // The fast device comes back where its clock is: not late.
    g.deliver('fast/x', g.now + 120_000);
    assert.equal(t.late().length, 0);
  });

  test('event times of other streams never close a stream\'s windows (replay, no gateway clock)', () => {
    const t = testPipeline({ steps: [{ window: { type: 'tumbling', size: '10s', idle_timeout: '1m', aggregates: ['count'] } }, { output: 'agg' }] });
    t.push({ stream: 'a/x', ts: T0, value: 1 });
    for (let s = 0; s < 600; s++) t.push({ stream: 'b/x', ts: T0 + s * 1000, value: 1 });
    assert.equal(t.results().filter((r) => r.stream === 'a/x').length, 0);
    t.push({ stream: 'a/x', ts: T0 + 5000, value: 1 });
    assert.equal(t.late().length, 0);
    t.p.flush();
    assert.deepEqual(t.results().filter((r) => r.stream === 'a/x').map((r) => r.count), [2]);
  });
});

describe('far-future readings', () => {
  test('refused from the very first reading, against its arrival time (no tick needed)', () => {
    const t = testPipeline({ input: { streams: ['**'], max_future_skew: '1m' }, ...tumbling10s });
    t.p.push({ stream: 'd/x', ts: T0 + 61_000, value: 1, arrival: T0 });
    t.p.push({ stream: 'd/x', ts: T0 + 59_000, value: 1, arrival: T0 });
    const st = t.p.stats();
    assert.equal(st.dropped.future, 1);
    assert.equal(st.accepted, 1);
    assert.match(t.p.drops.samplesFor('future')[0]!.detail!, /d\/x: event time 2026-01-01T12:01:01.000Z is more than 60000 ms ahead of the gateway clock 2026-01-01T12:00:00.000Z/);
  });

  test('a time beyond the Date range (ts 1e20) is bad_time with a clear message, never a throw', () => {
    const t = testPipeline(tumbling10s);
    for (const ts of [1e20, -1e20, 8.64e15 + 1]) {
      assert.doesNotThrow(() => t.p.push({ stream: 'd/x', ts, value: 1, arrival: T0 }));
      assert.doesNotThrow(() => t.p.push({ stream: 'd/x', ts, value: 1 }));
    }
    // and a far-future time inside the range, in a message that prints it
    assert.doesNotThrow(() => t.p.push({ stream: 'd/x', ts: 8.64e15, value: 1, arrival: T0 }));
    const st = t.p.stats();
    assert.equal(st.dropped.bad_time, 6);
    assert.equal(st.dropped.future, 1);
    assert.equal(st.unaccounted, 0);
    assert.match(t.p.drops.samplesFor('bad_time')[0]!.detail!, /d\/x: event time 100000000000000000000 is outside the date range .*check the device's time unit/);
  });
});

describe('clock jumps', () => {
  const jumpSpec = { input: { streams: ['**'], clock_jump: { threshold: '1h', confirm: 3 } }, ...tumbling10s };

  test('live: a device rebooting to 1970 is refused for as long as it lasts (clock_jump_back); other devices untouched', () => {
    const t = testPipeline(jumpSpec);
    const g = gateway(t);
    for (let i = 0; i < 60; i++) {
      g.deliver('reboot/x', i < 20 ? g.now : 1000 * (i - 20));
      g.deliver('good/x', g.now);
      g.tick(1000);
    }
    const st = t.p.stats();
    assert.equal(st.dropped.clock_jump_back, 40);
    assert.equal(st.rebased, 0);
    assert.equal(st.late, 0);
    assert.ok(t.results().filter((r) => r.stream === 'good/x').every((r) => r.count === 10));
    assert.ok(t.results().every((r) => r.start >= T0), 'no 1970 window');
  });

  test('live: a clock corrected to the gateway clock (2 h slow, then NTP) is accepted at once, re-based', () => {
    const t = testPipeline(jumpSpec);
    const g = gateway(t);
    for (let i = 0; i < 30; i++) {
      g.deliver('ntp/x', i < 15 ? g.now - 7_200_000 : g.now);
      g.tick(1000);
    }
    const st = t.p.stats();
    assert.equal(st.accepted, 30);
    assert.deepEqual(st.dropped, {});
    t.p.flush();
    assert.equal(t.results().reduce((n, r) => n + r.count, 0), 30);
  });

  test('live: a jump back towards the gateway clock re-bases the stream: its open windows go out partial, new ones start', () => {
    const t = testPipeline({ input: { streams: ['**'], max_future_skew: '3h', clock_jump: { threshold: '1h', confirm: 3 } }, ...tumbling10s });
    const g = gateway(t);
    g.deliver('d/x', g.now + 7_200_000); // 2 h fast, allowed by the skew
    g.tick(1000);
    g.deliver('d/x', g.now); // corrected
    const st = t.p.stats();
    assert.equal(st.rebased, 1);
    assert.equal(st.accepted, 2);
    assert.deepEqual(t.results().map((r) => [r.start - T0, r.count, r.partial]), [[7_200_000, 1, true]]);
  });

  test('replay: a jump back is refused until `confirm` consistent readings re-base the stream', () => {
    const t = testPipeline(jumpSpec);
    t.push({ ts: T0, value: 1 }, { ts: T0 + 1000, value: 1 });
    for (let i = 0; i < 5; i++) t.push({ ts: 1000 * i, value: 1 });
    const st = t.p.stats();
    assert.equal(st.dropped.clock_jump_back, 2);
    assert.equal(st.rebased, 1);
    assert.equal(st.accepted, 5);
    assert.match(t.p.drops.samplesFor('clock_jump_back')[0]!.detail!, /re-based after 3 consistent readings/);
    t.p.flush();
    assert.deepEqual(t.results().map((r) => [r.start, r.count]), [[T0, 2], [0, 3]]);
  });

  test('replay: a jump ahead is a gap in the recording, accepted', () => {
    const t = testPipeline(jumpSpec);
    t.push({ ts: T0, value: 1 }, { ts: T0 + 86_400_000, value: 1 });
    assert.equal(t.p.stats().accepted, 2);
  });

  test('a step back within the window lateness is never a jump', () => {
    const t = testPipeline({ input: { streams: ['**'], clock_jump: { threshold: '1m' } }, steps: [{ window: { type: 'tumbling', size: '10m', lateness: '5m', aggregates: ['count'] } }, { output: 'agg' }] });
    t.push({ ts: T0 + 240_000, value: 1 }, { ts: T0, value: 1 });
    assert.equal(t.p.stats().accepted, 2);
  });
});

describe('ingest time', () => {
  test('time: ingest windows by the arrival time, ignoring the device clock', () => {
    const t = testPipeline({ input: { streams: ['**'], time: 'ingest' }, ...tumbling10s });
    t.p.push({ stream: 'd/x', ts: 5, value: 1, arrival: T0 + 1000 }); // a clock at 1970
    t.p.push({ stream: 'd/x', ts: T0 + 86_400_000, value: 2, arrival: T0 + 2000 }); // a day ahead
    t.p.push({ stream: 'd/x', ts: 7, value: 4, arrival: T0 + 12_000 });
    assert.deepEqual(t.results().map((r) => [r.start - T0, r.count, r.values.sum]), [[0, 2, 3]]);
    assert.deepEqual(t.p.stats().dropped, {});
  });
});

test('every reading offered ends accepted, refused with a reason, or late', () => {
  const t = testPipeline({ input: { streams: ['**'], max_keys: 3, max_future_skew: '1m' }, steps: [{ filter: { min: 0 } }, { window: { type: 'tumbling', size: '10s', aggregates: ['count'] } }, { output: 'agg' }] });
  const rs: unknown[] = [
    { stream: 'a/x', ts: T0, value: 1, arrival: T0 },
    { stream: 'a/x', ts: T0 + 20_000, value: -1, arrival: T0 }, // filtered (part of accepted)
    { stream: 'a/x', ts: T0 - 10_000, value: 1, arrival: T0 }, // late
    { stream: 'a/x', ts: 1e20, value: 1 },
    { stream: 'a/x', ts: T0, value: NaN },
    { stream: 'a/x', ts: T0, value: 'x' },
    { stream: 'b/x', ts: T0 + 3_600_000, value: 1, arrival: T0 }, // future
    { stream: 'c/x', ts: T0, value: 1, arrival: T0 },
    { stream: 'd/x', ts: T0, value: 1, arrival: T0 }, // key limit (a, c, d... b was refused before a key)
    { stream: 'e/x', ts: T0, value: 1, arrival: T0 }, // key limit
    { stream: 'a/x', ts: 0, value: 1, arrival: T0 }, // clock jump
    { ts: 1, value: 1 },
    null,
  ];
  for (const r of rs) t.p.push(r as Reading);
  const st = t.p.stats();
  const refused = Object.values(st.dropped).reduce((a, b) => a + b, 0);
  assert.equal(st.received, rs.length);
  assert.equal(st.unaccounted, 0);
  assert.equal(st.refused, refused);
  assert.equal(st.received, st.accepted + st.refused + st.late);
  assert.deepEqual([st.accepted, st.late, st.filtered], [4, 1, 1]);
});
