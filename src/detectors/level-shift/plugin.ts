/** The `level_shift` detector, declared once (listed in src/plugins.ts). */
import type { z } from 'zod';
import type { DetectorPlugin } from '../types.js';
import type { DetectorSchemaKit } from '../schema.js';
import { LevelShiftDetector } from './detector.js';

function schema({ z, durationSchema, direction, detectStep }: DetectorSchemaKit) {
  return detectStep('level_shift', {
    baseline: durationSchema.default(6 * 3_600_000).describe('Early life: the level over this span from the first reading is the baseline (mean and spread of the log level), frozen afterwards so a slow trend is never learnt as normal.'),
    min_baseline: z.number().int().min(2).max(1_000_000).default(12).describe('...and at least this many readings.'),
    log: z.boolean().default(true).describe('Judge the log of the value (ratios to the early level: vibration RMS, peak); values ≤ 0 are then not judged.'),
    k: z.number().nonnegative().default(3).describe('CUSUM slack, in baseline standard deviations: smaller excursions are forgiven.'),
    ratio: z.number().nonnegative().refine((r) => r === 0 || r > 1, { message: 'ratio must be above 1 (2: a doubling), or 0 to judge by k alone' }).default(2).describe('With `log`: a level this many times the early level (or 1/ratio of it, downwards) always counts, however noisy the early level: the slack is at most half of it (ln ratio / 2). 2 = a doubling (+6 dB), the usual first alarm step over a vibration baseline; 0: k alone.'),
    h: z.number().positive().default(20).describe('CUSUM limit on the summed excess, in standard deviations × reference intervals.'),
    per: durationSchema.refine((ms) => ms > 0, { message: 'per must be positive' }).default(600_000).describe('Reference interval: a reading adds its excess × min(1, time since the previous reading / per), so the time to alarm is the same at any sampling interval.'),
    max_z: z.number().positive().default(10).describe('Standardised deviations are clipped to this, so one wild reading adds at most max_z − k.'),
    min_std: z.number().nonnegative().default(0.05).describe('Floor on the baseline standard deviation (log units with `log`: 0.05 ≈ 5 %).'),
    direction: direction.default('up'),
  });
}

export type LevelShiftSpec = z.output<ReturnType<typeof schema>>;

export const levelShiftPlugin: DetectorPlugin<LevelShiftSpec> = {
  type: 'detector',
  kind: 'level_shift',
  description: 'Slow trend or level shift against the early-life baseline: CUSUM on the standardised log level, time-weighted so it holds at any sampling interval.',
  schema,
  create: (spec) => new LevelShiftDetector(spec),
  sample: `
detector: level_shift
field: rms
baseline: 6h
`,
};
