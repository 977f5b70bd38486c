/** The `news2` operator step, declared once (listed in src/plugins.ts). */
import type { OperatorPlugin } from '../../engine/operator-plugin.js';
import { news2StepSchema, type News2StepSpec } from './schema.js';
import { compileNews2Step } from './step.js';

export const news2Plugin: OperatorPlugin<News2StepSpec> = {
  type: 'operator',
  kind: 'news2',
  description: 'NEWS2 early-warning score per patient (RCP 2017) every interval, its risk band, alerts on a rise of band; implausible vitals (probe off) are sensor faults, not deterioration.',
  schema: news2StepSchema,
  compile: compileNews2Step,
  sample: `
interval: 30s
alert_band: low-medium
confirm: 2
clear_after: 4
output: alerts
`,
};
