import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { brief, testPipeline, windowSpec } from '../helpers/pipeline.js';

describe('tumbling windows', () => {
  test('boundaries: a reading at the end instant belongs to the next window', () => {
    const t = testPipeline(windowSpec({ type: 'tumbling', size: 1000 }));
    t.push({ ts: 0, value: 1 }, { ts: 999, value: 2 }, { ts: 1000, value: 4 }, { ts: 1999, value: 8 }, { ts: 2000, value: 16 });
    // The watermark (lateness 0) reaches 2000: windows [0,1000) and [1000,2000) have fired.
    assert.deepEqual(brief(t.results()), [[0, 1000, 2, 3], [1000, 2000, 2, 12]]);
    t.p.flush();
    assert.deepEqual(brief(t.results()).at(-1), [2000, 3000, 1, 16]);
  });

  test('out-of-order readings within lateness are counted in their window', () => {
    const t = testPipeline(windowSpec({ type: 'tumbling', size: 1000, lateness: 500 }));
    t.push({ ts: 100, value: 1 }, { ts: 1200, value: 2 }, { ts: 900, value: 4 } /* 300 ms late: ok */, { ts: 1600, value: 8 });
    assert.deepEqual(brief(t.results()), [[0, 1000, 2, 5]]);
    assert.equal(t.late().length, 0);
  });

  test('readings later than the lateness go to the late side output and are counted', () => {
    const t = testPipeline(windowSpec({ type: 'tumbling', size: 1000, lateness: 200 }));
    t.push({ ts: 100, value: 1 }, { ts: 1500, value: 2 }, { ts: 1250, value: 4 } /* 250 ms behind newest: late */);
    assert.deepEqual(t.late().map((r) => r.ts), [1250]);
    const st = t.p.stats();
    assert.equal(st.late, 1);
    assert.equal(st.emitted.late, 1);
    t.p.flush();
    // The late reading is in no window: nothing is counted twice, nothing silently lost.
    assert.deepEqual(brief(t.results()), [[0, 1000, 1, 1], [1000, 2000, 1, 2]]);
  });

  test('a window is emitted once, and empty windows are not emitted', () => {
    const t = testPipeline(windowSpec({ type: 'tumbling', size: 1000 }));
    t.push({ ts: 0, value: 1 }, { ts: 10_500, value: 2 }, { ts: 20_000, value: 3 });
    t.p.flush();
    assert.deepEqual(brief(t.results()), [[0, 1000, 1, 1], [10_000, 11_000, 1, 2], [20_000, 21_000, 1, 3]]);
  });

  test('each stream has its own windows and watermark', () => {
    const t = testPipeline(windowSpec({ type: 'tumbling', size: 1000 }));
    t.push({ stream: 'a/x', ts: 0, value: 1 }, { stream: 'b/x', ts: 5000, value: 2 }, { stream: 'a/x', ts: 500, value: 3 });
    // b's newer time does not make a's reading late, nor close a's window.
    assert.equal(t.late().length, 0);
    assert.equal(t.results().length, 0);
    t.p.flush();
    assert.deepEqual(t.results().map((r) => [r.stream, r.count]).sort(), [['a/x', 2], ['b/x', 1]]);
  });
});

describe('hopping windows', () => {
  test('overlapping windows: a reading counts in size/hop windows', () => {
    const t = testPipeline(windowSpec({ type: 'hopping', size: 3000, hop: 1000 }));
    t.push({ ts: 500, value: 1 }, { ts: 1500, value: 2 }, { ts: 2500, value: 4 }, { ts: 3500, value: 8 });
    t.p.flush();
    assert.deepEqual(brief(t.results()), [
      [-2000, 1000, 1, 1],
      [-1000, 2000, 2, 3],
      [0, 3000, 3, 7],
      [1000, 4000, 3, 14],
      [2000, 5000, 2, 12],
      [3000, 6000, 1, 8],
    ]);
  });

  test('windows fire as the watermark passes their end, not before', () => {
    const t = testPipeline(windowSpec({ type: 'hopping', size: 2000, hop: 1000 }));
    t.push({ ts: 0, value: 1 }, { ts: 1999, value: 2 });
    assert.deepEqual(brief(t.results()), [[-1000, 1000, 1, 1]]);
    t.push({ ts: 2000, value: 4 });
    assert.deepEqual(brief(t.results()), [[-1000, 1000, 1, 1], [0, 2000, 2, 3]]);
  });
});

describe('sliding windows', () => {
  test('a window of size ends after each reading (to the resolution), only when there is new data', () => {
    const t = testPipeline(windowSpec({ type: 'sliding', size: 3000, resolution: 1000 }));
    t.push({ ts: 500, value: 1 }, { ts: 2500, value: 2 }, { ts: 7500, value: 4 });
    t.p.flush();
    assert.deepEqual(brief(t.results()), [[-2000, 1000, 1, 1], [0, 3000, 2, 3], [5000, 8000, 1, 4]]);
  });
});

describe('session windows', () => {
  test('gaps split sessions; a session fires once the gap has passed', () => {
    const t = testPipeline(windowSpec({ type: 'session', gap: 1000 }));
    t.push({ ts: 0, value: 1 }, { ts: 800, value: 2 }, { ts: 1500, value: 4 });
    assert.equal(t.results().length, 0);
    t.push({ ts: 5000, value: 8 }); // watermark 5000 ≥ 1500 + 1000: first session closes
    assert.deepEqual(brief(t.results()), [[0, 2500, 3, 7]]);
    t.p.flush();
    assert.deepEqual(brief(t.results()).at(-1), [5000, 6000, 1, 8]);
  });

  test('an out-of-order reading bridges two sessions and they merge', () => {
    const t = testPipeline(windowSpec({ type: 'session', gap: 1000, lateness: 5000 }));
    t.push({ ts: 0, value: 1 }, { ts: 1800, value: 2 }); // two sessions: [0,1000) and [1800,2800)
    t.push({ ts: 900, value: 4 }); // within 1000 of both: one session
    t.p.flush();
    assert.deepEqual(brief(t.results()), [[0, 2800, 3, 7]]);
  });

  test('max_duration closes a session that never pauses, marked partial', () => {
    const t = testPipeline(windowSpec({ type: 'session', gap: 1000, max_duration: 3000 }));
    for (let ts = 0; ts <= 7000; ts += 500) t.push({ ts, value: 1 });
    t.p.flush();
    const rs = t.results();
    assert.ok(rs.length >= 3, `expected the endless session to be cut, got ${rs.length} results`);
    for (const r of rs.slice(0, -1)) {
      assert.equal(r.partial, true);
      assert.ok(r.end - r.start <= 3000 + 1000);
    }
    assert.equal(rs.reduce((n, r) => n + r.count, 0), 15, 'every reading is in exactly one session');
  });
});

describe('count windows', () => {
  test('tumbling count windows in arrival order', () => {
    const t = testPipeline(windowSpec({ type: 'count', size: 3 }));
    for (let i = 0; i < 7; i++) t.push({ ts: 1000 * i, value: 2 ** i });
    assert.deepEqual(brief(t.results()), [[0, 2000, 3, 7], [3000, 5000, 3, 56]]);
    t.p.flush(true);
    const last = t.results().at(-1)!;
    assert.deepEqual([last.count, last.values.sum, last.partial], [1, 64, true]);
  });

  test('sliding count windows', () => {
    const t = testPipeline(windowSpec({ type: 'count', size: 4, slide: 2 }));
    for (let i = 0; i < 8; i++) t.push({ ts: i, value: i });
    assert.deepEqual(t.results().map((r) => r.values.sum), [0 + 1 + 2 + 3, 2 + 3 + 4 + 5, 4 + 5 + 6 + 7]);
  });

  test('an idle count window is flushed as partial when idle_timeout is set', () => {
    const t = testPipeline(windowSpec({ type: 'count', size: 10, idle_timeout: '1m' }));
    t.push({ stream: 'quiet/x', ts: 0, value: 5 }, { stream: 'busy/x', ts: 1000, value: 1 });
    t.p.advanceTo(120_000);
    const r = t.results().find((x) => x.stream === 'quiet/x');
    assert.ok(r, 'the silent stream’s window was flushed');
    assert.equal(r.partial, true);
    assert.equal(r.count, 1);
  });
});

describe('idle sources', () => {
  test('a silent stream does not hold its window open for ever: the gateway clock (arrival times) moves it on', () => {
    const t = testPipeline(windowSpec({ type: 'tumbling', size: 1000, idle_timeout: 5000 }));
    t.push({ stream: 'quiet/x', ts: 100, value: 1, arrival: 100 });
    for (let ts = 0; ts <= 7000; ts += 250) t.push({ stream: 'busy/x', ts, value: 1, arrival: ts });
    const quiet = t.results().filter((r) => r.stream === 'quiet/x');
    assert.deepEqual(brief(quiet), [[0, 1000, 1, 1]]);
  });

  test('the wall clock (advanceTo) closes windows of a gateway whose sensors all went quiet', () => {
    const t = testPipeline(windowSpec({ type: 'tumbling', size: 1000, idle_timeout: 2000 }));
    t.push({ ts: 100, value: 1 }, { ts: 200, value: 2 });
    assert.equal(t.results().length, 0);
    t.p.advanceTo(10_000);
    assert.deepEqual(brief(t.results()), [[0, 1000, 2, 3]]);
  });

  test('after idleness, a reading from the old times is late, not silently merged', () => {
    const t = testPipeline(windowSpec({ type: 'tumbling', size: 1000, idle_timeout: 2000 }));
    t.push({ ts: 100, value: 1 });
    t.p.advanceTo(10_000);
    t.push({ ts: 300, value: 2 });
    assert.deepEqual(t.late().map((r) => r.ts), [300]);
  });
});
