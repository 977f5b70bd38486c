/** The `multivariate` operator step, declared once (listed in src/plugins.ts): several sensors of a device judged together. */
import type { OperatorPlugin } from '../../engine/operator-plugin.js';
import { multivariateStepSchema, type MultivariateStepSpec } from './schema.js';
import { compileMultivariateStep } from './step.js';

export const multivariatePlugin: OperatorPlugin<MultivariateStepSpec> = {
  type: 'operator',
  kind: 'multivariate',
  description: 'Several sensors of one device judged together (multivariate EWMA against a baseline learnt from the start of its run): a change in how the sensors relate, or a small shift several of them share, raises one alert per episode.',
  schema: multivariateStepSchema,
  compile: compileMultivariateStep,
  sample: `
metrics: [accel1, accel2, current, pressure, temperature, thermocouple, voltage, flow]
baseline: 250
calibration: 250
threshold: 4
`,
};
