import { Rng, Wander } from '../rng.js';
import { daily } from '../daily.js';
import { faultEvents, planFaults, type FaultType } from '../faults.js';
import { active, progress, type DeviceModel, type FaultEvent, type FaultPlan } from '../types.js';

/**
 * A bedside patient monitor. Values are what a monitor reports: integers for heart rate, SpO2,
 * respiration rate and systolic BP; temperature to 0.1 °C.
 *
 * | metric | unit / coding |
 * |---|---|
 * | `heart_rate` | beats/min |
 * | `spo2` | % (0 while the probe is off the finger: an artefact) |
 * | `resp_rate` | breaths/min |
 * | `systolic_bp` | mmHg |
 * | `temperature` | °C |
 * | `consciousness` | ACVPU as a number: 0 Alert, 1 new Confusion, 2 Voice, 3 Pain, 4 Unresponsive |
 * | `on_oxygen` | 1 supplemental oxygen, 0 room air |
 *
 * Scenarios: `sepsis` (gradual deterioration: pulse, respiration and temperature up, BP down,
 * new confusion late), `hypoxia` (SpO2 falls, breathing and pulse rise; oxygen is started half
 * way and SpO2 recovers), `tachycardia` (an abrupt run of 150–170 beats/min), and `probe_off`
 * (SpO2 reads 0 abruptly: an **artefact**, not a deterioration).
 */
export const PATIENT_METRICS = ['heart_rate', 'spo2', 'resp_rate', 'systolic_bp', 'temperature', 'consciousness', 'on_oxygen'] as const;
const DECIMALS = [0, 0, 0, 0, 1, 0, 0];

export const PATIENT_FAULTS: readonly FaultType[] = [
  { fault: 'sepsis', kind: 'fault', minMs: 15 * 60_000, maxMs: 45 * 60_000, metrics: ['heart_rate', 'resp_rate', 'temperature', 'systolic_bp', 'consciousness'] },
  { fault: 'hypoxia', kind: 'fault', minMs: 5 * 60_000, maxMs: 15 * 60_000, metrics: ['spo2', 'resp_rate', 'heart_rate', 'on_oxygen'] },
  { fault: 'tachycardia', kind: 'fault', minMs: 60_000, maxMs: 5 * 60_000, metrics: ['heart_rate'] },
  { fault: 'probe_off', kind: 'artefact', minMs: 15_000, maxMs: 90_000, metrics: ['spo2'] },
];

export class Patient implements DeviceModel {
  readonly domain = 'vitals' as const;
  readonly metrics = PATIENT_METRICS;
  readonly decimals = DECIMALS;
  readonly faults: FaultEvent[];
  private readonly plans: Partial<Record<string, FaultPlan>> = {};
  private readonly rng: Rng;
  private lastT = NaN;
  private readonly hr0: number;
  private readonly rr0: number;
  private readonly spo0: number;
  private readonly sbp0: number;
  private readonly temp0: number;
  private readonly w: Record<'hr' | 'rr' | 'spo2' | 'sbp' | 'temp', Wander>;

  constructor(readonly id: string, seed: number, start: number, end: number, withFaults: boolean) {
    const r = (this.rng = new Rng(seed));
    this.hr0 = r.uniform(62, 84);
    this.rr0 = r.uniform(12.5, 17.5);
    this.spo0 = r.uniform(96, 98.5);
    this.sbp0 = r.uniform(114, 136);
    this.temp0 = r.uniform(36.5, 37.1);
    this.w = {
      hr: new Wander(r, 60, 3),
      rr: new Wander(r, 120, 0.8),
      spo2: new Wander(r, 60, 0.5),
      sbp: new Wander(r, 600, 4),
      temp: new Wander(r, 1800, 0.1),
    };
    const plans = withFaults ? planFaults(new Rng(seed ^ 0x5eed), PATIENT_FAULTS, start, end) : [];
    for (const p of plans) this.plans[p.fault] = p;
    this.faults = faultEvents(id, 'vitals', PATIENT_FAULTS, plans);
  }

  sample(t: number, out: Float64Array): void {
    const dt = Number.isNaN(this.lastT) ? 1 : Math.max(1e-3, (t - this.lastT) / 1000);
    this.lastT = t;
    const r = this.rng;
    const P = this.plans;
    const night = daily(t, 4); // 1 at 04:00 UTC
    let hr = this.hr0 - 5 * night + this.w.hr.step(dt) + r.normal(0, 1);
    let rr = this.rr0 + this.w.rr.step(dt) + r.normal(0, 0.5);
    let spo2 = this.spo0 + this.w.spo2.step(dt) + r.normal(0, 0.4);
    let sbp = this.sbp0 - 6 * night + this.w.sbp.step(dt) + r.normal(0, 2);
    let temp = this.temp0 + 0.3 * daily(t, 17) + this.w.temp.step(dt) + r.normal(0, 0.03);
    let acvpu = 0;
    let oxygen = 0;

    const sepsis = P.sepsis;
    if (sepsis && t >= sepsis.start) {
      // grows through the window; treatment afterwards brings it back over a sixth of its length
      const k = t < sepsis.end ? progress(sepsis, t) ** 1.3 : Math.exp(-(t - sepsis.end) / ((sepsis.end - sepsis.start) / 6));
      const s = 0.6 + 0.4 * sepsis.severity;
      hr += 48 * s * k;
      rr += 12 * s * k;
      temp += 2.3 * s * k;
      sbp -= 34 * s * k;
      spo2 -= 3 * s * k;
      if (t < sepsis.end && k > 0.75 && sepsis.severity > 0.4) acvpu = 1;
    }
    const hyp = P.hypoxia;
    if (hyp && active(hyp, t)) {
      const p = progress(hyp, t);
      const depth = 8 + 7 * hyp.severity;
      const fall = Math.min(1, p / 0.25);
      const onO2 = p >= 0.5;
      const recover = onO2 ? Math.min(1, (p - 0.5) / 0.2) : 0;
      spo2 -= depth * fall * (1 - 0.85 * recover);
      rr += 8 * fall * (1 - 0.6 * recover);
      hr += 18 * fall * (1 - 0.6 * recover);
      if (onO2) oxygen = 1;
    }
    const tach = P.tachycardia;
    if (tach && active(tach, t)) {
      const target = 150 + 20 * tach.severity + r.normal(0, 2);
      hr += (target - hr) * Math.min(1, (t - tach.start) / 3000);
    }

    out[0] = Math.max(25, hr);
    out[1] = Math.min(100, spo2);
    out[2] = Math.max(4, rr);
    out[3] = sbp;
    out[4] = temp;
    out[5] = acvpu;
    out[6] = oxygen;
    if (P.probe_off && active(P.probe_off, t)) out[1] = 0;
  }
}
