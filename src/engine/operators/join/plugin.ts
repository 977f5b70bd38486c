/** The `join` operator step, declared once (listed in src/plugins.ts). */
import type { OperatorPlugin } from '../../operator-plugin.js';
import { joinStepSchema, type JoinStepSpec } from './schema.js';
import { compileJoinStep } from './join.js';

export const joinPlugin: OperatorPlugin<JoinStepSpec> = {
  type: 'operator',
  kind: 'join',
  description: 'Join the window results of several metrics of one device and window into one result, with ratios (e.g. crest factor = peak / RMS).',
  schema: joinStepSchema,
  compile: compileJoinStep,
  sample: `
metric: vibration
fields: { rms: vibration_rms.rms, peak: vibration_peak.max }
ratios: { crest: [peak, rms] }
`,
};
