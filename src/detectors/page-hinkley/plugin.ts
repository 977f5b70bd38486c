/** The `page_hinkley` detector, declared once (listed in src/plugins.ts). */
import type { z } from 'zod';
import type { DetectorPlugin } from '../types.js';
import type { DetectorSchemaKit } from '../schema.js';
import { PageHinkleyDetector } from './detector.js';

function schema({ z, direction, warmup, minStd, detectStep }: DetectorSchemaKit) {
  return detectStep('page_hinkley', {
    delta: z.number().nonnegative().default(0.5).describe('Change tolerated, in standard deviations (δ).'),
    threshold: z.number().positive().default(40).describe('Alarm when the cumulative deviation from its extreme reaches this, in standard deviations (λ).'),
    warmup: warmup(200),
    alpha: z.number().min(0).lt(1).default(0).describe('Fading factor of the running mean (0: the mean since the last alarm).'),
    direction,
    min_std: minStd,
    rebaseline: z.boolean().default(true).describe('Restart the test after an alarm.'),
  });
}

export type PageHinkleySpec = z.output<ReturnType<typeof schema>>;

export const pageHinkleyPlugin: DetectorPlugin<PageHinkleySpec> = {
  type: 'detector',
  kind: 'page_hinkley',
  description: 'Page-Hinkley test for a change in the mean.',
  schema,
  create: (spec) => new PageHinkleyDetector(spec),
  sample: `
detector: page_hinkley
delta: 0.5
threshold: 40
`,
};
