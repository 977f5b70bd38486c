/** The `telematics` operator step, declared once (listed in src/plugins.ts). */
import type { OperatorPlugin } from '../../engine/operator-plugin.js';
import { telematicsStepSchema, type TelematicsStepSpec } from './schema.js';
import { compileTelematicsStep } from './step.js';

export const telematicsPlugin: OperatorPlugin<TelematicsStepSpec> = {
  type: 'operator',
  kind: 'telematics',
  description: 'Harsh braking, acceleration and cornering per vehicle by their physics: raw IMU in any mounting (gravity removed, forward learnt from turns or speed), an aligned longitudinal channel, or speed alone.',
  schema: telematicsStepSchema,
  compile: compileTelematicsStep,
  sample: `
braking_g: 0.35
acceleration_g: 0.3
cornering_g: 0.4
sustain: 500ms
`,
};
