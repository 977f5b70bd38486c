import type { Reading } from '../../src/core/reading.js';
import { Simulation, type SimOptions } from '../../firmware-sim/index.js';

/** The simulator's readings, in its order (NaN values, a metric a device does not send, left out); `rename` maps metric names. */
export function simReadings(opts: SimOptions, rename: Record<string, string> = {}): Reading[] {
  const sim = new Simulation(opts);
  const out: Reading[] = [];
  sim.run(0, sim.ticks, (s) => {
    const metrics = s.device.metrics;
    for (let i = 0; i < metrics.length; i++) {
      const v = s.values[i]!;
      if (!Number.isNaN(v)) out.push({ stream: `${s.device.id}/${rename[metrics[i]!] ?? metrics[i]}`, ts: s.t, value: v });
    }
  });
  return out;
}
