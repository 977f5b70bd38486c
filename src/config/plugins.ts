/**
 * Registers the config schemas of every plugin: driver kinds (`inputs[]`), the `detect` step and
 * the operator step kinds (`join`, `multivariate`, `news2`, `telematics`). The config loader imports it, so whatever validates
 * a config sees them. The runtime side of the same plugins registers in src/runtime/plugins.ts.
 * Add one line per plugin module.
 */
import '../../drivers/schemas.js';
import { multivariateStepSchema } from '../detectors/multivariate-schema.js';
import { detectStepSchema } from '../detectors/schema.js';
import { news2StepSchema } from '../domain/news2-schema.js';
import { telematicsStepSchema } from '../domain/telematics-schema.js';
import { joinStepSchema } from '../engine/operators/join-schema.js';
import { registerOperatorStepSchema, setDetectStepSchema } from './pipeline.js';

setDetectStepSchema(detectStepSchema);
registerOperatorStepSchema('join', joinStepSchema);
registerOperatorStepSchema('multivariate', multivariateStepSchema);
registerOperatorStepSchema('news2', news2StepSchema);
registerOperatorStepSchema('telematics', telematicsStepSchema);
