/**
 * Every detector, on a stream whose clock is set back by 2 hours or 3 days (the engine re-bases
 * it: input.clock_jump): the alerts it raises after the correction are those it raises with a
 * correct clock. Live, each reading arriving when it was taken (a replay refuses each stream's
 * first readings on the new clock until `confirm` of them agree, and a CUSUM then alarms a few
 * readings later). Until 2026-12-07 the alert tracker took the negative time since the last clear
 * for a cooldown and held back every alert of the stream until real time caught up with the old
 * clock, and `ewma`, `level_shift` and `ceiling` stayed in their warm-up (or learnt nothing) as long.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipelineSchema } from '../../src/config/pipeline.js';
import { compilePipeline } from '../../src/compile.js';
import { defaultPipeline } from '../../src/replay/default-pipeline.js';
import { simReadings } from '../helpers/sim-readings.js';

const START = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

/** Each detector with settings that make it raise alerts on the simulator's series. */
const DETECTORS: Record<string, Record<string, unknown>> = {
  default: {},
  ewma: {},
  'ewma with half_life': { detector: 'ewma', half_life: '10m', warmup_time: '10m' },
  robust_z: {},
  hampel: {},
  cusum: {},
  page_hinkley: {},
  spike: {},
  'spike with max_rate': { detector: 'spike', max_rate: 0.05 },
  flatline: {},
  dropout: {},
  level_shift: { baseline: '30m', per: '1m' },
  ceiling: { block: '10m', half_life: '2h', warmup: 3 },
  threshold: { above: 60, min_duration: '1m' },
  iso10816: { class: 'group2-rigid', zone: 'C' },
};


const DATA = (['maintenance', 'vitals', 'telematics'] as const).map((domain) => ({ domain, rs: simReadings({ domains: [domain], devices: 2, rateHz: 0.1, seed: 5, start: START, durationMs: 6 * HOUR, faults: true }) }));

for (const [name, params] of Object.entries(DETECTORS)) {
  test(`clock set back: ${name} raises after the correction what it raises with a correct clock`, () => {
    let compared = 0;
    for (const { domain, rs } of DATA) {
      const at = rs[Math.floor(rs.length / 2)]!.ts;
      const device = rs[0]!.stream.split('/')[0]!;
      const raised = (ahead: number) => {
        const spec = name === 'default' ? defaultPipeline() : pipelineSchema().parse({ name: 't', input: { streams: ['**'] }, steps: [{ detect: { detector: name, ...params } }, { output: 'alerts' }] });
        spec.input.max_future_skew = 4 * 24 * HOUR;
        const out: string[] = [];
        // the set-back device's alerts from 2 hours after the correction to the end of the data (its
        // old clock's are about times from START + ahead on: at 2 hours ahead, up to then; at 3 days, later)
        const p = compilePipeline(spec, (e) => {
          if (e.kind === 'alert' && e.alert.state === 'raised' && e.alert.stream.startsWith(`${device}/`) && e.alert.start >= at + 2 * HOUR && e.alert.start < START + 24 * HOUR) out.push(`${e.alert.stream} ${e.alert.start}`);
        });
        for (const r of rs) p.push({ ...r, ts: r.ts < at && r.stream.startsWith(`${device}/`) ? r.ts + ahead : r.ts, arrival: r.ts + 1 });
        p.flush();
        return out;
      };
      const right = raised(0);
      compared += right.length;
      for (const ahead of [2 * HOUR, 3 * 24 * HOUR]) assert.deepEqual(raised(ahead), right, `${name} on the ${domain} simulator, ${ahead / HOUR} h ahead`);
    }
    assert.ok(compared > 0, `${name} raised something to compare`);
  });
}

/**
 * A device a few minutes fast (within `max_future_skew`) corrected by NTP, live: the engine re-bases
 * the stream (it ran ahead of the gateway clock and steps back to it), and every detect step moves
 * its times by the correction the gateway clock measured. The alerts raised from the correction on
 * are those of a correct clock. Until 2026-12-08 a detect step noticed only a step back of more
 * than the jump threshold (1 h): for the minutes after the correction a hampel alert, a flatline's
 * stuck run, a page_hinkley or iso10816 alert came late or not at all, and extra ones came.
 * (`spike` with `max_rate` is left out: across a correction it judges no rate, by design — the
 * time between the two readings is not known in a replay — so its first step after it is not an alert.)
 */
for (const [name, params] of Object.entries(DETECTORS)) {
  if (name === 'spike with max_rate') continue;
  test(`clock set back by minutes (live): ${name} raises from the correction on what it raises with a correct clock`, () => {
    for (const { domain, rs } of DATA) {
      const at = rs[Math.floor(rs.length / 2)]!.ts;
      const device = rs[0]!.stream.split('/')[0]!;
      const raised = (ahead: number) => {
        const spec = name === 'default' ? defaultPipeline() : pipelineSchema().parse({ name: 't', input: { streams: ['**'] }, steps: [{ detect: { detector: name, ...params } }, { output: 'alerts' }] });
        let corrected = false;
        const out: string[] = [];
        const p = compilePipeline(spec, (e) => {
          if (corrected && e.kind === 'alert' && e.alert.state === 'raised' && e.alert.stream.startsWith(`${device}/`) && e.alert.start >= at && e.alert.start < at + HOUR) out.push(`${e.alert.stream} ${e.alert.start}`);
        });
        for (const r of rs) {
          if (r.ts >= at) corrected = true;
          p.push({ ...r, ts: r.ts < at && r.stream.startsWith(`${device}/`) ? r.ts + ahead : r.ts, arrival: r.ts + 1 });
        }
        p.flush();
        return out;
      };
      assert.deepEqual(raised(4 * 60_000), raised(0), `${name} on the ${domain} simulator, 4 minutes ahead`);
    }
  });
}

/**
 * A correction in the middle of what a detector measures in time: an early-life baseline, a stuck
 * run, a crossing counting towards its minimum duration, a rate. Live, one reading every 10 s;
 * the stream's clock 3 days ahead until `at`. Returns the raised alerts' starts, in minutes after
 * the start of the data on the new clock.
 */
function raisedAround(detect: Record<string, unknown>, value: (s: number) => number, at: number, ahead: number, silent: [number, number] = [0, 0]): number[] {
  const spec = pipelineSchema().parse({ name: 't', input: { streams: ['**'], max_future_skew: '4d' }, steps: [{ detect }, { output: 'alerts' }] });
  const out: number[] = [];
  const p = compilePipeline(spec, (e) => {
    if (e.kind === 'alert' && e.alert.state === 'raised' && e.alert.start < START + 24 * HOUR) out.push((e.alert.start - START) / 60_000);
  });
  for (let s = 0; s < 7200; s += 10) {
    const t = START + s * 1000;
    if (s >= silent[0] && s < silent[1]) continue;
    p.push({ stream: 'd/x', ts: t < at ? t + ahead : t, value: value(s), arrival: t + 1 });
  }
  p.flush();
  return out;
}

// The commonest correction: a device restarts (silent for minutes) and comes back with its clock
// set by NTP. The shift is the correction, not the correction less the silence: an ewma still in
// its 10-minute warm-up at 5 minutes, silent until 15, judges the step at 17 minutes as a correct
// clock does (until 2026-12-08 its warm-up start moved 10 minutes too far and the step was missed).
test('clock set back across a restart (live): the silence is not taken off the correction', () => {
  const detect = { detector: 'ewma', half_life: '10m', warmup_time: '10m', warmup: 3 };
  const value = (s: number) => (s >= 1020 ? 3 : 1) + noise(s);
  const silent: [number, number] = [300, 900];
  const at = START + 900_000;
  const right = raisedAround(detect, value, at, 0, silent);
  assert.deepEqual(right, [17], 'raised at the step with a correct clock');
  for (const ahead of [2 * HOUR, 3 * 24 * HOUR]) assert.deepEqual(raisedAround(detect, value, at, ahead, silent), right, `${ahead / HOUR} h ahead`);
});

const noise = (s: number) => Math.sin(s * 12.9898) * 0.05;
const AT = START + 20 * 60_000;
const cases: Array<[string, Record<string, unknown>, (s: number) => number]> = [
  // early life still being learnt at the correction (30 minutes), a doubling at 60 minutes
  ['level_shift: a baseline still being learnt', { detector: 'level_shift', baseline: '30m', per: '1m' }, (s) => (s >= 3600 ? 2 : 1) + noise(s)],
  // stuck from 18 minutes (2 minutes before the correction), 5 minutes and 30 readings needed
  ['flatline: a sensor stuck across the correction', { detector: 'flatline', readings: 30, duration: '5m' }, (s) => (s >= 1080 && s < 3000 ? 1 : 1 + noise(s))],
  // above from 18 minutes, for at least 5 minutes before it counts
  ['threshold: a crossing counting towards min_duration', { detector: 'threshold', above: 5, min_duration: '5m' }, (s) => (s >= 1080 && s < 3000 ? 6 : 1 + noise(s))],
  // a slow ramp; no step across the correction is a rate
  ['spike with max_rate: no rate across the correction', { detector: 'spike', max_rate: 0.01 }, (s) => 1 + s / 10_000],
];
for (const [what, detect, value] of cases) {
  test(`clock set back in the middle of it: ${what}`, () => {
    const right = raisedAround(detect, value, AT, 0);
    if (detect.detector === 'spike') assert.deepEqual(right, []);
    else assert.equal(right.length, 1, `${what}: raised once with a correct clock`);
    // live, the gateway clock measures the correction: the times move by it exactly
    for (const ahead of [4 * 60_000, 3 * 24 * HOUR]) assert.deepEqual(raisedAround(detect, value, AT, ahead), right, `${what}: ${ahead / 60_000} minutes ahead`);
  });
}
