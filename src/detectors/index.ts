/**
 * Registers the detectors module with the pipeline config schema and the engine. Import once
 * (for its side effect) before parsing or compiling pipelines that have `detect` steps.
 */
import { setDetectStepSchema } from '../config/pipeline.js';
import { registerDetectCompiler } from '../engine/pipeline.js';
import { compileDetectStep, detectStepSchema, type DetectStepSpec } from './step.js';

setDetectStepSchema(detectStepSchema);
registerDetectCompiler((spec) => compileDetectStep(spec as DetectStepSpec));

export { compileDetectStep, createDetector, detectStepSchema, DETECTOR_KINDS } from './step.js';
export type { DetectOutcome, DetectStep, DetectStepSpec } from './step.js';
