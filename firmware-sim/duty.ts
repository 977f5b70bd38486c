/**
 * Duty cycles (`edgewise sim --duty`): when a pump runs and a van's engine is on. Real machines stop —
 * at night, between batches, every few minutes on a level switch — and a pipeline has to tell a
 * stop from a fault. Faults are placed in running time (a worn bearing shows only when it turns).
 */
import type { Rng } from './rng.js';
import type { FaultPlan } from './types.js';

const DAY = 86_400_000;

/** `shift`: runs 06:00–22:00 UTC each day (each device starts within 20 minutes of 06:00); `cycle`: runs `runMs` of every `periodMs`, at a phase of its own. */
export type Duty = { kind: 'shift' } | { kind: 'cycle'; runMs: number; periodMs: number };

/** `shift`, or `RUN/PERIOD` such as `20m/1h` (runs 20 minutes of every hour); `parseDuration` reads `20m` as ms. */
export function parseDuty(text: string, parseDuration: (text: string) => number): Duty {
  if (text === 'shift') return { kind: 'shift' };
  const [run, period, more] = text.split('/');
  const fail = (why: string) => new Error(`--duty ${text}: ${why}; expected "shift" (06:00–22:00 UTC) or RUN/PERIOD, e.g. 20m/1h (runs 20 minutes of every hour)`);
  if (run === undefined || period === undefined || more !== undefined) throw fail('not RUN/PERIOD');
  let runMs: number;
  let periodMs: number;
  try {
    runMs = parseDuration(run);
    periodMs = parseDuration(period);
  } catch (e) {
    throw fail((e as Error).message);
  }
  if (!(runMs > 0 && runMs < periodMs)) throw fail('the run must be longer than 0 and shorter than the period');
  if (periodMs - runMs < 10_000) throw fail('the stop must last at least 10 s');
  return { kind: 'cycle', runMs, periodMs };
}

/** One device's schedule: whether it runs at `t`, and its runs over a span. */
export class Schedule {
  /** A run starts at `offset` + k·`period` (epoch ms) and lasts `length`. */
  private readonly offset: number;
  private readonly period: number;
  private readonly length: number;

  constructor(duty: Duty, rng: Rng) {
    if (duty.kind === 'shift') {
      this.offset = 6 * 3_600_000 + rng.uniform(0, 20 * 60_000);
      this.period = DAY;
      this.length = 22 * 3_600_000 - this.offset; // until 22:00
    } else {
      this.offset = rng.uniform(0, duty.periodMs);
      this.period = duty.periodMs;
      this.length = duty.runMs;
    }
  }

  runs(t: number): boolean {
    return (((t - this.offset) % this.period) + this.period) % this.period < this.length;
  }

  /** The runs that overlap [start, end), as [from, to) clipped to it. */
  runsBetween(start: number, end: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    const first = this.offset + Math.floor((start - this.offset) / this.period) * this.period;
    for (let from = first; from < end; from += this.period) {
      const a = Math.max(start, from);
      const b = Math.min(end, from + this.length);
      if (b > a) out.push([a, b]);
    }
    return out;
  }
}

/**
 * Faults moved into running time: each starts at least `margin` after a start (the pipeline holds
 * readings while the machine settles) and ends before the next stop, in the first run at or after
 * its planned start that holds it; shortened to what the run holds (at least half its length), else
 * left out (a fault nobody could see is not ground truth).
 */
export function faultsInRuns(plans: FaultPlan[], runs: Array<[number, number]>, margin: number): FaultPlan[] {
  const out: FaultPlan[] = [];
  for (const p of plans) {
    const len = p.end - p.start;
    for (const [from, to] of runs) {
      const start = Math.max(p.start, from + margin);
      if (to - start >= len / 2 && to > p.start) {
        out.push({ ...p, start, end: Math.min(to, start + len) });
        break;
      }
    }
  }
  return out;
}
