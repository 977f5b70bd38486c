/** The `cusum` detector, declared once (listed in src/plugins.ts). */
import type { z } from 'zod';
import type { DetectorPlugin } from '../types.js';
import type { DetectorSchemaKit } from '../schema.js';
import { CusumDetector } from './detector.js';

function schema({ z, direction, warmup, minStd, detectStep }: DetectorSchemaKit) {
  return detectStep('cusum', {
    k: z.number().nonnegative().default(0.5).describe('Slack, in standard deviations: shifts smaller than this are ignored.'),
    h: z.number().positive().default(10).describe('Decision limit on the cumulative sum, in standard deviations.'),
    warmup: warmup(200),
    alpha: z.number().min(0).lt(1).default(0).describe('After warm-up, keep learning the reference with this weight while no change is under way (0: frozen reference).'),
    direction,
    min_std: minStd,
    rebaseline: z.boolean().default(true).describe('After an alarm, learn the new level as the reference (report each change once).'),
  });
}

export type CusumSpec = z.output<ReturnType<typeof schema>>;

export const cusumPlugin: DetectorPlugin<CusumSpec> = {
  type: 'detector',
  kind: 'cusum',
  description: 'Two-sided CUSUM on standardised readings: level shifts and slow drifts.',
  schema,
  create: (spec) => new CusumDetector(spec),
  sample: `
detector: cusum
k: 0.5
h: 10
`,
};
