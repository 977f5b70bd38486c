/**
 * Registers the generic operator step kinds that ship with the engine (no domain code):
 * - `join`: the window results of several metrics of one device and window → one result, with ratios.
 * Import once for its side effect (src/cli/plugins.ts does).
 */
import { registerOperatorStepSchema } from '../../config/pipeline.js';
import { registerOperatorCompiler } from '../pipeline.js';
import { compileJoinStep, joinStepSchema, type JoinStepSpec } from './join.js';

registerOperatorStepSchema('join', joinStepSchema);
registerOperatorCompiler('join', (spec) => compileJoinStep(spec as JoinStepSpec));

export { compileJoinStep, JoinOperator, joinStepSchema } from './join.js';
export type { JoinStepSpec } from './join.js';
