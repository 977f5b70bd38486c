/**
 * Registers the detectors module with the engine: `detect` steps compile. Import once (for its
 * side effect) before compiling pipelines that have `detect` steps. The step's config schema
 * registers separately (src/config/plugins.ts), so the runtime does not load zod.
 */
import { registerDetectCompiler } from '../engine/pipeline.js';
import { compileDetectStep, type DetectStepSpec } from './step.js';

registerDetectCompiler((spec) => compileDetectStep(spec as DetectStepSpec));

export { compileDetectStep, createDetector, DETECTOR_KINDS } from './step.js';
export type { DetectOutcome, DetectStep, DetectStepSpec } from './step.js';
