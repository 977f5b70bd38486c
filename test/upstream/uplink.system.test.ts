/**
 * Issue 18, end to end with real parts (test/upstream/uplink-scenario.ts): raw forwarding at
 * 5,000 readings/s over 100 streams through `edgewise run` to Mosquitto, with outages (stopped
 * and paused broker). The bench (bench/uplink.bench.ts) runs the 20 outages of 5–20 s;
 * here six of 1–3 s, 4 s apart, so the test stays under a minute.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runUplinkScenario, type Outage } from './uplink-scenario.js';

describe('uplink: the backlog catches up after every outage (edgewise run → Mosquitto)', () => {
  it('5,000 readings/s over 100 streams, 6 outages: 0 acknowledged readings lost, 0 seq gaps, backlog back to zero after each', { timeout: 180_000 }, async (t) => {
    const outages: Outage[] = [1000, 3000, 2000, 1500, 3000, 1000].map((downMs, i) => ({ kind: i % 2 ? 'pause' : 'stop', downMs, upMs: 4000 }));
    // Ends the scenario (everything it started stopped) before the test's timeout would leave it running.
    const signal = AbortSignal.any([t.signal, AbortSignal.timeout(170_000)]);
    const r = await runUplinkScenario({ rate: 5000, streams: 100, outages, log: (l) => console.log(l), signal });
    const summary = { ...r, output: undefined };
    assert.ok(r.acked > 5000 * 30 * 0.9, `the publisher got its readings acknowledged: ${JSON.stringify(summary)}`);
    assert.equal(r.lost, 0, `acknowledged readings lost: ${JSON.stringify(summary)}`);
    assert.equal(r.seqGaps, 0, 'seq gaps upstream');
    assert.equal(r.received, r.acked, 'every acknowledged reading arrived once (duplicates aside)');
    for (const [i, o] of r.outages.entries()) {
      assert.ok(o.bufferedDuring > 0, `outage ${i + 1} buffered readings`);
      assert.ok(o.catchUpMs >= 0, `outage ${i + 1}: the backlog drained back to zero while input went on (${JSON.stringify(o)})`);
    }
    assert.deepEqual(r.outboxDropped, {}, 'the stop summary has the outbox counters: nothing dropped');
    assert.doesNotMatch(r.output, /"level":50/, 'no error logged by the gateway');
  });
});
