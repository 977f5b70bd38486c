/**
 * pipelines/telematics.yaml over a simulated fleet of vans, scored against the simulator's ground
 * truth by type: a harsh event is found by an alert of its type on its van that starts in its
 * window (widened by `early` before and `late` after, ms); a harsh alert matching no event is false. Used by bench/telematics-phone.ts and the
 * telematics pipeline tests.
 */
import { join } from 'node:path';
import { Simulation, type SimOptions } from '../firmware-sim/sim.js';
import { compilePipeline } from '../src/compile.js';
import { loadPipelineFile } from '../src/config/load.js';
import type { AlertRecord } from '../src/core/records.js';
import type { FaultEvent } from '../firmware-sim/types.js';

const HARSH = ['harsh_braking', 'harsh_acceleration', 'harsh_cornering'];
export const FLEET_START = Date.UTC(2024, 0, 1);

export interface FleetRun {
  /** The harsh events the simulator made. */
  faults: FaultEvent[];
  missed: FaultEvent[];
  /** Harsh alerts raised outside every event of their type and van. */
  wrong: AlertRecord[];
  /** The telematics step's counters. */
  counters: Readonly<Record<string, number>>;
  /** Readings the pipeline's filters kept from its rules. */
  filtered: number;
  /** Every alert raised, by detector. */
  raised: Record<string, number>;
}

function countBy(keys: string[]): Record<string, number> {
  const n: Record<string, number> = {};
  for (const k of keys) n[k] = (n[k] ?? 0) + 1;
  return n;
}

/** `withhold`: metrics the pipeline is not given (e.g. speed and gyro: an accelerometer alone). */
export function runFleet(o: Pick<SimOptions, 'seed' | 'devices' | 'rateHz' | 'durationMs' | 'imu' | 'phone' | 'duty'>, early = 2000, late = 2000, withhold: readonly string[] = []): FleetRun {
  const alerts: AlertRecord[] = [];
  const p = compilePipeline(loadPipelineFile(join(import.meta.dirname, '../pipelines/telematics.yaml')), (e) => {
    if (e.kind === 'alert' && e.alert.state === 'raised') alerts.push(e.alert);
  });
  const sim = new Simulation({ domains: ['telematics'], start: FLEET_START, ...o });
  sim.run(0, sim.ticks, (s) => {
    const m = s.device.metrics;
    for (let i = 0; i < m.length; i++) if (!Number.isNaN(s.values[i]!) && !withhold.includes(m[i]!)) p.push({ stream: `${s.device.id}/${m[i]}`, ts: s.t, value: s.values[i]! });
  });
  p.flush();
  const faults = sim.faults().filter((f) => HARSH.includes(f.fault));
  const match = (a: AlertRecord, f: FaultEvent) => f.fault === a.detector && a.stream.startsWith(`${f.device}/`) && a.start >= f.start - early && a.start <= f.end + late;
  return {
    faults,
    missed: faults.filter((f) => !alerts.some((a) => match(a, f))),
    wrong: alerts.filter((a) => HARSH.includes(a.detector) && !faults.some((f) => match(a, f))),
    counters: p.stats().operators.telematics ?? {},
    filtered: p.stats().filtered,
    raised: countBy(alerts.map((a) => a.detector)),
  };
}
