import { deriveSeed } from './rng.js';
import { Pump } from './devices/pump.js';
import { Patient } from './devices/patient.js';
import { Vehicle } from './devices/vehicle.js';
import { DOMAINS, roundTo, type DeviceModel, type Domain, type FaultEvent } from './types.js';
import type { Duty } from './duty.js';

export interface SimOptions {
  /** Which domains; `all` = maintenance, vitals and telematics. */
  domains: readonly Domain[];
  /** Devices per domain. */
  devices: number;
  /** Samples per second per device (each sample gives one reading per metric). 0 < rate ≤ 1000. */
  rateHz: number;
  seed: number;
  /** Start of simulated time (ms since the epoch, UTC). */
  start: number;
  /** Length of the run (ms); faults are placed inside it. */
  durationMs: number;
  /** Inject faults (default true). */
  faults?: boolean;
  /** Vans also report a raw accelerometer and gyro at the simulation rate, in a random mounting (CAN/GPS then once a second). Default false. */
  imu?: boolean;
  /** Vans are tracked by a phone app alone: speed, position and course once a second, with a phone's stale speeds and −1 for unknown (not with `imu`). Default false. */
  phone?: boolean;
  /** Pumps stop and vans park on this schedule (`shift`, or run RUN of every PERIOD); faults fall in running time. Default: they never stop. */
  duty?: Duty;
}

/** Device ids: `pump-1`, `bed-1`, `van-1`, ... */
export const DEVICE_PREFIX: Record<Domain, string> = { maintenance: 'pump', vitals: 'bed', telematics: 'van' };

/** One sample of one device: its values (NaN = nothing sent) already rounded to the device's resolution. */
export interface Sample {
  device: DeviceModel;
  t: number;
  values: Float64Array;
}

export type SampleSink = (s: Sample) => void;

/**
 * A fleet of simulated devices stepping in simulated time. Tick `k` is at
 * `start + round(k * 1000 / rateHz)` ms; `run(from, to, sink)` produces every device's sample for
 * each tick in [from, to). Nothing here reads the wall clock: a live runner decides how fast
 * ticks are taken, a data set writer takes them as fast as it can.
 */
export class Simulation {
  readonly devices: DeviceModel[] = [];
  readonly ticks: number;
  private readonly buffers: Float64Array[] = [];
  private readonly sample: Sample;
  /** The next tick not yet produced. */
  private next = 0;

  constructor(readonly opts: SimOptions) {
    if (!(opts.rateHz > 0 && opts.rateHz <= 1000)) throw new Error(`rate ${opts.rateHz} Hz: expected more than 0 and at most 1000 samples/s per device`);
    if (!Number.isInteger(opts.devices) || opts.devices < 1) throw new Error(`devices ${opts.devices}: expected a whole number ≥ 1`);
    if (!(opts.durationMs > 0)) throw new Error(`duration ${opts.durationMs} ms: expected more than 0`);
    const end = opts.start + opts.durationMs;
    const faults = opts.faults ?? true;
    if (opts.imu && opts.phone) throw new Error('imu and phone: a van is tracked either by its own sensors (with an IMU) or by a phone app alone; choose one');
    const sensors = opts.phone ? 'phone' : opts.imu ? 'imu' : 'can';
    for (const domain of opts.domains) {
      for (let i = 1; i <= opts.devices; i++) {
        const id = `${DEVICE_PREFIX[domain]}-${i}`;
        const seed = deriveSeed(opts.seed, id);
        const d =
          domain === 'maintenance'
            ? new Pump(id, seed, opts.start, end, faults, opts.duty)
            : domain === 'vitals'
              ? new Patient(id, seed, opts.start, end, faults)
              : new Vehicle(id, seed, opts.start, end, faults, sensors, opts.duty);
        this.devices.push(d);
        this.buffers.push(new Float64Array(d.metrics.length));
      }
    }
    this.ticks = Math.floor((opts.durationMs * opts.rateHz) / 1000);
    // Refilled before each callback; with no domains there is no device and no callback.
    this.sample = { device: this.devices[0]!, t: 0, values: this.buffers[0]! };
  }

  /** Time of tick k (ms). */
  timeOf(k: number): number {
    return this.opts.start + Math.round((k * 1000) / this.opts.rateHz);
  }

  /** Readings per tick over all devices (NaN values aside). */
  get readingsPerTick(): number {
    return this.devices.reduce((a, d) => a + d.metrics.length, 0);
  }

  /** All injected faults, by start time. */
  faults(): FaultEvent[] {
    return this.devices.flatMap((d) => d.faults).sort((a, b) => a.start - b.start || a.device.localeCompare(b.device));
  }

  /**
   * Produce ticks k in [from, to) (clamped to the run) into `sink`. The Sample object and its
   * values array are reused: copy what you keep. Returns the next tick index. The device models
   * step forward in time, so ticks already produced cannot be produced again (a new Simulation with
   * the same seed gives the same readings); ticks may be skipped.
   */
  run(from: number, to: number, sink: SampleSink): number {
    // Run again from an earlier tick, the models stepped back in time (dt < 0) and sent garbage
    // without a word: a pump's current Infinity, its vibration 1e138.
    if (from < this.next) throw new Error(`Simulation.run: tick ${from} comes before tick ${this.next}, the next one: the devices have already moved past it; make a new Simulation with the same options to produce the readings again`);
    const end = Math.min(to, this.ticks);
    this.next = Math.max(this.next, end);
    const s = this.sample;
    for (let k = from; k < end; k++) {
      const t = this.timeOf(k);
      for (let j = 0; j < this.devices.length; j++) {
        // per tick and device: j < devices.length = buffers.length, the `!` are safe and cheap
        const d = this.devices[j]!;
        const buf = this.buffers[j]!;
        d.sample(t, buf);
        const dec = d.decimals;
        for (let m = 0; m < buf.length; m++) buf[m] = roundTo(buf[m]!, dec[m]!);
        s.device = d;
        s.t = t;
        s.values = buf;
        sink(s);
      }
    }
    return Math.max(from, end);
  }
}

export function parseDomains(text: string): Domain[] {
  if (text === 'all') return [...DOMAINS];
  const out: Domain[] = [];
  for (const part of text.split(',')) {
    const d = part.trim() as Domain;
    if (!DOMAINS.includes(d)) throw new Error(`--domain ${text}: "${part}" is not one of maintenance, vitals, telematics, all`);
    if (!out.includes(d)) out.push(d);
  }
  return out;
}
