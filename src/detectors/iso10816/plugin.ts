/** The `iso10816` detector, declared once (listed in src/plugins.ts). */
import type { z } from 'zod';
import type { DetectorPlugin } from '../types.js';
import type { DetectorSchemaKit } from '../schema.js';
import { Iso10816Detector, ISO10816_CLASSES, type Iso10816Class } from './detector.js';

function schema({ z, detectStep }: DetectorSchemaKit) {
  return detectStep('iso10816', {
    class: z.enum(ISO10816_CLASSES as [Iso10816Class, ...Iso10816Class[]]).default('II').describe('Machine class (ISO 10816-1: I small ≤ 15 kW, II medium 15–75 kW, III large rigid, IV large soft foundation) or ISO 10816-3 group (group1 300 kW–50 MW, group2 15–300 kW; rigid or flexible supports).'),
    zone: z.enum(['C', 'D']).default('C').describe('Lowest zone that is anomalous: C (unsatisfactory for long-term operation) or D (severe: damage).'),
    unit: z.enum(['mm/s', 'in/s']).default('mm/s').describe('Unit of the velocity RMS readings.'),
    hysteresis: z.number().min(0).lt(1).default(0.1).describe('Once in the zone, the value must fall this fraction below the boundary to leave it.'),
  });
}

export type Iso10816Spec = z.output<ReturnType<typeof schema>>;

export const iso10816Plugin: DetectorPlugin<Iso10816Spec> = {
  type: 'detector',
  kind: 'iso10816',
  description: 'ISO 10816 / 20816 vibration severity zones on velocity RMS by machine class: a physical rule, no learning.',
  schema,
  create: (spec) => new Iso10816Detector(spec),
  sample: `
detector: iso10816
class: II
zone: C
`,
};
