import { Rng, Wander } from '../rng.js';
import { daily, shift } from '../daily.js';
import { faultEvents, planFaults, type FaultType } from '../faults.js';
import { active, progress, type DeviceModel, type FaultEvent, type FaultPlan } from '../types.js';
import { faultsInRuns, Schedule, type Duty } from '../duty.js';

/**
 * A motor-driven pump with a smart vibration sensor. Each tick the sensor takes a frame of
 * acceleration samples (`FRAME` samples at 2 kHz: shaft 1× and 2× components, broadband noise,
 * and bearing-defect impacts at the outer-race frequency when the bearing wears) and reports its
 * RMS, peak and kurtosis, as vibration sensors with on-board features do. Bearing temperature
 * follows load and ambient with a thermal lag; current follows load (shifts 06:00–22:00 UTC).
 *
 * With a duty cycle it also stops: standing, it draws no current (a clamp's noise), turns at 0 rpm,
 * its sensor sees only the floor's background vibration, and the bearing cools towards ambient
 * (τ 30 min); at each start the current peaks at 6× for about a second (inrush), the speed runs up
 * in 3 s and the vibration is up to 3× for a few seconds. Its faults happen while it runs.
 *
 * | metric | unit |
 * |---|---|
 * | `vibration_rms`, `vibration_peak` | g |
 * | `vibration_kurtosis` | – (≈ 3 healthy; impacts raise it) |
 * | `bearing_temp_c` | °C |
 * | `current_a` | A |
 * | `speed_rpm` | rev/min |
 */
export const PUMP_METRICS = ['vibration_rms', 'vibration_peak', 'vibration_kurtosis', 'bearing_temp_c', 'current_a', 'speed_rpm'] as const;
const DECIMALS = [4, 4, 2, 2, 2, 0];
const ALL = PUMP_METRICS;

export const PUMP_FAULTS: readonly FaultType[] = [
  { fault: 'bearing_wear', kind: 'fault', minMs: 10 * 60_000, maxMs: 40 * 60_000, metrics: ['vibration_rms', 'vibration_peak', 'vibration_kurtosis'] },
  { fault: 'imbalance', kind: 'fault', minMs: 3 * 60_000, maxMs: 15 * 60_000, metrics: ['vibration_rms', 'vibration_peak'] },
  { fault: 'overheating', kind: 'fault', minMs: 8 * 60_000, maxMs: 30 * 60_000, metrics: ['bearing_temp_c', 'current_a'] },
  { fault: 'stuck_sensor', kind: 'fault', minMs: 3 * 60_000, maxMs: 10 * 60_000, metrics: ['bearing_temp_c'] },
  { fault: 'dropout', kind: 'fault', minMs: 30_000, maxMs: 3 * 60_000, metrics: ALL },
];

const FRAME = 128;
const FS = 2000;
/** Faults start at least this long after a start (the pipeline holds a pump's readings while it settles). */
const FAULT_MARGIN = 5 * 60_000;

export class Pump implements DeviceModel {
  readonly domain = 'maintenance' as const;
  readonly metrics = PUMP_METRICS;
  readonly decimals = DECIMALS;
  readonly faults: FaultEvent[];
  private readonly plans: Partial<Record<string, FaultPlan>> = {};
  private readonly rng: Rng;
  private lastT = NaN;
  // per-pump constants
  private readonly rpm0: number;
  private readonly a1: number;
  private readonly a2: number;
  private readonly noise: number;
  private readonly i0: number;
  private readonly tempRise: number;
  private phase = 0;
  private readonly frame = new Float64Array(FRAME);
  private temp = NaN;
  private stuckTemp = NaN;
  private readonly loadWander: Wander;
  private readonly tempWander: Wander;
  private readonly vibWander: Wander;
  private readonly schedule: Schedule | undefined;
  /** When it last started (-Infinity: running since before the run). */
  private startedAt = -Infinity;
  private wasRunning = true;

  constructor(readonly id: string, seed: number, start: number, end: number, withFaults: boolean, duty?: Duty) {
    this.rng = new Rng(seed);
    const r = this.rng;
    this.rpm0 = r.uniform(1470, 1490);
    this.a1 = r.uniform(0.08, 0.14);
    this.a2 = this.a1 * r.uniform(0.2, 0.4);
    this.noise = r.uniform(0.03, 0.05);
    this.i0 = r.uniform(15, 25);
    this.tempRise = r.uniform(18, 28);
    this.loadWander = new Wander(r, 900, 0.05);
    this.tempWander = new Wander(r, 600, 0.4);
    this.vibWander = new Wander(r, 300, 0.05);
    if (duty) this.schedule = new Schedule(duty, new Rng(seed ^ 0xd07));
    let plans = withFaults ? planFaults(new Rng(seed ^ 0x5eed), PUMP_FAULTS, start, end) : [];
    if (this.schedule) {
      plans = faultsInRuns(plans, this.schedule.runsBetween(start, end), FAULT_MARGIN);
      this.wasRunning = this.schedule.runs(start);
    }
    for (const p of plans) this.plans[p.fault] = p;
    this.faults = faultEvents(id, 'maintenance', PUMP_FAULTS, plans);
  }

  sample(t: number, out: Float64Array): void {
    const dt = Number.isNaN(this.lastT) ? 1 : Math.max(1e-3, (t - this.lastT) / 1000);
    this.lastT = t;
    const r = this.rng;
    const P = this.plans;
    const running = this.schedule ? this.schedule.runs(t) : true;
    if (running && !this.wasRunning) this.startedAt = t;
    this.wasRunning = running;
    const since = t - this.startedAt; // ms since the start (Infinity: running all along)
    const load = Math.min(1.1, Math.max(0.2, 0.45 + 0.5 * shift(t) + this.loadWander.step(dt)));
    const ambient = 20 + 4 * daily(t, 15);

    // temperature with a thermal lag toward its target
    let target = ambient + (running ? this.tempRise * load : 0) + this.tempWander.step(dt);
    if (P.overheating && t >= P.overheating.start) {
      const k = t < P.overheating.end ? progress(P.overheating, t) : Math.exp(-(t - P.overheating.end) / 120_000);
      target += (15 + 20 * P.overheating.severity) * k;
    }
    if (P.bearing_wear && active(P.bearing_wear, t)) target += 4 * progress(P.bearing_wear, t);
    if (Number.isNaN(this.temp)) this.temp = target;
    this.temp += (target - this.temp) * (1 - Math.exp(-dt / (running ? 240 : 1800)));

    let current = this.i0 * (0.35 + 0.65 * load) + r.normal(0, 0.08);
    if (P.overheating && active(P.overheating, t)) current *= 1 + 0.12 * progress(P.overheating, t);
    let rpm = this.rpm0 - 15 * load + r.normal(0, 0.8);
    if (!running) {
      current = Math.abs(r.normal(0, 0.02)); // a clamp's noise
      rpm = 0;
    } else if (since < 10_000) {
      current *= 1 + 5 * Math.exp(-since / 700);
      rpm *= Math.min(1, (since + 1000) / 4000); // turning from the first sample
    }

    // one frame of acceleration
    const f1 = rpm / 60;
    let a1 = this.a1 * (1 + 0.3 * (load - 0.7)) * (1 + this.vibWander.step(dt));
    if (!running) a1 = 0;
    else if (since < 10_000) a1 *= 1 + 2 * Math.exp(-since / 2000);
    if (P.imbalance && active(P.imbalance, t)) a1 *= 1 + (1.5 + 1.5 * P.imbalance.severity) * Math.min(1, (t - P.imbalance.start) / 20_000);
    let impact = 0;
    if (P.bearing_wear && active(P.bearing_wear, t) && running) impact = (0.2 + 1.8 * P.bearing_wear.severity) * progress(P.bearing_wear, t) ** 1.5;
    const bpfo = 3.58 * f1;
    const w1 = (2 * Math.PI * f1) / FS;
    let s1 = 0;
    let s2 = 0;
    let s4 = 0;
    let peak = 0;
    let ph = this.phase;
    let nextImpact = impact > 0 ? r.uniform(0, FS / bpfo) : Infinity;
    let ring = 0;
    const vals = this.frame;
    for (let n = 0; n < FRAME; n++) {
      let x = running ? a1 * Math.sin(ph) + this.a2 * Math.sin(2 * ph + 0.7) + this.noise * r.gauss() : 0.1 * this.noise * r.gauss();
      if (n >= nextImpact) {
        ring = impact * (0.7 + 0.6 * r.next());
        nextImpact += FS / bpfo;
      }
      if (ring !== 0) {
        x += ring;
        ring *= -0.55;
        if (Math.abs(ring) < 1e-3) ring = 0;
      }
      ph += w1;
      vals[n] = x;
      s1 += x;
    }
    this.phase = ph % (2 * Math.PI);
    const mean = s1 / FRAME;
    for (const x of vals) {
      const d = x - mean;
      const d2 = d * d;
      s2 += d2;
      s4 += d2 * d2;
      const a = Math.abs(x);
      if (a > peak) peak = a;
    }
    const variance = s2 / FRAME;
    out[0] = Math.sqrt(variance + mean * mean);
    out[1] = peak;
    out[2] = variance > 0 ? s4 / FRAME / (variance * variance) : 0;
    out[3] = this.temp + r.normal(0, 0.05);
    out[4] = current;
    out[5] = rpm;

    if (P.stuck_sensor && active(P.stuck_sensor, t)) {
      if (Number.isNaN(this.stuckTemp)) this.stuckTemp = out[3];
      out[3] = this.stuckTemp;
    }
    if (P.dropout && active(P.dropout, t)) out.fill(NaN);
  }
}
