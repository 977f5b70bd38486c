import { compileDetect } from '../../src/compile.js';
import { detectStepSchema } from '../helpers/schemas.js';

/** Deterministic N(0, 1) noise (mulberry32 + Box-Muller). */
export function noise(seed: number): () => number {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
}

export const STEP_MS = 1000;
export const T0 = Date.UTC(2024, 0, 1);

/** A series: values at 1 s steps (unless `ts` is given). */
export interface Series {
  ts: number[];
  values: number[];
}

export function series(n: number, f: (i: number) => number): Series {
  return { ts: Array.from({ length: n }, (_, i) => T0 + i * STEP_MS), values: Array.from({ length: n }, (_, i) => f(i)) };
}

export interface Run {
  /** Indices where an alert was raised. */
  raised: number[];
  /** Indices judged anomalous. */
  anomalous: number[];
  outputs: string[];
}

/** Run a detect step (as written in YAML) over a series for one key. */
export function run(step: Record<string, unknown>, s: Series, from = 0, state?: unknown): Run & { state: unknown } {
  const st = compileDetect(detectStepSchema.parse(step));
  const key = state ?? st.createKeyState('dev/metric');
  const out: Run = { raised: [], anomalous: [], outputs: [] };
  for (let i = from; i < s.values.length; i++) {
    const o = st.update(key, s.ts[i]!, s.values[i]!);
    if (o.anomalous) out.anomalous.push(i);
    if (o.alert?.state === 'raised') out.raised.push(i);
    out.outputs.push(JSON.stringify({ i, score: o.score, a: o.anomalous, act: o.alertActive, alert: o.alert ?? null }));
  }
  return { ...out, state: key };
}

/**
 * A daily wave (20 ± 10) with noise 0.5 at 5-minute readings from T0 for `days`; on `shiftDay`
 * 10:00–16:00 it runs 1.5 higher (3 noise widths): the seasonal shift test's case.
 */
export function shiftedWave(days: number, seed: number, shiftDay: number): Series {
  const DAY = 86_400_000;
  const g = noise(seed);
  const ts: number[] = [];
  const values: number[] = [];
  for (let t = 0; t < days * DAY; t += 300_000) {
    const h = (t % DAY) / 3_600_000;
    const shifted = Math.floor(t / DAY) === shiftDay && h >= 10 && h < 16;
    ts.push(T0 + t);
    values.push(20 + 10 * Math.sin((2 * Math.PI * h) / 24) + 0.5 * g() + (shifted ? 1.5 : 0));
  }
  return { ts, values };
}
