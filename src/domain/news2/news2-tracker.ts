/**
 * The NEWS2 streaming helper: keeps the latest value of each vital per patient and scores them
 * when asked. Pure (time comes from the readings and from the caller), bounded (most patients),
 * every refused input counted in a DropCounter with a sample.
 *
 * ```ts
 * const t = new News2Tracker();                     // default metric names and maximum ages
 * t.push({ stream: 'bed-1/heart_rate', ts, value: 88 });
 * const s = t.score('bed-1', ts);                   // News2Result & { patient, at, ages, stale }
 * ```
 *
 * A value older than its vital's maximum age at the time of scoring counts as missing (listed in
 * `stale` and in `missing`), never as normal. Readings outside a vital's plausible range (SpO2 0
 * from a probe off the finger, a heart rate of 0 from a loose lead) are refused as `implausible`
 * and do not replace the last good value: a probe-off artefact shows up as a stale, then missing,
 * SpO2, not as a deterioration.
 */
import { DropCounter } from '../../core/drops.js';
import { deviceOf, metricOf, type Reading } from '../../core/reading.js';
import { shiftedBack } from '../../core/time.js';
import { news2Score, toAcvpu, type News2Observations, type News2Parameter, type News2Result } from './news2.js';

/** The vitals the tracker keeps. `on_oxygen` is 1 (supplemental oxygen) or 0 (air); `consciousness` is ACVPU 0–4. */
export type Vital = 'respiration_rate' | 'spo2' | 'on_oxygen' | 'systolic_bp' | 'pulse' | 'consciousness' | 'temperature';
export const VITALS: readonly Vital[] = ['respiration_rate', 'spo2', 'on_oxygen', 'systolic_bp', 'pulse', 'consciousness', 'temperature'];

/** Metric names (the part of the stream after the device) → vital. These are the simulator's names. */
export const DEFAULT_VITAL_METRICS: Readonly<Record<string, Vital>> = {
  resp_rate: 'respiration_rate',
  respiration_rate: 'respiration_rate',
  spo2: 'spo2',
  on_oxygen: 'on_oxygen',
  systolic_bp: 'systolic_bp',
  heart_rate: 'pulse',
  pulse: 'pulse',
  consciousness: 'consciousness',
  temperature: 'temperature',
};

/**
 * Default maximum ages (ms). Monitors send pulse and SpO2 every second or so; a blood-pressure
 * cuff cycles every 15–60 minutes; temperature and consciousness are charted by hand.
 */
const DEFAULT_MAX_AGE: Readonly<Record<Vital, number>> = {
  respiration_rate: 60_000,
  spo2: 60_000,
  on_oxygen: 4 * 3_600_000,
  systolic_bp: 3_600_000,
  pulse: 60_000,
  consciousness: 4 * 3_600_000,
  temperature: 4 * 3_600_000,
};

/** Default plausible ranges [min, max]; a value outside is refused as `implausible`. */
export const DEFAULT_PLAUSIBLE: Readonly<Record<Vital, readonly [number, number]>> = {
  respiration_rate: [1, 80],
  spo2: [50, 100],
  on_oxygen: [0, 1],
  systolic_bp: [40, 300],
  pulse: [20, 300],
  consciousness: [0, 4],
  temperature: [25, 45],
};

export interface News2TrackerOptions {
  /** Metric name → vital. Default `DEFAULT_VITAL_METRICS`. Readings of other metrics are ignored (counted in `stats().ignored`). */
  metrics?: Record<string, Vital>;
  /** Maximum age per vital (ms); merged over `DEFAULT_MAX_AGE`. */
  maxAge?: Partial<Record<Vital, number>>;
  /** Plausible range per vital; merged over `DEFAULT_PLAUSIBLE`. */
  plausible?: Partial<Record<Vital, readonly [number, number]>>;
  /** SpO2 scale for patients without their own (`setScale`). Default 1. */
  defaultScale?: 1 | 2;
  /** Most patients kept; readings for new patients beyond it are refused (`too_many_patients`). Default 10,000. */
  maxPatients?: number;
  /** Where refused readings are counted. Default: a new DropCounter. */
  drops?: DropCounter;
}

interface Latest {
  value: number;
  ts: number;
}

interface PatientState {
  vitals: Partial<Record<Vital, Latest>>;
  scale: 1 | 2 | undefined;
}

export interface News2Score extends News2Result {
  patient: string;
  /** The time of scoring (ms), as passed to `score()`. */
  at: number;
  /** Age (ms) at `at` of each vital's latest value, including stale ones. */
  ages: Partial<Record<Vital, number>>;
  /** Vitals whose latest value was older than their maximum age (counted as missing). */
  stale: Vital[];
  /** The observations that were scored. */
  observations: News2Observations;
}


export class News2Tracker {
  readonly drops: DropCounter;
  private readonly metrics: Record<string, Vital>;
  private readonly maxAge: Record<Vital, number>;
  private readonly plausible: Record<Vital, readonly [number, number]>;
  private readonly maxPatients: number;
  private readonly defaultScale: 1 | 2;
  private readonly patients = new Map<string, PatientState>();
  private accepted = 0;
  private ignored = 0;

  constructor(opts: News2TrackerOptions = {}) {
    this.metrics = { ...(opts.metrics ?? DEFAULT_VITAL_METRICS) };
    this.maxAge = { ...DEFAULT_MAX_AGE, ...opts.maxAge };
    this.plausible = { ...DEFAULT_PLAUSIBLE, ...opts.plausible };
    this.maxPatients = opts.maxPatients ?? 10_000;
    this.defaultScale = opts.defaultScale ?? 1;
    this.drops = opts.drops ?? new DropCounter();
  }

  /** Take a reading `<patient>/<metric>`. Returns whether it was kept. Unknown metrics are ignored (not an error). */
  push(r: Reading): boolean {
    const vital = this.metrics[metricOf(r.stream)];
    if (vital === undefined) {
      this.ignored++;
      return false;
    }
    return this.update(deviceOf(r.stream), vital, r.value, r.ts);
  }

  /** Record one vital for one patient at time `ts`. Returns whether it was kept. */
  update(patient: string, vital: Vital, value: number, ts: number): boolean {
    const where = `${patient}/${vital}`;
    if (!Number.isFinite(value) || !Number.isFinite(ts)) {
      this.drops.drop('not_finite', { patient, vital, value, ts }, `${where}: value ${value} at ${ts} is not a finite number`, ts);
      return false;
    }
    const [lo, hi] = this.plausible[vital];
    if (value < lo || value > hi) {
      this.drops.drop('implausible', { patient, vital, value, ts }, `${where}: ${value} is outside the plausible range ${lo}–${hi} (sensor fault or artefact, e.g. a probe off)`, ts);
      return false;
    }
    let p = this.patients.get(patient);
    if (!p) {
      if (this.patients.size >= this.maxPatients) {
        this.drops.drop('too_many_patients', { patient, vital, value, ts }, `${where}: already tracking ${this.maxPatients} patients (maxPatients)`, ts);
        return false;
      }
      this.patients.set(patient, (p = { vitals: {}, scale: undefined }));
    }
    const prev = p.vitals[vital];
    if (prev && ts < prev.ts) {
      this.drops.drop('out_of_order', { patient, vital, value, ts }, `${where}: reading at ${ts} is older than the kept one at ${prev.ts}`, ts);
      return false;
    }
    if (prev) {
      prev.value = value;
      prev.ts = ts;
    } else p.vitals[vital] = { value, ts };
    this.accepted++;
    return true;
  }

  /** Set a patient's SpO2 scale (a clinical decision: scale 2 for hypercapnic respiratory failure). */
  setScale(patient: string, scale: 1 | 2): void {
    let p = this.patients.get(patient);
    if (!p) this.patients.set(patient, (p = { vitals: {}, scale }));
    p.scale = scale;
  }

  /** Score a patient at time `at` (ms) from the latest values no older than their maximum ages. */
  score(patient: string, at: number): News2Score {
    const p = this.patients.get(patient);
    const ages: Partial<Record<Vital, number>> = {};
    const stale: Vital[] = [];
    const fresh = (v: Vital): number | undefined => {
      const l = p?.vitals[v];
      if (!l) return undefined;
      const age = at - l.ts;
      ages[v] = age;
      if (age > this.maxAge[v]) {
        stale.push(v);
        return undefined;
      }
      return l.value;
    };
    const oxygen = fresh('on_oxygen');
    const c = fresh('consciousness');
    const obs: News2Observations = {
      respirationRate: fresh('respiration_rate'),
      spo2: fresh('spo2'),
      spo2Scale: p?.scale ?? this.defaultScale,
      onOxygen: oxygen === undefined ? undefined : oxygen >= 0.5,
      systolicBp: fresh('systolic_bp'),
      pulse: fresh('pulse'),
      consciousness: c === undefined ? undefined : toAcvpu(Math.round(c)),
      temperature: fresh('temperature'),
    };
    for (const k of Object.keys(obs) as Array<keyof News2Observations>) if (obs[k] === undefined) delete obs[k];
    const result = news2Score(obs);
    const staleParam: Partial<Record<Vital, News2Parameter>> = { on_oxygen: 'air_or_oxygen' };
    for (const v of stale) {
      const param = staleParam[v] ?? (v as News2Parameter);
      result.missingReasons[param] = `latest value is ${ages[v]} ms old (maximum age ${this.maxAge[v]} ms)`;
    }
    return { ...result, patient, at, ages, stale, observations: obs };
  }

  /** Patients seen so far (in order of first reading). */
  patientIds(): string[] {
    return [...this.patients.keys()];
  }

  /** A patient's clock was set back from `from` to `to`: the latest vitals stamped on the old clock move to the new one. */
  rebased(patient: string, from: number, to: number): void {
    for (const l of Object.values(this.patients.get(patient)?.vitals ?? {})) l.ts = shiftedBack(l.ts, from, to);
  }

  /** Forget a patient (discharged). */
  forget(patient: string): boolean {
    return this.patients.delete(patient);
  }

  /** The latest value of every vital per patient, and each patient's scale (for checkpoints). */
  snapshot(): Array<{ id: string; vitals: Partial<Record<Vital, Latest>>; scale: 1 | 2 | null }> {
    return [...this.patients].map(([id, p]) => ({ id, vitals: structuredClone(p.vitals), scale: p.scale ?? null }));
  }

  restore(list: unknown): void {
    if (!Array.isArray(list)) throw new Error('NEWS2 tracker: saved state must be [{ id, vitals, scale }]');
    const next = new Map<string, PatientState>();
    for (const e of list as Array<{ id: unknown; vitals: unknown; scale: unknown }>) {
      if (typeof e?.id !== 'string' || typeof e.vitals !== 'object' || e.vitals === null) throw new Error('NEWS2 tracker: each saved patient must be { id, vitals: { <vital>: { value, ts } }, scale }');
      if (next.size >= this.maxPatients) break;
      next.set(e.id, { vitals: structuredClone(e.vitals) as PatientState['vitals'], scale: e.scale === 1 || e.scale === 2 ? e.scale : undefined });
    }
    this.patients.clear();
    for (const [id, p] of next) this.patients.set(id, p);
  }

  stats(): { patients: number; accepted: number; ignored: number; dropped: Record<string, number> } {
    return { patients: this.patients.size, accepted: this.accepted, ignored: this.ignored, dropped: this.drops.counters() };
  }
}
