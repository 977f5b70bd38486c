/** The `ewma` detector, declared once (listed in src/plugins.ts). */
import type { z } from 'zod';
import type { DetectorPlugin } from '../types.js';
import type { DetectorSchemaKit } from '../schema.js';
import { EwmaDetector } from './detector.js';

function schema({ z, direction, warmup, minStd, detectStep }: DetectorSchemaKit) {
  return detectStep('ewma', {
    alpha: z.number().gt(0).lt(1).default(0.02).describe('Weight of each new reading in the exponentially weighted mean and variance (smaller: longer memory).'),
    threshold: z.number().positive().default(5).describe('Anomalous when |z| = |value − mean| / σ reaches this.'),
    warmup: warmup(50),
    direction,
    min_std: minStd,
    clip: z.boolean().default(true).describe('Learn from the value clipped to mean ± threshold·σ, so one outlier barely moves the baseline.'),
  });
}

export type EwmaSpec = z.output<ReturnType<typeof schema>>;

export const ewmaPlugin: DetectorPlugin<EwmaSpec> = {
  type: 'detector',
  kind: 'ewma',
  description: 'EWMA mean/variance z-score with a warm-up.',
  schema,
  create: (spec) => new EwmaDetector(spec),
  sample: `
detector: ewma
alpha: 0.02
threshold: 5
warmup: 50
`,
};
