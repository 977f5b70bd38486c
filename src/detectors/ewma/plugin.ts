/** The `ewma` detector, declared once (listed in src/plugins.ts). */
import type { z } from 'zod';
import { perStep, type DetectorPlugin } from '../types.js';
import type { DetectorSchemaKit } from '../schema.js';
import { EwmaDetector, type EwmaParams } from './detector.js';

function schema({ z, durationSchema, direction, warmup, minStd, detectStep }: DetectorSchemaKit) {
  return detectStep('ewma', {
    alpha: z.number().gt(0).lt(1).optional().describe('Weight of each new reading in the exponentially weighted mean and variance (smaller: longer memory). Default 0.02; not with `half_life`.'),
    half_life: durationSchema.refine((ms) => ms > 0, { message: 'half_life must be positive' }).optional().describe('Memory in time instead of `alpha`: a reading Δt after the previous one weighs 1 − 2^(−Δt / half_life), so the baseline forgets at the same pace whether readings come every second or every 10 minutes (after a gap of more than 7 half-lives it starts afresh, warm-up included).'),
    threshold: z.number().positive().default(5).describe('Anomalous when |z| = |value − mean| / σ reaches this.'),
    warmup: warmup(50),
    warmup_time: durationSchema.default(0).describe('...and for this long from the first reading (a warm-up that holds at any sampling interval).'),
    direction,
    min_std: minStd,
    settle: durationSchema.default(0).describe('Behind a `running` step: after each start (once the step passes the stream on again) readings this long are neither judged nor learnt, e.g. `1h` for a bearing temperature warming from cold, while other rules on the same stream judge from the start.'),
    relearn_after: durationSchema.default(0).describe('Behind a `running` step: a stand at least this long starts the baseline afresh at the next start, warm-up included (e.g. `10m` for a motor current whose load may change while the pump stands); 0: never, the baseline carries over the stand.'),
    clip: z.boolean().default(true).describe('Learn from the value clipped to mean ± threshold·σ, so one outlier barely moves the baseline.'),
  }).refine((s) => s.alpha === undefined || s.half_life === undefined, { message: 'set `alpha` (per reading) or `half_life` (in time), not both' });
}

export type EwmaSpec = z.output<ReturnType<typeof schema>>;

const paramsOf = perStep((spec: EwmaSpec): EwmaParams => ({ ...spec, alpha: spec.alpha ?? 0.02, half_life: spec.half_life ?? 0 }));

export const ewmaPlugin: DetectorPlugin<EwmaSpec> = {
  type: 'detector',
  kind: 'ewma',
  description: 'EWMA mean/variance z-score with a warm-up; memory per reading (`alpha`) or in time (`half_life`).',
  schema,
  create: (spec) => new EwmaDetector(paramsOf(spec)),
  sample: `
detector: ewma
alpha: 0.02
threshold: 5
warmup: 50
`,
};
