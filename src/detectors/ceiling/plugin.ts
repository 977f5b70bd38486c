/** The `ceiling` detector, declared once (listed in src/plugins.ts). */
import type { z } from 'zod';
import { perStep, type DetectorPlugin } from '../types.js';
import type { DetectorSchemaKit } from '../schema.js';
import { CeilingDetector, type CeilingParams } from './detector.js';

function schema({ z, durationSchema, minStd, detectStep }: DetectorSchemaKit) {
  const positive = (what: string) => durationSchema.refine((ms) => ms > 0, { message: `${what} must be positive` });
  return detectStep('ceiling', {
    block: positive('block').default(3_600_000).describe('Each block of this length contributes its highest reading to what the stream usually reaches (default 1h).'),
    half_life: positive('half_life').default(7 * 86_400_000).describe('Memory of the block highs: a block weighs 1 − 2^(−block / half_life) (default 7d).'),
    threshold: z.number().positive().default(4).describe('Anomalous when the value is this many standard deviations of the block highs above their mean...'),
    min_std: minStd,
    min_rise: z.number().nonnegative().default(0).describe('...and at least this far above it, in value units (e.g. 10 for a bearing 10 °C hotter than it usually runs).'),
    min_ratio: z.number().nonnegative().refine((r) => r === 0 || r > 1, { message: 'min_ratio must be above 1 (1.25: a quarter over the usual high), or 0 for none' }).default(0).describe('...and at least this multiple of it (e.g. 1.25 for a motor current a quarter over its usual high, whatever the motor size; 0: none).'),
    warmup: z.number().int().positive().max(100_000).default(6).describe('Blocks learnt before judging (default 6).'),
    accept_after: durationSchema.default(3 * 3_600_000).describe('A level well over the usual high (block highs more than half the limit over it, blocks in a row) for this long is the new usual high, learnt at once: a load the machine now runs at, first met after the warm-up (a pump first seen at night meets its day load once, not every day). Before that, blocks over the limit are learnt clipped. 0: never (default 3h).'),
    by: z.string().min(1).optional().describe('The field that gives the operating state, e.g. a motor current joined with the temperature (`join`): each state (a band of ±`band` around its level) has its own usual high, so a bearing is judged against how hot it usually runs at this load. A load never seen is not judged until learnt, unless a higher load is (its usual high then). Values ≤ 0 or missing: the last state.'),
    band: z.number().positive().max(10).default(0.35).describe('With `by`: the width of an operating state as a ratio (0.35: within ±35 % of its level).'),
    lag: durationSchema.default(30 * 60_000).describe('With `by`: for this long after the state changes its readings are not learnt, and the state just left is still a reference (a temperature follows its load with a lag: about the machine\'s thermal time constant; default 30m).'),
  }).refine((s) => s.half_life >= s.block, { message: 'half_life must be at least one block' });
}

export type CeilingSpec = z.output<ReturnType<typeof schema>>;

// accept_after is a duration in the config, a count of blocks in the detector; `band` counts only with `by`.
const paramsOf = perStep(({ accept_after, by, band, block, half_life, threshold, min_std, min_rise, min_ratio, warmup, lag }: CeilingSpec): CeilingParams => ({
  block,
  half_life,
  threshold,
  min_std,
  min_rise,
  min_ratio,
  warmup,
  accept_blocks: accept_after > 0 ? Math.max(1, Math.ceil(accept_after / block)) : 0,
  band: by === undefined ? 0 : band,
  lag,
}));

export const ceilingPlugin: DetectorPlugin<CeilingSpec> = {
  type: 'detector',
  kind: 'ceiling',
  description: 'Above the highest level the stream usually reaches (the weighted mean and deviation of its hourly highs): warm-ups, idling and stops never pass it, so it needs no settling after a start.',
  schema,
  create: (spec) => new CeilingDetector(paramsOf(spec)),
  sample: `
detector: ceiling
block: 1h
threshold: 4
min_rise: 10
`,
};
