/** The `dropout` detector, declared once (listed in src/plugins.ts). */
import type { z } from 'zod';
import type { DetectorPlugin } from '../types.js';
import type { DetectorSchemaKit } from '../schema.js';
import { DropoutDetector } from './detector.js';

function schema({ z, durationSchema, warmup, detectStep }: DetectorSchemaKit) {
  return detectStep('dropout', {
    interval: durationSchema.optional().describe('Expected interval between readings. Unset: learnt from the stream.'),
    missing: z.number().gt(1).max(1_000_000).default(3).describe('Anomalous when the gap before a reading reaches this many expected intervals.'),
    warmup: warmup(10),
    alpha: z.number().gt(0).lt(1).default(0.05).describe('Weight of each interval in the learnt expected interval.'),
  });
}

export type DropoutSpec = z.output<ReturnType<typeof schema>>;

export const dropoutPlugin: DetectorPlugin<DropoutSpec> = {
  type: 'detector',
  kind: 'dropout',
  description: 'Dropout: no reading for N expected intervals (live: on the gateway\'s ticks while the stream is silent; in a replay: on the first reading after the gap).',
  schema,
  create: (spec) => new DropoutDetector(spec),
  sample: `
detector: dropout
interval: 10s
missing: 3
`,
};
