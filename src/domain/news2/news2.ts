/**
 * NEWS2, the National Early Warning Score 2 (Royal College of Physicians, 2017 chart). Pure: no
 * I/O, no clock. `news2Score()` scores one set of observations; `News2Tracker` keeps the latest
 * value of each vital per patient (each with a maximum age) and scores them when asked, so a
 * pipeline operator can wire it to a stream of readings.
 *
 * Resolution: the chart is drawn in whole numbers for respiration, SpO2, systolic BP and pulse,
 * and in tenths of a degree for temperature. Values in between (averages over a window) are
 * rounded to the chart's resolution first, half up: pulse 90.4 → 90 (scores 0), 90.5 → 91
 * (scores 1); temperature 38.04 → 38.0 (0), 38.05 → 38.1 (1).
 *
 * Missing parameters are never treated as normal: the result scores what is there, lists what is
 * missing, says `complete: false`, and gives the highest total the missing ones could add.
 */

/** Level of consciousness, ACVPU. As a number: 0 = Alert, 1 = new Confusion, 2 = Voice, 3 = Pain, 4 = Unresponsive. */
export type Acvpu = 'A' | 'C' | 'V' | 'P' | 'U';
const ACVPU_CODES: readonly Acvpu[] = ['A', 'C', 'V', 'P', 'U'];

/** The seven chart parameters, in chart order. */
const NEWS2_PARAMETERS = ['respiration_rate', 'spo2', 'air_or_oxygen', 'systolic_bp', 'pulse', 'consciousness', 'temperature'] as const;
export type News2Parameter = (typeof NEWS2_PARAMETERS)[number];

export interface News2Observations {
  /** Breaths per minute. */
  respirationRate?: number;
  /** Oxygen saturation, %. */
  spo2?: number;
  /** SpO2 scale: 1 (default) or 2 (target 88–92 %, for hypercapnic respiratory failure, set by a clinician). */
  spo2Scale?: 1 | 2;
  /** true = supplemental oxygen, false = room air. Also accepts 1/0. */
  onOxygen?: boolean | number;
  /** Systolic blood pressure, mmHg. */
  systolicBp?: number;
  /** Pulse, beats per minute. */
  pulse?: number;
  /** ACVPU code, or its number (0 = A ... 4 = U). */
  consciousness?: Acvpu | number;
  /** Temperature, °C. */
  temperature?: number;
}

export type News2Band = 'low' | 'low-medium' | 'medium' | 'high';


export interface News2Result {
  /** Sum of the sub-scores of the parameters present. */
  total: number;
  /** Sub-score per parameter that could be scored. */
  subScores: Partial<Record<News2Parameter, number>>;
  /** Parameters that could not be scored (absent, not a finite number, or out of range), with why. */
  missing: News2Parameter[];
  /** Why each missing parameter is missing. */
  missingReasons: Partial<Record<News2Parameter, string>>;
  /** true when all seven parameters were scored. */
  complete: boolean;
  /** The highest total possible once the missing parameters are known (= total when complete). */
  maxPossibleTotal: number;
  /** Risk band from the parameters present. With missing parameters it is a lower bound. */
  band: News2Band;
  /** The rule that names the band, e.g. "total 5-6", "single parameter scored 3: spo2". */
  rule: string;
  /** Parameters that scored 3. */
  redScores: News2Parameter[];
  /** SpO2 scale used. */
  spo2Scale: 1 | 2;
}

/** Largest sub-score each parameter can take (for `maxPossibleTotal`). */
const MAX_SUB: Record<News2Parameter, number> = {
  respiration_rate: 3,
  spo2: 3,
  air_or_oxygen: 2,
  systolic_bp: 3,
  pulse: 3,
  consciousness: 3,
  temperature: 3,
};

function roundHalfUp(x: number, decimals: number): number {
  const f = 10 ** decimals;
  // The epsilon absorbs binary representation error (35.05 * 10 = 350.49999...).
  return Math.floor(x * f + 0.5 + 1e-9) / f;
}

/** Respiration rate (breaths/min): ≤8 → 3, 9–11 → 1, 12–20 → 0, 21–24 → 2, ≥25 → 3. */
export function scoreRespirationRate(rr: number): number {
  const x = roundHalfUp(rr, 0);
  if (x <= 8) return 3;
  if (x <= 11) return 1;
  if (x <= 20) return 0;
  if (x <= 24) return 2;
  return 3;
}

/** SpO2 scale 1 (%): ≤91 → 3, 92–93 → 2, 94–95 → 1, ≥96 → 0 (air or oxygen alike). */
export function scoreSpo2Scale1(spo2: number): number {
  const x = roundHalfUp(spo2, 0);
  if (x <= 91) return 3;
  if (x <= 93) return 2;
  if (x <= 95) return 1;
  return 0;
}

/**
 * SpO2 scale 2 (%): ≤83 → 3, 84–85 → 2, 86–87 → 1, 88–92 → 0, and ≥93 scores 0 on air, but on
 * oxygen 93–94 → 1, 95–96 → 2, ≥97 → 3. Returns undefined when SpO2 ≥ 93 and air/oxygen is unknown.
 */
export function scoreSpo2Scale2(spo2: number, onOxygen: boolean | undefined): number | undefined {
  const x = roundHalfUp(spo2, 0);
  if (x <= 83) return 3;
  if (x <= 85) return 2;
  if (x <= 87) return 1;
  if (x <= 92) return 0;
  if (onOxygen === undefined) return undefined;
  if (!onOxygen) return 0;
  if (x <= 94) return 1;
  if (x <= 96) return 2;
  return 3;
}

/** Air → 0, supplemental oxygen → 2. */
export function scoreAirOrOxygen(onOxygen: boolean): number {
  return onOxygen ? 2 : 0;
}

/** Systolic BP (mmHg): ≤90 → 3, 91–100 → 2, 101–110 → 1, 111–219 → 0, ≥220 → 3. */
export function scoreSystolicBp(sbp: number): number {
  const x = roundHalfUp(sbp, 0);
  if (x <= 90) return 3;
  if (x <= 100) return 2;
  if (x <= 110) return 1;
  if (x <= 219) return 0;
  return 3;
}

/** Pulse (beats/min): ≤40 → 3, 41–50 → 1, 51–90 → 0, 91–110 → 1, 111–130 → 2, ≥131 → 3. */
export function scorePulse(hr: number): number {
  const x = roundHalfUp(hr, 0);
  if (x <= 40) return 3;
  if (x <= 50) return 1;
  if (x <= 90) return 0;
  if (x <= 110) return 1;
  if (x <= 130) return 2;
  return 3;
}

/** Consciousness: Alert → 0; new Confusion, Voice, Pain, Unresponsive → 3. */
export function scoreConsciousness(c: Acvpu): number {
  return c === 'A' ? 0 : 3;
}

/** Temperature (°C): ≤35.0 → 3, 35.1–36.0 → 1, 36.1–38.0 → 0, 38.1–39.0 → 1, ≥39.1 → 2. */
export function scoreTemperature(t: number): number {
  const x = roundHalfUp(t, 1);
  if (x <= 35.0) return 3;
  if (x <= 36.0) return 1;
  if (x <= 38.0) return 0;
  if (x <= 39.0) return 1;
  return 2;
}

/** An ACVPU code from a code letter, a word, or a number 0–4; undefined when it is none of these. */
export function toAcvpu(c: Acvpu | number | string | undefined): Acvpu | undefined {
  if (c === undefined) return undefined;
  if (typeof c === 'number') {
    if (!Number.isFinite(c)) return undefined;
    const i = Math.round(c);
    return i >= 0 && i <= 4 && Math.abs(c - i) < 1e-9 ? ACVPU_CODES[i] : undefined;
  }
  const u = c.trim().toUpperCase();
  if ((ACVPU_CODES as readonly string[]).includes(u)) return u as Acvpu;
  const words: Record<string, Acvpu> = { ALERT: 'A', CONFUSION: 'C', CONFUSED: 'C', NEW_CONFUSION: 'C', VOICE: 'V', PAIN: 'P', UNRESPONSIVE: 'U' };
  return words[u];
}

function toOxygen(o: boolean | number | undefined): boolean | undefined {
  if (o === undefined) return undefined;
  if (typeof o === 'boolean') return o;
  if (o === 1) return true;
  if (o === 0) return false;
  return undefined;
}

/** Plausible input ranges; a value outside is reported missing ("out of range"), never scored. */
const RANGES: Record<Exclude<News2Parameter, 'air_or_oxygen' | 'consciousness'>, [number, number]> = {
  respiration_rate: [0, 120],
  spo2: [0, 100],
  systolic_bp: [0, 350],
  pulse: [0, 350],
  temperature: [20, 45],
};

/** Score one set of observations. Never throws; anything unusable is reported in `missing`. */
export function news2Score(obs: News2Observations): News2Result {
  const sub: Partial<Record<News2Parameter, number>> = {};
  const reasons: Partial<Record<News2Parameter, string>> = {};
  const scale = obs.spo2Scale ?? 1;

  const numeric = (p: keyof typeof RANGES, v: number | undefined, score: (x: number) => number) => {
    if (v === undefined) reasons[p] = 'not observed';
    else if (typeof v !== 'number' || !Number.isFinite(v)) reasons[p] = `not a finite number (${String(v)})`;
    else if (v < RANGES[p][0] || v > RANGES[p][1]) reasons[p] = `${v} is outside ${RANGES[p][0]}–${RANGES[p][1]}`;
    else sub[p] = score(v);
  };

  numeric('respiration_rate', obs.respirationRate, scoreRespirationRate);

  const oxygen = toOxygen(obs.onOxygen);
  if (oxygen === undefined) reasons.air_or_oxygen = obs.onOxygen === undefined ? 'not observed' : `not air/oxygen (${String(obs.onOxygen)}; expected true/false or 1/0)`;
  else sub.air_or_oxygen = scoreAirOrOxygen(oxygen);

  if (scale === 1) numeric('spo2', obs.spo2, scoreSpo2Scale1);
  else {
    numeric('spo2', obs.spo2, (x) => scoreSpo2Scale2(x, oxygen) ?? -1);
    if (sub.spo2 === -1) {
      delete sub.spo2;
      reasons.spo2 = 'scale 2 with SpO2 ≥ 93 needs to know air or oxygen';
    }
  }

  numeric('systolic_bp', obs.systolicBp, scoreSystolicBp);
  numeric('pulse', obs.pulse, scorePulse);

  const c = toAcvpu(obs.consciousness);
  if (c === undefined) reasons.consciousness = obs.consciousness === undefined ? 'not observed' : `not an ACVPU level (${String(obs.consciousness)}; expected A/C/V/P/U or 0–4)`;
  else sub.consciousness = scoreConsciousness(c);

  numeric('temperature', obs.temperature, scoreTemperature);

  const missing = NEWS2_PARAMETERS.filter((p) => sub[p] === undefined);
  let total = 0;
  const red: News2Parameter[] = [];
  for (const p of NEWS2_PARAMETERS) {
    const s = sub[p];
    if (s === undefined) continue;
    total += s;
    if (s === 3) red.push(p);
  }
  const { band, rule } = news2Band(total, red);
  const ordered: Partial<Record<News2Parameter, number>> = {};
  for (const p of NEWS2_PARAMETERS) if (sub[p] !== undefined) ordered[p] = sub[p];
  return {
    total,
    subScores: ordered,
    missing,
    missingReasons: reasons,
    complete: missing.length === 0,
    maxPossibleTotal: total + missing.reduce((a, p) => a + MAX_SUB[p], 0),
    band,
    rule,
    redScores: red,
    spo2Scale: scale,
  };
}

/**
 * The clinical risk band: high when the total is ≥ 7, medium at 5–6, low–medium when the total is
 * 0–4 but a single parameter scored 3, else low. The rule names which of these applied.
 */
export function news2Band(total: number, redScores: readonly News2Parameter[]): { band: News2Band; rule: string } {
  if (total >= 7) return { band: 'high', rule: 'total >= 7' };
  if (total >= 5) return { band: 'medium', rule: 'total 5-6' };
  if (redScores.length > 0) return { band: 'low-medium', rule: `single parameter scored 3: ${redScores.join(', ')}` };
  return { band: 'low', rule: 'total 0-4' };
}

