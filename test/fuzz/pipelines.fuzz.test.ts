import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadPipelineFile } from '../../src/config/load.js';
import type { Reading } from '../../src/core/reading.js';
import type { Emission } from '../../src/core/records.js';
import { compilePipeline } from '../../src/compile.js';
import type { Domain, SimOptions } from '../../firmware-sim/index.js';
import { simReadings } from '../helpers/sim-readings.js';
import { runs, tried1 } from './runs.js';

/**
 * The shipped pipelines (and the examples that read the simulator's streams) on its readings
 * spoilt at random: a value replaced by
 * a fault code, garbage or nonsense (±3.4e38, ±1e300, 0, −0, a subnormal, −1, 1e9), once or for
 * a stream's next 200 readings (a sensor stuck on it), a reading sent twice, lost, sent seconds late, a day early or a day late, two readings swapped. Whatever
 * comes, the pipeline must not throw, must account for every reading (received = accepted +
 * refused + late), must lose no more than a few readings to a step's lateness for each one
 * spoilt (one reading stamped ahead used to make a stream's whole rest late), and a restart from
 * its saved state at any point must send exactly what the run without it sends.
 */

const ROOT = join(import.meta.dirname, '../..');
const START = Date.UTC(2026, 0, 1);

/** The pipelines and what they read: each domain as the simulator makes it, the vans' other feeds and the pumps' stops. */
const CASES: Array<{ file: string; domain: Domain; opts?: Partial<SimOptions>; feed?: string; rename?: Record<string, string> }> = [
  { file: 'predictive-maintenance.yaml', domain: 'maintenance' },
  { file: 'predictive-maintenance.yaml', domain: 'maintenance', opts: { duty: { kind: 'cycle', runMs: 240_000, periodMs: 420_000 } }, feed: 'pumps that stop' },
  // SKAB's sensor names for the pump's metrics
  { file: 'pump-skab.yaml', domain: 'maintenance', rename: { vibration_rms: 'Accelerometer1RMS', vibration_peak: 'Accelerometer2RMS', current_a: 'Current', bearing_temp_c: 'Temperature' }, feed: "as SKAB's sensors" },
  { file: 'vitals.yaml', domain: 'vitals' },
  { file: 'telematics.yaml', domain: 'telematics' },
  { file: 'telematics.yaml', domain: 'telematics', opts: { phone: true }, feed: 'a phone app' },
  { file: 'telematics.yaml', domain: 'telematics', opts: { imu: true, rateHz: 50, durationMs: 4 * 60_000 }, feed: 'a raw IMU at 50 Hz' },
  { file: 'examples/demo-maintenance.yaml', domain: 'maintenance' },
  { file: 'examples/demo-vitals.yaml', domain: 'vitals' },
  { file: 'examples/demo-vitals-spo2.yaml', domain: 'vitals' },
  { file: 'examples/demo-telematics.yaml', domain: 'telematics' },
  { file: 'examples/machine-temperature.yaml', domain: 'vitals' },
  { file: 'examples/temperature-minutes.yaml', domain: 'vitals' },
];

function readings(domain: Domain, opts: Partial<SimOptions> = {}, rename: Record<string, string> = {}): Reading[] {
  return simReadings({ domains: [domain], devices: 1, rateHz: 1, seed: 3, start: START, durationMs: 15 * 60_000, faults: true, ...opts }, rename);
}

const HOSTILE = [3.4028234663852886e38, -3.4028234663852886e38, 1e300, -1e300, 0, -0, 5e-324, -1, 1e9];
const spoil = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  what: fc.constantFrom('value', 'stuck', 'twice', 'lost', 'late', 'day_early', 'day_late', 'swap'),
  value: fc.constantFrom(...HOSTILE),
  late: fc.integer({ min: 1, max: 120_000 }),
});
type Spoil = typeof spoil extends fc.Arbitrary<infer T> ? T : never;

function spoilt(base: Reading[], spoils: Spoil[]): Reading[] {
  const rs = base.map((r) => ({ ...r }));
  for (const s of spoils) {
    const i = Math.min(rs.length - 2, Math.floor(s.at * rs.length));
    const r = rs[i]!;
    if (s.what === 'value') r.value = s.value;
    else if (s.what === 'stuck') {
      for (const x of rs.filter((x, k) => k >= i && x.stream === r.stream).slice(0, 200)) x.value = s.value;
    }
    else if (s.what === 'twice') rs.splice(i, 0, { ...r });
    else if (s.what === 'lost') rs.splice(i, 1);
    else if (s.what === 'late') r.ts -= s.late;
    else if (s.what === 'day_early') r.ts -= 86_400_000;
    else if (s.what === 'day_late') r.ts += 86_400_000;
    else [rs[i], rs[i + 1]] = [rs[i + 1]!, r];
  }
  return rs;
}

/** Readings a step dropped as late (news2_late, join_late, telematics_late, ...) in the last run of `emissions`. */
let lateDrops = 0;

function emissions(file: string, rs: Reading[], cut?: number): string[] {
  const spec = loadPipelineFile(join(ROOT, 'pipelines', file));
  const out: string[] = [];
  const sink = (e: Emission) => out.push(JSON.stringify(e));
  let p = compilePipeline(spec, sink);
  for (let i = 0; i < rs.length; i++) {
    if (i === cut) {
      const snap = structuredClone(p.snapshot());
      p = compilePipeline(spec, sink);
      assert.deepEqual(p.restore(snap), [], `${file}: every part restores at reading ${i}`);
    }
    p.push(rs[i]!);
  }
  p.flush();
  const st = p.stats();
  assert.equal(st.unaccounted, 0, `${file}: every reading accounted for`);
  lateDrops = Object.entries(st.dropped).reduce((n, [reason, c]) => (reason.endsWith('_late') ? n + c : n), 0);
  return out;
}

for (const { file, domain, opts, feed, rename } of CASES) {
  const base = readings(domain, opts, rename);
  emissions(file, base);
  const baseLate = lateDrops;
  test(`pipelines (fuzz): ${file} on the ${domain} simulator's readings${feed ? ` (${feed})` : ''}, spoilt: never throws, accounts for every reading, and restarts anywhere to the same output`, () => {
    fc.assert(
      fc.property(fc.array(spoil, { minLength: 1, maxLength: 30 }), fc.double({ min: 0, max: 1, noNaN: true }), (spoils, at) => {
        tried1();
        const rs = spoilt(base, spoils);
        const whole = emissions(file, rs);
        // a spoilt reading may make a few others late (a swap, a clock's way back), never a stream's rest
        assert.ok(lateDrops - baseLate <= 50 * spoils.length, `${file}: ${lateDrops - baseLate} more readings late for ${spoils.length} spoilt`);
        const restarted = emissions(file, rs, Math.floor(at * rs.length));
        assert.ok(whole.length > 0, `${file}: the run emits something`);
        assert.equal(restarted.length, whole.length, `${file}: as many emissions with a restart`);
        assert.deepEqual(restarted, whole);
      }),
      // each case runs a pipeline twice over up to ~100,000 readings: the long run (npm run fuzz) takes at most 300
      { numRuns: Math.min(runs(8), 300) },
    );
  });
}
