/**
 * The `robust_z` and `hampel` detectors, declared once each (listed in src/plugins.ts): one
 * detector class, two kinds (hampel clips the outliers that enter its window).
 */
import type { z } from 'zod';
import { perStep, type DetectorPlugin } from '../types.js';
import type { DetectorSchemaKit } from '../schema.js';
import { RobustZDetector } from './detector.js';

function robustShape({ z, direction, warmup }: DetectorSchemaKit) {
  return {
    window: z.number().int().min(5).max(4096).default(128).describe('Readings in the rolling window (bounded state: 16 bytes a reading).'),
    threshold: z.number().positive().default(5).describe('Anomalous when |value − median| / (1.4826·MAD) reaches this (3–3.5 is the textbook outlier limit; 5 keeps alerts on plain noise rare).'),
    warmup: warmup(10),
    direction,
    min_mad: z.number().nonnegative().default(0).describe('Floor on the scaled MAD, in value units (0: a tiny relative floor).'),
  };
}

const robustZSchema = (k: DetectorSchemaKit) => k.detectStep('robust_z', robustShape(k));
const hampelSchema = (k: DetectorSchemaKit) => k.detectStep('hampel', robustShape(k));

export type RobustZSpec = z.output<ReturnType<typeof robustZSchema>>;
export type HampelSpec = z.output<ReturnType<typeof hampelSchema>>;

const robustParams = perStep((spec: RobustZSpec) => ({ ...spec, replace_outliers: false }));
const hampelParams = perStep((spec: HampelSpec) => ({ ...spec, replace_outliers: true }));

export const robustZPlugin: DetectorPlugin<RobustZSpec> = {
  type: 'detector',
  kind: 'robust_z',
  description: 'Robust z-score over a bounded window: median and MAD.',
  schema: robustZSchema,
  create: (spec) => new RobustZDetector(robustParams(spec)),
  sample: `
detector: robust_z
window: 128
threshold: 5
`,
};

export const hampelPlugin: DetectorPlugin<HampelSpec> = {
  type: 'detector',
  kind: 'hampel',
  description: 'Hampel identifier: a robust z-score whose outliers enter the window clipped to median ± threshold·scale, so a burst of outliers does not widen the spread.',
  schema: hampelSchema,
  create: (spec) => new RobustZDetector(hampelParams(spec), 'hampel'),
  sample: `
detector: hampel
window: 64
threshold: 4
`,
};
