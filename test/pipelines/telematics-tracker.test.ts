/**
 * pipelines/telematics.yaml on a fleet tracker that reports every 30 s (as low-power trackers do)
 * instead of the 1 Hz the pipeline was written for: what it can judge, and that what it cannot
 * judge is counted where an operator sees it (pipeline stats, /metrics, `edgewise status`).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadPipelineFile } from '../../src/config/load.js';
import { compilePipeline } from '../../src/compile.js';
import type { Emission } from '../../src/core/records.js';
import { formatStatus } from '../../src/cli/status.js';
import type { StatusReport } from '../../src/http/server.js';
import { createMetrics } from '../../src/http/metrics.js';
import { LiveState } from '../../src/http/live.js';
import type { GatewayStats } from '../../src/runtime/gateway.js';
import { silentLogger } from '../../src/core/log.js';
import { startStatsUpstream } from '../../src/runtime/stats-upstream.js';
import { statsPayloadSchema } from '../../src/upstream/payload-schema.js';

const T0 = Date.UTC(2024, 4, 1, 8);
const spec = loadPipelineFile(join(import.meta.dirname, '../../pipelines/telematics.yaml'));

/** Position and speed every `every` ms for 2 h, silent from 60 to 70 min (a garage without sky). */
function tracker(every: number, silentFrom = 60, silentTo = 70) {
  const raised: string[] = [];
  const p = compilePipeline(spec, (e) => {
    if (e.kind === 'alert' && e.alert.state === 'raised') raised.push(`${e.alert.detector} ${Math.round((e.alert.start - T0) / 60_000)}`);
  });
  for (let ts = T0; ts < T0 + 2 * 3_600_000; ts += every) {
    const min = (ts - T0) / 60_000;
    if (min >= silentFrom && min < silentTo) continue;
    p.push({ stream: 'van-9/lat', ts, value: 51.5 + min / 1e4 });
    p.push({ stream: 'van-9/speed_kmh', ts, value: 50 + 20 * Math.sin(min / 3) });
    p.push({ stream: 'van-9/fix_quality', ts, value: 1 });
  }
  p.flush();
  return { raised, stats: p.stats() };
}

describe('telematics: a tracker reporting every 30 s', () => {
  it('a position every 30 s is not "silent"; ten missed positions are, once', () => {
    // before 2026-12-05 (`interval: 1s`) gps_silent was raised at the second position and stayed
    assert.deepEqual(tracker(30_000).raised, ['gps_silent 70']);
    assert.deepEqual(tracker(1000).raised, ['gps_silent 70']);
    assert.deepEqual(tracker(30_000, 60, 63).raised, [], 'three minutes (6 positions) is not 10 missed');
  });

  it('speed readings 30 s apart cannot show a harsh event: each is counted as a gap, in the stats, /metrics and edgewise status', async () => {
    const { stats } = tracker(30_000);
    const speeds = 2 * 120 - 20;
    // no rpm: taken as running for its positions; its speed is held from the idling rule
    const engine = { starts: 0, stops: 0, stopped: 0, settling: 0, unknown: 0, untracked: 0, no_metric: speeds };
    assert.deepEqual(stats.operators, { telematics: { events: 0, rebounds: 0, uncalibrated: 0, gaps: speeds - 1, remounts: 0, unsettled: 0, stale_speed: 0, invalid: 0, gravity_off: 0, unjudged: 0, judged_late: 0, no_heading: 0, gyro_flipped: 0 }, engine });
    assert.deepEqual(tracker(1000).stats.operators.telematics!.gaps, 1, 'at 1 Hz only the 10 min silence is a gap');

    const gateway = { gateway: 'gw', readings: 0, unrouted: 0, inputs: [], pipelines: [stats] } as unknown as GatewayStats;
    const { registry } = createMetrics({ stats: () => gateway, live: new LiveState() });
    const text = await registry.metrics();
    assert.match(text, new RegExp(`^edgewise_pipeline_operator_events_total\\{pipeline="telematics",operator="telematics",event="gaps"\\} ${speeds - 1}$`, 'm'));

    const report = { gateway: 'gw', ready: { ready: true, checks: {} }, uptimeSeconds: 60, stats: gateway, alerts: { active: [] }, dropped: {} } as unknown as StatusReport;
    assert.match(formatStatus(report), new RegExp(`^ {2}telematics telematics: events=0 rebounds=0 uncalibrated=0 gaps=${speeds - 1} remounts=0 unsettled=0 stale_speed=0 invalid=0 gravity_off=0 unjudged=0 judged_late=0 no_heading=0 gyro_flipped=0$`, 'm'));

    // and in the retained stats message the fleet's consumers read (docs/schemas/stats.schema.json)
    const payload = await new Promise<string>((resolve) => {
      const alive = setInterval(() => {}, 1000); // its timer is unref'd (a gateway's own work keeps the loop alive)
      const stop = startStatsUpstream({
        everyMs: 5,
        stats: () => gateway,
        alertsActive: () => ({}),
        log: silentLogger(),
        publish: (_n, p) => {
          stop();
          clearInterval(alive);
          resolve(p);
          return true;
        },
      });
    });
    const body = statsPayloadSchema.parse(JSON.parse(payload));
    assert.deepEqual(body.pipelines[0]!.operators, { telematics: { events: 0, rebounds: 0, uncalibrated: 0, gaps: speeds - 1, remounts: 0, unsettled: 0, stale_speed: 0, invalid: 0, gravity_off: 0, unjudged: 0, judged_late: 0, no_heading: 0, gyro_flipped: 0 }, engine });
  });
});

describe('telematics: a van parked with its engine off (live, the gateway ticking)', () => {
  const H = 3_600_000;
  /**
   * Drives 08:00–09:00 and 17:00–18:00 (position, speed and rpm 1,500 every second), parked in
   * between; `heartbeat`: the tracker reports rpm 0 every minute while parked (no position).
   * `deadFrom`: the receiver gives no position from then on.
   */
  function day(opts: { heartbeat: boolean; deadFrom?: number }) {
    const raised: string[] = [];
    const p = compilePipeline(spec, (e) => {
      if (e.kind === 'alert' && e.alert.state === 'raised') raised.push(`${e.alert.detector} ${new Date(e.alert.start).toISOString().slice(11, 19)}`);
    });
    const at = (ts: number, metric: string, value: number) => p.push({ stream: `van-3/${metric}`, ts, value, arrival: ts + 50 });
    for (let ts = T0; ts < T0 + 10 * H; ts += 1000) {
      const driving = ts < T0 + H || ts >= T0 + 9 * H;
      if (driving) {
        at(ts, 'rpm', 1500);
        at(ts, 'speed_kmh', 50);
        if (!(ts >= (opts.deadFrom ?? Infinity))) at(ts, 'lat', 51.5);
      } else if (opts.heartbeat && (ts - T0) % 60_000 === 0) at(ts, 'rpm', 0);
      p.advanceTo(ts + 500);
    }
    return { raised, engine: p.stats().operators.engine };
  }

  it('a tracker that reports rpm 0 while parked: no position is missed overnight, and none at the start', () => {
    const { raised, engine } = day({ heartbeat: true });
    // before 2026-12-05 gps_silent was raised ten seconds after the van parked and stayed till 17:00
    assert.deepEqual(raised, []);
    assert.equal(engine?.stops, 1);
    assert.equal(engine?.starts, 1);
  });

  it('a receiver that dies is still reported: while driving, or while parked (a minute after the start, then ten missed seconds)', () => {
    assert.deepEqual(day({ heartbeat: true, deadFrom: T0 + H / 2 }).raised, ['gps_silent 08:30:09']);
    assert.deepEqual(day({ heartbeat: true, deadFrom: T0 + 5 * H }).raised, ['gps_silent 17:01:10']);
  });

  it('a tracker that falls silent altogether, with no rpm 0 first, cannot be told from a dead one: reported', () => {
    assert.deepEqual(day({ heartbeat: false }).raised, ['gps_silent 09:00:09']);
  });
});

describe('telematics: idling is the engine running with the van standing', () => {
  /** One reading a second of speed (and of rpm unless `noRpm`) from 18:00 to 08:00 the next day, as `state(ts)` says. */
  function night(state: (ts: number) => 'driving' | 'idling' | 'parked', noRpm = false) {
    const events: string[] = [];
    const p = compilePipeline(spec, (e) => {
      if (e.kind !== 'alert' || e.alert.detector !== 'idling') return;
      const at = e.alert.state === 'cleared' ? e.alert.end! : e.alert.start;
      events.push(`${e.alert.state} ${new Date(at).toISOString().slice(11, 19)}${e.alert.state === 'cleared' ? ` ${e.alert.reason}` : ''}`);
    });
    const from = Date.UTC(2024, 4, 1, 18);
    for (let ts = from; ts < from + 14 * 3_600_000; ts += 1000) {
      const s = state(ts);
      if (!noRpm) p.push({ stream: 'van-5/rpm', ts, value: s === 'parked' ? 0 : s === 'idling' ? 760 : 1500 });
      p.push({ stream: 'van-5/speed_kmh', ts, value: s === 'driving' ? 40 : 0 });
    }
    p.flush();
    return events;
  }
  const at = (h: number, m: number) => Date.UTC(2024, 4, h < 18 ? 2 : 1, h, m);

  it('idling 6 minutes before the engine is switched off: raised, and cleared at the switch-off; parked all night: nothing', () => {
    // drives till 19:00, idles 6 min, parked till 07:00, idles 3 min, drives away
    const state = (ts: number) => (ts < at(19, 0) ? 'driving' : ts < at(19, 6) ? 'idling' : ts < at(7, 0) ? 'parked' : ts < at(7, 3) ? 'idling' : 'driving');
    // (until 2026-12-05 idling was judged on speed alone: raised at 19:05 and active till 07:03, the engine off all night)
    assert.deepEqual(night(state), ['raised 19:05:00', 'cleared 19:06:00 engine: stopped (rpm 0 not above 300)']);
  });

  it("an evening's idling and a morning's are not one idling: 3 minutes each, no alert", () => {
    const state = (ts: number) => (ts < at(19, 0) ? 'driving' : ts < at(19, 3) ? 'idling' : ts < at(7, 0) ? 'parked' : ts < at(7, 3) ? 'idling' : 'driving');
    assert.deepEqual(night(state), []);
  });

  it('a gateway restarted from its saved state while idling, just after the switch-off, parked, and just after the start sends what an uninterrupted one sends', () => {
    const state = (ts: number) => (ts < at(19, 0) ? 'driving' : ts < at(19, 3) ? 'idling' : ts < at(7, 0) ? 'parked' : ts < at(7, 8) ? 'idling' : 'driving');
    const emissions = (cuts: number[]) => {
      const out: string[] = [];
      const sink = (e: Emission) => out.push(JSON.stringify(e));
      let p = compilePipeline(spec, sink);
      const from = Date.UTC(2024, 4, 1, 18);
      for (let ts = from; ts < from + 14 * 3_600_000; ts += 1000) {
        if (cuts.length > 0 && ts >= cuts[0]!) {
          cuts.shift();
          const snap = structuredClone(p.snapshot());
          p = compilePipeline(spec, sink);
          assert.deepEqual(p.restore(snap), []);
        }
        const s = state(ts);
        p.push({ stream: 'van-5/rpm', ts, value: s === 'parked' ? 0 : s === 'idling' ? 760 : 1500 });
        p.push({ stream: 'van-5/speed_kmh', ts, value: s === 'driving' ? 40 : 0 });
      }
      p.flush();
      return out;
    };
    const whole = emissions([]);
    // idling 3 min in the evening (pending), 8 in the morning: raised 5 minutes after the start only
    assert.equal(whole.filter((e) => e.includes('"state":"raised"') && e.includes('idling')).length, 1);
    assert.deepEqual(emissions([at(19, 2), at(19, 3) + 500, at(23, 0), at(7, 0) + 1500, at(7, 6)]), whole);
  });

  it('a van without an rpm stream (a phone tracker) standing 6 minutes is no idling: without an engine signal it may as well be parked', () => {
    const state = (ts: number) => (ts < at(19, 0) ? 'driving' : ts < at(19, 6) ? 'idling' : 'driving');
    // (until 2026-12-06 it was taken as running for idling too: raised at 19:05, and at every park of a phone-tracked van)
    assert.deepEqual(night(state, true), []);
  });
});
