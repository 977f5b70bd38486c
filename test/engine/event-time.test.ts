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
