/** The `threshold` detector, declared once (listed in src/plugins.ts). */
import type { z } from 'zod';
import type { DetectorPlugin } from '../types.js';
import type { DetectorSchemaKit } from '../schema.js';
import { ThresholdDetector } from './detector.js';

function schema({ z, durationSchema, detectStep }: DetectorSchemaKit) {
  return detectStep('threshold', {
    above: z.number().optional().describe('Anomalous above this value.'),
    below: z.number().optional().describe('Anomalous below this value.'),
    hysteresis: z.number().nonnegative().default(0).describe('Once anomalous, the value must come back inside the limit by this margin (value units) before the decision clears: no flapping around a limit.'),
    min_duration: durationSchema.default(0).describe('The value must stay outside the limit this long before the decision turns anomalous.'),
  })
    .refine((s) => s.above !== undefined || s.below !== undefined, { message: 'a threshold detector needs `above`, `below` or both' })
    .refine((s) => s.above === undefined || s.below === undefined || s.below < s.above, { message: '`below` must be less than `above`' });
}

export type ThresholdSpec = z.output<ReturnType<typeof schema>>;

export const thresholdPlugin: DetectorPlugin<ThresholdSpec> = {
  type: 'detector',
  kind: 'threshold',
  description: 'Static limits with hysteresis and a minimum duration.',
  schema,
  create: (spec) => new ThresholdDetector(spec),
  sample: `
detector: threshold
above: 80          # °C
hysteresis: 2
min_duration: 30s
`,
};
