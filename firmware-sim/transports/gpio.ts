import type { Sample } from '../sim.js';

/**
 * The part of the GPIO driver's simulated backend (`SimulatedGpio` in drivers/gpio/simulated.ts)
 * that the simulator drives: input levels and pulses. Kept as a small interface so the
 * simulator does not depend on the driver's internals.
 */
export interface GpioPins {
  setInput(bcm: number, level: 0 | 1): void;
  pulse(bcm: number, count?: number): void;
}

/** A metric turned into a pulse train: `hz = value × scale` (e.g. rpm / 60 for one pulse a revolution). */
export interface PulseMapping {
  device: string;
  metric: string;
  bcm: number;
  scale: number;
}

/** A metric turned into a level: high while `value > threshold` (e.g. a running or ignition signal). */
export interface LevelMapping {
  device: string;
  metric: string;
  bcm: number;
  threshold: number;
}

/**
 * GPIO pulses and edges through the simulated GPIO backend, in simulated time: each sample
 * adds `value × scale × dt` pulses owed to its pin and fires the whole ones; level pins follow a
 * threshold. A silent metric (NaN) gives no pulses. Only in-process (the simulated GPIO header
 * lives in the gateway's process): used by the demo, not by a separate `edgewise sim` process.
 */
export class GpioTransport {
  pulses = 0;
  edges = 0;
  private readonly owed = new Map<PulseMapping, { owed: number; lastT: number }>();
  private readonly levels = new Map<LevelMapping, 0 | 1>();

  constructor(private readonly pins: GpioPins, private readonly pulsesMap: PulseMapping[] = [], private readonly levelMap: LevelMapping[] = []) {}

  write(s: Sample): void {
    const id = s.device.id;
    for (const p of this.pulsesMap) {
      if (p.device !== id) continue;
      const m = s.device.metrics.indexOf(p.metric);
      const v = s.values[m] ?? NaN; // m = -1: not a metric of this device
      let st = this.owed.get(p);
      if (!st) this.owed.set(p, (st = { owed: 0, lastT: s.t }));
      const dt = (s.t - st.lastT) / 1000;
      st.lastT = s.t;
      if (Number.isNaN(v) || v <= 0 || dt <= 0) continue;
      st.owed += v * p.scale * dt;
      const n = Math.floor(st.owed);
      if (n > 0) {
        st.owed -= n;
        this.pins.pulse(p.bcm, n);
        this.pulses += n;
      }
    }
    for (const l of this.levelMap) {
      if (l.device !== id) continue;
      const m = s.device.metrics.indexOf(l.metric);
      const v = s.values[m] ?? NaN; // m = -1: not a metric of this device
      if (Number.isNaN(v)) continue;
      const level: 0 | 1 = v > l.threshold ? 1 : 0;
      if (this.levels.get(l) !== level) {
        this.levels.set(l, level);
        this.pins.setInput(l.bcm, level);
        this.edges++;
      }
    }
  }
}
