/**
 * Registers the domain operators (pipeline step kinds that a YAML line of filter/map/window/detect
 * cannot express) with the engine. Import once, for its side effect, before compiling pipelines
 * that use them (src/cli/plugins.ts does). Their config schemas register separately
 * (src/config/plugins.ts), so the runtime does not load zod.
 *
 * - `news2`: NEWS2 early-warning score per patient, band-rise alerts, probe-off as sensor fault
 *   (src/domain/news2-step.ts).
 * - `telematics`: harsh braking / acceleration / cornering per vehicle from raw IMU data in any
 *   mounting, an aligned longitudinal channel, or speed alone (src/domain/telematics-step.ts).
 */
import '../engine/operators/index.js'; // generic operators (join) used by the domain pipelines
import { registerOperatorCompiler } from '../engine/pipeline.js';
import { compileNews2Step, type News2StepSpec } from './news2-step.js';

import { compileTelematicsStep, type TelematicsStepSpec } from './telematics-step.js';

registerOperatorCompiler('news2', (spec) => compileNews2Step(spec as News2StepSpec));
registerOperatorCompiler('telematics', (spec) => compileTelematicsStep(spec as TelematicsStepSpec));

export { compileNews2Step, News2Operator, NEWS2_BANDS } from './news2-step.js';
export type { News2StepSpec } from './news2-step.js';
export { compileTelematicsStep, TelematicsOperator, HARSH_TYPES } from './telematics-step.js';
export type { TelematicsStepSpec, HarshType } from './telematics-step.js';
