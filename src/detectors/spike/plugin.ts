/** The `spike` detector, declared once (listed in src/plugins.ts). */
import type { z } from 'zod';
import type { DetectorPlugin } from '../types.js';
import type { DetectorSchemaKit } from '../schema.js';
import { SpikeDetector } from './detector.js';

function schema({ z, direction, warmup, detectStep }: DetectorSchemaKit) {
  return detectStep('spike', {
    max_rate: z.number().positive().optional().describe('Fixed limit on the rate of change, in value units per second. Unset: adaptive, `threshold` × the typical step.'),
    threshold: z.number().positive().default(6).describe('Adaptive mode: anomalous when a step reaches this many typical steps.'),
    alpha: z.number().gt(0).lt(1).default(0.02).describe('Weight of each step in the typical step size.'),
    warmup: warmup(20),
    direction: direction.describe('`up`: spikes only; `down`: dips only; `both`.'),
    min_step: z.number().nonnegative().default(0).describe('Floor on the typical step, in value units.'),
  });
}

export type SpikeSpec = z.output<ReturnType<typeof schema>>;

export const spikePlugin: DetectorPlugin<SpikeSpec> = {
  type: 'detector',
  kind: 'spike',
  description: 'Spike / dip: the rate of change from the previous reading.',
  schema,
  create: (spec) => new SpikeDetector(spec),
  sample: `
detector: spike
threshold: 6
direction: up
`,
};
