/**
 * pipelines/pump-skab.yaml on generated runs shaped as SKAB's (1 Hz, eight sensors; the noise,
 * quantisation and drift measured on its valve1/1.csv): a partly closed valve (less flow) found
 * whether it comes 2.5 or 9.5 minutes into a run, and a run without a fault raises nothing. The
 * settings before (range_margin 0.02, flat after 10 equal readings) alarm on the healthy rig; the
 * sensors judged together against the run's first 500 rows (`multivariate`) miss the early fault.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compilePipeline } from '../../src/compile.js';
import type { Pipeline } from '../../src/engine/pipeline.js';
import { loadPipelineFile } from '../../src/config/load.js';
import { pipelineSchema, type PipelineSpec } from '../../src/config/pipeline.js';
import { gaussian } from './maintenance-signals.js';

const T0 = Date.UTC(2024, 2, 9, 10);
const ROWS = 1150;
const FAULT_ROWS = 400;
const spec = loadPipelineFile(join(import.meta.dirname, '../../pipelines/pump-skab.yaml'));

/**
 * One run's rows: `fault` is the row where the valve closes part-way (flow 1.1 l/min lower, more
 * unsteady) for 400 rows; -1: none. With `creep`, instead the valve stays open and over those 400
 * rows the vibration rises by `vibration` of its level (an imbalance growing) or the fluid warms by
 * `fluid` °C (a hot water supply), and stays there.
 */
interface Creep {
  vibration?: number;
  fluid?: number;
}
function pumpRun(seed: number, fault: number, creep?: Creep) {
  const n = gaussian(seed);
  const rows: Array<Record<string, number>> = [];
  for (let i = 0; i < ROWS; i++) {
    const during = fault >= 0 && i >= fault && i < fault + FAULT_ROWS;
    const faulty = during && creep === undefined;
    const share = fault >= 0 && i >= fault ? Math.min(i - fault, FAULT_ROWS) / FAULT_ROWS : 0;
    const vibration = 1 + (creep?.vibration ?? 0) * share;
    const jump = n() > 1.75 ? 1 : n() < -1.75 ? -1 : 0; // the pressure transducer's few levels
    rows.push({
      Accelerometer1RMS: vibration * 0.0268 + 0.0003 * n(),
      Accelerometer2RMS: vibration * 0.0398 + 0.0008 * n(),
      Current: 1.0 + 0.28 * n(),
      Pressure: 0.0547 + 0.328 * jump,
      Temperature: 74 + 1.7 * Math.exp(-i / 300) + 0.05 * n(), // the motor still cooling towards its running temperature
      Thermocouple: 25.75 + 0.06 * Math.exp(-i / 400) + 0.01 * n() + (creep?.fluid ?? 0) * share,
      Voltage: 232 + 10.9 * n(),
      // whole litres a minute, four in ten off by ±0.0015 as SKAB's meter reports them: healthy 31–33, mostly 32
      // (as before every fault in SKAB's valve runs), 30–32 with the valve part-closed (its mildest fault, valve1/1)
      'Volume Flow RateRMS': Math.round(faulty ? 30.9 + 0.5 * n() : 32 + 0.36 * Math.max(-2.5, Math.min(2.5, n()))) + (n() > 0.5 ? 0.0015 : n() < -0.5 ? -0.0014 : 0),
    });
  }
  return rows;
}

/** Rows where an alert was raised, by the pipeline `p`. */
function alertRows(p: PipelineSpec, rows: Array<Record<string, number>>): number[] {
  const raised: number[] = [];
  const pipeline = compilePipeline(p, (e) => {
    if (e.kind === 'alert' && e.alert.state === 'raised') raised.push(Math.round((e.alert.start - T0) / 1000));
  });
  rows.forEach((row, i) => {
    for (const [metric, value] of Object.entries(row)) pipeline.push({ stream: `pump/${metric}`, ts: T0 + i * 1000, value });
  });
  pipeline.flush();
  return raised;
}

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
/**
 * False alerts allowed over the eight runs. One of them is the generated pressure holding its
 * level for over a minute (its jumps are drawn independently, 8 % of readings: a run of 60 comes
 * once in eight runs), which the flat rule rightly calls stuck since 2026-12-06; SKAB's real
 * healthy rows raise no such alert (bench/tune/skab-inject.ts).
 */
const FALSE_ALERTS = 5;
/** Over the eight runs: alerts outside the fault, and runs whose fault raised an alert while it lasted. */
function score(p: PipelineSpec, fault: number, creep?: Creep): { falseAlerts: number; found: number } {
  let falseAlerts = 0;
  let found = 0;
  for (const seed of SEEDS) {
    const rows = alertRows(p, pumpRun(seed, fault, creep));
    const during = (r: number) => fault >= 0 && r >= fault && r < fault + FAULT_ROWS;
    falseAlerts += rows.filter((r) => !during(r)).length;
    if (rows.some(during)) found++;
  }
  return { falseAlerts, found };
}
const withSteps = (steps: unknown[]): PipelineSpec => pipelineSchema().parse({ name: 'pump', input: { streams: ['**'] }, steps });

describe('pipelines/pump-skab.yaml: a valve fault whenever it comes (eight generated runs each)', () => {
  it('runs without a fault: at most five false alerts in eight runs (the settings before: over three a run)', () => {
    assert.ok(score(spec, -1).falseAlerts <= FALSE_ALERTS, JSON.stringify(score(spec, -1)));
    const before = withSteps([{ detect: { detector: 'default', alert: { severity: 'warning' } } }]);
    assert.ok(score(before, -1).falseAlerts > 3 * SEEDS.length, JSON.stringify(score(before, -1)));
  });

  it('the valve closing 9.5 minutes in (as in SKAB\'s runs) is found in every run', () => {
    const s = score(spec, 570);
    assert.equal(s.found, SEEDS.length, JSON.stringify(s));
    assert.ok(s.falseAlerts <= FALSE_ALERTS, JSON.stringify(s));
  });

  it('the valve closing 2.5 minutes in is found in 7 of 8 runs; judged together against the first 500 rows, in none', () => {
    const s = score(spec, 150);
    assert.ok(s.found >= 7, JSON.stringify(s));
    assert.ok(s.falseAlerts <= FALSE_ALERTS, JSON.stringify(s));
    const together = withSteps([{ multivariate: { baseline: 250, calibration: 250, alert: { severity: 'warning' } } }]);
    assert.equal(score(together, 150).found, 0, 'a fault inside the rows it learns from is learnt as normal');
  });

  const rangeOnly = withSteps([{ detect: { detector: 'default', range_margin: 0.35, flat_readings: 60, alert: { severity: 'warning' } } }]);
  // Without the drift rule: in at most this many of the eight runs, at either timing.
  for (const [what, creep, without] of [
    ['vibration rising 25 % over 400 s (an imbalance growing)', { vibration: 0.25 }, 2],
    ['the fluid warming by 1.5 °C over 400 s (a hot water supply)', { fluid: 1.5 }, 7],
  ] as const)
    it(`${what} is found in every run; without the drift rule, in at most ${without} of eight`, () => {
      for (const fault of [150, 570]) {
        const s = score(spec, fault, creep);
        assert.equal(s.found, SEEDS.length, `fault at ${fault}: ${JSON.stringify(s)}`);
        assert.ok(s.falseAlerts <= FALSE_ALERTS, JSON.stringify(s));
        const before = score(rangeOnly, fault, creep);
        assert.ok(before.found <= without, `fault at ${fault}, range rule only: ${JSON.stringify(before)}`);
      }
    });

  it('restarted from its saved state in the middle of a creep (three times), it sends what an uninterrupted run sends', () => {
    const rows = pumpRun(3, 150, { vibration: 0.25, fluid: 1.5 });
    const emissions = (cuts: number[]) => {
      const out: string[] = [];
      let p: Pipeline = compilePipeline(spec, (e) => out.push(JSON.stringify(e)));
      let from = 0;
      for (const to of [...cuts, rows.length]) {
        if (from > 0) {
          const snap = structuredClone(p.snapshot());
          p = compilePipeline(spec, (e) => out.push(JSON.stringify(e)));
          assert.deepEqual(p.restore(snap), []);
          assert.deepEqual(p.snapshot(), snap);
        }
        for (let i = from; i < to; i++) for (const [metric, value] of Object.entries(rows[i]!)) p.push({ stream: `pump/${metric}`, ts: T0 + i * 1000, value });
        from = to;
      }
      p.flush();
      return out;
    };
    const whole = emissions([]);
    assert.ok(whole.some((e) => e.includes('"drift')), 'the creep raised a drift alert');
    assert.deepEqual(emissions([200, 300, 420]), whole);
  });
});
