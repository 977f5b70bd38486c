/**
 * Registers the detectors module with the engine: `detect` steps compile. Import once (for its
 * side effect) before compiling pipelines that have `detect` steps. The step's config schema
 * registers separately (src/config/plugins.ts), so the runtime does not load zod.
 */
import { registerDetectCompiler, registerOperatorCompiler } from '../engine/pipeline.js';
import { compileMultivariateStep, type MultivariateStepSpec } from './multivariate-step.js';
import { compileDetectStep, type DetectStepSpec } from './step.js';

registerDetectCompiler((spec) => compileDetectStep(spec as DetectStepSpec));
// several sensors of a device judged together: a step kind of its own (a detect step sees one stream)
registerOperatorCompiler('multivariate', (spec) => compileMultivariateStep(spec as MultivariateStepSpec));

export { compileDetectStep, createDetector, DETECTOR_KINDS } from './step.js';
export type { DetectOutcome, DetectStep, DetectStepSpec } from './step.js';
export { compileMultivariateStep, MultivariateOperator } from './multivariate-step.js';
export type { MultivariateStepSpec } from './multivariate-step.js';
