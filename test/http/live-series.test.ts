/**
 * The dashboard's charts (LiveState) are bounded: 64 series by default. Until 2026-12-05 the first
 * 64 ever seen kept their places for good, so on a ward the charts showed patients long gone and
 * never the ones admitted since. Now a series with nothing for an hour makes room for a new one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LiveState } from '../../src/http/live.js';

const T0 = Date.UTC(2026, 10, 1, 8);
const judge = (live: LiveState, stream: string, ts: number) => live.onDetect('vitals', { step: 'news2', stream, ts, value: 1, score: 0, anomalous: false, alertActive: false });

test('a full chart list makes room for a new stream by dropping those silent for an hour, not those still sending', () => {
  const live = new LiveState({ maxSeries: 3 });
  for (let m = 0; m < 30; m++) for (const s of ['bed-1/news2', 'bed-2/news2', 'bed-3/news2']) judge(live, s, T0 + m * 60_000);
  // bed-1 leaves at 08:30; bed-4 is admitted at 08:40, bed-5 at 09:45
  for (let m = 30; m < 120; m++) {
    const ts = T0 + m * 60_000;
    for (const s of ['bed-2/news2', 'bed-3/news2']) judge(live, s, ts);
    if (m >= 40) judge(live, 'bed-4/news2', ts);
    if (m >= 105) judge(live, 'bed-5/news2', ts);
  }
  const streams = live.allSeries().map((s) => s.stream).sort();
  assert.deepEqual(streams, ['bed-2/news2', 'bed-3/news2', 'bed-4/news2'], 'bed-1 made room for bed-4 an hour after it left; bed-5 waits, nobody is silent');
  const bed4 = live.allSeries().find((s) => s.stream === 'bed-4/news2')!;
  assert.equal(bed4.points[0]!.ts, T0 + 90 * 60_000, 'charted from when bed-1 had been silent an hour');
});
