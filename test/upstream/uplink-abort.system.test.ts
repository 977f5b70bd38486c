/**
 * The uplink scenario (test/upstream/uplink-scenario.ts) ends early and cleanly: when `edgewise run`
 * dies under it, or its signal aborts, it rejects saying where it was and leaves nothing running.
 * (It used to go on for minutes past a failed test, and `npm run test:system` hung.) Needs Mosquitto.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { runUplinkScenario } from './uplink-scenario.js';

/** Processes whose command line holds `dir` (Mosquitto's config and the gateway's are in it). */
function runningIn(dir: string): string {
  assert.ok(dir, 'the scenario started');
  return spawnSync('pgrep', ['-a', '-f', dir], { encoding: 'utf8' }).stdout;
}

// An hour-long outage: the scenario can only end by the failure under test.
const HOUR = 3_600_000;

describe('uplink scenario: ends at once, stopping everything it started', () => {
  it('when edgewise run is killed during an outage (broker stopped)', { timeout: 150_000 }, async () => {
    let dir = '';
    let kill = () => {};
    await assert.rejects(
      runUplinkScenario({
        rate: 500,
        streams: 10,
        leadMs: 0,
        outages: [{ kind: 'stop', downMs: HOUR, upMs: 0 }],
        onStarted: (s) => {
          dir = s.dir;
          kill = () => s.runtime.kill('SIGKILL');
        },
        log: (l) => l.includes('broker down') && kill(),
      }),
      /edgewise run exited unexpectedly \(code null, signal SIGKILL\), during outage 1\/1 \(stop 3600000 ms\), broker down; published \d+, acked \d+/,
    );
    assert.equal(runningIn(dir), '', 'nothing the scenario started is left running');
  });

  it('when its signal aborts during an outage (broker paused)', { timeout: 150_000 }, async () => {
    let dir = '';
    const ac = new AbortController();
    await assert.rejects(
      runUplinkScenario({
        rate: 500,
        streams: 10,
        leadMs: 0,
        outages: [{ kind: 'pause', downMs: HOUR, upMs: 0 }],
        onStarted: (s) => (dir = s.dir),
        log: (l) => l.includes('broker down') && ac.abort(new Error('the deadline passed')),
        signal: ac.signal,
      }),
      /aborted by the caller \(Error: the deadline passed\), during outage 1\/1 \(pause 3600000 ms\), broker down; published \d+/,
    );
    assert.equal(runningIn(dir), '', 'nothing the scenario started is left running');
  });
});
