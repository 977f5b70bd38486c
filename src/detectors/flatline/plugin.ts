/** The `flatline` detector, declared once (listed in src/plugins.ts). */
import type { z } from 'zod';
import type { DetectorPlugin } from '../types.js';
import type { DetectorSchemaKit } from '../schema.js';
import { FlatlineDetector } from './detector.js';

function schema({ z, durationSchema, detectStep }: DetectorSchemaKit) {
  return detectStep('flatline', {
    tolerance: z.number().nonnegative().default(0).describe('Values within this distance of the first value of the run count as the same.'),
    readings: z.number().int().positive().max(1_000_000).default(10).describe('Anomalous once the value has repeated this many times...'),
    duration: durationSchema.default(0).describe('...and for at least this long.'),
  });
}

export type FlatlineSpec = z.output<ReturnType<typeof schema>>;

export const flatlinePlugin: DetectorPlugin<FlatlineSpec> = {
  type: 'detector',
  kind: 'flatline',
  description: 'Flatline: a stuck sensor repeating the same value.',
  schema,
  create: (spec) => new FlatlineDetector(spec),
  sample: `
detector: flatline
readings: 20
duration: 5m
`,
};
